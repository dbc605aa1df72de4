package eks

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

var (
	clusterNameRE = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$`)
	acmARNRE      = regexp.MustCompile(`^arn:(aws(-[a-z]+)*):acm:([a-z]{2}(-[a-z]+)+-\d):\d{12}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	oidcARNRE     = regexp.MustCompile(`^arn:(aws(-[a-z]+)*):iam::\d{12}:oidc-provider/[a-z0-9.-]+(/[A-Za-z0-9._-]+)*$`)
	oidcRegionRE  = regexp.MustCompile(`^oidc\.eks\.([a-z]{2}(-[a-z]+)+-\d)\.amazonaws\.com(\.cn)?/`)
	roleARNRE     = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]{1,64}$`)
	policyARNRE   = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::(\d{12}|aws):policy/[\w+=,.@/-]{1,128}$`)
	roleNameRE    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	regionRE      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	vpcIDRE       = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// partitionOf is the AWS partition of a region: aws, aws-cn or aws-us-gov.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// Validate checks the defaulted EKS arguments (nothing when the path is off) and records every
// problem in p.
func Validate(p *core.Problems, a *spec.Args) {
	if !Enabled(a) {
		return
	}
	e := a.EKS
	ep := field.NewPath("eks")
	switch {
	case e.ClusterName == "":
		p.Required(ep.Child("clusterName"), "is required when eks.enabled is true: the controller, its IAM role and its Pod Identity association are per cluster",
			"set eks.clusterName to the existing EKS cluster's name (aws eks list-clusters)")
	case !clusterNameRE.MatchString(e.ClusterName):
		p.Add(ep.Child("clusterName"), fmt.Sprintf("%q is not a valid EKS cluster name", e.ClusterName), "use 1-100 letters, digits, '-' and '_', starting with a letter or digit")
	}
	if e.Region != "" && !regionRE.MatchString(e.Region) {
		p.Add(ep.Child("region"), fmt.Sprintf("%q is not an AWS region", e.Region), "use a region code such as eu-west-1, or remove it to let the controller read it from instance metadata")
	}
	if e.VPCID != "" && !vpcIDRE.MatchString(e.VPCID) {
		p.Add(ep.Child("vpcId"), fmt.Sprintf("%q is not a VPC ID", e.VPCID), "use the cluster VPC's ID, such as vpc-0123456789abcdef0, or remove it")
	}
	validateIdentity(p, ep.Child("identity"), e)
	validateController(p, ep.Child("controller"), e.Controller)
	listeners := validateGateway(p, ep.Child("gateway"), a, e)
	validateTargets(p, ep.Child("targets"), a, e, listeners)
}

