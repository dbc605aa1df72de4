package envoy

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// caMode verifies the backend against a custom CA: a ConfigMap with key ca.crt in the backend's
// namespace (created from tls.ca.pem or a generated CA, or an existing one named by
// tls.ca.configMap), or an existing Secret there (tls.ca.secret), and one BackendTLSPolicy per
// TLS port with caCertificateRefs to it.
type caMode struct{}

func init() { register(caMode{}) }

func (caMode) Name() spec.Mode          { return spec.ModeCA }
func (caMode) Expected() core.Effective { return core.EffectiveCA }
func (caMode) UsesPolicy() bool         { return true }

// GeneratedServingCA: with tls.ca.generate the generated CA issues the serving certificate.
func (caMode) GeneratedServingCA(b *spec.BackendArgs) bool {
	return b.TLS.CA != nil && b.TLS.CA.Generate
}

func (caMode) Validate(p *core.Problems, _ *spec.Args, path *field.Path, b *spec.BackendArgs, ctx Context) {
	tp := path.Child("tls")
	cp := tp.Child("ca")
	if b.TLS.AllowInClusterHostname {
		p.Add(tp.Child("allowInClusterHostname"), "only applies to mode system (mode ca verifies against its own CA, which may certify in-cluster names)", "remove it")
	}
	ca := b.TLS.CA
	if ca == nil {
		p.Required(cp, "mode ca needs a CA", "set exactly one of tls.ca.pem, tls.ca.configMap, tls.ca.secret or tls.ca.generate: true")
		return
	}
	var set []string
	if ca.PEM != "" {
		set = append(set, "pem")
	}
	if ca.ConfigMap != "" {
		set = append(set, "configMap")
	}
	if ca.Secret != "" {
		set = append(set, "secret")
	}
	if ca.Generate {
		set = append(set, "generate")
	}
	switch {
	case len(set) == 0:
		p.Required(cp, "no CA source is set", "set exactly one of tls.ca.pem, tls.ca.configMap, tls.ca.secret or tls.ca.generate: true")
		return
	case len(set) > 1:
		p.Add(cp, fmt.Sprintf("sets %s at once; the component takes a backend's CA from exactly one source (BackendTLSPolicy v1 allows up to 8 caCertificateRefs, but more than one is implementation-specific, so the component distributes one ConfigMap)", strings.Join(set, " and ")),
			"keep exactly one of tls.ca.pem, tls.ca.configMap, tls.ca.secret or tls.ca.generate; to trust several CAs, put all of them in one PEM bundle (tls.ca.pem), one ConfigMap or one Secret")
		return
	}
	if ca.PEM != "" {
		certs, _, err := pki.ParseCABundle(ca.PEM)
		if err == nil {
			err = pki.CheckCA(certs, b.TLS.Hostname, ctx.Now)
		}
		if err != nil {
			p.Add(cp.Child("pem"), err.Error(), "paste the PEM of the CA certificate(s) that issued the backend's certificate, valid now and allowed to sign it")
		}
	}
	p.ObjectName(cp.Child("configMap"), ca.ConfigMap, "is not a valid ConfigMap name", "name an existing ConfigMap in the backend namespace with key ca.crt")
	if strings.Contains(ca.Secret, "/") {
		p.Add(cp.Child("secret"), fmt.Sprintf("%q names a Secret in another namespace; the CA Secret must be in the backend's namespace %s (a BackendTLSPolicy references CAs in its own namespace only)", ca.Secret, b.Namespace),
			"copy the CA certificate into a Secret (or ConfigMap) in namespace "+b.Namespace+" and name it here")
	} else {
		p.ObjectName(cp.Child("secret"), ca.Secret, "is not a valid Secret name", "name an existing Secret in the backend namespace with key ca.crt")
	}
	if ca.Generate && b.External != nil {
		p.Add(cp.Child("generate"), "a generated CA only signs the certificate of a workload this component deploys, but the backend is external",
			"give the external backend's CA with tls.ca.pem, tls.ca.configMap or tls.ca.secret, or use mode system if a public CA issued its certificate")
	} else if ca.Generate && b.Service.Existing {
		p.Add(cp.Child("generate"), "a generated CA only signs the certificate of a workload this component deploys, but service.existing is true",
			"give the existing backend's CA with tls.ca.pem, tls.ca.configMap or tls.ca.secret, or let the component deploy the backend")
	}
	if !ca.Generate && !b.Service.Existing && b.Deploy.CertificateSecret == "" {
		p.Add(path.Child("deploy", "certificateSecret"), "the deployed workload would serve a generated certificate that the given CA did not issue, so verification would fail",
			"set deploy.certificateSecret to a Secret issued by that CA, or use tls.ca.generate: true")
	}
	if ca.Generate && b.Deploy.CertificateSecret != "" {
		p.Add(path.Child("deploy", "certificateSecret"), "is set, but tls.ca.generate creates a new CA that did not issue that certificate", "remove deploy.certificateSecret to serve a certificate signed by the generated CA, or give the CA with tls.ca.pem")
	}
}

func (caMode) Plan(c *backendContext) ([]core.Object, gwapiv1.BackendObjectReference) {
	b := c.backend
	var objs []core.Object
	name, kind := b.TLS.CA.ConfigMap, core.KindConfigMap
	if b.TLS.CA.Secret != "" {
		name, kind = b.TLS.CA.Secret, core.KindSecret
	}
	var deps []string
	if name == "" {
		name = b.Name + "-ca"
		cm := &corev1.ConfigMap{
			TypeMeta:   core.TypeMeta(corev1.SchemeGroupVersion, core.KindConfigMap),
			ObjectMeta: core.Meta(name, b.Namespace, map[string]string{core.AppLabel: b.Name}),
		}
		o := core.Object{Resource: cm}
		if b.TLS.CA.PEM != "" {
			// Validation parsed it; the ConfigMap holds the certificates only, normalised.
			_, normalised, _ := pki.ParseCABundle(b.TLS.CA.PEM)
			cm.Data = map[string]string{core.CAKey: normalised}
		} else {
			ref := core.CertRef(c.certName, core.FieldCACert)
			cm.Data = map[string]string{core.CAKey: ref.String()}
			o.Computed = []core.Binding{core.Bind(ref, "data", core.CAKey)}
		}
		objs = append(objs, o)
		deps = []string{o.Key()}
	}
	v := gwapiv1.BackendTLSPolicyValidation{
		Hostname:          gwapiv1.PreciseHostname(b.TLS.Hostname),
		CACertificateRefs: []gwapiv1.LocalObjectReference{{Group: "", Kind: gwapiv1.Kind(kind), Name: gwapiv1.ObjectName(name)}},
	}
	pol, ref := verifiedUpstream(c, v, deps)
	return append(objs, pol...), ref
}
