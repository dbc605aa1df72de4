package plan

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/upstream-tls/upstream-tls/components/pki"
)

var (
	dnsLabelRE        = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	preciseHostnameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	hostnameRE        = regexp.MustCompile(`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	uriSchemeRE       = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$`)
)

// MaxBackendNameLength keeps derived object names (`<backend>-<port>`) within Kubernetes limits.
const MaxBackendNameLength = 40

func checkDNSLabel(p *problems, field, value, what string) bool {
	switch {
	case value == "":
		p.add(field, what+" is required", "set it to a lowercase DNS label such as \"my-"+strings.ToLower(strings.ReplaceAll(what, " ", "-"))+"\"")
	case len(value) > 63 || !dnsLabelRE.MatchString(value):
		p.add(field, fmt.Sprintf("%q is not a DNS label", value), "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit")
	default:
		return true
	}
	return false
}

// checkPreciseHostname validates a BackendTLSPolicy hostname: lowercase RFC 1123, no wildcard, no IP.
func checkPreciseHostname(p *problems, field, value string) {
	switch {
	case strings.Contains(value, "*"):
		p.add(field, fmt.Sprintf("%q contains a wildcard; the gateway sends it as SNI and verifies it, so it must be one exact name", value),
			"use the exact DNS name on the backend's certificate; to accept several names, list them in tls.subjectAltNames")
	case net.ParseIP(value) != nil:
		p.add(field, fmt.Sprintf("%q is an IP address; BackendTLSPolicy hostnames must be DNS names", value),
			"use a DNS name carried as a DNS SAN by the backend's certificate, such as <service>.<namespace>.svc")
	case value != strings.ToLower(value):
		p.add(field, fmt.Sprintf("%q has upper-case letters", value), fmt.Sprintf("write it in lower case: %q", strings.ToLower(value)))
	case len(value) > 253 || !preciseHostnameRE.MatchString(value):
		p.add(field, fmt.Sprintf("%q is not a valid DNS name", value), "use lowercase labels of letters, digits and '-', separated by dots")
	}
}