func validateIdentity(p *core.Problems, path *field.Path, e *spec.EKSArgs) {
	id := e.Identity
	switch id.Mode {
	case spec.IdentityPodIdentity:
		if id.OIDCProviderARN != "" {
			p.Add(path.Child("oidcProviderArn"), "is set, but identity.mode podIdentity does not use the cluster's OIDC provider", "remove it, or set identity.mode: irsa")
		}
	case spec.IdentityIRSA:
		switch {
		case id.OIDCProviderARN == "":
			p.Required(path.Child("oidcProviderArn"), "identity.mode irsa needs the cluster's IAM OIDC provider", "set it to the provider's ARN (aws iam list-open-id-connect-providers), such as arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE")
		case !oidcARNRE.MatchString(id.OIDCProviderARN):
			p.Add(path.Child("oidcProviderArn"), fmt.Sprintf("%q is not an IAM OIDC provider ARN", id.OIDCProviderARN), "use arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>")
		case e.Region != "":
			if m := oidcRegionRE.FindStringSubmatch(issuerOf(id.OIDCProviderARN)); m != nil && m[1] != e.Region {
				p.Add(path.Child("oidcProviderArn"), fmt.Sprintf("is the OIDC provider of a cluster in %s, but eks.region is %s: the controller's tokens would never match its trust policy", m[1], e.Region),
					"use the OIDC provider of the cluster eks.clusterName names (aws eks describe-cluster --query cluster.identity.oidc.issuer)")
			}
		}
	case spec.IdentityExisting:
		if id.OIDCProviderARN != "" || id.PolicyARN != "" {
			p.Add(path.Child("mode"), "is existing, so no role is created and oidcProviderArn and policyArn would be ignored", "remove them, or use mode podIdentity or irsa to create the role")
		}
		if id.RoleARN != "" && !roleARNRE.MatchString(id.RoleARN) {
			p.Add(path.Child("roleArn"), fmt.Sprintf("%q is not an IAM role ARN", id.RoleARN), "use arn:aws:iam::<account>:role/<name>, or remove it when a Pod Identity association grants the permissions")
		}
	default:
		p.Add(path.Child("mode"), fmt.Sprintf("unknown identity mode %q", id.Mode), "use podIdentity, irsa or existing")
	}
	if id.RoleARN != "" && id.Mode != spec.IdentityExisting {
		p.Add(path.Child("roleArn"), fmt.Sprintf("is set, but identity.mode %s creates its own role", id.Mode), "remove it, or set identity.mode: existing to use that role")
	}
	if id.Mode != spec.IdentityExisting && id.RoleName != "" && !roleNameRE.MatchString(id.RoleName) {
		p.Add(path.Child("roleName"), fmt.Sprintf("%q is not a valid IAM role name (at most 64 of letters, digits and +=,.@_-)", id.RoleName), "set eks.identity.roleName to a shorter name")
	}
	if id.PolicyARN != "" && !policyARNRE.MatchString(id.PolicyARN) {
		p.Add(path.Child("policyArn"), fmt.Sprintf("%q is not an IAM policy ARN", id.PolicyARN), "use arn:aws:iam::<account>:policy/<name>, or remove it to create the controller's documented policy")
	}
}

func validateController(p *core.Problems, path *field.Path, c *spec.LBCArgs) {
	p.DNSLabel(path.Child("namespace"), c.Namespace, "namespace")
	p.DNSLabel(path.Child("serviceAccount"), c.ServiceAccount, "service account")
	if !core.ChartVersion(c.Version) {
		p.Add(path.Child("version"), fmt.Sprintf("%q is not a chart version", c.Version), "use a version such as "+DefaultLBCChartVersion+" (no leading v)")
	}
}

