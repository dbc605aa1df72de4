package examples_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"sigs.k8s.io/yaml"

	"github.com/upstream-tls/upstream-tls/infra/program"
	"github.com/upstream-tls/upstream-tls/internal/config"
)

// TestRenderedObjectsAgree: for the dev environment, the YAML example (pulumi-language-yaml) and
// the TypeScript example (generated Node.js SDK, inline Automation API program) render exactly
// the files the Go stack program (infra/program with Pulumi.dev.yaml) renders: the same paths
// under renderDir, the same objects in them, certificate material aside (PEM blocks and Secret
// data are generated anew by every run and replaced by a marker before comparing).
func TestRenderedObjectsAgree(t *testing.T) {
	goDir := renderGo(t)
	want := renderedFiles(t, goDir)
	t.Logf("the Go stack program rendered %d files", len(want))

	ys := newYAMLStack(t, "")
	if _, err := ys.up(); err != nil {
		t.Fatalf("YAML example: pulumi up failed: %v", err)
	}
	ts := buildTypeScript(t)
	ts.run(t, "up")

	for _, lang := range []struct {
		name, dir string
	}{
		{"YAML example", ys.renderDir},
		{"TypeScript example", ts.renderDir},
	} {
		got := renderedFiles(t, lang.dir)
		if problems := diffRendered(want, got); len(problems) > 0 {
			t.Errorf("%s renders differently from the Go stack program (%d problems):\n  %s",
				lang.name, len(problems), strings.Join(problems, "\n  "))
		} else {
			t.Logf("%s: the same %d files as the Go stack program", lang.name, len(got))
		}
	}
}

// TestRenderedComparisonIsStrict: the comparison of renderings sees every difference but the
// generated certificate material (no engine involved).
func TestRenderedComparisonIsStrict(t *testing.T) {
	const secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  tls.crt: %s\n  tls.key: %s\n"
	const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  ca.crt: |\n    %s\n  mode: %s\n"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	pem := func(typ, body string) string {
		return "-----BEGIN " + typ + "-----\n" + body + "\n-----END " + typ + "-----\n"
	}
	render := func(files map[string]string) map[string][]any {
		out := map[string][]any{}
		for name, raw := range files {
			docs, err := parseRendered([]byte(raw))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out[name] = docs
		}
		return out
	}
	base := func(cert, key, mode string) map[string]string {
		return map[string]string{
			"1-manifest/v1-secret-s.yaml":    fmt.Sprintf(secret, b64(pem("CERTIFICATE", cert)), b64(pem("PRIVATE KEY", key))),
			"1-manifest/v1-configmap-c.yaml": fmt.Sprintf(configMap, strings.ReplaceAll(strings.TrimSpace(pem("CERTIFICATE", cert)), "\n", "\n    "), mode),
		}
	}
	want := render(base("QUJD", "REVG", "ca"))
	if p := diffRendered(want, render(base("WFla", "WldW", "ca"))); len(p) != 0 {
		t.Errorf("other certificate material is reported: %v", p)
	}
	if p := diffRendered(want, render(base("QUJD", "REVG", "system"))); len(p) != 1 || !strings.Contains(p[0], ".data.mode") {
		t.Errorf("a changed value: %v, want one problem at .data.mode", p)
	}
	swapped := base("QUJD", "REVG", "ca")
	swapped["1-manifest/v1-secret-s.yaml"] = fmt.Sprintf(secret, b64(pem("PRIVATE KEY", "REVG")), b64(pem("PRIVATE KEY", "REVG")))
	if p := diffRendered(want, render(swapped)); len(p) != 1 || !strings.Contains(p[0], ".data.tls.crt") {
		t.Errorf("a key where a certificate belongs: %v, want one problem at .data.tls.crt", p)
	}
	extra := base("QUJD", "REVG", "ca")
	extra["1-manifest/v1-namespace-x.yaml"] = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n"
	delete(extra, "1-manifest/v1-configmap-c.yaml")
	if p := diffRendered(want, render(extra)); len(p) != 2 {
		t.Errorf("a missing and an unexpected file: %v, want two problems", p)
	}
}