// validate checks defaulted args and returns every problem found.
func validate(a *Args) error {
	var p problems

	switch a.Environment {
	case EnvironmentDev, EnvironmentStaging, EnvironmentProduction:
	default:
		p.add("environment", fmt.Sprintf("unknown environment %q", a.Environment), "use dev, staging or production")
	}

	eg := a.EnvoyGateway
	checkDNSLabel(&p, "envoyGateway.namespace", eg.Namespace, "namespace")
	if !strings.HasPrefix(eg.Version, "v") {
		p.add("envoyGateway.version", fmt.Sprintf("%q is not a chart version", eg.Version), "use a version such as "+DefaultEnvoyGatewayVersion)
	}
	if len(eg.GatewayClassName) > 253 || !preciseHostnameRE.MatchString(eg.GatewayClassName) {
		p.add("envoyGateway.gatewayClassName", fmt.Sprintf("%q is not a valid object name", eg.GatewayClassName), "use lowercase letters, digits, '-' and '.'")
	}

	gw := a.Gateway
	checkDNSLabel(&p, "gateway.name", gw.Name, "name")
	checkDNSLabel(&p, "gateway.namespace", gw.Namespace, "namespace")
	listeners := map[string]ListenerArgs{}
	type portKey struct {
		port     int
		hostname string
	}
	portProtocol := map[int]string{}
	seenPortHost := map[portKey]string{}
	if len(gw.Listeners) == 0 {
		p.add("gateway.listeners", "a Gateway needs at least one listener", "remove the empty list to get the default http and https listeners, or add one")
	}
	for i, l := range gw.Listeners {
		f := fmt.Sprintf("gateway.listeners[%d]", i)
		if checkDNSLabel(&p, f+".name", l.Name, "listener name") {
			if _, dup := listeners[l.Name]; dup {
				p.add(f+".name", fmt.Sprintf("listener name %q is used twice", l.Name), "give every listener a unique name")
			}
			listeners[l.Name] = l
		}
		switch l.Protocol {
		case "HTTP":
			if l.CertificateSecret != "" {
				p.add(f+".certificateSecret", fmt.Sprintf("listener %q speaks plain HTTP, so certificateSecret %q would be ignored", l.Name, l.CertificateSecret), "set protocol: HTTPS, or remove certificateSecret")
			}
		case "HTTPS":
			if l.CertificateSecret != "" && !dnsLabelRE.MatchString(l.CertificateSecret) && !preciseHostnameRE.MatchString(l.CertificateSecret) {
				p.add(f+".certificateSecret", fmt.Sprintf("%q is not a valid Secret name", l.CertificateSecret), "name an existing kubernetes.io/tls Secret in the Gateway namespace")
			}
		default:
			p.add(f+".protocol", fmt.Sprintf("unsupported protocol %q for listener %q", l.Protocol, l.Name), "use HTTP or HTTPS (upper case)")
		}
		if l.Port < 1 || l.Port > 65535 {
			p.add(f+".port", fmt.Sprintf("port %d of listener %q is out of range", l.Port, l.Name), "use a port between 1 and 65535")
		} else {
			if prev, ok := portProtocol[l.Port]; ok && prev != l.Protocol {
				p.add(f+".port", fmt.Sprintf("port %d is used by both %s and %s listeners; Envoy Gateway marks such listeners Conflicted", l.Port, prev, l.Protocol), "use a separate port per protocol")
			}
			portProtocol[l.Port] = l.Protocol
			key := portKey{l.Port, l.Hostname}
			if prev, ok := seenPortHost[key]; ok {
				p.add(f+".hostname", fmt.Sprintf("listener %q repeats port %d and hostname %q of listener %q", l.Name, l.Port, l.Hostname, prev), "give listeners on the same port distinct hostnames")
			}
			seenPortHost[key] = l.Name
		}
		if l.Hostname != "" && (len(l.Hostname) > 253 || !hostnameRE.MatchString(l.Hostname) || net.ParseIP(l.Hostname) != nil) {
			p.add(f+".hostname", fmt.Sprintf("%q is not a valid listener hostname", l.Hostname), "use a lowercase DNS name, optionally starting with \"*.\"")
		}
	}

	if len(a.Backends) == 0 {
		p.add("backends", "no backends are configured", "add at least one backend with a name and tls.mode")
	}
	names := map[string]int{}
	insecure := false
	for i := range a.Backends {
		b := &a.Backends[i]
		f := fmt.Sprintf("backends[%d]", i)
		if checkDNSLabel(&p, f+".name", b.Name, "backend name") {
			if len(b.Name) > MaxBackendNameLength {
				p.add(f+".name", fmt.Sprintf("%q is longer than %d characters; it prefixes the names of the objects created for the backend", b.Name, MaxBackendNameLength), "shorten the name")
			}
			if j, dup := names[b.Name]; dup {
				p.add(f+".name", fmt.Sprintf("backend name %q is already used by backends[%d]", b.Name, j), "give every backend a unique name")
			} else {
				names[b.Name] = i
			}
		}
		checkDNSLabel(&p, f+".namespace", b.Namespace, "namespace")
		checkDNSLabel(&p, f+".service.name", b.Service.Name, "service name")
		validateBackend(&p, a, f, b, listeners)
		if b.TLS.Mode == ModeInsecure {
			insecure = true
		}
	}

	if insecure && eg.EnableBackend != nil && !*eg.EnableBackend {
		p.add("envoyGateway.enableBackend", "is false, but an insecure backend needs Envoy Gateway's Backend API (routes to it would fail with \"Backend is disabled in Envoy Gateway configuration\")",
			"remove envoyGateway.enableBackend (it turns on automatically) or change the insecure backends' tls.mode")
	}
	validateEKS(&p, a)
	return p.err()
}