// validateGateway checks the NLB Gateway and its listeners and returns the listeners by name.
func validateGateway(p *core.Problems, path *field.Path, a *spec.Args, e *spec.EKSArgs) map[string]*spec.NLBListenerArgs {
	g := e.Gateway
	p.DNSLabel(path.Child("name"), g.Name, "name")
	p.DNSLabel(path.Child("namespace"), g.Namespace, "namespace")
	switch {
	case !core.IsObjectName(g.GatewayClassName):
		p.Add(path.Child("gatewayClassName"), fmt.Sprintf("%q is not a valid object name", g.GatewayClassName), "use lowercase letters, digits, '-' and '.'")
	case g.GatewayClassName == a.EnvoyGateway.GatewayClassName:
		p.Add(path.Child("gatewayClassName"), fmt.Sprintf("%q is already the Envoy Gateway GatewayClass", g.GatewayClassName), "give the NLB GatewayClass its own name, such as aws-nlb")
	}
	if g.Namespace == a.Gateway.Namespace && g.Name == a.Gateway.Name {
		p.Add(path.Child("name"), fmt.Sprintf("Gateway %s/%s is already the Envoy Gateway Gateway", g.Namespace, g.Name), "give the NLB Gateway its own name, such as upstream-tls-nlb")
	}
	switch g.Scheme {
	case "internal", "internet-facing":
	default:
		p.Add(path.Child("scheme"), fmt.Sprintf("unknown scheme %q", g.Scheme), "use internal or internet-facing")
	}
	for i, r := range g.SourceRanges {
		rp := path.Child("sourceRanges").Index(i)
		ip, _, err := net.ParseCIDR(r)
		switch {
		case err != nil:
			p.Add(rp, fmt.Sprintf("%q is not a CIDR", r), "use a CIDR such as 10.0.0.0/8")
		case ip.To4() == nil:
			p.Add(rp, fmt.Sprintf("%q is an IPv6 range, but the component creates an IPv4 NLB (ipAddressType ipv4), whose security group rules cannot use it", r), "use IPv4 CIDRs, such as 203.0.113.0/24")
		}
	}

	listeners := map[string]*spec.NLBListenerArgs{}
	ports := map[int]string{}
	if len(g.Listeners) == 0 {
		p.Required(path.Child("listeners"), "the NLB Gateway needs at least one listener", "remove the empty list to get the default TLS listener on 443, or add one")
	}
	for i := range g.Listeners {
		l := &g.Listeners[i]
		lp := path.Child("listeners").Index(i)
		if p.DNSLabel(lp.Child("name"), l.Name, "listener name") {
			if _, dup := listeners[l.Name]; dup {
				p.Duplicate(lp.Child("name"), fmt.Sprintf("listener name %q is used twice", l.Name), "give every listener a unique name")
			}
			listeners[l.Name] = l
		}
		if p.PortNumber(lp.Child("port"), l.Port, fmt.Sprintf("port %d of listener %q", l.Port, l.Name)) {
			if prev, dup := ports[l.Port]; dup {
				p.Duplicate(lp.Child("port"), fmt.Sprintf("port %d is already used by listener %q; an NLB has one listener per port", l.Port, prev), "use another port")
			} else {
				ports[l.Port] = l.Name
			}
		}
		validateListener(p, lp, e, l)
	}
	return listeners
}

func validateListener(p *core.Problems, lp *field.Path, e *spec.EKSArgs, l *spec.NLBListenerArgs) {
	switch l.Protocol {
	case core.ProtocolTLS:
		switch {
		case l.CertificateARN == "":
			p.Required(lp.Child("certificateArn"), fmt.Sprintf("TLS listener %q has no certificate: LBC takes NLB listener certificates from ACM, not from Kubernetes Secrets (certificateRefs are ignored)", l.Name),
				"set certificateArn to the ACM certificate's ARN, such as "+ExampleCertificateARN)
		case !acmARNRE.MatchString(l.CertificateARN):
			p.Add(lp.Child("certificateArn"), fmt.Sprintf("%q is not an ACM certificate ARN", l.CertificateARN), "use arn:aws:acm:<region>:<account>:certificate/<uuid>, such as "+ExampleCertificateARN)
		default:
			checkARNRegion(p, lp.Child("certificateArn"), e, l.CertificateARN)
		}
		for k, arn := range l.AdditionalCertificateARNs {
			ap := lp.Child("additionalCertificateArns").Index(k)
			if !acmARNRE.MatchString(arn) {
				p.Add(ap, fmt.Sprintf("%q is not an ACM certificate ARN", arn), "use arn:aws:acm:<region>:<account>:certificate/<uuid>")
			} else {
				checkARNRegion(p, ap, e, arn)
			}
		}
		if !strings.HasPrefix(l.SSLPolicy, "ELBSecurityPolicy-") {
			p.Add(lp.Child("sslPolicy"), fmt.Sprintf("%q is not an ELB security policy", l.SSLPolicy), "use a policy such as "+DefaultNLBSSLPolicy)
		}
		switch l.ALPNPolicy {
		case "", "HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None":
		default:
			p.Add(lp.Child("alpnPolicy"), fmt.Sprintf("unknown ALPN policy %q", l.ALPNPolicy), "use HTTP1Only, HTTP2Only, HTTP2Optional, HTTP2Preferred or None")
		}
		if l.Hostname != "" {
			p.Hostname(lp.Child("hostname"), l.Hostname, "listener")
		}
	case core.ProtocolTCP:
		if l.CertificateARN != "" || len(l.AdditionalCertificateARNs) > 0 || l.SSLPolicy != "" || l.ALPNPolicy != "" {
			p.Add(lp.Child("certificateArn"), fmt.Sprintf("TCP listener %q passes TLS through, so certificates and TLS policies would be ignored", l.Name), "set protocol: TLS to terminate TLS at the NLB, or remove certificateArn, additionalCertificateArns, sslPolicy and alpnPolicy")
		}
		if l.Hostname != "" {
			p.Add(lp.Child("hostname"), fmt.Sprintf("TCP listener %q cannot have a hostname (Gateway API forbids it for TCP)", l.Name), "remove hostname, or use protocol TLS")
		}
	default:
		p.Add(lp.Child("protocol"), fmt.Sprintf("unsupported protocol %q for NLB listener %q", l.Protocol, l.Name), "use TLS (the NLB terminates and re-encrypts to the pods) or TCP (passthrough)")
	}
}

