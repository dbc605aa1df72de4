package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLivenessWithAndWithoutProc starts a real child the way Start does and checks that ours
// follows it from running to exited, both with /proc readable and as in a sandbox whose /proc
// belongs to another PID namespace (where the CI run of stop 19 saw every process as exited).
func TestLivenessWithAndWithoutProc(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary on this host")
	}
	for _, procUsable := range []bool{true, false} {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o700); err != nil {
			t.Fatal(err)
		}
		saved := procIsOurs
		procIsOurs = func() bool { return procUsable && saved() }
		// The directory is an argument so that the /proc check finds it in the command line.
		pid, err := startProcess(dir, sleep, []string{"30", dir})
		if err != nil {
			procIsOurs = saved
			t.Fatal(err)
		}
		if !ours(dir, "sleep", pid) {
			t.Errorf("/proc usable=%v: a running child is reported exited", procUsable)
		}
		if procIsOurs() && ours(t.TempDir(), "sleep", pid) {
			t.Errorf("a process of another cluster directory is reported ours")
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
		deadline := time.Now().Add(5 * time.Second)
		for ours(dir, "sleep", pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if ours(dir, "sleep", pid) {
			t.Errorf("/proc usable=%v: a killed child is still reported running", procUsable)
		}
		procIsOurs = saved
	}
}
