package plan

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

var (
	clusterNameRE = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)
	acmARNRE      = regexp.MustCompile(`^arn:aws(-[a-z]+)*:acm:[a-z]{2}(-[a-z]+)+-\d:\d{12}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	oidcARNRE     = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::\d{12}:oidc-provider/[a-z0-9.-]+(/[A-Za-z0-9._-]+)*$`)
	roleARNRE     = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]{1,64}$`)
	policyARNRE   = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::(\d{12}|aws):policy/[\w+=,.@/-]{1,128}$`)
	roleNameRE    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	regionRE      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	vpcIDRE       = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	chartVerRE    = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)
)

// ExampleCertificateARN shows the shape of an ACM certificate ARN in error messages.
const ExampleCertificateARN = "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"

// nlbTargetService resolves a target to its Service: name, namespace and port number. ok is
// false when the target names no Service that validation accepts.
func nlbTargetService(a *Args, t *NLBTargetArgs) (name, namespace string, port int, ok bool) {
	switch {
	case t.Backend != "" && t.Service == nil:
		for i := range a.Backends {
			b := &a.Backends[i]
			if b.Name == t.Backend {
				return b.Service.Name, b.Namespace, servicePort(b, b.Route.Port).Port, true
			}
		}
	case t.Service != nil && t.Backend == "":
		return t.Service.Name, t.Service.Namespace, t.Service.Port, true
	}
	return "", "", 0, false
}

// hostnameCovers reports whether a route hostname falls under a listener hostname (exact, or a
// single-label wildcard as Gateway API matches them).
func hostnameCovers(listener, route string) bool {
	if listener == "" || listener == route {
		return true
	}
	if suffix, ok := strings.CutPrefix(listener, "*"); ok {
		if r, rok := strings.CutPrefix(route, "*"); rok {
			return strings.HasSuffix(r, suffix)
		}
		return strings.HasSuffix(route, suffix) && len(route) > len(suffix)
	}
	return false
}

