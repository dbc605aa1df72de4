// Package verify_test proves the dev stack against the real Envoy Gateway translator (egctl-verify:
// egctl v1.9.1 with the Backend API switch, built by scripts/tools.sh when missing) and proves the
// verifier can fail: each negative case mutates the planned objects of the dev stack and must be
// reported.
package verify_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
	"github.com/upstream-tls/upstream-tls/internal/verify"
)

// egctl is the egctl-verify binary (upstream egctl whose `x translate` honours
// verify.BackendDisabledEnv); upstreamEgctl is the pinned upstream egctl; clusterBin holds
// the local cluster's tools (the schema tier of cmd/verify runs a scratch cluster); all built
// by scripts/tools.sh. host is this checkout's cluster command.
var egctl, upstreamEgctl, clusterBin, host string

// crdDirs are the pinned CRDs (scripts/offline-inputs.sh).
var crdDirs []string

func repoRoot() string { return testutil.MustRepoRoot() }

func TestMain(m *testing.M) {
	bin, err := testutil.Tools(repoRoot(), "egctl", "egctl-verify")
	if err != nil {
		panic(err)
	}
	egctl, upstreamEgctl = filepath.Join(bin, "egctl-verify"), filepath.Join(bin, "egctl")
	if clusterBin, err = testutil.Tools(repoRoot(), "cluster"); err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "verify-crds")
	if err != nil {
		panic(err)
	}
	if host, err = testutil.ClusterHost(repoRoot(), dir); err != nil {
		panic(err)
	}
	if crdDirs, err = testutil.OfflineInputs(repoRoot(), filepath.Join(dir, "offline")); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// devPlan plans the committed dev stack.
func devPlan(t *testing.T) *plan.Plan {
	t.Helper()
	st, err := config.FromFile(filepath.Join(repoRoot(), "Pulumi.dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(st.Args)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, p *plan.Plan) *verify.Report {
	t.Helper()
	return runWith(t, egctl, p)
}

func runWith(t *testing.T, bin string, p *plan.Plan) *verify.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := verify.Verify(ctx, bin, p, time.Now())
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	for _, r := range rep.Results {
		t.Log(r)
	}
	for _, c := range rep.Conditions {
		t.Log("condition:", c)
	}
	return rep
}

func result(t *testing.T, rep *verify.Report, backend string) verify.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Backend == backend {
			return r
		}
	}
	t.Fatalf("no result for backend %s", backend)
	return verify.Result{}
}

// objectOf returns the first planned object of type T of backend name.
func objectOf[T core.Resource](t *testing.T, p *plan.Plan, name string) T {
	t.Helper()
	for _, b := range p.Envoy.Backends {
		if b.Name != name {
			continue
		}
		for _, o := range b.Objects {
			if v, ok := o.Resource.(T); ok {
				return v
			}
		}
	}
	var zero T
	t.Fatalf("backend %s has no %T", name, zero)
	return zero
}

// uncompute drops the computed bindings of backend name's object kind/object, whose field a
// test replaced by a value of its own.
func uncompute(p *plan.Plan, name, kind, object string) {
	for i := range p.Envoy.Backends {
		b := &p.Envoy.Backends[i]
		for j := range b.Objects {
			if b.Name == name && b.Objects[j].Kind() == kind && b.Objects[j].Name() == object {
				b.Objects[j].Computed = nil
			}
		}
	}
}

// caConfigMap is internal-api's CA ConfigMap (not its client CA ConfigMap).
func caConfigMap(t *testing.T, p *plan.Plan) *corev1.ConfigMap {
	t.Helper()
	for _, b := range p.Envoy.Backends {
		for _, o := range b.Objects {
			if cm, ok := o.Resource.(*corev1.ConfigMap); ok && b.Name == "internal-api" && cm.Name == "internal-api-ca" {
				return cm
			}
		}
	}
	t.Fatal("internal-api has no ConfigMap internal-api-ca")
	return nil
}

