package examples_test

// The Python example (examples/python) on the real engine: the pinned pulumi CLI, this
// checkout's provider plugin (the component is constructed remotely, through the plugin's
// Construct) and the Kubernetes provider plugin in render mode, driven by the Python Automation
// API with the example as an inline program (testdata/python_driver.py, which needs no
// pulumi-language-python plugin):
//   - TestPythonExample: up (the rendered objects are `make render`'s plan), a second up that
//     changes nothing, destroy (nothing left but the retained CRDs);
//   - TestPythonExampleRefusal: a failing step fails the driver: production refuses the
//     insecure backend, naming the field;
//   - TestPythonExampleUsesTheSDK: the example maps every input of the installed SDK, from the
//     configuration keys the SDK serialises them as (the driver's sdk-use step, also the first
//     step of every run), and a copy with mistakes is refused.
// The venv comes from scripts/example-tools.sh python (exactly the pins of
// examples/python/requirements.txt, in the tool cache); the generated SDK is built from
// sdk/python and installed into each test's directory (scripts/example-tools.sh python-sdk).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/render"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

// driverStep is one step of testdata/python_driver.py's summary.
type driverStep struct {
	Name            string         `json:"name"`
	OK              bool           `json:"ok"`
	Error           string         `json:"error"`
	Seconds         float64        `json:"seconds"`
	Result          string         `json:"result"`
	ResourceChanges map[string]int `json:"resourceChanges"`
	Outputs         map[string]any `json:"outputs"`
	ResourcesLeft   *int           `json:"resourcesLeft"`
}

type driverSummary struct {
	OK    bool         `json:"ok"`
	Steps []driverStep `json:"steps"`
}

func (s driverSummary) step(name string) *driverStep {
	for i := range s.Steps {
		if s.Steps[i].Name == name {
			return &s.Steps[i]
		}
	}
	return nil
}

// pythonRun is one run of the driver on a temporary stack made from Pulumi.dev.yaml.
type pythonRun struct {
	dir, stackFile, rendered, copy string
	summary                        driverSummary
	exitErr                        error
	stderr                         string
}

