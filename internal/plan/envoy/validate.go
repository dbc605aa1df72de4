package envoy

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// Envoy Gateway's proxy ports (github.com/envoyproxy/gateway v1.9.1): a listener port below
// 1024 is served on port + 10000 inside the proxy container
// (internal/gatewayapi/listener.go servicePortToContainerPort, translator.go minEphemeralPort
// and wellKnownPortShift), and the proxy binds its admin, stats and readiness listeners on
// fixed ports (internal/xds/bootstrap/bootstrap.go EnvoyAdminPort, EnvoyStatsPort,
// EnvoyReadinessPort).
const (
	minEphemeralPort   = 1024
	wellKnownPortShift = 10000
)

// reservedProxyPorts are the proxy container's own ports, by what uses them.
var reservedProxyPorts = map[int]string{19000: "admin", 19001: "stats", 19003: "readiness"}

// ContainerPort is the port Envoy Gateway's proxy listens on inside its container for a
// Gateway listener port.
func ContainerPort(listenerPort int) int {
	if listenerPort < minEphemeralPort {
		return listenerPort + wellKnownPortShift
	}
	return listenerPort
}

// Validate checks the defaulted arguments of the Envoy Gateway path (environment, envoyGateway,
// gateway, backends) and records every problem in p.
func Validate(p *core.Problems, a *spec.Args, ctx Context) {
	if !slices.Contains(spec.Environments, a.Environment) {
		p.Add(field.NewPath("environment"), fmt.Sprintf("unknown environment %q", a.Environment), "use dev, staging or production")
	}
	validateEnvoyGateway(p, a)
	listeners := validateGateway(p, a.Gateway)

	if len(a.Backends) == 0 {
		p.Required(field.NewPath("backends"), "no backends are configured", "add at least one backend with a name and tls.mode")
	}
	names := map[string]int{}
	ctx.images = map[string]error{}
	for i := range a.Backends {
		b := &a.Backends[i]
		path := field.NewPath("backends").Index(i)
		if p.DNSLabel(path.Child("name"), b.Name, "backend name") {
			if len(b.Name) > MaxBackendNameLength {
				p.Add(path.Child("name"), fmt.Sprintf("%q is longer than %d characters; it prefixes the names of the objects created for the backend", b.Name, MaxBackendNameLength), "shorten the name")
			}
			if j, dup := names[b.Name]; dup {
				p.Duplicate(path.Child("name"), fmt.Sprintf("backend name %q is already used by backends[%d]", b.Name, j), "give every backend a unique name")
			} else {
				names[b.Name] = i
			}
		}
		p.DNSLabel(path.Child("namespace"), b.Namespace, "namespace")
		p.DNSLabel(path.Child("service", "name"), b.Service.Name, "service name")
		validateBackend(p, a, path, b, listeners, ctx)
	}
	validateSharedPorts(p, a)
	validateClientIdentity(p, a)

	if hasExternal(a) && a.EnvoyGateway.EnableBackend != nil && !*a.EnvoyGateway.EnableBackend {
		p.Add(field.NewPath("envoyGateway", "enableBackend"), "is false, but an external backend is reached through Envoy Gateway's Backend API",
			"remove envoyGateway.enableBackend (it turns on automatically) or remove the external backends")
	}
	if hasParameters(a) && a.EnvoyGateway.EnableBackend != nil && !*a.EnvoyGateway.EnableBackend {
		p.Add(field.NewPath("envoyGateway", "enableBackend"), "is false, but a backend with tls.parameters is reached through an Envoy Gateway Backend, which carries them",
			"remove envoyGateway.enableBackend (it turns on automatically) or remove tls.parameters")
	}
	if hasMode(a, spec.ModeInsecure) && a.EnvoyGateway.EnableBackend != nil && !*a.EnvoyGateway.EnableBackend {
		p.Add(field.NewPath("envoyGateway", "enableBackend"), "is false, but an insecure backend needs Envoy Gateway's Backend API (routes to it would fail with \"Backend is disabled in Envoy Gateway configuration\")",
			"remove envoyGateway.enableBackend (it turns on automatically) or change the insecure backends' tls.mode")
	}
}

func validateEnvoyGateway(p *core.Problems, a *spec.Args) {
	eg := a.EnvoyGateway
	path := field.NewPath("envoyGateway")
	p.DNSLabel(path.Child("namespace"), eg.Namespace, "namespace")
	if !strings.HasPrefix(eg.Version, "v") || !core.ChartVersion(strings.TrimPrefix(eg.Version, "v")) {
		p.Add(path.Child("version"), fmt.Sprintf("%q is not a chart version", eg.Version), "use a version such as "+DefaultEnvoyGatewayVersion)
	}
	if !core.IsObjectName(eg.GatewayClassName) {
		p.Add(path.Child("gatewayClassName"), fmt.Sprintf("%q is not a valid object name", eg.GatewayClassName), "use lowercase letters, digits, '-' and '.'")
	}
	if t := eg.VerdictTimeoutSeconds; t < 10 || t > 3600 {
		p.Add(path.Child("verdictTimeoutSeconds"), fmt.Sprintf("%d is outside 10 to 3600 seconds", t), "use for example 300 (the default): the time Envoy Gateway gets to accept each route")
	}
}

