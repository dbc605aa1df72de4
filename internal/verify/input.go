// Package verify proves a plan against the real Envoy Gateway translator (egctl x translate):
// it feeds the planned objects, with generated certificates at their Computed bindings, to
// egctl, and derives from the translator's statuses and xDS what upstream TLS each backend
// effectively gets. A backend whose effective TLS differs from what its mode declares or from
// the plan's own derived posture, or whose SNI or statuses differ from the plan, is a MISMATCH.
// It also validates rendered objects with the real API server (DryRun: a server-side dry run on
// a scratch local cluster with the pinned CRDs), and reads what the controller reported on a
// stack's own cluster (ObserveRoutes). It takes the paths of the tools it runs and never builds
// or installs them (scripts/tools.sh does).
package verify

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/render"
)

// translatedKinds are the kinds the Envoy Gateway translator reads; other planned objects
// (Deployments) do not influence the data plane configuration and are left out.
var translatedKinds = map[string]bool{
	core.KindNamespace: true, core.KindGatewayClass: true, core.KindGateway: true, core.KindService: true,
	core.KindSecret: true, core.KindConfigMap: true, core.KindBackendTLSPolicy: true, core.KindHTTPRoute: true,
	core.KindGRPCRoute: true, core.KindReferenceGrant: true, core.KindBackend: true,
}

// Input is the translator input built from a plan.
type Input struct {
	// YAML is the multi-document stream passed to `egctl x translate -f`.
	YAML []byte
	// Bundles are the certificates generated for the plan, by plan certificate name.
	Bundles map[string]*pki.Bundle
	// Objects are the translated objects as sent, by core.Object.Key.
	Objects map[string]map[string]any
	// EnableBackend mirrors the plan's Envoy Gateway install: whether the Backend API is on.
	EnableBackend bool
}

// BuildInput renders every translated object of p's Envoy Gateway path (see translatedKinds) as
// one YAML stream; the EKS path is AWS Load Balancer Controller's and is left out. Each plan
// certificate gets one freshly generated bundle, and every Computed binding is filled from its
// certificate's bundle, so caCert, cert and key of one certificate always belong together.
// Secret stringData is folded into data, as the API server does.
func BuildInput(p *plan.Plan, now time.Time) (*Input, error) {
	in := &Input{Bundles: map[string]*pki.Bundle{}, Objects: map[string]map[string]any{}, EnableBackend: p.Envoy.Install.EnableBackend}
	for _, c := range p.AllCertificates() {
		b, err := pki.Generate(pki.Request{CommonName: c.CommonName, DNSNames: c.DNSNames, WithCA: c.WithCA, Usage: pki.Usage(c.Usage)}, now)
		if err != nil {
			return nil, fmt.Errorf("generate certificate %s: %w", c.Name, err)
		}
		in.Bundles[c.Name] = b
	}
	var docs []string
	services := 0
	// Only the Envoy Gateway path: the translator would claim the NLB Gateway too.
	for _, o := range p.EnvoyGatewayObjects() {
		kind := o.Kind()
		if !translatedKinds[kind] {
			continue
		}
		m, err := render.ToMap(o)
		if err != nil {
			return nil, err
		}
		if err := core.Resolve(m, o.Computed, in.fill); err != nil {
			return nil, fmt.Errorf("%s: %w", o.Key(), err)
		}
		switch kind {
		case core.KindSecret:
			foldStringData(m)
		case core.KindService:
			// The API server allocates a ClusterIP; the translator routes to it (endpoint
			// routing is off in egctl) and rejects an empty address.
			services++
			if spec, ok := m["spec"].(map[string]any); ok && spec["clusterIP"] == nil {
				spec["clusterIP"] = fmt.Sprintf("10.96.%d.%d", services/250, 10+services%250)
			}
		}
		in.Objects[o.Key()] = m
		y, err := yaml.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("yaml %s: %w", o.Key(), err)
		}
		docs = append(docs, string(y))
	}
	in.YAML = []byte(strings.Join(docs, "---\n"))
	return in, nil
}

// fill returns the generated value of a certificate Ref.
func (in *Input) fill(ref core.Ref) (any, error) {
	if ref.Source != core.SourceCertificate {
		return nil, fmt.Errorf("%s cannot be computed offline", ref)
	}
	b := in.Bundles[ref.Name]
	if b == nil {
		return nil, fmt.Errorf("%s names no planned certificate", ref)
	}
	switch ref.Field {
	case core.FieldCACert:
		return b.CACertPEM, nil
	case core.FieldCert:
		return b.CertPEM, nil
	case core.FieldKey:
		return b.KeyPEM, nil
	}
	return nil, fmt.Errorf("%s names unknown field %q", ref, ref.Field)
}

// foldStringData moves a Secret's stringData into base64 data, as the API server does.
func foldStringData(m map[string]any) {
	sd, ok := m["stringData"].(map[string]any)
	if !ok {
		return
	}
	data, _ := m["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	keys := make([]string, 0, len(sd))
	for k := range sd {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s, _ := sd[k].(string)
		data[k] = base64.StdEncoding.EncodeToString([]byte(s))
	}
	m["data"] = data
	delete(m, "stringData")
}
