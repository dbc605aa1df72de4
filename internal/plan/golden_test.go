package plan_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/render"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the current output")

// goldenNow is the clock of the golden cases: input certificates are checked against it, so
// the golden files do not age.
var goldenNow = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

// Render is the golden output of a: the posture, the install part (with the order), then every
// object; or the validation error.
func Render(t testing.TB, a spec.Args) []byte {
	t.Helper()
	p, err := plan.BuildWith(a, plan.Options{Now: goldenNow})
	if err != nil {
		var verr *core.ValidationError
		if !errors.As(err, &verr) {
			t.Fatalf("Build failed with a non-validation error: %v", err)
		}
		out, _ := yaml.Marshal(map[string]any{"error": err.Error()})
		return out
	}
	install, err := render.InstallYAML(p)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := render.Documents(p.AllObjects())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("# posture\n")
	for _, line := range strings.Split(strings.TrimRight(p.Posture(), "\n"), "\n") {
		b.WriteString("#   " + strings.TrimRight(line, " ") + "\n")
	}
	b.WriteString("# install\n")
	b.Write(install)
	b.WriteString("---\n")
	b.Write(objs)
	return b.Bytes()
}

// TestGolden renders testdata/<case>.in.yaml and compares with <case>.out.yaml. Run
// `go test ./internal/plan -run TestGolden -update` to rewrite, then review the diff like code.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			a, err := config.ArgsFromYAML(raw)
			if err != nil {
				t.Fatalf("decode %s: %v", in, err)
			}
			got := Render(t, a)
			outPath := strings.TrimSuffix(in, ".in.yaml") + ".out.yaml"
			if *update {
				if err := os.WriteFile(outPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
				t.Errorf("%s differs from the golden file (-want +got); rerun with -update and review the diff:\n%s", outPath, diff)
			}
		})
	}
}

// FuzzBuild feeds arbitrary configuration to Build: it must return a plan or a validation
// error, never panic, and a returned plan must render.
func FuzzBuild(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.in.yaml")
	for _, in := range inputs {
		raw, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`backends: [{name: a, tls: {mode: ca, ca: {pem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}}}]`))
	f.Add([]byte(`gateway: {listeners: []}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := config.ArgsFromYAML(raw)
		if err != nil {
			return
		}
		p, err := plan.BuildWith(a, plan.Options{Now: goldenNow})
		if err != nil {
			var verr *core.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Build returned a non-validation error: %v", err)
			}
			return
		}
		if _, err := render.Documents(p.AllObjects()); err != nil {
			t.Fatalf("a valid plan does not render: %v", err)
		}
		if _, err := render.InstallYAML(p); err != nil {
			t.Fatalf("a valid plan's install part does not render: %v", err)
		}
	})
}
