// Package engine_test runs the real Pulumi engine on the dev configuration in a temporary stack
// and backend: the pinned pulumi CLI and Kubernetes provider plugin (render mode), built by
// scripts/tools.sh, and the upstream-tls provider plugin, driven through the Automation API
// with the stack program (infra/program) served in-process, exactly as `make up` runs it.
package engine_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"sigs.k8s.io/yaml"

	"github.com/upstream-tls/upstream-tls/infra/program"
	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/render"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

const stack = "enginetest"

var privateKeyPEM = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)

// env is the environment scripts/pulumi-env.sh sets up (tools built on first use).
var env []string

func repoRoot() string { return testutil.MustRepoRoot() }

func TestMain(m *testing.M) {
	var err error
	if env, err = testutil.PulumiEnv(repoRoot()); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// workspace is one temporary backend and stack.
type workspace struct {
	t      *testing.T
	dir    string
	config string
	stack  auto.Stack
	env    []string // added to the environment of cmd/up runs (start)
}

func newWorkspace(t *testing.T) *workspace {
	return newWorkspaceFrom(t, "Pulumi.dev-render.yaml", "out/dev", nil)
}

// newWorkspaceFrom creates a temporary stack from a committed stack file whose renderDir is
// renderDir, rendering into the workspace instead; edit rewrites the configuration first.
func newWorkspaceFrom(t *testing.T, stackFile, renderDir string, edit func(string) string) *workspace {
	dir := t.TempDir()
	w := &workspace{t: t, dir: dir, config: filepath.Join(dir, "Pulumi."+stack+".yaml")}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("PULUMI_BACKEND_URL", "file://"+filepath.Join(dir, "state"))
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "engine-test")
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	project, err := os.ReadFile(filepath.Join(repoRoot(), "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The program runs inline, so the workspace copy of the project has no `main` directory.
	project = regexp.MustCompile(`(?m)^main:.*\n?`).ReplaceAll(project, nil)
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644); err != nil {
		t.Fatal(err)
	}
	// The dev configuration, rendering into the temporary directory. The dev stack's
	// encryption salt belongs to the dev passphrase; this stack gets its own.
	raw, err := os.ReadFile(filepath.Join(repoRoot(), stackFile))
	if err != nil {
		t.Fatal(err)
	}
	raw = regexp.MustCompile(`(?m)^encryptionsalt:.*\n?`).ReplaceAll(raw, nil)
	cfg := strings.Replace(string(raw), "upstream-tls:renderDir: "+renderDir, "upstream-tls:renderDir: "+filepath.Join(dir, "rendered"), 1)
	if cfg == string(raw) {
		t.Fatalf("%s no longer sets upstream-tls:renderDir: %s", stackFile, renderDir)
	}
	if edit != nil {
		cfg = edit(cfg)
	}
	w.writeConfig(cfg)
	prog := program.New(program.Options{Root: repoRoot(), StackFile: w.config})
	w.stack, err = auto.UpsertStackInlineSource(context.Background(), stack, config.Namespace, prog, auto.WorkDir(dir))
	if err != nil {
		t.Fatalf("create stack: %v", err)
	}
	return w
}

func (w *workspace) writeConfig(cfg string) {
	if err := os.WriteFile(w.config, []byte(cfg), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func (w *workspace) up(opts ...optup.Option) (auto.UpResult, error) {
	start := time.Now()
	defer func() { w.t.Logf("pulumi up: %s", time.Since(start).Round(time.Second)) }()
	return w.stack.Up(context.Background(), opts...)
}

func (w *workspace) preview(opts ...optpreview.Option) (auto.PreviewResult, error) {
	start := time.Now()
	defer func() { w.t.Logf("pulumi preview: %s", time.Since(start).Round(time.Second)) }()
	return w.stack.Preview(context.Background(), opts...)
}

// rendered reads every YAML the Kubernetes provider wrote, keyed by manifest.FileName style
// `<kind>-<namespace>-<name>`.
func (w *workspace) rendered() map[string]map[string]any {
	w.t.Helper()
	objs := map[string]map[string]any{}
	err := filepath.Walk(filepath.Join(w.dir, "rendered"), func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, doc := range strings.Split(string(raw), "\n---\n") {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil || m == nil {
				continue
			}
			md, _ := m["metadata"].(map[string]any)
			key := strings.ToLower(m["kind"].(string))
			if ns, _ := md["namespace"].(string); ns != "" {
				key += "-" + ns
			}
			key += "-" + md["name"].(string)
			objs[key] = m
		}
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return objs
}

func (w *workspace) plan() *plan.Plan {
	st, err := config.FromFile(w.config)
	if err != nil {
		w.t.Fatal(err)
	}
	p, err := plan.Build(st.Args)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func TestEngineLifecycle(t *testing.T) {
	w := newWorkspace(t)

	res, err := w.up()
	if err != nil {
		t.Fatalf("pulumi up failed: %v\n%s", err, res.StdErr)
	}
	// Render mode observes nothing, and says so: no controller verdict is claimed.
	if obs, _ := res.Outputs["observedPosture"].Value.(string); strings.Count(obs, "unobserved") != 3 || strings.Contains(obs, "accepted") {
		t.Errorf("observed posture in render mode claims an observation:\n%s", obs)
	}

	// 1. What the engine rendered equals what `make render` plans.
	p := w.plan()
	got := w.rendered()
	w.checkRenderedEqualsPlan(p, got)

	// 2. The generated CA verifies the serving certificate for the policy hostname.
	cm := got["configmap-apps-internal-api-ca"]
	secret := got["secret-apps-internal-api-tls"]
	if cm == nil || secret == nil {
		t.Fatalf("CA ConfigMap or serving Secret missing from the rendering: %v", keys(got))
	}
	caPEM := cm["data"].(map[string]any)["ca.crt"].(string)
	certPEM := secretValue(t, secret, "tls.crt")
	if err := pki.Verify(caPEM, certPEM, p.Envoy.Backends[1].Hostname, time.Now()); err != nil {
		t.Errorf("ca.crt does not verify the backend's serving certificate: %v", err)
	}

	// 3. A second run changes nothing.
	w.expectNoChanges()

	// 4. No private key in plain text in the state.
	state := w.stateBytes()
	// (Match the PEM header: CRD descriptions in the state mention "PRIVATE KEY" in prose.)
	if privateKeyPEM.Match(state) {
		t.Error("the state holds a private key in plain text")
	}
	if !bytes.Contains(state, []byte("ciphertext")) {
		t.Error("the state holds no encrypted secret at all")
	}

	// 5. Bad config: preview fails with the same message as make render, state untouched.
	raw, _ := os.ReadFile(w.config)
	w.writeConfig(strings.Replace(string(raw), "upstream-tls:environment: dev", "upstream-tls:environment: production", 1))
	_, err = w.preview()
	if err == nil {
		t.Fatal("preview of an insecure backend in production succeeded")
	}
	out := err.Error()
	for _, want := range []string{"backends[2].tls.mode", "refused in a production environment", "allowInsecureBackends"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview error lacks %q:\n%s", want, out)
		}
	}
	if !bytes.Equal(w.stateBytes(), state) {
		t.Error("a failed preview changed the state")
	}
	w.writeConfig(string(raw))

	// 6. Destroy leaves nothing.
	w.destroyLeavesNothing()
}

// checkRenderedEqualsPlan: every planned object was rendered by the engine with the planned
// fields, computed placeholders filled with PEM.
func (w *workspace) checkRenderedEqualsPlan(p *plan.Plan, got map[string]map[string]any) {
	t := w.t
	t.Helper()
	for _, o := range p.AllObjects() {
		key := o.ResourceName()
		r, ok := got[key]
		if !ok {
			t.Errorf("the engine did not render %s", o.Key())
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
					k = "data" // the provider writes stringData as data
				}
				path += "." + k
			}
			computed[path] = true
		}
		// The provider writes a Secret's stringData as base64 data, as the API server stores it.
		if sd, ok := want["stringData"].(map[string]any); ok {
			delete(want, "stringData")
			data := map[string]any{}
			for k := range sd {
				data[k] = secretValue(t, r, k)
			}
			r = mergeData(r, data)
			want["data"] = sd
		}
		var problems []string
		testutil.MatchPlanned(want, r, key, computed, &problems)
		for _, pr := range problems {
			t.Errorf("engine and render differ: %s", pr)
		}
	}
}

// expectNoChanges: a preview and a second up change nothing.
func (w *workspace) expectNoChanges() {
	t := w.t
	t.Helper()
	if res, err := w.preview(optpreview.ExpectNoChanges()); err != nil {
		t.Errorf("preview after up shows changes: %v\n%s", err, res.StdOut)
	}
	if res, err := w.up(optup.ExpectNoChanges()); err != nil {
		t.Errorf("second up changed something: %v\n%s", err, res.StdOut)
	} else {
		for op, n := range *res.Summary.ResourceChanges {
			if op != "same" && n > 0 {
				t.Errorf("second up: %d resources %s", n, op)
			}
		}
	}
}

// destroyLeavesNothing destroys the stack and checks that its state holds no resource.
func (w *workspace) destroyLeavesNothing() {
	t := w.t
	t.Helper()
	if res, err := w.stack.Destroy(context.Background()); err != nil {
		t.Fatalf("destroy failed: %v\n%s", err, res.StdErr)
	}
	dep, err := w.stack.Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var export struct {
		Deployment struct {
			Resources []struct {
				Type string `json:"type"`
			} `json:"resources"`
		} `json:"deployment"`
	}
	if err := json.Unmarshal(dep.Deployment, &export.Deployment); err != nil {
		t.Fatalf("stack export: %v", err)
	}
	if n := len(export.Deployment.Resources); n != 0 {
		t.Errorf("%d resources left after destroy", n)
	}
}

// mergeData returns a copy of obj whose data holds the given decoded values.
func mergeData(obj map[string]any, data map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range obj {
		out[k] = v
	}
	out["data"] = data
	return out
}

func (w *workspace) stateBytes() []byte {
	var all []byte
	_ = filepath.Walk(filepath.Join(w.dir, "state"), func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(path, ".json") && !strings.Contains(path, ".bak") && !strings.Contains(path, "history") {
			b, _ := os.ReadFile(path)
			all = append(all, b...)
		}
		return nil
	})
	return all
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

func keys(m map[string]map[string]any) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}
