// Package verify proves a plan against the real Envoy Gateway translator (egctl x translate):
// it feeds the planned objects, with generated certificates in place of the Computed
// placeholders, to egctl, and derives from the translator's statuses and xDS what upstream TLS
// each backend effectively gets. A backend whose effective TLS, SNI or statuses differ from the
// plan is a MISMATCH.
package verify

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/upstream-tls/upstream-tls/components/manifest"
	"github.com/upstream-tls/upstream-tls/components/pki"
	"github.com/upstream-tls/upstream-tls/components/plan"
)

// translatedKinds are the kinds the Envoy Gateway translator reads; other planned objects
// (Deployments) do not influence the data plane configuration and are left out.
var translatedKinds = map[string]bool{
	"Namespace": true, "GatewayClass": true, "Gateway": true, "Service": true, "Secret": true,
	"ConfigMap": true, "BackendTLSPolicy": true, "HTTPRoute": true, "GRPCRoute": true,
	"ReferenceGrant": true, "Backend": true,
}

// Input is the translator input built from a plan.
type Input struct {
	// YAML is the multi-document stream passed to `egctl x translate -f`.
	YAML []byte
	// Bundles are the certificates generated for the plan, by plan certificate name.
	Bundles map[string]*pki.Bundle
	// Objects are the translated objects as sent, by plan.ObjectKey.
	Objects map[string]map[string]any
	// EnableBackend mirrors plan.Install.EnableBackend: whether Envoy Gateway's Backend API is on.
	EnableBackend bool
}

// BuildInput renders every translated object of p's Envoy Gateway path (see translatedKinds) as
// one YAML stream; the EKS path is AWS Load Balancer Controller's and is left out.
// Each plan certificate gets one freshly generated bundle, and every Computed placeholder is
// replaced by the matching field of its certificate's bundle, so caCert, cert and key of one
// certificate always belong together. Secret stringData is folded into data, as the API server
// does. A placeholder naming an unknown certificate or field is an error.
func BuildInput(p *plan.Plan, now time.Time) (*Input, error) {
	in := &Input{Bundles: map[string]*pki.Bundle{}, Objects: map[string]map[string]any{}, EnableBackend: p.Install.EnableBackend}
	for _, c := range p.AllCertificates() {
		b, err := pki.Generate(pki.Request{CommonName: c.CommonName, DNSNames: c.DNSNames, WithCA: c.WithCA}, now)
		if err != nil {
			return nil, fmt.Errorf("generate certificate %s: %w", c.Name, err)
		}
		in.Bundles[c.Name] = b
	}
	var docs []string
	services := 0
	// Only the Envoy Gateway path: the translator would claim the NLB Gateway too.
	for _, o := range p.EnvoyGatewayObjects() {
		kind := o.GroupVersionKind().Kind
		if !translatedKinds[kind] {
			continue
		}
		m, err := manifest.ToMap(o)
		if err != nil {
			return nil, err
		}
		filled, err := fill(m, in.Bundles)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", plan.ObjectKey(o), err)
		}
		m = filled.(map[string]any)
		switch kind {
		case "Secret":
			foldStringData(m)
		case "Service":
			// The API server allocates a ClusterIP; the translator routes to it (endpoint
			// routing is off in egctl) and rejects an empty address.
			services++
			if spec, ok := m["spec"].(map[string]any); ok && spec["clusterIP"] == nil {
				spec["clusterIP"] = fmt.Sprintf("10.96.0.%d", 10+services)
			}
		}
		in.Objects[plan.ObjectKey(o)] = m
		y, err := yaml.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("yaml %s: %w", plan.ObjectKey(o), err)
		}
		docs = append(docs, string(y))
	}
	in.YAML = []byte(strings.Join(docs, "---\n"))
	return in, nil
}

// fill replaces every Computed placeholder in v (a decoded JSON value) by its bundle field.
func fill(v any, bundles map[string]*pki.Bundle) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			f, err := fill(e, bundles)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			t[k] = f
		}
		return t, nil
	case []any:
		for i, e := range t {
			f, err := fill(e, bundles)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			t[i] = f
		}
		return t, nil
	case string:
		cert, field, ok := plan.ParseComputed(t)
		if !ok {
			return t, nil
		}
		b := bundles[cert]
		if b == nil {
			return nil, fmt.Errorf("placeholder %s names no planned certificate", t)
		}
		switch field {
		case plan.FieldCACert:
			return b.CACertPEM, nil
		case plan.FieldCert:
			return b.CertPEM, nil
		case plan.FieldKey:
			return b.KeyPEM, nil
		}
		return nil, fmt.Errorf("placeholder %s names unknown field %q", t, field)
	}
	return v, nil
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