func validateEKS(p *problems, a *Args) {
	e := a.EKS
	if e == nil || !e.Enabled {
		return
	}
	switch {
	case e.ClusterName == "":
		p.add("eks.clusterName", "is required when eks.enabled is true: the controller, its IAM role and its Pod Identity association are per cluster",
			"set eks.clusterName to the existing EKS cluster's name (aws eks list-clusters)")
	case !clusterNameRE.MatchString(e.ClusterName):
		p.add("eks.clusterName", fmt.Sprintf("%q is not a valid EKS cluster name", e.ClusterName), "use 1-100 letters, digits, '-' and '_', starting with a letter or digit")
	}
	if e.Region != "" && !regionRE.MatchString(e.Region) {
		p.add("eks.region", fmt.Sprintf("%q is not an AWS region", e.Region), "use a region code such as eu-west-1, or remove it to let the controller read it from instance metadata")
	}
	if e.VPCID != "" && !vpcIDRE.MatchString(e.VPCID) {
		p.add("eks.vpcId", fmt.Sprintf("%q is not a VPC ID", e.VPCID), "use the cluster VPC's ID, such as vpc-0123456789abcdef0, or remove it")
	}

	id := e.Identity
	switch id.Mode {
	case IdentityPodIdentity:
		if id.OIDCProviderARN != "" {
			p.add("eks.identity.oidcProviderArn", "is set, but identity.mode podIdentity does not use the cluster's OIDC provider", "remove it, or set identity.mode: irsa")
		}
	case IdentityIRSA:
		switch {
		case id.OIDCProviderARN == "":
			p.add("eks.identity.oidcProviderArn", "identity.mode irsa needs the cluster's IAM OIDC provider", "set it to the provider's ARN (aws iam list-open-id-connect-providers), such as arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE")
		case !oidcARNRE.MatchString(id.OIDCProviderARN):
			p.add("eks.identity.oidcProviderArn", fmt.Sprintf("%q is not an IAM OIDC provider ARN", id.OIDCProviderARN), "use arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>")
		}
	case IdentityExisting:
		if id.OIDCProviderARN != "" || id.PolicyARN != "" {
			p.add("eks.identity.mode", "is existing, so no role is created and oidcProviderArn and policyArn would be ignored", "remove them, or use mode podIdentity or irsa to create the role")
		}
		if id.RoleARN != "" && !roleARNRE.MatchString(id.RoleARN) {
			p.add("eks.identity.roleArn", fmt.Sprintf("%q is not an IAM role ARN", id.RoleARN), "use arn:aws:iam::<account>:role/<name>, or remove it when a Pod Identity association grants the permissions")
		}
	default:
		p.add("eks.identity.mode", fmt.Sprintf("unknown identity mode %q", id.Mode), "use podIdentity, irsa or existing")
	}
	if id.RoleARN != "" && id.Mode != IdentityExisting {
		p.add("eks.identity.roleArn", fmt.Sprintf("is set, but identity.mode %s creates its own role", id.Mode), "remove it, or set identity.mode: existing to use that role")
	}
	if id.Mode != IdentityExisting && id.RoleName != "" && !roleNameRE.MatchString(id.RoleName) {
		p.add("eks.identity.roleName", fmt.Sprintf("%q is not a valid IAM role name (at most 64 of letters, digits and +=,.@_-)", id.RoleName), "set eks.identity.roleName to a shorter name")
	}
	if id.PolicyARN != "" && !policyARNRE.MatchString(id.PolicyARN) {
		p.add("eks.identity.policyArn", fmt.Sprintf("%q is not an IAM policy ARN", id.PolicyARN), "use arn:aws:iam::<account>:policy/<name>, or remove it to create the controller's documented policy")
	}

	c := e.Controller
	checkDNSLabel(p, "eks.controller.namespace", c.Namespace, "namespace")
	checkDNSLabel(p, "eks.controller.serviceAccount", c.ServiceAccount, "service account")
	if !chartVerRE.MatchString(c.Version) {
		p.add("eks.controller.version", fmt.Sprintf("%q is not a chart version", c.Version), "use a version such as "+DefaultLBCChartVersion+" (no leading v)")
	}

	g := e.Gateway
	checkDNSLabel(p, "eks.gateway.name", g.Name, "name")
	checkDNSLabel(p, "eks.gateway.namespace", g.Namespace, "namespace")
	if len(g.GatewayClassName) > 253 || !preciseHostnameRE.MatchString(g.GatewayClassName) {
		p.add("eks.gateway.gatewayClassName", fmt.Sprintf("%q is not a valid object name", g.GatewayClassName), "use lowercase letters, digits, '-' and '.'")
	} else if g.GatewayClassName == a.EnvoyGateway.GatewayClassName {
		p.add("eks.gateway.gatewayClassName", fmt.Sprintf("%q is already the Envoy Gateway GatewayClass", g.GatewayClassName), "give the NLB GatewayClass its own name, such as "+DefaultNLBGatewayClassName)
	}
	if g.Namespace == a.Gateway.Namespace && g.Name == a.Gateway.Name {
		p.add("eks.gateway.name", fmt.Sprintf("Gateway %s/%s is already the Envoy Gateway Gateway", g.Namespace, g.Name), "give the NLB Gateway its own name, such as "+DefaultNLBGatewayName)
	}
	switch g.Scheme {
	case "internal", "internet-facing":
	default:
		p.add("eks.gateway.scheme", fmt.Sprintf("unknown scheme %q", g.Scheme), "use internal or internet-facing")
	}
	for i, r := range g.SourceRanges {
		if _, _, err := net.ParseCIDR(r); err != nil {
			p.add(fmt.Sprintf("eks.gateway.sourceRanges[%d]", i), fmt.Sprintf("%q is not a CIDR", r), "use a CIDR such as 10.0.0.0/8")
		}
	}

	listeners := map[string]*NLBListenerArgs{}
	ports := map[int]string{}
	if len(g.Listeners) == 0 {
		p.add("eks.gateway.listeners", "the NLB Gateway needs at least one listener", "remove the empty list to get the default TLS listener on 443, or add one")
	}
	for i := range g.Listeners {
		l := &g.Listeners[i]
		f := fmt.Sprintf("eks.gateway.listeners[%d]", i)
		if checkDNSLabel(p, f+".name", l.Name, "listener name") {
			if _, dup := listeners[l.Name]; dup {
				p.add(f+".name", fmt.Sprintf("listener name %q is used twice", l.Name), "give every listener a unique name")
			}
			listeners[l.Name] = l
		}
		if l.Port < 1 || l.Port > 65535 {
			p.add(f+".port", fmt.Sprintf("port %d of listener %q is out of range", l.Port, l.Name), "use a port between 1 and 65535")
		} else if prev, dup := ports[l.Port]; dup {
			p.add(f+".port", fmt.Sprintf("port %d is already used by listener %q; an NLB has one listener per port", l.Port, prev), "use another port")
		} else {
			ports[l.Port] = l.Name
		}
		switch l.Protocol {
		case "TLS":
			switch {
			case l.CertificateARN == "":
				p.add(f+".certificateArn", fmt.Sprintf("TLS listener %q has no certificate: LBC takes NLB listener certificates from ACM, not from Kubernetes Secrets (certificateRefs are ignored)", l.Name),
					"set certificateArn to the ACM certificate's ARN, such as "+ExampleCertificateARN)
			case !acmARNRE.MatchString(l.CertificateARN):
				p.add(f+".certificateArn", fmt.Sprintf("%q is not an ACM certificate ARN", l.CertificateARN), "use arn:aws:acm:<region>:<account>:certificate/<uuid>, such as "+ExampleCertificateARN)
			}
			for k, arn := range l.AdditionalCertificateARNs {
				if !acmARNRE.MatchString(arn) {
					p.add(fmt.Sprintf("%s.additionalCertificateArns[%d]", f, k), fmt.Sprintf("%q is not an ACM certificate ARN", arn), "use arn:aws:acm:<region>:<account>:certificate/<uuid>")
				}
			}
			if !strings.HasPrefix(l.SSLPolicy, "ELBSecurityPolicy-") {
				p.add(f+".sslPolicy", fmt.Sprintf("%q is not an ELB security policy", l.SSLPolicy), "use a policy such as "+DefaultNLBSSLPolicy)
			}
			switch l.ALPNPolicy {
			case "", "HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None":
			default:
				p.add(f+".alpnPolicy", fmt.Sprintf("unknown ALPN policy %q", l.ALPNPolicy), "use HTTP1Only, HTTP2Only, HTTP2Optional, HTTP2Preferred or None")
			}
			if l.Hostname != "" && (len(l.Hostname) > 253 || !hostnameRE.MatchString(l.Hostname) || net.ParseIP(l.Hostname) != nil) {
				p.add(f+".hostname", fmt.Sprintf("%q is not a valid listener hostname", l.Hostname), "use a lowercase DNS name, optionally starting with \"*.\"")
			}
		case "TCP":
			if l.CertificateARN != "" || len(l.AdditionalCertificateARNs) > 0 || l.SSLPolicy != "" || l.ALPNPolicy != "" {
				p.add(f+".certificateArn", fmt.Sprintf("TCP listener %q passes TLS through, so certificates and TLS policies would be ignored", l.Name), "set protocol: TLS to terminate TLS at the NLB, or remove certificateArn, additionalCertificateArns, sslPolicy and alpnPolicy")
			}
			if l.Hostname != "" {
				p.add(f+".hostname", fmt.Sprintf("TCP listener %q cannot have a hostname (Gateway API forbids it for TCP)", l.Name), "remove hostname, or use protocol TLS")
			}
		default:
			p.add(f+".protocol", fmt.Sprintf("unsupported protocol %q for NLB listener %q", l.Protocol, l.Name), "use TLS (the NLB terminates and re-encrypts to the pods) or TCP (passthrough)")
		}
	}

	if len(e.Targets) == 0 {
		p.add("eks.targets", "no targets are configured, so the NLB would forward nowhere", "add a target naming a backend ({backend: <name>}) or an existing Service ({service: {name, namespace, port}})")
	}
	usedListener := map[string]int{}
	tgcOf := map[string]int{}
	for i := range e.Targets {
		t := &e.Targets[i]
		f := fmt.Sprintf("eks.targets[%d]", i)
		switch {
		case t.Backend != "" && t.Service != nil:
			p.add(f, "sets both backend and service", "keep one: backend names an entry of backends, service names an existing Service")
		case t.Backend == "" && t.Service == nil:
			p.add(f, "names no Service", "set backend to the name of an entry of backends, or service to {name, namespace, port}")
		case t.Backend != "":
			found := false
			for _, b := range a.Backends {
				found = found || b.Name == t.Backend
			}
			if !found {
				p.add(f+".backend", fmt.Sprintf("there is no backend named %q", t.Backend), "use the name of an entry of backends")
			}
		default:
			checkDNSLabel(p, f+".service.name", t.Service.Name, "service name")
			checkDNSLabel(p, f+".service.namespace", t.Service.Namespace, "namespace")
			if t.Service.Port < 1 || t.Service.Port > 65535 {
				p.add(f+".service.port", fmt.Sprintf("port %d is out of range", t.Service.Port), "set the Service port number (1-65535) the NLB forwards to")
			}
		}
		svc, ns, _, svcOK := nlbTargetService(a, t)

		l := listeners[t.Listener]
		if l == nil {
			p.add(f+".listener", fmt.Sprintf("the NLB Gateway has no listener %q", t.Listener), "use one of the names under eks.gateway.listeners")
		} else if j, dup := usedListener[t.Listener]; dup {
			p.add(f+".listener", fmt.Sprintf("listener %q already forwards to eks.targets[%d]; an NLB listener forwards to one target group and does no SNI routing", t.Listener, j),
				"add a listener on another port for this target")
		} else {
			usedListener[t.Listener] = i
		}

		tg := t.TargetGroup
		switch tg.Protocol {
		case "TLS":
			if l != nil && l.Protocol == "TCP" {
				p.add(f+".targetGroup.protocol", fmt.Sprintf("TCP listener %q cannot forward to a TLS target group (AWS rejects the pair with IncompatibleProtocols)", t.Listener),
					"make the listener protocol TLS (with certificateArn) to re-encrypt to the pods, or set targetGroup.protocol: TCP for passthrough")
			}
		case "TCP":
			if l != nil && l.Protocol == "TLS" {
				p.add(f+".targetGroup.protocol", fmt.Sprintf("behind TLS listener %q a TCP target group gets the decrypted traffic: the NLB would send plaintext to the pods", t.Listener),
					"use targetGroup.protocol: TLS (the default) so the NLB re-encrypts to the pods")
			}
		default:
			p.add(f+".targetGroup.protocol", fmt.Sprintf("unsupported target group protocol %q", tg.Protocol), "use TLS (re-encrypt to the pods) or TCP (passthrough behind a TCP listener)")
		}
		switch tg.TargetType {
		case "ip", "instance":
		default:
			p.add(f+".targetGroup.targetType", fmt.Sprintf("unknown target type %q", tg.TargetType), "use ip (pods; needs the VPC CNI) or instance")
		}
		if tg.Name != "" && (len(tg.Name) > 253 || !preciseHostnameRE.MatchString(tg.Name)) {
			p.add(f+".targetGroup.name", fmt.Sprintf("%q is not a valid object name", tg.Name), "use lowercase letters, digits, '-' and '.'")
		}
		if svcOK {
			if tg.Namespace != "" && tg.Namespace != ns {
				p.add(f+".targetGroup.namespace", fmt.Sprintf("%q differs from the namespace %q of Service %q; LBC only reads a TargetGroupConfiguration in its Service's namespace", tg.Namespace, ns, svc),
					fmt.Sprintf("remove targetGroup.namespace, or set it to %q", ns))
			}
			key := ns + "/" + svc
			if j, dup := tgcOf[key]; dup {
				p.add(f, fmt.Sprintf("Service %s is already the target of eks.targets[%d]; LBC reads only one TargetGroupConfiguration per Service", key, j),
					"target each Service once, or put the second port behind its own Service")
			} else {
				tgcOf[key] = i
			}
		}
		validateHealthCheck(p, f+".targetGroup.healthCheck", tg.HealthCheck)

		// Route hostnames.
		if l != nil {
			switch l.Protocol {
			case "TLS":
				if len(t.Hostnames) == 0 && l.Hostname == "" {
					p.add(f+".hostnames", fmt.Sprintf("a TLSRoute needs at least one hostname, and listener %q has none", t.Listener),
						"set hostnames to the names clients connect to (covered by the ACM certificate), or set the listener's hostname")
				}
				for k, h := range t.Hostnames {
					hf := fmt.Sprintf("%s.hostnames[%d]", f, k)
					if len(h) > 253 || !hostnameRE.MatchString(h) || net.ParseIP(h) != nil {
						p.add(hf, fmt.Sprintf("%q is not a valid route hostname", h), "use a lowercase DNS name, optionally starting with \"*.\"")
					} else if !hostnameCovers(l.Hostname, h) {
						p.add(hf, fmt.Sprintf("%q is not under listener %q's hostname %q, so the route would not attach", h, l.Name, l.Hostname), "use a hostname the listener's hostname covers, or change the listener's hostname")
					}
				}
			case "TCP":
				if len(t.Hostnames) > 0 {
					p.add(f+".hostnames", fmt.Sprintf("listener %q is TCP passthrough: a TCPRoute has no hostnames", t.Listener), "remove hostnames, or use a TLS listener")
				}
			}
		}

		if a.Environment == EnvironmentProduction && !a.AllowInsecureBackends && tg.Protocol == "TLS" {
			p.add(f+".targetGroup.protocol", "the NLB encrypts to the pods but never validates their certificates, so this hop is unauthenticated, which is refused in a production environment",
				"accept it explicitly with upstream-tls:allowInsecureBackends: true, or route this Service through the Envoy Gateway path (mode ca or system), which verifies")
		}
	}
}