// checkARNRegion refuses an ACM certificate of another region or partition than the cluster's:
// an NLB serves only certificates of its own region.
func checkARNRegion(p *core.Problems, path *field.Path, e *spec.EKSArgs, arn string) {
	if e.Region == "" {
		return
	}
	m := acmARNRE.FindStringSubmatch(arn)
	if m == nil {
		return
	}
	partition, region := m[1], m[3]
	switch {
	case partition != partitionOf(e.Region):
		p.Add(path, fmt.Sprintf("is an ACM certificate of partition %s, but the cluster's region %s is in partition %s", partition, e.Region, partitionOf(e.Region)),
			fmt.Sprintf("request or import the certificate in ACM in %s", e.Region))
	case region != e.Region:
		p.Add(path, fmt.Sprintf("is an ACM certificate in %s, but the NLB is created in eks.region %s, and an NLB serves only certificates of its own region", region, e.Region),
			fmt.Sprintf("request or import the certificate in ACM in %s and use that ARN", e.Region))
	}
}

func validateTargets(p *core.Problems, path *field.Path, a *spec.Args, e *spec.EKSArgs, listeners map[string]*spec.NLBListenerArgs) {
	if len(e.Targets) == 0 {
		p.Required(path, "no targets are configured, so the NLB would forward nowhere", "add a target naming a backend ({backend: <name>}) or an existing Service ({service: {name, namespace, port}})")
	}
	usedListener := map[string]int{}
	tgcOf := map[string]int{}
	for i := range e.Targets {
		t := &e.Targets[i]
		tp := path.Index(i)
		switch {
		case t.Backend != "" && t.Service != nil:
			p.Add(tp, "sets both backend and service", "keep one: backend names an entry of backends, service names an existing Service")
		case t.Backend == "" && t.Service == nil:
			p.Required(tp, "names no Service", "set backend to the name of an entry of backends, or service to {name, namespace, port}")
		case t.Backend != "":
			found, external := false, false
			for _, b := range a.Backends {
				found = found || b.Name == t.Backend
				external = external || (b.Name == t.Backend && b.External != nil)
			}
			if external {
				p.Add(tp.Child("backend"), fmt.Sprintf("backend %q is external (outside the cluster): it has no pods for the NLB to target", t.Backend), "target a backend with a Service in the cluster")
			} else if !found {
				p.Add(tp.Child("backend"), fmt.Sprintf("there is no backend named %q", t.Backend), "use the name of an entry of backends")
			}
		default:
			p.DNSLabel(tp.Child("service", "name"), t.Service.Name, "service name")
			p.DNSLabel(tp.Child("service", "namespace"), t.Service.Namespace, "namespace")
			if !core.IsPortNumber(t.Service.Port) {
				p.Add(tp.Child("service", "port"), fmt.Sprintf("port %d is out of range", t.Service.Port), "set the Service port number (1-65535) the NLB forwards to")
			}
		}
		svc, ns, _, backend, svcOK := targetService(a, t)

		l := listeners[t.Listener]
		if l == nil {
			p.Add(tp.Child("listener"), fmt.Sprintf("the NLB Gateway has no listener %q", t.Listener), "use one of the names under eks.gateway.listeners")
		} else if j, dup := usedListener[t.Listener]; dup {
			p.Add(tp.Child("listener"), fmt.Sprintf("listener %q already forwards to eks.targets[%d]; an NLB listener forwards to one target group and does no SNI routing", t.Listener, j),
				"add a listener on another port for this target")
		} else {
			usedListener[t.Listener] = i
		}

		tg := t.TargetGroup
		gp := tp.Child("targetGroup")
		switch tg.Protocol {
		case core.ProtocolTLS:
			if l != nil && l.Protocol == core.ProtocolTCP {
				p.Add(gp.Child("protocol"), fmt.Sprintf("TCP listener %q cannot forward to a TLS target group (AWS rejects the pair with IncompatibleProtocols)", t.Listener),
					"make the listener protocol TLS (with certificateArn) to re-encrypt to the pods, or set targetGroup.protocol: TCP for passthrough")
			}
		case core.ProtocolTCP:
			if l != nil && l.Protocol == core.ProtocolTLS {
				p.Add(gp.Child("protocol"), fmt.Sprintf("behind TLS listener %q a TCP target group gets the decrypted traffic: the NLB would send plaintext to the pods", t.Listener),
					"use targetGroup.protocol: TLS (the default) so the NLB re-encrypts to the pods")
			}
		default:
			p.Add(gp.Child("protocol"), fmt.Sprintf("unsupported target group protocol %q", tg.Protocol), "use TLS (re-encrypt to the pods) or TCP (passthrough behind a TCP listener)")
		}
		switch tg.TargetType {
		case "ip":
		case "instance":
			if backend != nil && !backend.Service.Existing {
				p.Add(gp.Child("targetType"), fmt.Sprintf("is instance, but backend %q's Service is the ClusterIP Service the component deploys, and instance targets reach pods through a NodePort", backend.Name),
					"use targetType ip (pods are targets; needs the VPC CNI), or target an existing NodePort Service")
			}
		default:
			p.Add(gp.Child("targetType"), fmt.Sprintf("unknown target type %q", tg.TargetType), "use ip (pods; needs the VPC CNI) or instance")
		}
		p.ObjectName(gp.Child("name"), tg.Name, "is not a valid object name", "use lowercase letters, digits, '-' and '.'")
		if svcOK {
			if tg.Namespace != "" && tg.Namespace != ns {
				p.Add(gp.Child("namespace"), fmt.Sprintf("%q differs from the namespace %q of Service %q; LBC only reads a TargetGroupConfiguration in its Service's namespace", tg.Namespace, ns, svc),
					fmt.Sprintf("remove targetGroup.namespace, or set it to %q", ns))
			}
			key := ns + "/" + svc
			if j, dup := tgcOf[key]; dup {
				p.Add(tp, fmt.Sprintf("Service %s is already the target of eks.targets[%d]; LBC reads only one TargetGroupConfiguration per Service", key, j),
					"target each Service once, or put the second port behind its own Service")
			} else {
				tgcOf[key] = i
			}
		}
		validateHealthCheck(p, gp.Child("healthCheck"), tg.HealthCheck)

		// Route hostnames.
		if l != nil {
			switch l.Protocol {
			case core.ProtocolTLS:
				if len(t.Hostnames) == 0 {
					p.Required(tp.Child("hostnames"), fmt.Sprintf("a TLSRoute needs at least one hostname, and listener %q has none", t.Listener),
						"set hostnames to the names clients connect to (covered by the ACM certificate), or set the listener's hostname")
				}
				for k, h := range t.Hostnames {
					hp := tp.Child("hostnames").Index(k)
					if !core.IsHostname(h) {
						p.Add(hp, fmt.Sprintf("%q is not a valid route hostname", h), "use a lowercase DNS name, optionally starting with \"*.\"")
					} else if !core.HostnameCovers(l.Hostname, h) {
						p.Add(hp, fmt.Sprintf("%q is not under listener %q's hostname %q, so the route would not attach", h, l.Name, l.Hostname), "use a hostname the listener's hostname covers, or change the listener's hostname")
					}
				}
			case core.ProtocolTCP:
				if len(t.Hostnames) > 0 {
					p.Add(tp.Child("hostnames"), fmt.Sprintf("listener %q is TCP passthrough: a TCPRoute has no hostnames", t.Listener), "remove hostnames, or use a TLS listener")
				}
			}
		}

		if a.Environment == spec.EnvironmentProduction && !a.AllowInsecureBackends && tg.Protocol == core.ProtocolTLS {
			p.Add(gp.Child("protocol"), "the NLB encrypts to the pods but never validates their certificates, so this hop is unauthenticated, which is refused in a production environment",
				"accept it explicitly with allowInsecureBackends: true (stack config upstream-tls:allowInsecureBackends), or route this Service through the Envoy Gateway path (mode ca or system), which verifies")
		}
	}
}

