// Package schema_test validates every rendered object against the pinned CRDs (Gateway API
// v1.6.3 standard channel, Envoy Gateway v1.9.1), CEL rules (x-kubernetes-validations) included,
// and against the Kubernetes core schemas, with the real kubectl-validate built by
// scripts/tools.sh.
package schema_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"github.com/upstream-tls/upstream-tls/components/plan"
	"github.com/upstream-tls/upstream-tls/components/stackconfig"
	"github.com/upstream-tls/upstream-tls/components/verify"
	"github.com/upstream-tls/upstream-tls/tests/cases"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

var (
	validator string   // kubectl-validate binary
	crdDirs   []string // pinned CRDs
)

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "schema-crds")
	if err != nil {
		panic(err)
	}
	validator, crdDirs, err = verify.SchemaTools(context.Background(), repoRoot(), filepath.Join(dir, "offline"))
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func validate(t *testing.T, objs []plan.Object) (string, error) {
	t.Helper()
	return verify.ValidateSchema(context.Background(), validator, crdDirs, objs)
}

// goldenPlans plans every golden input that is valid, and every committed stack.
func goldenPlans(t *testing.T) map[string]*plan.Plan {
	t.Helper()
	golden, err := cases.Golden(repoRoot())
	if err != nil {
		t.Fatal(err)
	}
	stacks, err := cases.Stacks(repoRoot())
	if err != nil {
		t.Fatal(err)
	}
	plans := map[string]*plan.Plan{}
	for _, c := range stacks {
		if c.Err != nil {
			t.Fatalf("%s: %v", c.Name, c.Err)
		}
		plans[c.Name] = c.Plan
	}
	for _, c := range golden {
		if c.Err == nil {
			plans[c.Name] = c.Plan
		}
	}
	return plans
}

// TestEveryRenderedObjectIsValid: the objects of every golden case and every stack pass the
// pinned CRD schemas and CEL rules and the core schemas.
func TestEveryRenderedObjectIsValid(t *testing.T) {
	for name, p := range goldenPlans(t) {
		t.Run(name, func(t *testing.T) {
			if out, err := validate(t, p.AllObjects()); err != nil {
				t.Errorf("kubectl-validate rejected the plan: %v\n%s", err, out)
			}
		})
	}
}

// TestViolationsAreCaught: the validator really enforces the CEL rules that guard upstream TLS.
func TestViolationsAreCaught(t *testing.T) {
	st, err := stackconfig.FromFile(filepath.Join(repoRoot(), "Pulumi.dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	system := gwapiv1.WellKnownCACertificatesSystem
	for _, tc := range []struct {
		name   string
		mutate func(o plan.Object) bool
		want   string
	}{
		{"policy with both a CA ref and the system CAs", func(o plan.Object) bool {
			btp, ok := o.(*gwapiv1.BackendTLSPolicy)
			if ok && len(btp.Spec.Validation.CACertificateRefs) > 0 {
				btp.Spec.Validation.WellKnownCACertificates = &system
				return true
			}
			return false
		}, "must not contain both CACertificateRefs and WellKnownCACertificates"},
		{"insecure Backend that also trusts the system CAs", func(o plan.Object) bool {
			b, ok := o.(*egv1a1.Backend)
			if ok {
				b.Spec.TLS.WellKnownCACertificates = &system
			}
			return ok
		}, "must not contain either CACertificateRefs or WellKnownCACertificates when InsecureSkipVerify is enabled"},
		{"policy hostname with upper case", func(o plan.Object) bool {
			btp, ok := o.(*gwapiv1.BackendTLSPolicy)
			if ok {
				btp.Spec.Validation.Hostname = "Public-API.example.com"
			}
			return ok
		}, "spec.validation.hostname"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := plan.Build(st.Args)
			if err != nil {
				t.Fatal(err)
			}
			mutated := false
			for _, o := range p.AllObjects() {
				if tc.mutate(o) {
					mutated = true
					break
				}
			}
			if !mutated {
				t.Fatal("no object to mutate in the dev plan")
			}
			out, err := validate(t, p.AllObjects())
			if err == nil {
				t.Fatalf("kubectl-validate accepted the broken object:\n%s", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("validator output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}