func validateHealthCheck(p *problems, f string, hc *HealthCheckArgs) {
	switch hc.Protocol {
	case "TCP":
		if hc.Path != "" {
			p.add(f+".path", "is set, but a TCP health check only opens a connection", "remove path, or use protocol HTTPS")
		}
	case "HTTP", "HTTPS":
		if !strings.HasPrefix(hc.Path, "/") {
			p.add(f+".path", fmt.Sprintf("%q does not start with '/'", hc.Path), "use an absolute path such as /healthz")
		}
	case "TLS":
		p.add(f+".protocol", "TLS is not a health-check protocol NLB accepts (only TCP, HTTP and HTTPS)", "use TCP (the default) to check the port, or HTTPS to check a path over TLS")
	default:
		p.add(f+".protocol", fmt.Sprintf("unknown health-check protocol %q", hc.Protocol), "use TCP (default) or HTTPS")
	}
	if hc.Port != "traffic-port" {
		if n, err := strconv.Atoi(hc.Port); err != nil || n < 1 || n > 65535 {
			p.add(f+".port", fmt.Sprintf("%q is neither a port number nor traffic-port", hc.Port), "use a port number such as \"8443\", or remove it to check the traffic port")
		}
	}
	bounds := []struct {
		name      string
		v, lo, hi int
	}{
		{"intervalSeconds", hc.IntervalSeconds, 5, 300},
		{"timeoutSeconds", hc.TimeoutSeconds, 2, 120},
		{"healthyThreshold", hc.HealthyThreshold, 2, 10},
		{"unhealthyThreshold", hc.UnhealthyThreshold, 2, 10},
	}
	for _, b := range bounds {
		if b.v != 0 && (b.v < b.lo || b.v > b.hi) {
			p.add(f+"."+b.name, fmt.Sprintf("%d is out of range", b.v), fmt.Sprintf("use %d-%d, or remove it for the AWS default", b.lo, b.hi))
		}
	}
}