func validateBackend(p *problems, a *Args, f string, b *BackendArgs, listeners map[string]ListenerArgs) {
	ports := map[string]PortArgs{}
	if len(b.Service.Ports) == 0 {
		p.add(f+".service.ports", "the Service has no ports", "list at least one named port, for example {name: https, port: 443}")
	}
	for j, port := range b.Service.Ports {
		pf := fmt.Sprintf("%s.service.ports[%d]", f, j)
		if checkDNSLabel(p, pf+".name", port.Name, "port name") {
			if len(port.Name) > 15 {
				p.add(pf+".name", fmt.Sprintf("port name %q is longer than 15 characters (Kubernetes IANA_SVC_NAME limit)", port.Name), "shorten the port name")
			}
			if _, dup := ports[port.Name]; dup {
				p.add(pf+".name", fmt.Sprintf("port name %q is used twice", port.Name), "give every Service port a unique name")
			}
			ports[port.Name] = port
		}
		if port.Port < 1 || port.Port > 65535 {
			p.add(pf+".port", fmt.Sprintf("port %d is out of range", port.Port), "use a port between 1 and 65535")
		}
		if port.TargetPort < 1 || port.TargetPort > 65535 {
			p.add(pf+".targetPort", fmt.Sprintf("targetPort %d is out of range", port.TargetPort), "use a port between 1 and 65535")
		}
	}
	portNames := func() string {
		var n []string
		for _, port := range b.Service.Ports {
			n = append(n, port.Name)
		}
		return strings.Join(n, ", ")
	}

	// Route.
	switch b.Route.Kind {
	case "HTTPRoute", "GRPCRoute":
	case "TLSRoute", "TCPRoute", "UDPRoute":
		p.add(f+".route.kind", fmt.Sprintf("route kind %s is not supported by this component yet", b.Route.Kind), "use HTTPRoute or GRPCRoute")
	default:
		p.add(f+".route.kind", fmt.Sprintf("unknown route kind %q", b.Route.Kind), "use HTTPRoute or GRPCRoute")
	}
	if b.Route.Kind == "GRPCRoute" && b.Route.PathPrefix != "/" {
		p.add(f+".route.pathPrefix", "a GRPCRoute matches gRPC services and methods, not path prefixes", "remove route.pathPrefix or use route.kind HTTPRoute")
	}
	if !strings.HasPrefix(b.Route.PathPrefix, "/") {
		p.add(f+".route.pathPrefix", fmt.Sprintf("%q does not start with '/'", b.Route.PathPrefix), "use an absolute path such as /api")
	}
	for k, h := range b.Route.Hostnames {
		if len(h) > 253 || !hostnameRE.MatchString(h) || net.ParseIP(h) != nil {
			p.add(fmt.Sprintf("%s.route.hostnames[%d]", f, k), fmt.Sprintf("%q is not a valid route hostname", h), "use a lowercase DNS name, optionally starting with \"*.\"")
		}
	}
	if b.Route.Listener != "" {
		if _, ok := listeners[b.Route.Listener]; !ok {
			p.add(f+".route.listener", fmt.Sprintf("the Gateway has no listener %q", b.Route.Listener), "use one of the names under gateway.listeners")
		}
	}
	if b.Route.Port != "" {
		if _, ok := ports[b.Route.Port]; !ok {
			p.add(f+".route.port", fmt.Sprintf("Service %q has no port named %q (ports: %s)", b.Service.Name, b.Route.Port, portNames()), "name one of the Service's ports")
		}
	}

	// Deploy.
	if !b.Service.Existing {
		if b.Deploy.Replicas < 0 {
			p.add(f+".deploy.replicas", fmt.Sprintf("replicas %d is negative", b.Deploy.Replicas), "use 1 or more")
		}
	} else if *b.Deploy != (DeployArgs{}) {
		p.add(f+".deploy", "is set, but service.existing is true, so nothing is deployed", "remove deploy, or set service.existing: false")
	}

	// TLS.
	t := &b.TLS
	checkPreciseHostname(p, f+".tls.hostname", t.Hostname)
	if len(t.SubjectAltNames) > 5 {
		p.add(f+".tls.subjectAltNames", fmt.Sprintf("has %d entries; BackendTLSPolicy allows at most 5", len(t.SubjectAltNames)), "keep the 5 names the backend certificate must match")
	}
	for k, san := range t.SubjectAltNames {
		sf := fmt.Sprintf("%s.tls.subjectAltNames[%d]", f, k)
		if strings.Contains(san, "://") {
			if !uriSchemeRE.MatchString(san) || len(san) > 253 {
				p.add(sf, fmt.Sprintf("%q is not a valid URI", san), "use a URI with a scheme, such as spiffe://cluster.local/ns/apps/sa/api")
			}
		} else if len(san) > 253 || !hostnameRE.MatchString(san) || net.ParseIP(san) != nil {
			p.add(sf, fmt.Sprintf("%q is neither a lowercase DNS name nor a URI", san), "use a DNS name (\"*.\" allowed) or a URI with a scheme")
		}
	}
	for k, name := range t.Ports {
		if _, ok := ports[name]; !ok {
			p.add(fmt.Sprintf("%s.tls.ports[%d]", f, k), fmt.Sprintf("Service %q has no port named %q (ports: %s)", b.Service.Name, name, portNames()), "name one of the Service's ports in tls.ports")
		}
	}
	deployedCertGenerated := !b.Service.Existing && b.Deploy.CertificateSecret == ""
	switch t.Mode {
	case ModeSystem:
		if t.CA != nil {
			p.add(f+".tls.ca", "is set, but mode system verifies against the gateway's system trust store", "remove tls.ca, or use mode ca")
		}
		if deployedCertGenerated {
			p.add(f+".deploy.certificateSecret", "mode system verifies the backend against public CAs, but the deployed workload would serve a generated certificate no public CA issued, so every request would fail verification",
				"set deploy.certificateSecret to a Secret holding a publicly trusted certificate, or use mode ca with ca.generate: true")
		}
	case ModeCA:
		validateCA(p, f, b)
	case ModeInsecure:
		if t.CA != nil {
			p.add(f+".tls.ca", "is set, but mode insecure does not verify the backend, so the CA would be ignored", "remove tls.ca, or use mode ca to verify against it")
		}
		if len(t.SubjectAltNames) > 0 {
			p.add(f+".tls.subjectAltNames", "is set, but mode insecure does not verify the backend's names", "remove tls.subjectAltNames, or use mode ca or system")
		}
		if len(t.Ports) > 0 {
			p.add(f+".tls.ports", "does not apply to mode insecure: the Envoy Gateway Backend targets the route's port", "remove tls.ports and choose the port with route.port")
		}
		if b.Route.Kind == "GRPCRoute" {
			p.add(f+".route.kind", "mode insecure needs a route that references an Envoy Gateway Backend, which Envoy Gateway documents for HTTPRoute and TLSRoute only",
				"use route.kind HTTPRoute, or mode ca to verify the backend with a BackendTLSPolicy")
		}
		if a.Environment == EnvironmentProduction && !a.AllowInsecureBackends {
			p.add(f+".tls.mode", fmt.Sprintf("backend %q is insecure (the gateway would not verify its certificate), which is refused in a production environment", b.Name),
				"use mode ca (a custom CA) or system, or accept unverified backends explicitly with upstream-tls:allowInsecureBackends: true")
		}
	case "":
		p.add(f+".tls.mode", fmt.Sprintf("backend %q has no TLS mode", b.Name), "set tls.mode to system, ca or insecure")
	default:
		p.add(f+".tls.mode", fmt.Sprintf("unknown TLS mode %q", t.Mode), "use system, ca or insecure")
	}
}

