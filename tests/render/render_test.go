// Package render_test runs `cmd/render` the way `make render` does, on the committed stacks,
// and checks what the dev environment promises: one backend per upstream TLS mode, rendered as
// the objects Envoy Gateway needs.
package render_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/upstream-tls/upstream-tls/components/upstreamtls"
	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

var renderBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "render-test")
	if err != nil {
		panic(err)
	}
	renderBin = filepath.Join(dir, "render")
	build := exec.Command("go", "build", "-o", renderBin, "./cmd/render")
	build.Dir = repoRoot()
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		panic("build cmd/render: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func repoRoot() string { return testutil.MustRepoRoot() }

// render runs the renderer on a stack config file and returns its output directory, combined
// output and error.
func render(t *testing.T, config string) (string, string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(renderBin, "-config", config, "-out", out)
	cmd.Dir = repoRoot()
	b, err := cmd.CombinedOutput()
	return out, string(b), err
}

func load(t *testing.T, dir, file string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatalf("expected rendered file: %v", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return m
}

// get walks a path of map keys and list indexes.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not an object: %v", k, v)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at [%d]: not a list of that length: %v", k, v)
			}
			v = a[k]
		}
	}
	return v
}

func TestDevStack(t *testing.T) {
	dir, out, err := render(t, "Pulumi.dev.yaml")
	if err != nil {
		t.Fatalf("render failed: %v\n%s", err, out)
	}

	gc := load(t, dir, "gatewayclass-envoy-gateway.yaml")
	if got := get(t, gc, "spec", "controllerName"); got != "gateway.envoyproxy.io/gatewayclass-controller" {
		t.Errorf("GatewayClass controllerName = %v", got)
	}

	system := load(t, dir, "backendtlspolicy-apps-public-api-https.yaml")
	if get(t, system, "apiVersion") != "gateway.networking.k8s.io/v1" || get(t, system, "spec", "validation", "wellKnownCACertificates") != "System" {
		t.Errorf("system policy wrong: %v", system)
	}

	ca := load(t, dir, "backendtlspolicy-apps-internal-api-https.yaml")
	ref := get(t, ca, "spec", "validation", "caCertificateRefs", 0).(map[string]any)
	if ref["kind"] != "ConfigMap" || ref["group"] != "" {
		t.Errorf("CA ref = %v, want a core ConfigMap", ref)
	}
	cm := load(t, dir, "configmap-"+get(t, ca, "metadata", "namespace").(string)+"-"+ref["name"].(string)+".yaml")
	caData, _ := get(t, cm, "data", "ca.crt").(string)
	if caData == "" {
		t.Errorf("CA ConfigMap %s has no ca.crt", ref["name"])
	}
	if !strings.HasPrefix(caData, "<<computed:certificate/") {
		t.Errorf("generated CA should be a marked placeholder in the engine-free render, got %q", caData)
	}

	backend := load(t, dir, "backend-legacy-legacy-app.yaml")
	if get(t, backend, "apiVersion") != "gateway.envoyproxy.io/v1alpha1" || get(t, backend, "spec", "tls", "insecureSkipVerify") != true {
		t.Errorf("insecure Backend wrong: %v", backend)
	}
	route := load(t, dir, "httproute-gateway-legacy-app.yaml")
	bref := get(t, route, "spec", "rules", 0, "backendRefs", 0).(map[string]any)
	if bref["group"] != "gateway.envoyproxy.io" || bref["kind"] != "Backend" || bref["name"] != "legacy-app" {
		t.Errorf("legacy route backendRef = %v, want the Envoy Gateway Backend", bref)
	}

	install := load(t, dir, "install.yaml")
	if get(t, install, "enableBackend") != true {
		t.Error("install.yaml: enableBackend is not true")
	}
	values := get(t, install, "helmReleases", 1, "values")
	if get(t, values, "config", "envoyGateway", "extensionApis", "enableBackend") != true {
		t.Errorf("gateway-helm values do not enable the Backend API: %v", values)
	}

	for _, want := range []string{"public-api", "system", "internal-api", "ca", "legacy-app", "insecure"} {
		if !strings.Contains(out, want) {
			t.Errorf("render output lacks the posture entry %q:\n%s", want, out)
		}
	}
}