// validateGateway checks the Gateway and its listeners and returns the valid listeners by name.
func validateGateway(p *core.Problems, gw *spec.GatewayArgs) map[string]spec.ListenerArgs {
	path := field.NewPath("gateway")
	p.DNSLabel(path.Child("name"), gw.Name, "name")
	p.DNSLabel(path.Child("namespace"), gw.Namespace, "namespace")
	listeners := map[string]spec.ListenerArgs{}
	type portHost struct {
		port     int
		hostname string
	}
	portProtocol := map[int]string{}
	seenPortHost := map[portHost]string{}
	containerPorts := map[int]spec.ListenerArgs{}
	switch {
	case len(gw.Listeners) == 0:
		p.Required(path.Child("listeners"), "a Gateway needs at least one listener", "remove the empty list to get the default http and https listeners, or add one")
	case len(gw.Listeners) > MaxListeners:
		p.Add(path.Child("listeners"), fmt.Sprintf("has %d listeners; a Gateway allows at most %d", len(gw.Listeners), MaxListeners), "split the listeners over several stacks or Gateways")
	}
	for i, l := range gw.Listeners {
		lp := path.Child("listeners").Index(i)
		if p.DNSLabel(lp.Child("name"), l.Name, "listener name") {
			if _, dup := listeners[l.Name]; dup {
				p.Duplicate(lp.Child("name"), fmt.Sprintf("listener name %q is used twice", l.Name), "give every listener a unique name")
			}
			listeners[l.Name] = l
		}
		switch l.Protocol {
		case core.ProtocolHTTP:
			if l.CertificateSecret != "" {
				p.Add(lp.Child("certificateSecret"), fmt.Sprintf("listener %q speaks plain HTTP, so certificateSecret %q would be ignored", l.Name, l.CertificateSecret), "set protocol: HTTPS, or remove certificateSecret")
			}
		case core.ProtocolHTTPS:
			p.ObjectName(lp.Child("certificateSecret"), l.CertificateSecret, "is not a valid Secret name", "name an existing kubernetes.io/tls Secret in the Gateway namespace")
		default:
			p.Add(lp.Child("protocol"), fmt.Sprintf("unsupported protocol %q for listener %q", l.Protocol, l.Name), "use HTTP or HTTPS (upper case)")
		}
		if p.PortNumber(lp.Child("port"), l.Port, fmt.Sprintf("port %d of listener %q", l.Port, l.Name)) {
			if prev, ok := portProtocol[l.Port]; ok && prev != l.Protocol {
				p.Add(lp.Child("port"), fmt.Sprintf("port %d is used by both %s and %s listeners; Envoy Gateway marks such listeners Conflicted", l.Port, prev, l.Protocol), "use a separate port per protocol")
			}
			portProtocol[l.Port] = l.Protocol
			key := portHost{l.Port, l.Hostname}
			if prev, ok := seenPortHost[key]; ok {
				p.Add(lp.Child("hostname"), fmt.Sprintf("listener %q repeats port %d and hostname %q of listener %q", l.Name, l.Port, l.Hostname, prev), "give listeners on the same port distinct hostnames")
			}
			seenPortHost[key] = l.Name
			cp := ContainerPort(l.Port)
			if use, reserved := reservedProxyPorts[cp]; reserved {
				p.Add(lp.Child("port"), fmt.Sprintf("port %d of listener %q is the port Envoy Gateway's proxy reserves for its %s listener", l.Port, l.Name, use), "use another port")
			} else if prev, ok := containerPorts[cp]; ok && prev.Port != l.Port {
				p.Add(lp.Child("port"), fmt.Sprintf("listener %q on port %d and listener %q on port %d both end on port %d inside Envoy Gateway's proxy (ports below %d are served on port + %d), so they would serve each other's routes",
					l.Name, l.Port, prev.Name, prev.Port, cp, minEphemeralPort, wellKnownPortShift), fmt.Sprintf("move listener %q to another port", l.Name))
			} else if !ok {
				containerPorts[cp] = l
			}
		}
		if l.Hostname != "" {
			p.Hostname(lp.Child("hostname"), l.Hostname, "listener")
		}
	}
	return listeners
}

// validateSharedPorts refuses two backends whose BackendTLSPolicies would target the same
// Service port: Envoy Gateway accepts the older policy for both routes and marks the other
// Conflicted, so one backend would be verified with the other's CA and hostname.
func validateSharedPorts(p *core.Problems, a *spec.Args) {
	type target struct{ ns, svc, port string }
	owner := map[target]int{}
	for i := range a.Backends {
		b := &a.Backends[i]
		m, ok := modes[b.TLS.Mode]
		if !ok || !m.UsesPolicy() || viaBackend(b) {
			continue
		}
		seen := map[string]bool{}
		for k, port := range policyPorts(b) {
			if seen[port] {
				continue
			}
			seen[port] = true
			t := target{b.Namespace, b.Service.Name, port}
			j, dup := owner[t]
			if !dup {
				owner[t] = i
				continue
			}
			path := field.NewPath("backends").Index(i).Child("service", "name")
			if len(b.TLS.Ports) > 0 {
				path = field.NewPath("backends").Index(i).Child("tls", "ports").Index(k)
			}
			p.Duplicate(path, fmt.Sprintf("Service %s/%s port %q already gets a BackendTLSPolicy from backends[%d] (%q); two policies on one port conflict, and Envoy Gateway applies the older one to both routes",
				b.Namespace, b.Service.Name, port, j, a.Backends[j].Name),
				"configure the Service once: route both through one backend, or give them different ports in tls.ports")
		}
	}
}

// policyPorts are the Service port names a backend's BackendTLSPolicies target.
func policyPorts(b *spec.BackendArgs) []string {
	if len(b.TLS.Ports) > 0 {
		return b.TLS.Ports
	}
	var out []string
	for _, port := range b.Service.Ports {
		out = append(out, port.Name)
	}
	return out
}

func hasMode(a *spec.Args, m spec.Mode) bool {
	for _, b := range a.Backends {
		if b.TLS.Mode == m {
			return true
		}
	}
	return false
}
