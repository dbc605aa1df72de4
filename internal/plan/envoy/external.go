package envoy

import (
	"fmt"
	"net"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// An external backend (backends[].external) is outside the cluster: no Service, no workload.
// The route reaches it through an Envoy Gateway Backend whose FQDN endpoint is its host name and
// port (Envoy resolves the name). Its trust is the mode's as for any backend: system and ca put
// a BackendTLSPolicy on the Backend itself (Envoy Gateway v1.9.1 applies a policy whose
// targetRef is a Backend: internal/gatewayapi/backendtlspolicy.go), insecure sets the
// Backend's own tls.insecureSkipVerify. The defaults mark it service.existing (nothing is
// deployed) and give tls.hostname its host name.

// ValidateExternalRaw checks an external backend as configured, before defaults: it names its
// host and port, and nothing of a Service.
func ValidateExternalRaw(p *core.Problems, path *field.Path, b *spec.BackendArgs) {
	ep := path.Child("external")
	if b.Service != nil {
		p.Add(path.Child("service"), "is set, but external names a backend outside the cluster, reached without a Service", "remove service, or remove external to route to a Service")
	}
	if b.Deploy != nil {
		p.Add(path.Child("deploy"), "is set, but an external backend is not deployed by this component", "remove deploy, or remove external")
	}
	if b.Route != nil && b.Route.Port != "" {
		p.Add(path.Child("route", "port"), "names a Service port, but an external backend has none: it is reached on external.port", "remove route.port and set external.port")
	}
	if len(b.TLS.Ports) > 0 {
		p.Add(path.Child("tls", "ports"), "names Service ports, but an external backend has none: its one port is external.port", "remove tls.ports")
	}
	h := b.External.Hostname
	switch {
	case h == "":
		p.Required(ep.Child("hostname"), "an external backend needs the host name Envoy connects to", "set external.hostname, for example api.partner.example.com")
	case net.ParseIP(h) != nil:
		p.Add(ep.Child("hostname"), fmt.Sprintf("%q is an IP address; an Envoy Gateway FQDN endpoint needs a host name (and the certificate is verified for a name)", h), "use the backend's DNS name")
	default:
		p.PreciseHostname(ep.Child("hostname"), h)
	}
	if b.External.Port != 0 {
		p.PortNumber(ep.Child("port"), b.External.Port, fmt.Sprintf("port %d", b.External.Port))
	}
}

// endpoint is where the Envoy Gateway Backend of b points: its external host and port, else
// its Service's cluster DNS name on the route's port.
func endpoint(b *spec.BackendArgs) *egv1a1.FQDNEndpoint {
	if b.External != nil {
		return &egv1a1.FQDNEndpoint{Hostname: b.External.Hostname, Port: int32(b.External.Port)}
	}
	return &egv1a1.FQDNEndpoint{Hostname: b.Service.Name + "." + b.Namespace + ".svc." + ClusterDomain, Port: int32(servicePort(b, b.Route.Port).Port)}
}

// backendObject is the Envoy Gateway Backend named after b, pointing at endpoint(b), with tls
// (nil: the TLS comes from a BackendTLSPolicy on it).
func backendObject(c *backendContext, tls *egv1a1.BackendTLSSettings, deps []string) core.Object {
	b := c.backend
	return core.Object{Resource: &egv1a1.Backend{
		TypeMeta:   core.TypeMeta(egv1a1.GroupVersion, egv1a1.KindBackend),
		ObjectMeta: core.Meta(b.Name, b.Namespace, c.appLabels),
		Spec: egv1a1.BackendSpec{
			Endpoints: []egv1a1.BackendEndpoint{{FQDN: endpoint(b)}},
			TLS:       tls,
		},
	}, DependsOn: deps}
}

// backendRef is the route's backendRef to the Envoy Gateway Backend of b.
func backendRef(b *spec.BackendArgs) gwapiv1.BackendObjectReference {
	group := gwapiv1.Group(egv1a1.GroupName)
	kind := gwapiv1.Kind(egv1a1.KindBackend)
	return gwapiv1.BackendObjectReference{Group: &group, Kind: &kind, Name: gwapiv1.ObjectName(b.Name)}
}

// verifiedUpstream plans what carries a verifying mode's trust v (waiting for deps, its CA
// ConfigMap) and the route's backendRef: one BackendTLSPolicy per TLS Service port and the
// Service port, or, for an external backend or one with tls.parameters (viaBackend), its Envoy
// Gateway Backend (carrying the parameters) and one BackendTLSPolicy `<backend>` targeting that
// Backend.
func verifiedUpstream(c *backendContext, v gwapiv1.BackendTLSPolicyValidation, deps []string) ([]core.Object, gwapiv1.BackendObjectReference) {
	b := c.backend
	if !viaBackend(b) {
		return policies(c, v, deps), servicePortRef(b)
	}
	be := backendObject(c, withTLSParameters(b, nil), nil)
	v = withSubjectAltNames(b, v)
	policy := core.Object{
		Resource: &gwapiv1.BackendTLSPolicy{
			TypeMeta:   core.TypeMeta(gwapiv1.GroupVersion, core.KindBackendTLSPolicy),
			ObjectMeta: core.Meta(b.Name, b.Namespace, c.appLabels),
			Spec: gwapiv1.BackendTLSPolicySpec{
				TargetRefs: []gwapiv1.LocalPolicyTargetReferenceWithSectionName{{
					LocalPolicyTargetReference: gwapiv1.LocalPolicyTargetReference{Group: egv1a1.GroupName, Kind: egv1a1.KindBackend, Name: gwapiv1.ObjectName(b.Name)},
				}},
				Validation: v,
			},
		},
		DependsOn: append(append([]string(nil), deps...), be.Key()),
	}
	return []core.Object{be, policy}, backendRef(b)
}

func hasParameters(a *spec.Args) bool {
	for _, b := range a.Backends {
		if b.TLS.Parameters != nil {
			return true
		}
	}
	return false
}

func hasExternal(a *spec.Args) bool {
	for _, b := range a.Backends {
		if b.External != nil {
			return true
		}
	}
	return false
}
