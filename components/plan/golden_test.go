package plan_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/upstream-tls/upstream-tls/components/manifest"
	"github.com/upstream-tls/upstream-tls/components/plan"
	"github.com/upstream-tls/upstream-tls/components/stackconfig"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the current output")

// decodeArgs reads a golden input strictly: unknown fields are errors, as in stack config.
func decodeArgs(t testing.TB, in []byte) (plan.Args, error) {
	t.Helper()
	return stackconfig.FromArgsYAML(in)
}

// render is the golden output: the install part, then every object, or the validation error.
func render(t testing.TB, a plan.Args) []byte {
	t.Helper()
	p, err := plan.Build(a)
	if err != nil {
		var verr *plan.ValidationError
		if !errors.As(err, &verr) {
			t.Fatalf("Build failed with a non-validation error: %v", err)
		}
		out, _ := yaml.Marshal(map[string]any{"error": err.Error()})
		return out
	}
	install, err := manifest.InstallYAML(p)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Documents(p.AllObjects())
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
// `go test ./components/plan -run TestGolden -update` to rewrite, then review the diff.
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
			a, err := decodeArgs(t, raw)
			if err != nil {
				t.Fatalf("decode %s: %v", in, err)
			}
			got := render(t, a)
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
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file; rerun with -update and review the diff.\n--- got ---\n%s", outPath, got)
			}
		})
	}
}

// FuzzBuild feeds arbitrary configuration to Build: it must return a plan or an error, never
// panic, and a returned plan must render.
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
		a, err := decodeArgs(t, raw)
		if err != nil {
			return
		}
		p, err := plan.Build(a)
		if err != nil {
			var verr *plan.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Build returned a non-validation error: %v", err)
			}
			return
		}
		if _, err := manifest.Documents(p.AllObjects()); err != nil {
			t.Fatalf("a valid plan does not render: %v", err)
		}
	})
}
