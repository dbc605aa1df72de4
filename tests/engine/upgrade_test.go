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

// TestUpgradeFromEarlierVersion: the dev stack as upgradeFrom created it (recorded once per
// machine by scripts/record-upgrade-fixture.sh, which runs that commit's own code) is upgraded
// with this code: the preview plans no replace and no delete (and no create), the update
// changes no Kubernetes object (only component outputs), and a further preview shows no
// changes at all.
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

	// 1. The preview of the upgrade: nothing replaced, deleted or created.
	pre, err := stack.Preview(ctx)
	if err != nil {
		t.Fatalf("preview of the upgrade: %v\n%s", err, pre.StdErr)
	}
	t.Logf("upgrade preview: %v", pre.ChangeSummary)
	for op, n := range pre.ChangeSummary {
		switch op {
		case apitype.OpSame, apitype.OpUpdate:
		default:
			if n > 0 {
				t.Errorf("the upgrade preview plans %d %s\n%s", n, op, pre.StdOut)
			}
		}
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
			if m.Op != apitype.OpSame && strings.HasPrefix(m.Type, "kubernetes:") && m.Type != "pulumi:providers:kubernetes" {
				mu.Lock()
				touched = append(touched, fmt.Sprintf("%s %s", m.Op, m.URN))
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

	// 3. Nothing left to change.
	if res, err := stack.Preview(ctx, optpreview.ExpectNoChanges()); err != nil {
		t.Errorf("preview after the upgrade shows changes: %v\n%s", err, res.StdOut)
	}
}