// renderGo runs the Go stack program (infra/program), inline through the Automation API as
// `make up` and tests/engine do, on Pulumi.dev.yaml with renderDir in a temporary directory;
// it returns that directory once `pulumi up` has rendered into it.
func renderGo(t *testing.T) string {
	t.Helper()
	defer timed(t, "Go stack program: pulumi up")()
	const stack = "dev"
	dir := t.TempDir()
	setEngineEnv(t, dir)
	project, err := os.ReadFile(filepath.Join(repoRoot(), "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The program runs inline, so the workspace copy of the project has no `main` directory.
	project = regexp.MustCompile(`(?m)^main:.*\n?`).ReplaceAll(project, nil)
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "Pulumi.dev-render.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The dev stack's encryption salt belongs to the dev passphrase; this stack gets its own.
	raw = regexp.MustCompile(`(?m)^encryptionsalt:.*\n?`).ReplaceAll(raw, nil)
	renderDir := filepath.Join(dir, "rendered")
	cfg := strings.Replace(string(raw), "upstream-tls:renderDir: out/dev", "upstream-tls:renderDir: "+renderDir, 1)
	if cfg == string(raw) {
		t.Fatal("Pulumi.dev-render.yaml no longer sets upstream-tls:renderDir: out/dev")
	}
	stackFile := filepath.Join(dir, "Pulumi."+stack+".yaml")
	if err := os.WriteFile(stackFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	prog := program.New(program.Options{Root: repoRoot(), StackFile: stackFile})
	ctx := context.Background()
	s, err := auto.UpsertStackInlineSource(ctx, stack, config.Namespace, prog, auto.WorkDir(dir))
	if err != nil {
		t.Fatalf("Go stack program: create stack: %v", err)
	}
	if res, err := s.Up(ctx); err != nil {
		t.Fatalf("Go stack program: pulumi up failed: %v\n%s", err, res.StdErr)
	}
	return renderDir
}

// ---- helpers the example tests share ----------------------------------------------------------

// setEngineEnv gives the test the offline engine environment of scripts/pulumi-env.sh with a
// file backend under dir; the directories in path come first on PATH.
func setEngineEnv(t *testing.T, dir string, path ...string) {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k == "PATH" && len(path) > 0 {
			v = strings.Join(path, string(os.PathListSeparator)) + string(os.PathListSeparator) + v
		}
		t.Setenv(k, v)
	}
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PULUMI_BACKEND_URL", "file://"+state)
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "examples-test")
}

// runExampleTool runs scripts/example-tools.sh with args and returns the last line it prints
// (the directory it made ready). Failure fails the test, with the script's output.
func runExampleTool(t *testing.T, args ...string) string {
	t.Helper()
	defer timed(t, "scripts/example-tools.sh "+strings.Join(args, " "))()
	cmd := exec.Command(filepath.Join(repoRoot(), "scripts", "example-tools.sh"), args...)
	cmd.Dir = repoRoot()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/example-tools.sh %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// devInputs are the dev environment's offline install inputs (scripts/pulumi-env.sh made them),
// as absolute paths, which is how the examples take them.
func devInputs() (chartDir, gatewayAPICRDs string) {
	return filepath.Join(repoRoot(), "out", "offline", "charts"), filepath.Join(repoRoot(), "out", "offline", "gateway-api-crds")
}

func timed(t *testing.T, what string) func() {
	t.Helper()
	start := time.Now()
	return func() {
		t.Helper()
		t.Logf("%s: %s", what, time.Since(start).Round(100*time.Millisecond))
	}
}

// countFiles is the number of files under dir (0 when it does not exist).
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if os.IsNotExist(err) {
			return filepath.SkipAll
		}
		if err == nil && !info.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkLeftAfterDestroy: destroy removed every file it rendered into dir but the CRD
// manifests (the Kubernetes provider writes them under 0-crd/), which stay: every CRD is
// retained on delete, in render mode as on a cluster. At least one must be left, since every
// example installs the Gateway API and Envoy Gateway CRDs.
func checkLeftAfterDestroy(t *testing.T, dir string) {
	t.Helper()
	crds := 0
	var others []string
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if os.IsNotExist(err) {
			return filepath.SkipAll
		}
		if err != nil || info.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "0-crd"+string(filepath.Separator)) {
			crds++
		} else {
			others = append(others, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(others) > 0 {
		t.Errorf("destroy left %d rendered files in %s besides the CRDs, e.g. %s", len(others), dir, others[0])
	}
	if crds == 0 {
		t.Errorf("destroy removed the rendered CRD manifests in %s/0-crd, which are retained on delete", dir)
	}
}

// ---- rendered objects -------------------------------------------------------------------------

var (
	pemBlock = regexp.MustCompile(`-----BEGIN ([A-Z0-9 ]+)-----\r?\n[A-Za-z0-9+/=\r\n]*-----END ([A-Z0-9 ]+)-----`)
	docSep   = regexp.MustCompile(`(?m)^---\s*$`)
)

// renderedFiles reads every file under dir (the Kubernetes provider's renderYamlToDirectory) as
// its path relative to dir → its YAML documents, normalised for comparison: generated
// certificate material differs between runs, so every PEM block becomes a marker naming its type
// (<PEM CERTIFICATE>, <PEM PRIVATE KEY>), in Secret data after base64-decoding; everything else,
// the number and types of the blocks included, is compared as rendered.
func renderedFiles(t *testing.T, dir string) map[string][]any {
	t.Helper()
	files := map[string][]any{}
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		docs, err := parseRendered(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		files[filepath.ToSlash(rel)] = docs
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("nothing rendered under %s", dir)
	}
	return files
}

// parseRendered is one rendered file's normalised YAML documents.
func parseRendered(raw []byte) ([]any, error) {
	docs := []any{}
	for _, doc := range docSep.Split(string(raw), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var v any
		if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
			return nil, err
		}
		if v != nil {
			docs = append(docs, normaliseObject(v))
		}
	}
	return docs, nil
}

func normaliseObject(v any) any {
	if obj, ok := v.(map[string]any); ok && obj["kind"] == "Secret" {
		if data, ok := obj["data"].(map[string]any); ok {
			for k, e := range data {
				if s, ok := e.(string); ok {
					if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
						data[k] = "base64:" + string(dec)
					}
				}
			}
		}
	}
	return normaliseValue(v)
}

func normaliseValue(v any) any {
	switch n := v.(type) {
	case map[string]any:
		for k, e := range n {
			n[k] = normaliseValue(e)
		}
	case []any:
		for i, e := range n {
			n[i] = normaliseValue(e)
		}
	case string:
		return pemBlock.ReplaceAllString(n, "<PEM $1>")
	}
	return v
}

// diffRendered lists how got differs from want: files missing or extra, and for each file
// whose documents differ, its first differing paths.
func diffRendered(want, got map[string][]any) []string {
	var problems []string
	for _, f := range sortedKeys(want) {
		g, ok := got[f]
		if !ok {
			problems = append(problems, "missing "+f)
			continue
		}
		w := want[f]
		if len(w) != len(g) {
			problems = append(problems, fmt.Sprintf("%s: %d documents, want %d", f, len(g), len(w)))
			continue
		}
		for i := range w {
			var d []string
			diffValue(w[i], g[i], "", &d)
			for j, p := range d {
				if j == 5 {
					problems = append(problems, fmt.Sprintf("%s: ... (%d differences in all)", f, len(d)))
					break
				}
				problems = append(problems, f+": "+p)
			}
		}
	}
	for _, f := range sortedKeys(got) {
		if _, ok := want[f]; !ok {
			problems = append(problems, "unexpected "+f)
		}
	}
	return problems
}

func diffValue(want, got any, path string, out *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: %s, want an object", orRoot(path), short(got)))
			return
		}
		for _, k := range sortedKeys(w) {
			if _, ok := g[k]; !ok {
				*out = append(*out, fmt.Sprintf("%s.%s: missing, want %s", path, k, short(w[k])))
				continue
			}
			diffValue(w[k], g[k], path+"."+k, out)
		}
		for _, k := range sortedKeys(g) {
			if _, ok := w[k]; !ok {
				*out = append(*out, fmt.Sprintf("%s.%s: unexpected %s", path, k, short(g[k])))
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*out = append(*out, fmt.Sprintf("%s: %s, want %s", orRoot(path), short(got), short(want)))
			return
		}
		for i := range w {
			diffValue(w[i], g[i], fmt.Sprintf("%s[%d]", path, i), out)
		}
	default:
		if short(want) != short(got) {
			*out = append(*out, fmt.Sprintf("%s: %s, want %s", orRoot(path), short(got), short(want)))
		}
	}
}

func orRoot(p string) string {
	if p == "" {
		return "."
	}
	return p
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
