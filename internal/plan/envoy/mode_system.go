package envoy

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// systemMode verifies the backend against the gateway's system trust store: one
// BackendTLSPolicy per TLS port with wellKnownCACertificates: System and the hostname. The
// backend must present a certificate a public (or system-trusted corporate) CA issued for that
// hostname.
type systemMode struct{}

func init() { register(systemMode{}) }

func (systemMode) Name() spec.Mode          { return spec.ModeSystem }
func (systemMode) Expected() core.Effective { return core.EffectiveSystem }
func (systemMode) UsesPolicy() bool         { return true }

func (systemMode) GeneratedServingCA(*spec.BackendArgs) bool { return false }

func (systemMode) Validate(p *core.Problems, _ *spec.Args, path *field.Path, b *spec.BackendArgs, _ Context) {
	tp := path.Child("tls")
	if b.TLS.CA != nil {
		p.Add(tp.Child("ca"), "is set, but mode system verifies against the gateway's system trust store", "remove tls.ca, or use mode ca")
	}
	if !b.Service.Existing && b.Deploy.CertificateSecret == "" {
		p.Add(path.Child("deploy", "certificateSecret"), "mode system verifies the backend against public CAs, but the deployed workload would serve a generated certificate no public CA issued, so every request would fail verification",
			"set deploy.certificateSecret to a Secret holding a publicly trusted certificate, or use mode ca with ca.generate: true")
	}
	if core.IsInClusterName(b.TLS.Hostname) && !b.TLS.AllowInClusterHostname {
		p.Add(tp.Child("hostname"), fmt.Sprintf("%q is an in-cluster name (the default when tls.hostname is unset), which no public CA certifies, so verification against the system trust store would fail every request", b.TLS.Hostname),
			"set tls.hostname to the public name on the backend's certificate, use mode ca to trust the backend's own CA, or set tls.allowInClusterHostname: true if the gateway's system trust store holds the private CA that issued it")
	}
}

func (systemMode) Plan(c *backendContext) ([]core.Object, gwapiv1.BackendObjectReference) {
	system := gwapiv1.WellKnownCACertificatesSystem
	v := gwapiv1.BackendTLSPolicyValidation{
		Hostname:                gwapiv1.PreciseHostname(c.backend.TLS.Hostname),
		WellKnownCACertificates: &system,
	}
	return verifiedUpstream(c, v, nil)
}