// TestDevCLI runs `go run ./cmd/verify -stack dev` (what `make verify` runs): three OK lines.
func TestDevCLI(t *testing.T) {
	cmd := exec.Command("go", "run", "./cmd/verify", "-stack", "dev", "-egctl", egctl, "-cluster-bin", clusterBin, "-host", host, "-crds", strings.Join(crdDirs, ","))
	cmd.Dir = repoRoot()
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("cmd/verify on dev: %v", err)
	}
	want := []string{
		"public-api system system public-api.dev.example.com client-cert=gateway/upstream-tls-client-tls OK",
		"internal-api ca ca internal-api.apps.svc client-cert=gateway/upstream-tls-client-tls OK",
		"legacy-app insecure insecure legacy-app.legacy.svc client-cert=gateway/upstream-tls-client-tls OK",
	}
	for _, w := range want {
		if !strings.Contains(string(out), w+"\n") {
			t.Errorf("output lacks %q", w)
		}
	}
}

// TestDev checks the library verdict on the unmodified dev plan.
func TestDev(t *testing.T) {
	rep := run(t, devPlan(t))
	if !rep.OK() {
		t.Fatal("dev stack does not verify")
	}
	for name, eff := range map[string]verify.Effective{"public-api": verify.EffectiveSystem, "internal-api": verify.EffectiveCA, "legacy-app": verify.EffectiveInsecure} {
		if got := result(t, rep, name).Effective; got != eff {
			t.Errorf("%s: effective %s, want %s", name, got, eff)
		}
	}
}

// TestUpstreamEgctlAgrees checks that the unpatched pinned egctl gives the same verdict on the
// dev stack as egctl-verify: the patch changes nothing but the Backend API switch.
func TestUpstreamEgctlAgrees(t *testing.T) {
	p := devPlan(t)
	patched, upstream := run(t, p), runWith(t, upstreamEgctl, p)
	if !upstream.OK() || len(patched.Results) != len(upstream.Results) {
		t.Fatal("upstream egctl does not verify the dev stack")
	}
	for i := range patched.Results {
		if a, b := patched.Results[i].String(), upstream.Results[i].String(); a != b {
			t.Errorf("egctl-verify %q, upstream egctl %q", a, b)
		}
	}
}

// TestNegative mutates the planned dev objects; each case must make its backend MISMATCH, with
// a reason containing want, and the report fail.
func TestNegative(t *testing.T) {
	cases := []struct {
		name, backend, want string
		mutate              func(t *testing.T, p *plan.Plan)
	}{
		{"backend API disabled", "legacy-app", "Backend API disabled", func(t *testing.T, p *plan.Plan) {
			p.Envoy.Install.EnableBackend = false
		}},
		// The real translator's verdict, not only the verifier's own rule.
		{"backend API disabled (translator status)", "legacy-app", "Backend is disabled in Envoy Gateway configuration", func(t *testing.T, p *plan.Plan) {
			p.Envoy.Install.EnableBackend = false
		}},
		{"CA ConfigMap without ca.crt", "internal-api", "BackendTLSPolicy/apps/internal-api-https", func(t *testing.T, p *plan.Plan) {
			delete(caConfigMap(t, p).Data, "ca.crt")
			uncompute(p, "internal-api", core.KindConfigMap, "internal-api-ca")
		}},
		{"CA ConfigMap holds another CA", "internal-api", "effective ca-other", func(t *testing.T, p *plan.Plan) {
			other, err := pki.Generate(pki.Request{CommonName: "other", DNSNames: []string{"other"}, WithCA: true}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			caConfigMap(t, p).Data["ca.crt"] = other.CACertPEM
			uncompute(p, "internal-api", core.KindConfigMap, "internal-api-ca")
		}},
		{"policy sectionName names no port", "internal-api", "effective plaintext, the plan's posture says ca", func(t *testing.T, p *plan.Plan) {
			s := gwapiv1.SectionName("no-such-port")
			objectOf[*gwapiv1.BackendTLSPolicy](t, p, "internal-api").Spec.TargetRefs[0].SectionName = &s
		}},
		{"policy hostname differs from plan", "public-api", "SNI", func(t *testing.T, p *plan.Plan) {
			objectOf[*gwapiv1.BackendTLSPolicy](t, p, "public-api").Spec.Validation.Hostname = "elsewhere.example.com"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := devPlan(t)
			c.mutate(t, p)
			rep := run(t, p)
			if rep.OK() {
				t.Fatal("mutated plan verified OK")
			}
			r := result(t, rep, c.backend)
			if r.OK() || !strings.Contains(r.String(), "MISMATCH(") || !strings.Contains(r.String(), c.want) {
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