func validateCA(p *problems, f string, b *BackendArgs) {
	ca := b.TLS.CA
	if ca == nil {
		p.add(f+".tls.ca", "mode ca needs a CA", "set exactly one of tls.ca.pem, tls.ca.configMap or tls.ca.generate: true")
		return
	}
	sources := 0
	for _, set := range []bool{ca.PEM != "", ca.ConfigMap != "", ca.Generate} {
		if set {
			sources++
		}
	}
	switch {
	case sources == 0:
		p.add(f+".tls.ca", "no CA source is set", "set exactly one of tls.ca.pem, tls.ca.configMap or tls.ca.generate: true")
		return
	case sources > 1:
		var set []string
		if ca.PEM != "" {
			set = append(set, "pem")
		}
		if ca.ConfigMap != "" {
			set = append(set, "configMap")
		}
		if ca.Generate {
			set = append(set, "generate")
		}
		p.add(f+".tls.ca", fmt.Sprintf("sets %s at once; a BackendTLSPolicy trusts exactly one CA source", strings.Join(set, " and ")), "keep exactly one of tls.ca.pem, tls.ca.configMap or tls.ca.generate")
		return
	}
	if ca.PEM != "" {
		if _, _, err := pki.ParseCABundle(ca.PEM); err != nil {
			p.add(f+".tls.ca.pem", err.Error(), "paste the PEM of the CA certificate(s) that issued the backend's certificate")
		}
	}
	if ca.ConfigMap != "" && (len(ca.ConfigMap) > 253 || !preciseHostnameRE.MatchString(ca.ConfigMap)) {
		p.add(f+".tls.ca.configMap", fmt.Sprintf("%q is not a valid ConfigMap name", ca.ConfigMap), "name an existing ConfigMap in the backend namespace with key ca.crt")
	}
	if ca.Generate && b.Service.Existing {
		p.add(f+".tls.ca.generate", "a generated CA only signs the certificate of a workload this component deploys, but service.existing is true",
			"give the existing backend's CA with tls.ca.pem or tls.ca.configMap, or let the component deploy the backend")
	}
	if !ca.Generate && !b.Service.Existing && b.Deploy.CertificateSecret == "" {
		p.add(f+".deploy.certificateSecret", "the deployed workload would serve a generated certificate that the given CA did not issue, so verification would fail",
			"set deploy.certificateSecret to a Secret issued by that CA, or use tls.ca.generate: true")
	}
	if ca.Generate && b.Deploy.CertificateSecret != "" {
		p.add(f+".deploy.certificateSecret", "is set, but tls.ca.generate creates a new CA that did not issue that certificate", "remove deploy.certificateSecret to serve a certificate signed by the generated CA, or give the CA with tls.ca.pem")
	}
}
