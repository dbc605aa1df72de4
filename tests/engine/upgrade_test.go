package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/upstream-tls/upstream-tls/infra/program"
	"github.com/upstream-tls/upstream-tls/internal/config"
)

// upgradeFrom is the earlier version the upgrade test starts from: the last commit before the
// redesign of issue 10 (packages moved to internal/, CRD ownership planned, generated CRD types
// dropped).
const upgradeFrom = "012776a"

// addedSinceUpgradeFrom are the resources this version adds to a stack upgradeFrom created, by
// URN suffix (type and name), each with the reason. Nothing else may be created.
var addedSinceUpgradeFrom = map[string]string{
	// The Envoy Gateway control plane's certificates: the chart's certgen hook, which creates
	// them on a Helm install, never runs under Pulumi, so the controller pod could not start.
	"upstream-tls:index:CertificateBundle::envoy-gateway-control-plane":    "control plane certificate",
	"upstream-tls:index:CertificateBundle::envoy-gateway-proxy":            "proxy xDS client certificate",
	"kubernetes:core/v1:Secret::secret-envoy-gateway-system-envoy-gateway": "Secret the controller mounts at /certs",
	"kubernetes:core/v1:Secret::secret-envoy-gateway-system-envoy":         "Secret the proxies mount for xDS",
}

// verdictAnnotations are the annotations this version adds to the objects whose controller
// verdict `pulumi up` waits for (the routes): an upgrade may update
// those objects in place, in these annotations only.
var verdictAnnotations = []string{"pulumi.com/waitFor", "pulumi.com/timeoutSeconds"}

