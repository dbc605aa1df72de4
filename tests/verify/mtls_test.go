package verify_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
)

// clientCertPlan plans the golden case client-certificate: a Gateway client certificate, a ca
// backend that verifies it, an insecure backend with its own verified certificate.
func clientCertPlan(t *testing.T) *plan.Plan {
	t.Helper()
	return goldenPlan(t, "client-certificate")
}

// gatewayObject returns the Gateway path object of type T named name.
func gatewayObject[T core.Resource](t *testing.T, p *plan.Plan, name string) (T, *core.Object) {
	t.Helper()
	for i := range p.Envoy.Gateway.Objects {
		o := &p.Envoy.Gateway.Objects[i]
		if v, ok := o.Resource.(T); ok && o.Name() == name {
			return v, o
		}
	}
	var zero T
	t.Fatalf("no gateway object %T %s", zero, name)
	return zero, nil
}

// TestClientCertificate: the real translator puts the planned client certificates in the xDS
// clusters' transport sockets (tlsCertificateSdsSecretConfigs) and in the IR, with the bytes of
// the planned Secret (the Gateway's for the ca backend, the Backend's own for the insecure one),
// and each verifying workload's client CA verifies what it is presented. Then the ways this
// breaks, each reported for the backend it breaks.
func TestClientCertificate(t *testing.T) {
	rep := run(t, clientCertPlan(t))
	if !rep.OK() {
		t.Fatalf("client-certificate case does not verify: %v", rep.Conditions)
	}
	for backend, want := range map[string]string{"orders": "orders ca ca orders.orders.svc client-cert=gateway/upstream-tls-client-tls OK", "legacy": "legacy insecure insecure legacy.legacy.svc client-cert=legacy/legacy-client-tls OK"} {
		if got := result(t, rep, backend).String(); got != want {
			t.Errorf("%s: got %q, want %q", backend, got, want)
		}
	}

	cases := []struct {
		name, backend, want string
		mutate              func(t *testing.T, p *plan.Plan)
	}{
		{"Gateway presents no client certificate", "orders", "client certificate none, the plan's posture says gateway/upstream-tls-client-tls", func(t *testing.T, p *plan.Plan) {
			g, _ := gatewayObject[*gwapiv1.Gateway](t, p, "upstream-tls")
			g.Spec.TLS = nil
		}},
		{"Gateway presents a certificate of another CA", "orders", "the workload's client CA does not verify the client certificate", func(t *testing.T, p *plan.Plan) {
			other, err := pki.Generate(pki.Request{CommonName: "intruder", DNSNames: []string{"intruder"}, WithCA: true, Usage: pki.UsageClient}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			s, o := gatewayObject[*corev1.Secret](t, p, "upstream-tls-client-tls")
			s.StringData = map[string]string{corev1.TLSCertKey: other.CertPEM, corev1.TLSPrivateKeyKey: other.KeyPEM}
			o.Computed = nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := clientCertPlan(t)
			c.mutate(t, p)
			rep := run(t, p)
			r := result(t, rep, c.backend)
			if r.OK() || !strings.Contains(r.String(), c.want) {
				t.Fatalf("%s: got %q, want MISMATCH mentioning %q", c.backend, r, c.want)
			}
			if other := result(t, rep, "legacy"); !other.OK() {
				t.Errorf("the backend with its own certificate is reported: %s", other)
			}
		})
	}
}
