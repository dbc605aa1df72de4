package plan_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	yamlv3 "gopkg.in/yaml.v3"
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
			if diff := goldenDiff(want, got); diff != "" {
				t.Errorf("%s differs from the golden file (-want +got); rerun with -update and review the diff:\n%s", outPath, diff)
			}
		})
	}
}

// goldenDiff is the difference between two golden files: one line per changed field, named by
// its document (kind/namespace/name) and its path in it, when the objects differ (cmp.Diff of
// the parsed YAML documents, with a reporter that keeps only the changed leaves); a line diff
// when only comments (the posture table) or layout do; "" when the files are equal.
func goldenDiff(want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	w, werr := yamlDocuments(want)
	g, gerr := yamlDocuments(got)
	if werr == nil && gerr == nil {
		r := &fieldReporter{want: w, got: g}
		cmp.Equal(w, g, cmp.Reporter(r))
		if len(r.diffs) > 0 {
			return strings.Join(r.diffs, "\n")
		}
	}
	return cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n"))
}

// fieldReporter collects the changed leaves of a cmp comparison of YAML documents.
type fieldReporter struct {
	want, got []any
	path      cmp.Path
	diffs     []string
}

func (r *fieldReporter) PushStep(ps cmp.PathStep) { r.path = append(r.path, ps) }
func (r *fieldReporter) PopStep()                 { r.path = r.path[:len(r.path)-1] }

func (r *fieldReporter) Report(rs cmp.Result) {
	if rs.Equal() {
		return
	}
	vx, vy := r.path.Last().Values()
	show := func(v reflect.Value) string {
		if !v.IsValid() {
			return "(absent)"
		}
		out, _ := json.Marshal(v.Interface())
		return string(out)
	}
	r.diffs = append(r.diffs, fmt.Sprintf("  %s: want %s, got %s", r.where(), show(vx), show(vy)))
}

// where names the current path: the document by kind/namespace/name, then the keys.
func (r *fieldReporter) where() string {
	var b strings.Builder
	for i, step := range r.path {
		switch s := step.(type) {
		case cmp.SliceIndex:
			if i == 1 {
				wx, wy := s.SplitKeys()
				b.WriteString(docName(r.want, wx, r.got, wy))
				continue
			}
			fmt.Fprintf(&b, "[%d]", s.Key())
		case cmp.MapIndex:
			fmt.Fprintf(&b, ".%v", s.Key().Interface())
		}
	}
	return b.String()
}

// docName names document x of want (or y of got when want has none) as kind/namespace/name.
func docName(want []any, x int, got []any, y int) string {
	doc := any(nil)
	if x >= 0 && x < len(want) {
		doc = want[x]
	} else if y >= 0 && y < len(got) {
		doc = got[y]
	}
	m, _ := doc.(map[string]any)
	meta, _ := m["metadata"].(map[string]any)
	if m["kind"] == nil {
		return fmt.Sprintf("document %d", max(x, y))
	}
	name := fmt.Sprint(m["kind"], "/")
	if ns, ok := meta["namespace"]; ok {
		name += fmt.Sprint(ns, "/")
	}
	return name + fmt.Sprint(meta["name"])
}

// yamlDocuments parses every document of a multi-document YAML file.
func yamlDocuments(raw []byte) ([]any, error) {
	dec := yamlv3.NewDecoder(bytes.NewReader(raw))
	var docs []any
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
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
