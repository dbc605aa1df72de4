package envoy

import (
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// Mode is one upstream TLS mode: how the gateway trusts a backend (the trust axis), and which
// objects carry that trust. Each mode lives in its own file (mode_<name>.go) with its own tests
// and golden cases, and is registered in modes. Adding a mode is one new file and one entry.
//
// Which certificate the gateway presents to the backend (the client identity) is a separate
// axis: see client_identity.go.
type Mode interface {
	// Name is the tls.mode value.
	Name() spec.Mode
	// Expected is the effective upstream TLS a backend in this mode gets. The plan's derived
	// posture must equal it (Build refuses the configuration otherwise), and the translator
	// tier (internal/verify) must find it in Envoy Gateway's xDS.
	Expected() core.Effective
	// UsesPolicy reports whether the mode's trust is carried by BackendTLSPolicies on the
	// Service's ports (so that two backends on one port conflict, and the route must use a TLS
	// port).
	UsesPolicy() bool
	// Validate checks the mode's fields of the defaulted backend b (at path, `backends[i]`).
	Validate(p *core.Problems, a *spec.Args, path *field.Path, b *spec.BackendArgs, ctx Context)
	// GeneratedServingCA reports whether a serving certificate the component generates for a
	// deployed backend is issued by a generated CA (true) or self-signed (false).
	GeneratedServingCA(b *spec.BackendArgs) bool
	// Plan returns the objects that carry the mode's trust, in apply order, and the
	// backendRef the route uses to reach the backend.
	Plan(c *backendContext) ([]core.Object, gwapiv1.BackendObjectReference)
}

// modes registers every mode by its tls.mode value.
var modes = map[spec.Mode]Mode{}

func register(m Mode) { modes[m.Name()] = m }

// ModeOf returns the registered mode named m.
func ModeOf(m spec.Mode) (Mode, bool) {
	mode, ok := modes[m]
	return mode, ok
}

// Modes lists the registered modes' names.
func Modes() []spec.Mode {
	out := make([]spec.Mode, 0, len(modes))
	for _, m := range []spec.Mode{spec.ModeSystem, spec.ModeCA, spec.ModeInsecure} {
		if _, ok := modes[m]; ok {
			out = append(out, m)
		}
	}
	for m := range modes {
		if m != spec.ModeSystem && m != spec.ModeCA && m != spec.ModeInsecure {
			out = append(out, m)
		}
	}
	return out
}

func modeUsesPolicy(m spec.Mode) bool {
	mode, ok := modes[m]
	return ok && mode.UsesPolicy()
}

// servicePortRef is the backendRef to the backend's Service on the route's port.
func servicePortRef(b *spec.BackendArgs) gwapiv1.BackendObjectReference {
	port := gwapiv1.PortNumber(servicePort(b, b.Route.Port).Port)
	return gwapiv1.BackendObjectReference{Name: gwapiv1.ObjectName(b.Service.Name), Port: &port}
}

// policies plans one BackendTLSPolicy per TLS port of b with validation v, named
// `<backend>-<port>`, with sectionName the port name. Each waits for deps (its CA ConfigMap).
func policies(c *backendContext, v gwapiv1.BackendTLSPolicyValidation, deps []string) []core.Object {
	b := c.backend
	v = withSubjectAltNames(b, v)
	var out []core.Object
	for _, port := range tlsPorts(b) {
		section := gwapiv1.SectionName(port.Name)
		out = append(out, core.Object{
			Resource: &gwapiv1.BackendTLSPolicy{
				TypeMeta:   core.TypeMeta(gwapiv1.GroupVersion, core.KindBackendTLSPolicy),
				ObjectMeta: core.Meta(b.Name+"-"+port.Name, b.Namespace, c.appLabels),
				Spec: gwapiv1.BackendTLSPolicySpec{
					TargetRefs: []gwapiv1.LocalPolicyTargetReferenceWithSectionName{{
						LocalPolicyTargetReference: gwapiv1.LocalPolicyTargetReference{Group: "", Kind: core.KindService, Name: gwapiv1.ObjectName(b.Service.Name)},
						SectionName:                &section,
					}},
					Validation: *v.DeepCopy(),
				},
			},
			DependsOn: deps,
		})
	}
	return out
}

// withSubjectAltNames is v with the backend's tls.subjectAltNames, the names verified instead of
// the hostname.
func withSubjectAltNames(b *spec.BackendArgs, v gwapiv1.BackendTLSPolicyValidation) gwapiv1.BackendTLSPolicyValidation {
	for _, san := range b.TLS.SubjectAltNames {
		v.SubjectAltNames = append(v.SubjectAltNames, subjectAltName(san))
	}
	return v
}