// TestDevStackInProductionFails: the same config with environment production is refused
// because of the insecure backend, and nothing is written.
func TestDevStackInProductionFails(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "Pulumi.dev-render.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	prod := strings.Replace(string(raw), "upstream-tls:environment: dev", "upstream-tls:environment: production", 1)
	if prod == string(raw) {
		t.Fatal("Pulumi.dev-render.yaml no longer sets upstream-tls:environment: dev")
	}
	cfg := filepath.Join(t.TempDir(), "Pulumi.prod.yaml")
	if err := os.WriteFile(cfg, []byte(prod), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, out, err := render(t, cfg)
	if err == nil {
		t.Fatalf("render of the production copy succeeded:\n%s", out)
	}
	for _, want := range []string{"backends[2].tls.mode", "legacy-app", "insecure", "production", "allowInsecureBackends"} {
		if !strings.Contains(out, want) {
			t.Errorf("error output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("render wrote %s despite the error", dir)
	}
}

// TestEveryStackRenders: every committed Pulumi.<stack>.yaml renders.
func TestEveryStackRenders(t *testing.T) {
	stacks, _ := filepath.Glob(filepath.Join(repoRoot(), "Pulumi.*.yaml"))
	if len(stacks) == 0 {
		t.Fatal("no stack files")
	}
	for _, s := range stacks {
		t.Run(filepath.Base(s), func(t *testing.T) {
			if _, out, err := render(t, s); err != nil {
				t.Errorf("render failed: %v\n%s", err, out)
			}
		})
	}
}

// TestTypoIsRefused: an unknown field in a stack's config is an error naming its path and the
// field it was probably meant to be.
func TestTypoIsRefused(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "Pulumi.typo.yaml")
	if err := os.WriteFile(cfg, []byte("config:\n  upstream-tls:backends:\n    - name: a\n      tls: {mdoe: ca}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, err := render(t, cfg)
	if err == nil || !strings.Contains(out, "backends[0].tls.mdoe: unknown field") || !strings.Contains(out, `did you mean "mode"`) {
		t.Errorf("typo not reported with its key: err=%v\n%s", err, out)
	}
}

// TestDevStacksAgree: Pulumi.dev.yaml (deployed into the local cluster) and
// Pulumi.dev-render.yaml (rendered into out/dev) are one environment: the same component
// arguments, differing only in where they go. The engine tests render the one and deploy the
// other's equivalent, so a drift between them would leave one untested.
func TestDevStacksAgree(t *testing.T) {
	dev, err := config.FromFile(filepath.Join(repoRoot(), "Pulumi.dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := config.FromFile(filepath.Join(repoRoot(), "Pulumi.dev-render.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dev.Args, rendered.Args) {
		t.Errorf("the two dev stacks configure different environments:\n%s", cmp.Diff(dev.Args, rendered.Args))
	}
	if dev.Kubeconfig != ".state/cluster/kubeconfig" || !dev.NodelessCluster || dev.RenderDir != "" {
		t.Errorf("Pulumi.dev.yaml must deploy to the local cluster (kubeconfig .state/cluster/kubeconfig, nodelessCluster): %+v", dev)
	}
	if rendered.RenderDir != "out/dev" || rendered.Kubeconfig != "" || rendered.NodelessCluster {
		t.Errorf("Pulumi.dev-render.yaml must render into out/dev and deploy nowhere: %+v", rendered)
	}
}

// TestNodelessClusterRefusedInProduction: the local cluster's readiness shortcut is refused in
// production, naming the key, before anything is planned.
func TestNodelessClusterRefusedInProduction(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "Pulumi.dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	prod := strings.Replace(string(raw), "upstream-tls:environment: dev", "upstream-tls:environment: production", 1)
	cfg := filepath.Join(t.TempDir(), "Pulumi.prod.yaml")
	if err := os.WriteFile(cfg, []byte(prod), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, err := render(t, cfg)
	if err == nil || !strings.Contains(out, "nodelessCluster") || !strings.Contains(out, "fix:") {
		t.Errorf("nodelessCluster in production is not refused with a fix (err %v):\n%s", err, out)
	}
}

// TestPreflightRefusedWithRenderDir: preflight reads name a cluster, which a render has not;
// the two keys together are refused naming the key and the fix.
func TestPreflightRefusedWithRenderDir(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "Pulumi.dev-render.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "Pulumi.both.yaml")
	both := strings.Replace(string(raw), "config:\n", "config:\n  upstream-tls:preflight:\n    kubeconfig: .state/cluster/kubeconfig\n", 1)
	if both == string(raw) {
		t.Fatal("the render stack has no config: section to edit")
	}
	if err := os.WriteFile(cfg, []byte(both), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, err := render(t, cfg)
	if err == nil || !strings.Contains(out, "preflight.kubeconfig: is set together with renderDir") || !strings.Contains(out, "fix:") {
		t.Errorf("preflight with renderDir is not refused with a fix (err %v):\n%s", err, out)
	}
}

// TestPreviewWorkflowExample: the example CI workflow (examples/ci/preview.yml) is valid YAML
// with a pull_request trigger, runs `pulumi preview --diff` with the read-only kubeconfig, and
// looks for the component's posture-change messages by the prefix the component writes.
func TestPreviewWorkflowExample(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "ci", "preview.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On   map[string]any `json:"on"`
		True map[string]any `json:"true"` // YAML 1.1 readers (this one) take the key on as true
		Jobs map[string]struct {
			Steps []struct {
				Name string `json:"name"`
				Run  string `json:"run"`
			} `json:"steps"`
		} `json:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatalf("preview.yml: %v", err)
	}
	_, on := wf.On["pull_request"]
	_, onTrue := wf.True["pull_request"]
	if !on && !onTrue {
		t.Errorf("preview.yml is not triggered by pull requests: %v %v", wf.On, wf.True)
	}
	var runs strings.Builder
	for _, j := range wf.Jobs {
		for _, s := range j.Steps {
			runs.WriteString(s.Run + "\n")
		}
	}
	for _, want := range []string{"pulumi preview --stack", "--diff", "KUBECONFIG=", "grep -q '" + strings.TrimSpace(upstreamtls.PostureChangePrefix) + "'"} {
		if !strings.Contains(runs.String(), want) {
			t.Errorf("preview.yml's steps lack %q", want)
		}
	}
	rbac, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "ci", "preview-rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(rbac), `"create"`) || strings.Contains(string(rbac), `"patch"`) || strings.Contains(string(rbac), `"*"`) {
		t.Errorf("preview-rbac.yaml grants more than reads")
	}
}
