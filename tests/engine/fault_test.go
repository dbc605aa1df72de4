package engine_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKilledUpRecoversWithUnlock: `make up` killed with SIGKILL, the whole process tree at
// once (the pulumi CLI, its plugins and the program), in the middle of a first deploy (render
// mode), leaves the stack locked. The next run refuses, saying the holder no longer runs and
// naming `make unlock`; no plugin process outlives the killed run; `make unlock` (cmd/up
// -unlock) removes the lock, one up converges to exactly the planned objects, and a further
// preview and up change nothing. Then the state file, truncated, is refused naming it and the
// engine's .bak, left as it was, and restored by the documented copy with nothing to change.
func TestKilledUpRecoversWithUnlock(t *testing.T) {
	w := newWorkspace(t)
	up := func(args ...string) *exec.Cmd {
		cmd := exec.Command("upstream-tls-up", append([]string{"-stack", stack, "-dir", w.dir, "-root", repoRoot()}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return cmd
	}
	// Orphans of the killed run are reparented to this test (a child subreaper), which reaps
	// them: where /proc shows another PID namespace (CI's sandbox) a zombie that nobody reaps
	// would answer signal 0 like a live lock holder.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Logf("PR_SET_CHILD_SUBREAPER: %v", errno)
	}
	cmd := up()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	// Kill once the engine holds the lock and has registered some of the stack.
	locks := filepath.Join(w.dir, "state", ".pulumi", "locks", "organization", "upstream-tls", stack)
	checkpoint := filepath.Join(w.dir, "state", ".pulumi", "stacks", "upstream-tls", stack+".json")
	deadline := time.Now().Add(3 * time.Minute)
	for {
		held, _ := filepath.Glob(filepath.Join(locks, "*.json"))
		b, _ := os.ReadFile(checkpoint)
		if len(held) > 0 && strings.Count(string(b), `"urn"`) >= 20 {
			break
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			t.Fatalf("the up never got 20 resources into its checkpoint:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	reapOrphans()
	// Nothing of the killed run survives (plugins included): no process of its group runs
	// (zombies, waiting for init to reap them, run nothing).
	var left []string
	if self, _ := os.Readlink("/proc/self"); self != strconv.Itoa(os.Getpid()) {
		t.Log("/proc shows another PID namespace here (as in CI's sandbox): the leftover-process check needs it and is not made")
	}
	for i := 0; i < 50; i++ {
		if left = groupMembers(pgid); len(left) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("processes of the killed run still run: %q", left)
	}

	// The next run refuses, naming the dead holder and the fix.
	again := up()
	b, err := again.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "is locked by a run that no longer runs") || !strings.Contains(string(b), "fix: make unlock STACK="+stack) {
		t.Fatalf("an up after the killed one: %v\n%s", err, b)
	}
	t.Logf("the refusal:\n%s", b)
	if b, err := up("-unlock").CombinedOutput(); err != nil || !strings.Contains(string(b), "removed the lock of pid") {
		t.Fatalf("unlock: %v\n%s", err, b)
	}

	// One up converges; nothing further changes.
	if res, err := w.up(); err != nil {
		t.Fatalf("up after unlock: %v\n%s", err, res.StdErr)
	}
	w.checkRenderedEqualsPlan(w.plan(), w.rendered())
	w.expectNoChanges()

	// A damaged state (truncated, as by a full disk) is refused naming the file and the
	// engine's .bak; the documented fix restores it and the stack is unchanged.
	raw, err := os.ReadFile(checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(checkpoint, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	b, err = up("-preview").CombinedOutput()
	if err == nil || !strings.Contains(string(b), "the state of stack "+stack+" is damaged: "+checkpoint) || !strings.Contains(string(b), "cp "+checkpoint+".bak "+checkpoint) {
		t.Fatalf("a preview on a truncated state: %v\n%s", err, b)
	}
	if after, _ := os.ReadFile(checkpoint); len(after) != len(raw)/2 {
		t.Errorf("the refused run rewrote the damaged state (%d bytes, was %d)", len(after), len(raw)/2)
	}
	bak, err := os.ReadFile(checkpoint + ".bak")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(checkpoint, bak, 0o644); err != nil {
		t.Fatal(err)
	}
	w.expectNoChanges()
}

// groupMembers lists the processes of process group pgid that are not zombies, from /proc.
func groupMembers(pgid int) []string {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []string
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[2] != strconv.Itoa(pgid) {
			continue
		}
		out = append(out, string(b[:i+1]))
	}
	return out
}

// prSetChildSubreaper is prctl's PR_SET_CHILD_SUBREAPER.
const prSetChildSubreaper = 36

// reapOrphans waits (for up to 5 s) for the processes reparented to this test to exit, and
// reaps them.
func reapOrphans() {
	for i := 0; i < 50; i++ {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		switch {
		case pid > 0:
			continue
		case err == syscall.ECHILD:
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
