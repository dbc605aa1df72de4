package envoy

import (
	"fmt"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// insecureMode encrypts without verifying, for self-signed backends that BackendTLSPolicy
// cannot skip (kubernetes-sigs/gateway-api#3761): an Envoy Gateway Backend whose FQDN endpoint
// is the Service's cluster DNS name on the route's port, with tls.insecureSkipVerify and the
// SNI (none with tls.sniFromRequestHost: Envoy then takes it from each request's host) and the
// TLS parameters; the route references the Backend instead of the Service, and the Envoy Gateway install
// turns the Backend API on. Refused in production unless allowInsecureBackends.
type insecureMode struct{}

func init() { register(insecureMode{}) }

func (insecureMode) Name() spec.Mode          { return spec.ModeInsecure }
func (insecureMode) Expected() core.Effective { return core.EffectiveInsecure }
func (insecureMode) UsesPolicy() bool         { return false }

// GeneratedServingCA: an insecure backend's generated certificate is self-signed.
func (insecureMode) GeneratedServingCA(*spec.BackendArgs) bool { return false }

func (insecureMode) Validate(p *core.Problems, a *spec.Args, path *field.Path, b *spec.BackendArgs, _ Context) {
	tp := path.Child("tls")
	t := &b.TLS
	if t.CA != nil {
		p.Add(tp.Child("ca"), "is set, but mode insecure does not verify the backend, so the CA would be ignored", "remove tls.ca, or use mode ca to verify against it")
	}
	if len(t.SubjectAltNames) > 0 {
		p.Add(tp.Child("subjectAltNames"), "is set, but mode insecure does not verify the backend's names", "remove tls.subjectAltNames, or use mode ca or system")
	}
	if len(t.Ports) > 0 {
		p.Add(tp.Child("ports"), "does not apply to mode insecure: the Envoy Gateway Backend targets the route's port", "remove tls.ports and choose the port with route.port")
	}
	if t.AllowInClusterHostname {
		p.Add(tp.Child("allowInClusterHostname"), "only applies to mode system (mode insecure verifies no name)", "remove it")
	}
	if a.Environment == spec.EnvironmentProduction && !a.AllowInsecureBackends {
		p.Add(tp.Child("mode"), fmt.Sprintf("backend %q is insecure (the gateway would not verify its certificate), which is refused in a production environment", b.Name),
			"use mode ca (a custom CA) or system, or accept unverified backends explicitly with allowInsecureBackends: true (stack config upstream-tls:allowInsecureBackends)")
	}
}

func (insecureMode) Plan(c *backendContext) ([]core.Object, gwapiv1.BackendObjectReference) {
	b := c.backend
	skip := true
	tls := &egv1a1.BackendTLSSettings{InsecureSkipVerify: &skip}
	if !b.TLS.SNIFromRequestHost {
		sni := gwapiv1.PreciseHostname(b.TLS.Hostname)
		tls.SNI = &sni
	}
	tls = withTLSParameters(b, tls)
	// A client certificate of its own (tls.clientCertificate) overrides the Gateway's.
	objs, cert := planBackendClientCertificate(c, tls)
	if cert != nil {
		c.certificates = append(c.certificates, *cert)
	}
	backend := backendObject(c, tls, core.Keys(objs))
	return append(objs, backend), backendRef(b)
}