// runPythonExample writes a stack (the dev configuration, rendering into the run's directory,
// edited by edit when not nil) and runs the driver on it.
func runPythonExample(t *testing.T, edit func(string) string) *pythonRun {
	t.Helper()
	venv := runExampleTool(t, "python")
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	site := runExampleTool(t, "python-sdk", filepath.Join(dir, "site"))
	r := &pythonRun{dir: dir, rendered: filepath.Join(dir, "rendered"), copy: filepath.Join(dir, "rendered-copy")}

	// The project: the repository's, run by the Python runtime, inline (no main).
	project, err := os.ReadFile(filepath.Join(repoRoot(), "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	project = regexp.MustCompile(`(?m)^main:.*\n?`).ReplaceAll(project, nil)
	project = regexp.MustCompile(`(?m)^runtime:.*$`).ReplaceAll(project, []byte("runtime: python"))
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644); err != nil {
		t.Fatal(err)
	}
	const stack = "pyexample"
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "Pulumi.dev-render.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	raw = regexp.MustCompile(`(?m)^encryptionsalt:.*\n?`).ReplaceAll(raw, nil)
	cfg := strings.Replace(string(raw), "upstream-tls:renderDir: out/dev", "upstream-tls:renderDir: "+r.rendered, 1)
	if cfg == string(raw) {
		t.Fatal("Pulumi.dev-render.yaml no longer sets upstream-tls:renderDir: out/dev")
	}
	if edit != nil {
		cfg = edit(cfg)
	}
	r.stackFile = filepath.Join(dir, "Pulumi."+stack+".yaml")
	if err := os.WriteFile(r.stackFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(filepath.Join(venv, "bin", "python"), filepath.Join(repoRoot(), "tests", "examples", "testdata", "python_driver.py"),
		"--example", filepath.Join(repoRoot(), "examples", "python"),
		"--work-dir", dir, "--stack", stack, "--project-dir", repoRoot(), "--copy-render", r.copy)
	cmd.Dir = dir
	// PYTHONDONTWRITEBYTECODE: no __pycache__ in examples/python.
	cmd.Env = withEnvVars(env, "PULUMI_BACKEND_URL=file://"+state, "PULUMI_CONFIG_PASSPHRASE=examples-test",
		"PYTHONPATH="+site, "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	r.exitErr = cmd.Run()
	r.stderr = stderr.String()
	t.Logf("python_driver.py: %s (%v)", time.Since(start).Round(time.Second), r.exitErr)
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r.summary); err != nil {
		t.Fatalf("python_driver.py printed no summary (%v, exit: %v):\n%s\nstderr:\n%s", err, r.exitErr, stdout.String(), tail(r.stderr, 60))
	}
	for _, s := range r.summary.Steps {
		t.Logf("  %-9s ok=%-5v %5.1fs %s", s.Name, s.OK, s.Seconds, s.Error)
	}
	return r
}

func TestPythonExample(t *testing.T) {
	r := runPythonExample(t, nil)
	if r.exitErr != nil || !r.summary.OK {
		t.Fatalf("the Python example failed (exit: %v):\n%s", r.exitErr, tail(r.stderr, 80))
	}
	for _, name := range []string{"sdk-use", "create", "up", "up-again", "destroy"} {
		s := r.summary.step(name)
		if s == nil || !s.OK {
			t.Fatalf("step %s did not succeed: %+v", name, s)
		}
	}

	// 1. The first up created the environment and exported what the Go program exports.
	up := r.summary.step("up")
	if up.Result != "succeeded" || up.ResourceChanges["create"] == 0 {
		t.Errorf("first up: result %q, changes %v", up.Result, up.ResourceChanges)
	}
	st, err := config.FromFile(r.stackFile)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(st.Args)
	if err != nil {
		t.Fatal(err)
	}
	checkPythonOutputs(t, up.Outputs, st, r.rendered)

	// 2. What the Python program had the engine render is what `make render` plans.
	checkRenderedEqualsPlan(t, p, readRendered(t, r.copy))

	// 3. The second up changed nothing.
	again := r.summary.step("up-again")
	for op, n := range again.ResourceChanges {
		if op != "same" && n > 0 {
			t.Errorf("second up: %d resources %s", n, op)
		}
	}
	if again.ResourceChanges["same"] != up.ResourceChanges["create"] {
		t.Errorf("second up: %d same, first up created %d", again.ResourceChanges["same"], up.ResourceChanges["create"])
	}

	// 4. Destroy left nothing in the state, and in the render directory only the CRDs.
	d := r.summary.step("destroy")
	if d.ResourcesLeft == nil || *d.ResourcesLeft != 0 || d.ResourceChanges["delete"] != up.ResourceChanges["create"] {
		t.Errorf("destroy: %d deleted of %d created, resources left: %v", d.ResourceChanges["delete"], up.ResourceChanges["create"], d.ResourcesLeft)
	}
	checkLeftAfterDestroy(t, r.rendered)
}

// A step that fails makes the driver, and so the test, fail: the component refuses an insecure
// backend in production, through the Python SDK and the plugin's Construct, naming the field.
func TestPythonExampleRefusal(t *testing.T) {
	r := runPythonExample(t, func(cfg string) string {
		return strings.Replace(cfg, "upstream-tls:environment: dev", "upstream-tls:environment: production", 1)
	})
	if r.exitErr == nil || r.summary.OK {
		t.Fatalf("the driver succeeded on an insecure backend in production: %+v", r.summary)
	}
	up := r.summary.step("up")
	if up == nil || up.OK {
		t.Fatalf("up did not fail: %+v", up)
	}
	for _, want := range []string{"backends[2].tls.mode", "refused in a production environment", "allowInsecureBackends"} {
		if !strings.Contains(up.Error, want) && !strings.Contains(r.stderr, want) {
			t.Errorf("the failed up does not say %q:\n%s\n%s", want, up.Error, tail(r.stderr, 40))
		}
	}
	if s := r.summary.step("up-again"); s != nil {
		t.Errorf("the driver went on after the failed up: %+v", s)
	}
	if d := r.summary.step("destroy"); d == nil || !d.OK {
		t.Errorf("destroy after the failed up: %+v", d)
	}
}

// TestPythonExampleUsesTheSDK: the example constructs every input class of the installed SDK
// with exactly its parameters, each read from the configuration key the SDK serialises it as
// (python_driver.py --sdk-use-only, on the AST); a copy with one mistake of each kind is refused,
// naming them with their line and column.
func TestPythonExampleUsesTheSDK(t *testing.T) {
	venv := runExampleTool(t, "python")
	dir := t.TempDir()
	site := runExampleTool(t, "python-sdk", filepath.Join(dir, "site"))
	check := func(file string) (driverSummary, error) {
		t.Helper()
		cmd := exec.Command(filepath.Join(venv, "bin", "python"), filepath.Join(repoRoot(), "tests", "examples", "testdata", "python_driver.py"), "--sdk-use-only", file)
		cmd.Env = withEnvVars(os.Environ(), "PYTHONPATH="+site, "PYTHONDONTWRITEBYTECODE=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var s driverSummary
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &s); jerr != nil || s.step("sdk-use") == nil {
			t.Fatalf("python_driver.py --sdk-use-only printed no summary (%v, exit %v):\n%s\n%s", jerr, err, stdout.String(), stderr.String())
		}
		return s, err
	}
	example := filepath.Join(repoRoot(), "examples", "python", "upstream_tls_example.py")
	if s, err := check(example); err != nil || !s.OK {
		t.Fatalf("examples/python does not use the SDK as it is (exit %v):\n%s", err, s.step("sdk-use").Error)
	}

	src, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	mutations := []struct{ from, to, want string }{
		{"hostname=o.take(\"hostname\"),\n        subject_alt_names", "hostname=o.take(\"hostName\"),\n        subject_alt_names", "BackendTlsArgs.hostname is read from key 'hostName', the SDK serialises it as 'hostname'"},
		{"DeployArgs(\n        image=o.take(\"image\"),", "DeployArgs(\n        images=o.take(\"image\"),", "DeployArgs has no parameter images"},
		{"pem=o.take(\"pem\"), ", "", "CaSourceArgs.pem is not set"},
	}
	mutated := string(src)
	for _, m := range mutations {
		if !strings.Contains(mutated, m.from) {
			t.Fatalf("upstream_tls_example.py no longer contains %q", m.from)
		}
		mutated = strings.Replace(mutated, m.from, m.to, 1)
	}
	copyPath := filepath.Join(dir, "upstream_tls_example.py")
	if err := os.WriteFile(copyPath, []byte(mutated), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := check(copyPath)
	if err == nil || s.OK {
		t.Fatalf("the mutated copy passed the SDK check")
	}
	reported := s.step("sdk-use").Error
	t.Logf("the mutated copy, as reported: %s", reported)
	for _, m := range mutations {
		if !regexp.MustCompile(regexp.QuoteMeta(copyPath) + `:\d+:\d+: ` + regexp.QuoteMeta(m.want)).MatchString(reported) {
			t.Errorf("the mistake %q -> %q is not reported as %q", m.from, m.to, m.want)
		}
	}
}

// checkPythonOutputs: the stack outputs describe the dev environment as the plan does.
func checkPythonOutputs(t *testing.T, out map[string]any, st config.Stack, renderDir string) {
	t.Helper()
	if out["gatewayName"] != st.Args.Gateway.Name || out["gatewayNamespace"] != st.Args.Gateway.Namespace {
		t.Errorf("gateway outputs %v/%v, configured %s/%s", out["gatewayNamespace"], out["gatewayName"], st.Args.Gateway.Namespace, st.Args.Gateway.Name)
	}
	if out["backendApiEnabled"] != true {
		t.Errorf("backendApiEnabled = %v with an insecure backend", out["backendApiEnabled"])
	}
	if out["renderDir"] != renderDir {
		t.Errorf("renderDir = %v, want %s", out["renderDir"], renderDir)
	}
	backends, _ := out["backends"].([]any)
	if len(backends) != len(st.Args.Backends) {
		t.Fatalf("backends output has %d entries, the configuration %d: %v", len(backends), len(st.Args.Backends), out["backends"])
	}
	posture, _ := out["posture"].(string)
	for i, b := range st.Args.Backends {
		got, _ := backends[i].(map[string]any)
		verified := b.TLS.Mode != "insecure"
		if got["name"] != b.Name || got["mode"] != string(b.TLS.Mode) || got["effective"] != string(b.TLS.Mode) || got["verified"] != verified {
			t.Errorf("backends[%d] = %v, configured %s mode %s", i, got, b.Name, b.TLS.Mode)
		}
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(b.Name) + `\s+` + string(b.TLS.Mode) + `\s`).MatchString(posture) {
			t.Errorf("posture has no line for %s (%s):\n%s", b.Name, b.TLS.Mode, posture)
		}
	}
}

// readRendered reads every YAML the Kubernetes provider wrote under dir, keyed as
// core.Object.ResourceName: `<kind>-<namespace>-<name>`.
func readRendered(t *testing.T, dir string) map[string]map[string]any {
	t.Helper()
	objs := map[string]map[string]any{}
	for _, path := range yamlFiles(t, dir) {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(raw), "\n---\n") {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil || m == nil {
				continue
			}
			md, _ := m["metadata"].(map[string]any)
			kind, _ := m["kind"].(string)
			name, _ := md["name"].(string)
			key := strings.ToLower(kind)
			if ns, _ := md["namespace"].(string); ns != "" {
				key += "-" + ns
			}
			objs[key+"-"+name] = m
		}
	}
	if len(objs) == 0 {
		t.Fatalf("nothing rendered in %s", dir)
	}
	return objs
}

func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err == nil && !info.IsDir() && strings.HasSuffix(path, ".yaml") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// checkRenderedEqualsPlan: every planned object was rendered with the planned fields, the
// engine-computed ones (certificates) filled with PEM. (As tests/engine does for the Go program.)
func checkRenderedEqualsPlan(t *testing.T, p *plan.Plan, got map[string]map[string]any) {
	t.Helper()
	for _, o := range p.AllObjects() {
		key := o.ResourceName()
		r, ok := got[key]
		if !ok {
			t.Errorf("not rendered: %s", o.Key())
			continue
		}
		want, err := render.ToMap(o)
		if err != nil {
			t.Fatal(err)
		}
		computed := map[string]bool{}
		for _, b := range o.Computed {
			path := key
			for _, k := range b.Path {
				if k == "stringData" {
					k = "data" // the provider writes stringData as (base64) data
				}
				path += "." + k
			}
			computed[path] = true
		}
		if sd, ok := want["stringData"].(map[string]any); ok {
			delete(want, "stringData")
			data := map[string]any{}
			for k := range sd {
				data[k] = secretValue(t, r, k)
			}
			copied := map[string]any{}
			for k, v := range r {
				copied[k] = v
			}
			copied["data"] = data
			r = copied
			want["data"] = sd
		}
		var problems []string
		testutil.MatchPlanned(want, r, key, computed, &problems)
		for _, pr := range problems {
			t.Errorf("rendered and planned differ: %s", pr)
		}
	}
}

// secretValue reads a key of a rendered Secret from stringData or (base64) data.
func secretValue(t *testing.T, s map[string]any, key string) string {
	t.Helper()
	if sd, ok := s["stringData"].(map[string]any); ok {
		if v, ok := sd[key].(string); ok {
			return v
		}
	}
	if d, ok := s["data"].(map[string]any); ok {
		if v, ok := d[key].(string); ok {
			dec, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatalf("Secret %s: %v", key, err)
			}
			return string(dec)
		}
	}
	t.Fatalf("Secret has no %s", key)
	return ""
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// withEnvVars is environ with the KEY=VALUE pairs kvs set (replacing earlier values of KEY).
func withEnvVars(environ []string, kvs ...string) []string {
	set := map[string]bool{}
	for _, kv := range kvs {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}
	out := make([]string, 0, len(environ)+len(kvs))
	for _, kv := range environ {
		if k, _, _ := strings.Cut(kv, "="); !set[k] {
			out = append(out, kv)
		}
	}
	return append(out, kvs...)
}
