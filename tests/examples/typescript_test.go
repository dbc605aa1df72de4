package examples_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTypeScriptTypeCheck: examples/typescript type-checks (tsc --noEmit, strict) against the
// generated SDK built as a package (scripts/example-tools.sh ts-stage), and tsc reports a
// deliberately wrong type in a copy of it.
func TestTypeScriptTypeCheck(t *testing.T) {
	ex := runExampleTool(t, "ts-stage", t.TempDir())
	if out, err := tsc(t, ex, "--noEmit"); err != nil {
		t.Fatalf("tsc --noEmit: %v\n%s", err, out)
	}

	// A number where the SDK wants a string (tls.hostname of public-api).
	broken := runExampleTool(t, "ts-stage", t.TempDir())
	index := filepath.Join(broken, "index.ts")
	src, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	const good = `hostname: "public-api.dev.example.com"`
	if bytes.Count(src, []byte(good)) != 1 {
		t.Fatalf("examples/typescript/index.ts no longer has exactly one %s", good)
	}
	line := 1 + bytes.Count(src[:bytes.Index(src, []byte(good))], []byte("\n"))
	if err := os.WriteFile(index, bytes.Replace(src, []byte(good), []byte(`hostname: 42`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := tsc(t, broken, "--noEmit")
	if err == nil {
		t.Fatalf("tsc accepted a number for tls.hostname:\n%s", out)
	}
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("tsc did not run: %v\n%s", err, out)
	}
	t.Logf("tsc refuses the broken copy:\n%s", out)
	for _, want := range []string{
		"index.ts(" + strconv.Itoa(line) + ",",
		"error TS2322: Type 'number' is not assignable to type",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tsc output lacks %q:\n%s", want, out)
		}
	}
}

// TestTypeScriptLifecycle runs examples/typescript (compiled with tsc) as an inline Automation
// API program of @pulumi/pulumi (examples/typescript/automation.ts) against the pinned CLI: up,
// a second up that must change nothing (expectNoChanges), destroy.
func TestTypeScriptLifecycle(t *testing.T) {
	ts := buildTypeScript(t)
	steps := ts.run(t, "up", "up-no-changes", "destroy")

	up := steps[0]
	creates := up.Changes["create"]
	if up.Result != "succeeded" || creates == 0 || len(up.Changes) != 1 {
		t.Fatalf("up: %s %v, want only creates", up.Result, up.Changes)
	}
	posture, _ := up.Outputs["posture"].(string)
	for _, want := range []string{"public-api", "system", "internal-api", "ca", "legacy-app", "insecure"} {
		if !strings.Contains(posture, want) {
			t.Errorf("output posture lacks %q:\n%s", want, posture)
		}
	}
	if up.Outputs["backendApiEnabled"] != true {
		t.Errorf("backendApiEnabled = %v, want true (legacy-app is insecure)", up.Outputs["backendApiEnabled"])
	}
	if again := steps[1]; again.Result != "succeeded" || len(again.Changes) != 1 || again.Changes["same"] != creates {
		t.Errorf("second up: %s %v, want %d same", again.Result, again.Changes, creates)
	}
	if des := steps[2]; des.Result != "succeeded" || des.Changes["delete"] != creates {
		t.Errorf("destroy: %s %v, want %d deleted", des.Result, des.Changes, creates)
	}
	checkLeftAfterDestroy(t, ts.renderDir)
}

// tsExample is the TypeScript example built in a temporary stage (scripts/example-tools.sh
// ts-build) with its own backend and render directory.
type tsExample struct {
	dir       string // the compiled example, DIR/examples/typescript
	workDir   string // the Automation API workspace (Pulumi.yaml, Pulumi.<stack>.yaml)
	renderDir string
}

func buildTypeScript(t *testing.T) *tsExample {
	t.Helper()
	dir := t.TempDir()
	ex := runExampleTool(t, "ts-build", filepath.Join(dir, "stage"))
	setEngineEnv(t, dir)
	ts := &tsExample{dir: ex, workDir: filepath.Join(dir, "work"), renderDir: filepath.Join(dir, "rendered")}
	if err := os.MkdirAll(ts.workDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return ts
}

// tsStep is one line of automation.ts's report.
type tsStep struct {
	Step    string         `json:"step"`
	Result  string         `json:"result"`
	Changes map[string]int `json:"changes"`
	Outputs map[string]any `json:"outputs"`
}

// run runs automation.ts with the dev configuration and steps, and returns one report per step.
func (ts *tsExample) run(t *testing.T, steps ...string) []tsStep {
	t.Helper()
	defer timed(t, "node bin/automation.js "+strings.Join(steps, " "))()
	chartDir, crds := devInputs()
	args := []string{filepath.Join(ts.dir, "bin", "automation.js"),
		"--work-dir", ts.workDir, "--stack", "dev",
		"--config", "renderDir=" + ts.renderDir,
		"--config", "chartDir=" + chartDir,
		"--config", "gatewayAPICRDs=" + crds,
	}
	cmd := exec.Command("node", append(args, steps...)...)
	cmd.Dir = ts.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node automation.js %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(steps, " "), err, out, stderr.String())
	}
	var reports []tsStep
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r tsStep
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("automation.js printed %q: %v", sc.Text(), err)
		}
		reports = append(reports, r)
	}
	if len(reports) != len(steps) {
		t.Fatalf("automation.js reported %d steps, want %d:\n%s\nstderr:\n%s", len(reports), len(steps), out, stderr.String())
	}
	for i, r := range reports {
		if r.Step != steps[i] {
			t.Fatalf("report %d is of step %s, want %s", i, r.Step, steps[i])
		}
	}
	return reports
}

// tsc runs the staged TypeScript compiler in the example directory ex.
func tsc(t *testing.T, ex string, args ...string) (string, error) {
	t.Helper()
	defer timed(t, "tsc "+strings.Join(args, " "))()
	bin := filepath.Join(ex, "..", "..", "node_modules", ".bin", "tsc")
	cmd := exec.Command(bin, append([]string{"-p", "tsconfig.json"}, args...)...)
	cmd.Dir = ex
	out, err := cmd.CombinedOutput()
	return string(out), err
}