func validateHealthCheck(p *core.Problems, path *field.Path, hc *spec.HealthCheckArgs) {
	switch hc.Protocol {
	case core.ProtocolTCP:
		if hc.Path != "" {
			p.Add(path.Child("path"), "is set, but a TCP health check only opens a connection", "remove path, or use protocol HTTPS")
		}
	case "HTTP", "HTTPS":
		if !strings.HasPrefix(hc.Path, "/") {
			p.Add(path.Child("path"), fmt.Sprintf("%q does not start with '/'", hc.Path), "use an absolute path such as /healthz")
		}
		if hc.Protocol == "HTTP" && hc.Port == "traffic-port" {
			p.Add(path.Child("protocol"), "is HTTP against the traffic port, which speaks only TLS (the pods serve TLS behind both TLS and TCP target groups), so every check fails and no target becomes healthy",
				"use protocol TCP (the default) or HTTPS, or point port at a plain-HTTP health port")
		}
	case core.ProtocolTLS:
		p.Add(path.Child("protocol"), "TLS is not a health-check protocol NLB accepts (only TCP, HTTP and HTTPS)", "use TCP (the default) to check the port, or HTTPS to check a path over TLS")
	default:
		p.Add(path.Child("protocol"), fmt.Sprintf("unknown health-check protocol %q", hc.Protocol), "use TCP (default) or HTTPS")
	}
	if hc.Port != "traffic-port" {
		if n, err := strconv.Atoi(hc.Port); err != nil || !core.IsPortNumber(n) {
			p.Add(path.Child("port"), fmt.Sprintf("%q is neither a port number nor traffic-port", hc.Port), "use a port number such as \"8443\", or remove it to check the traffic port")
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
			p.Add(path.Child(b.name), fmt.Sprintf("%d is out of range", b.v), fmt.Sprintf("use %d-%d, or remove it for the AWS default", b.lo, b.hi))
		}
	}
	if hc.TimeoutSeconds != 0 && hc.IntervalSeconds != 0 && hc.TimeoutSeconds >= hc.IntervalSeconds {
		p.Add(path.Child("timeoutSeconds"), fmt.Sprintf("%d is not below intervalSeconds %d; AWS requires a health check's timeout to be shorter than its interval", hc.TimeoutSeconds, hc.IntervalSeconds),
			"set timeoutSeconds below intervalSeconds (for example 5 and 10)")
	}
}
