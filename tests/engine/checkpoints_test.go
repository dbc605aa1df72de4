package engine_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
)

// TestSkippedCheckpointsConverge: in render mode cmd/up has the engine write the state once, at
// the end of a run (engine.CheckpointEnv), not after every resource step. While a first deploy
// renders, the checkpoint holds no resource (the setting is in effect); a first deploy killed
// with SIGKILL of its whole process tree once a seeded number of objects is rendered is
// recovered by the documented steps (make unlock, then make up), which converge to the planned
// objects with a clean state; a preview then changes nothing. (TestInterruptedRunsConverge
// interrupts the checkpointing engine, the default against a cluster.)
func TestSkippedCheckpointsConverge(t *testing.T) {
	becomeSubreaper(t)
	rng := rand.New(rand.NewPCG(faultSeed(t), 99))
	w := newWorkspaceFrom(t, "Pulumi.dev-render.yaml", "out/dev", withoutInstall)
	objects := len(w.plan().AllObjects())
	k := 3 + rng.IntN(max(1, objects-6))

	r := w.start()
	var inCheckpoint int
	if !waitUntil(3*time.Minute, func() bool {
		inCheckpoint = max(inCheckpoint, w.checkpointURNs())
		return renderedFiles(w) >= k || r.exited()
	}) {
		r.kill()
		t.Fatalf("never %d objects rendered:\n%s", k, r.output())
	}
	inCheckpoint = max(inCheckpoint, w.checkpointURNs())
	rendered := renderedFiles(w)
	if !r.interrupt(syscall.SIGKILL) {
		t.Fatalf("the first deploy ended before %d of its %d objects were rendered:\n%s", k, objects, r.output())
	}
	_ = r.wait(time.Minute)
	reapOrphans()
	if left := waitSessionGone(r.sid); len(left) > 0 {
		t.Errorf("processes of the killed run outlived it: %q", left)
	}
	if inCheckpoint > 0 {
		t.Errorf("render mode wrote checkpoints while the first deploy ran (%d resources in one): the engine does not skip them", inCheckpoint)
	}
	t.Logf("killed the first deploy with %d objects rendered and %d resources in the checkpoint", rendered, inCheckpoint)

	if len(w.lockFiles()) > 0 {
		b := w.start().waitOutput(time.Minute)
		if !strings.Contains(b, "is locked by a run that no longer runs") || !strings.Contains(b, "fix: make unlock STACK="+stack) {
			t.Fatalf("an up after the killed one:\n%s", b)
		}
		w.unlock(0)
	}
	c := w.start()
	if err := c.wait(3 * time.Minute); err != nil {
		t.Fatalf("the up after the kill failed: %v\n%s", err, c.output())
	}
	w.checkRenderedEqualsPlan(w.plan(), w.rendered())
	if urns := w.checkStateClean(0); len(urns) == 0 {
		t.Error("the recovered state holds no resource")
	}
	if res, err := w.preview(optpreview.ExpectNoChanges()); err != nil {
		t.Errorf("a preview after the recovery shows changes: %v\n%s", err, res.StdOut)
	}
}

// renderedFiles counts the YAML files the Kubernetes provider has rendered into the workspace.
func renderedFiles(w *workspace) int {
	n := 0
	_ = filepath.Walk(filepath.Join(w.dir, "rendered"), func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(info.Name(), ".yaml") {
			n++
		}
		return nil
	})
	return n
}
