package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLivenessWithAndWithoutProc starts a real child the way Start does and checks that ours
// follows it from running to exited, as the program that started it and as another program
// would see it, both with /proc readable and as in a sandbox whose /proc belongs to another PID
// namespace (where the CI run of stop 19 saw every process as exited). Makefile's test-cluster
// runs it once more inside `unshare --pid` without a new /proc.
func TestLivenessWithAndWithoutProc(t *testing.T) {
	tail, err := exec.LookPath("tail")
	if err != nil {
		t.Fatal("tail is needed: ", err)
	}
	for _, procUsable := range []bool{true, false} {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o700); err != nil {
			t.Fatal(err)
		}
		saved := procIsOurs
		procIsOurs = func() bool { return procUsable && saved() }
		// A long-running child with the directory in its command line, as the cluster's are.
		follow := filepath.Join(dir, "logs", "follow")
		if err := os.WriteFile(follow, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		pid, err := startProcess(dir, "tail", tail, []string{"-f", follow})
		if err != nil {
			procIsOurs = saved
			t.Fatal(err)
		}
		if !ours(dir, "tail", pid) {
			t.Errorf("/proc usable=%v: a running child is reported exited", procUsable)
		}
		if ours(t.TempDir(), "tail", pid) {
			t.Errorf("a process of another cluster directory is reported ours")
		}
		// Seen from another program (cluster status or stop), which did not start it. Wait
		// until the child's exec has finished (its cmdline is set), as it has by the time
		// another program looks.
		for i := 0; i < 100 && procIsOurs(); i++ {
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); len(b) > 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		children.Delete(pid)
		if !ours(dir, "tail", pid) {
			t.Errorf("/proc usable=%v: a running process another program started is reported exited", procUsable)
		}
		if procIsOurs() && ours(t.TempDir(), "tail", pid) {
			t.Errorf("a process another program started for another cluster directory is reported ours")
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
		deadline := time.Now().Add(5 * time.Second)
		for ours(dir, "tail", pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if ours(dir, "tail", pid) {
			t.Errorf("/proc usable=%v: a killed child is still reported running", procUsable)
		}
		procIsOurs = saved
	}
}