// onlyVerdictAnnotations reports whether every changed property of an update is one of
// verdictAnnotations (or the annotations map that newly holds them).
func onlyVerdictAnnotations(m apitype.StepEventMetadata) bool {
	// The engine's detailed diff names each changed property; without one nothing is known.
	if len(m.DetailedDiff) == 0 {
		return false
	}
	for k := range m.DetailedDiff {
		ok := false
		for _, a := range verdictAnnotations {
			ok = ok || strings.Contains(k, a)
		}
		// "metadata.annotations" is the whole map, added to an object that had none: then the
		// new map must hold the verdict annotations and nothing else.
		if k == "metadata.annotations" && m.New != nil {
			meta, _ := m.New.Inputs["metadata"].(map[string]any)
			ann, _ := meta["annotations"].(map[string]any)
			ok = len(ann) > 0
			for name := range ann {
				ok = ok && slices.Contains(verdictAnnotations, name)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// added reports whether urn names one of addedSinceUpgradeFrom.
func added(urn string) bool {
	for suffix := range addedSinceUpgradeFrom {
		if strings.HasSuffix(urn, "$"+suffix) || strings.HasSuffix(urn, "::"+suffix) {
			return true
		}
	}
	return false
}

// TestUpgradeFromEarlierVersion: the dev stack as upgradeFrom created it (recorded once per
// machine by scripts/record-upgrade-fixture.sh, which runs that commit's own code) is upgraded
// with this code: the preview plans no replace and no delete, and creates only what
// addedSinceUpgradeFrom lists; the update changes no Kubernetes object (only component
// outputs) besides creating those and adding verdictAnnotations in place; every CRD is then
// retained on delete in the state; and a further preview shows no changes at all.
func TestUpgradeFromEarlierVersion(t *testing.T) {
	cache := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "UPSTREAM_TLS_CACHE="); ok {
			cache = v
		}
	}
	if cache == "" {
		t.Fatal("scripts/pulumi-env.sh exported no UPSTREAM_TLS_CACHE")
	}
	fixture := filepath.Join(cache, "upgrade", upgradeFrom)
	cmd := exec.Command("bash", "-o", "pipefail", filepath.Join(repoRoot(), "scripts", "record-upgrade-fixture.sh"), upgradeFrom, fixture)
	cmd.Dir = repoRoot()
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("record the %s fixture: %v", upgradeFrom, err)
	}
	dir := t.TempDir()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("PULUMI_BACKEND_URL", "file://"+filepath.Join(dir, "state"))
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "upgrade-test")
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	project, err := os.ReadFile(filepath.Join(repoRoot(), "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	project = regexp.MustCompile(`(?m)^main:.*\n?`).ReplaceAll(project, nil)
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), project, 0o644); err != nil {
		t.Fatal(err)
	}
	render := filepath.Join(dir, "rendered")
	substitute := func(name string) []byte {
		raw, err := os.ReadFile(filepath.Join(fixture, name))
		if err != nil {
			t.Fatal(err)
		}
		return []byte(strings.ReplaceAll(string(raw), "@RENDER@", render))
	}
	stackFile := filepath.Join(dir, "Pulumi.upgrade.yaml")
	if err := os.WriteFile(stackFile, substitute("Pulumi.upgrade.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	prog := program.New(program.Options{Root: repoRoot(), StackFile: stackFile})
	stack, err := auto.UpsertStackInlineSource(ctx, "upgrade", config.Namespace, prog, auto.WorkDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var export apitype.UntypedDeployment
	if err := json.Unmarshal(substitute("state.json"), &export); err != nil {
		t.Fatal(err)
	}
	if err := stack.Import(ctx, export); err != nil {
		t.Fatalf("import the %s state: %v", upgradeFrom, err)
	}

	// 1. The preview of the upgrade: nothing replaced or deleted; created only what this
	// version adds.
	var created []string
	pch := make(chan events.EngineEvent)
	pdone := make(chan struct{})
	go func() {
		defer close(pdone)
		for ev := range pch {
			if ev.ResourcePreEvent != nil && ev.ResourcePreEvent.Metadata.Op == apitype.OpCreate {
				created = append(created, ev.ResourcePreEvent.Metadata.URN)
			}
		}
	}()
	pre, err := stack.Preview(ctx, optpreview.EventStreams(pch))
	<-pdone
	if err != nil {
		t.Fatalf("preview of the upgrade: %v\n%s", err, pre.StdErr)
	}
	t.Logf("upgrade preview: %v", pre.ChangeSummary)
	for op, n := range pre.ChangeSummary {
		switch op {
		case apitype.OpSame, apitype.OpUpdate, apitype.OpCreate:
		default:
			if n > 0 {
				t.Errorf("the upgrade preview plans %d %s\n%s", n, op, pre.StdOut)
			}
		}
	}
	for _, urn := range created {
		if !added(urn) {
			t.Errorf("the upgrade preview creates %s, which addedSinceUpgradeFrom does not list", urn)
		}
	}
	if len(created) != len(addedSinceUpgradeFrom) {
		t.Errorf("the upgrade preview creates %d resources, want the %d of addedSinceUpgradeFrom: %v", len(created), len(addedSinceUpgradeFrom), created)
	}

	// 2. The update changes no Kubernetes object: only component outputs may be updated.
	var mu sync.Mutex
	var touched []string
	ch := make(chan events.EngineEvent)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			if ev.ResourcePreEvent == nil {
				continue
			}
			m := ev.ResourcePreEvent.Metadata
			if m.Op == apitype.OpCreate && added(m.URN) {
				continue
			}
			if m.Op == apitype.OpUpdate && onlyVerdictAnnotations(m) {
				t.Logf("updated in place, verdict annotations only: %s %v", m.URN, keysOf(m.DetailedDiff))
				continue
			}
			if m.Op != apitype.OpSame && strings.HasPrefix(m.Type, "kubernetes:") && m.Type != "pulumi:providers:kubernetes" {
				mu.Lock()
				touched = append(touched, fmt.Sprintf("%s %s (changed: %v %v)", m.Op, m.URN, m.Diffs, keysOf(m.DetailedDiff)))
				mu.Unlock()
			}
		}
	}()
	up, err := stack.Up(ctx, optup.EventStreams(ch))
	<-done
	if err != nil {
		t.Fatalf("up of the upgrade: %v\n%s", err, up.StdErr)
	}
	slices.Sort(touched)
	for _, tch := range touched {
		t.Errorf("the upgrade changed a Kubernetes object: %s", tch)
	}
	t.Logf("upgrade up: %v", *up.Summary.ResourceChanges)

	// 3. The upgraded state holds every CRD retained on delete (the engine records the option
	// on an unchanged resource), so that a later version may stop registering them without
	// deleting them from the cluster.
	dep, err := stack.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Resources []struct {
			URN            string `json:"urn"`
			Type           string `json:"type"`
			RetainOnDelete bool   `json:"retainOnDelete"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(dep.Deployment, &state); err != nil {
		t.Fatal(err)
	}
	crds := 0
	for _, r := range state.Resources {
		if r.Type != "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition" {
			continue
		}
		crds++
		if !r.RetainOnDelete {
			t.Errorf("after the upgrade, %s is not retained on delete", r.URN)
		}
	}
	if crds == 0 {
		t.Errorf("the upgraded state holds no CRD")
	}
	t.Logf("after the upgrade: %d CRDs in the state", crds)

	// 4. Nothing left to change.
	if res, err := stack.Preview(ctx, optpreview.ExpectNoChanges()); err != nil {
		t.Errorf("preview after the upgrade shows changes: %v\n%s", err, res.StdOut)
	}
}

func keysOf(m map[string]apitype.PropertyDiff) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
