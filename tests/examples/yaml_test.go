package examples_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
)

// TestYAMLLifecycle runs examples/yaml through the real engine and the pinned YAML language host
// (pulumi-language-yaml): preview, up, a second up that must change nothing, destroy.
func TestYAMLLifecycle(t *testing.T) {
	s := newYAMLStack(t, "")

	pre, err := s.preview()
	if err != nil {
		t.Fatalf("pulumi preview failed: %v\n%s", err, pre.StdErr)
	}
	s.checkUsedPinnedHost(pre.StdOut + pre.StdErr)
	creates := pre.ChangeSummary["create"]
	if creates == 0 || len(pre.ChangeSummary) != 1 {
		t.Fatalf("preview of a new stack: %v, want only creates", pre.ChangeSummary)
	}

	res, err := s.up()
	if err != nil {
		t.Fatalf("pulumi up failed: %v\n%s", err, res.StdErr)
	}
	if got := (*res.Summary.ResourceChanges)["create"]; got != creates {
		t.Errorf("up created %d resources, preview announced %d (%v)", got, creates, *res.Summary.ResourceChanges)
	}
	posture, _ := res.Outputs["posture"].Value.(string)
	for _, want := range []string{"public-api", "system", "internal-api", "ca", "legacy-app", "insecure"} {
		if !strings.Contains(posture, want) {
			t.Errorf("output posture lacks %q:\n%s", want, posture)
		}
	}
	if res.Outputs["backendApiEnabled"].Value != true {
		t.Errorf("backendApiEnabled = %v, want true (legacy-app is insecure)", res.Outputs["backendApiEnabled"].Value)
	}
	if n := countFiles(t, s.renderDir); n == 0 {
		t.Fatalf("up rendered nothing into %s", s.renderDir)
	}

	again, err := s.up(optup.ExpectNoChanges())
	if err != nil {
		t.Fatalf("second pulumi up changed something: %v\n%s", err, again.StdOut)
	}
	for op, n := range *again.Summary.ResourceChanges {
		if op != "same" {
			t.Errorf("second up: %d %s, want every resource the same", n, op)
		}
	}

	defer timed(t, "pulumi destroy")()
	des, err := s.stack.Destroy(context.Background(), optdestroy.ErrorProgressStreams(os.Stderr))
	if err != nil {
		t.Fatalf("pulumi destroy failed: %v\n%s", err, des.StdErr)
	}
	if got := (*des.Summary.ResourceChanges)["delete"]; got != creates {
		t.Errorf("destroy deleted %d resources, up created %d", got, creates)
	}
	checkLeftAfterDestroy(t, s.renderDir)
}

// TestYAMLProductionRefusesInsecureBackend: the same program with environment production is
// refused at preview with the component's message, naming the field.
func TestYAMLProductionRefusesInsecureBackend(t *testing.T) {
	s := newYAMLStack(t, "production")
	res, err := s.preview()
	if err == nil {
		t.Fatalf("preview of environment production with an insecure backend succeeded:\n%s", res.StdOut)
	}
	msg := err.Error()
	for _, want := range []string{
		`backends[2].tls.mode: backend "legacy-app" is insecure`,
		"refused in a production environment",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("preview error lacks %q:\n%s", want, msg)
		}
	}
	if n := countFiles(t, s.renderDir); n != 0 {
		t.Errorf("a refused preview rendered %d files", n)
	}
}

var (
	yamlHostOnce sync.Once
	yamlHostDir  string
)

// yamlHost is the directory holding the pinned pulumi-language-yaml (scripts/example-tools.sh
// yaml, once per test binary).
func yamlHost(t *testing.T) string {
	t.Helper()
	yamlHostOnce.Do(func() {
		dir := runExampleTool(t, "yaml")
		if fi, err := os.Stat(filepath.Join(dir, "pulumi-language-yaml")); err != nil || fi.Mode()&0o111 == 0 {
			t.Fatalf("scripts/example-tools.sh yaml left no executable pulumi-language-yaml in %s", dir)
		}
		yamlHostDir = dir
	})
	if yamlHostDir == "" {
		t.Fatal("pulumi-language-yaml is not available (its build failed in an earlier test)")
	}
	return yamlHostDir
}

// yamlStack is a copy of examples/yaml in a temporary directory with its own backend and a stack
// whose configuration points at the offline inputs and renders into the temporary directory.
type yamlStack struct {
	t         *testing.T
	host      string
	renderDir string
	stack     auto.Stack
}

func newYAMLStack(t *testing.T, environment string) *yamlStack {
	t.Helper()
	host := yamlHost(t)
	dir := t.TempDir()
	setEngineEnv(t, dir, host)
	project := filepath.Join(dir, "project")
	if err := os.MkdirAll(project, 0o755); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "yaml", "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(project, "Pulumi.yaml"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stack, err := auto.UpsertStackLocalSource(ctx, "dev", project)
	if err != nil {
		t.Fatalf("create stack: %v", err)
	}
	s := &yamlStack{t: t, host: host, renderDir: filepath.Join(dir, "rendered"), stack: stack}
	chartDir, crds := devInputs()
	cfg := auto.ConfigMap{
		"renderDir":      {Value: s.renderDir},
		"chartDir":       {Value: chartDir},
		"gatewayAPICRDs": {Value: crds},
	}
	if environment != "" {
		cfg["environment"] = auto.ConfigValue{Value: environment}
	}
	if err := stack.SetAllConfig(ctx, cfg); err != nil {
		t.Fatalf("set config: %v", err)
	}
	return s
}

func (s *yamlStack) preview(opts ...optpreview.Option) (auto.PreviewResult, error) {
	defer timed(s.t, "pulumi preview")()
	return s.stack.Preview(context.Background(), append(opts, optpreview.ErrorProgressStreams(os.Stderr))...)
}

func (s *yamlStack) up(opts ...optup.Option) (auto.UpResult, error) {
	defer timed(s.t, "pulumi up")()
	return s.stack.Up(context.Background(), append(opts, optup.ErrorProgressStreams(os.Stderr))...)
}

// checkUsedPinnedHost: the engine ran the program with the pinned language host, not another
// pulumi-language-yaml found elsewhere.
func (s *yamlStack) checkUsedPinnedHost(output string) {
	s.t.Helper()
	want := "using pulumi-language-yaml from $PATH at " + filepath.Join(s.host, "pulumi-language-yaml")
	if !strings.Contains(output, want) {
		s.t.Errorf("the engine did not report %q; its output:\n%s", want, output)
	}
}
