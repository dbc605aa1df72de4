// Package schema_test validates every rendered object against the pinned CRDs (Gateway API
// v1.6.3 standard channel, Envoy Gateway v1.9.1), CEL rules (x-kubernetes-validations) included,
// and against the Kubernetes core schemas, with the real kubectl-validate built by
// scripts/tools.sh.
package schema_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"github.com/upstream-tls/upstream-tls/components/manifest"
	"github.com/upstream-tls/upstream-tls/components/plan"
	"github.com/upstream-tls/upstream-tls/components/stackconfig"
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
	tools := exec.Command("bash", filepath.Join(repoRoot(), "scripts", "tools.sh"), "kubectl-validate")
	tools.Stderr = os.Stderr
	out, err := tools.Output()
	if err != nil {
		panic("scripts/tools.sh kubectl-validate: " + err.Error())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	validator = filepath.Join(lines[len(lines)-1], "kubectl-validate")

	dir, err := os.MkdirTemp("", "schema-crds")
	if err != nil {
		panic(err)
	}
	inputs := exec.Command("bash", filepath.Join(repoRoot(), "scripts", "offline-inputs.sh"), filepath.Join(dir, "offline"))
	inputs.Stdout, inputs.Stderr = os.Stderr, os.Stderr
	if err := inputs.Run(); err != nil {
		panic("scripts/offline-inputs.sh: " + err.Error())
	}
	crdDirs = []string{filepath.Join(dir, "offline", "gateway-api-crds"), filepath.Join(dir, "offline", "envoy-gateway-crds")}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// validate writes objs one per file and runs kubectl-validate on them.
func validate(t *testing.T, objs []plan.Object) (string, error) {
	t.Helper()
	dir := t.TempDir()
	for i, o := range objs {
		doc, err := manifest.Documents([]plan.Object{o})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%03d-%s", i, manifest.FileName(o))), doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(validator, "--local-crds", strings.Join(crdDirs, ","), "--version", "1.32", "--output", "human", dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// goldenPlans plans every golden input that is valid, and every committed stack.
func goldenPlans(t *testing.T) map[string]*plan.Plan {
	t.Helper()
	plans := map[string]*plan.Plan{}
	stacks, _ := filepath.Glob(filepath.Join(repoRoot(), "Pulumi.*.yaml"))
	for _, s := range stacks {
		st, err := stackconfig.FromFile(s)
		if err != nil {
			t.Fatal(err)
		}
		p, err := plan.Build(st.Args)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		plans[filepath.Base(s)] = p
	}
	inputs, _ := filepath.Glob(filepath.Join(repoRoot(), "components", "plan", "testdata", "*.in.yaml"))
	if len(inputs) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, in := range inputs {
		raw, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		st, err := stackconfig.FromArgsYAML(raw)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if p, err := plan.Build(st); err == nil {
			plans[filepath.Base(in)] = p
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
