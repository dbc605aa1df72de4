package verify_test

import (
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

// goldenPlan plans the valid golden case name.
func goldenPlan(t *testing.T, name string) *plan.Plan {
	t.Helper()
	golden, err := testutil.Golden(repoRoot())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range golden {
		if c.Name == name {
			if c.Err != nil {
				t.Fatal(c.Err)
			}
			return c.Plan
		}
	}
	t.Fatalf("no golden case %s", name)
	return nil
}

// TestTLSParameters: the real translator gives each backend of the golden case tls-parameters
// the TLS versions, cipher suites and ALPN protocols its posture reports (the xDS cluster's
// tlsParams and alpnProtocols), and the backend with sniFromRequestHost an autoSni cluster.
// Then the ways this breaks, each reported for the backend it breaks and no other.
func TestTLSParameters(t *testing.T) {
	rep := run(t, goldenPlan(t, "tls-parameters"))
	if !rep.OK() {
		t.Fatalf("tls-parameters case does not verify: %v", rep.Conditions)
	}
	for backend, want := range map[string]string{
		"payments":       " tls=1.3,alpn:http/1.1 ",
		"billing":        " tls=1.2,ciphers:2 ",
		"legacy-nas":     " tls=1.0-1.3 ",
		"partner":        " tls=1.2-1.3,alpn:h2,http/1.1 ",
		"grpc-api":       " tls=1.2-1.3,alpn:h2 ",
		"plain-defaults": " ca ca plain-defaults.gateway.svc ",
	} {
		got := result(t, rep, backend).String()
		if !strings.Contains(got, want) || !strings.HasSuffix(got, " OK") {
			t.Errorf("%s: got %q, want OK with %q", backend, got, want)
		}
	}
	if got := result(t, rep, "legacy-nas"); !got.AutoSNI || !strings.Contains(got.String(), "request-host") {
		t.Errorf("legacy-nas: got %q, want the request's host as SNI (autoSni)", got)
	}
	if got := result(t, rep, "plain-defaults").String(); strings.Contains(got, "tls=") {
		t.Errorf("plain-defaults: got %q, want Envoy Gateway's defaults (no tls=)", got)
	}

	cases := []struct {
		name, backend, want string
		mutate              func(t *testing.T, p *plan.Plan)
	}{
		{"Backend offers TLS 1.2 where the plan says 1.3", "payments", "TLS parameters 1.2-1.3 alpn=http/1.1, the plan's posture says 1.3-1.3 alpn=http/1.1", func(t *testing.T, p *plan.Plan) {
			v := egv1a1.TLSv12
			objectOf[*egv1a1.Backend](t, p, "payments").Spec.TLS.MinVersion = &v
		}},
		{"Backend lost its cipher suites", "billing", "TLS parameters 1.2-1.2, the plan's posture says 1.2-1.2 ciphers=ECDHE-RSA-AES256-GCM-SHA384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", func(t *testing.T, p *plan.Plan) {
			objectOf[*egv1a1.Backend](t, p, "billing").Spec.TLS.Ciphers = nil
		}},
		{"Backend sends a fixed SNI", "legacy-nas", "no autoSni", func(t *testing.T, p *plan.Plan) {
			sni := gwapiv1.PreciseHostname("nas.example.com")
			objectOf[*egv1a1.Backend](t, p, "legacy-nas").Spec.TLS.SNI = &sni
		}},
		{"Backend offers another ALPN", "grpc-api", "TLS parameters 1.2-1.3 alpn=http/1.1, the plan's posture says 1.2-1.3 alpn=h2", func(t *testing.T, p *plan.Plan) {
			objectOf[*egv1a1.Backend](t, p, "grpc-api").Spec.TLS.ALPNProtocols = []egv1a1.ALPNProtocol{egv1a1.HTTPProtocolVersion1_1}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := goldenPlan(t, "tls-parameters")
			c.mutate(t, p)
			rep := run(t, p)
			if rep.OK() {
				t.Fatal("mutated plan verified OK")
			}
			r := result(t, rep, c.backend)
			if r.OK() || !strings.Contains(r.String(), c.want) {
				t.Fatalf("%s: got %q, want MISMATCH mentioning %q", c.backend, r, c.want)
			}
			for _, other := range rep.Results {
				if other.Backend != c.backend && !other.OK() {
					t.Errorf("untouched backend reported: %s", other)
				}
			}
		})
	}
}
