package engine

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeLock writes a lock file as the pulumi CLI does (backend/diy/lock.go).
func writeLock(t *testing.T, backend, stack, id string, pid int, host string) string {
	t.Helper()
	dir := filepath.Join(backend, ".pulumi", "locks", "organization", "upstream-tls", stack)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"pid": pid, "username": "ci", "hostname": host, "timestamp": time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)})
	p := filepath.Join(dir, id+".json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLocks: a lock whose pulumi process is gone is stale and the error names make unlock; a
// lock whose holder runs (a real process named pulumi) is alive and the error says to wait; a
// lock of another host is unknown; a reused PID of another program is not the holder.
func TestLocks(t *testing.T) {
	host, _ := os.Hostname()
	backend := t.TempDir()
	url := "file://" + backend

	// A process that has exited: its PID is free (or reused by something that is not pulumi).
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	writeLock(t, backend, "dev", "a", dead.Process.Pid, host)
	locks, err := Locks(url, "upstream-tls", "dev")
	if err != nil || len(locks) != 1 || locks[0].Holder != HolderGone {
		t.Fatalf("stale lock: %+v, %v", locks, err)
	}
	msg := (&LockedError{Stack: "dev", Locks: locks}).Error()
	for _, want := range []string{"locked by a run that no longer runs", "pid " + itoa(dead.Process.Pid) + " (ci@" + host, "fix: make unlock STACK=dev"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stale lock message lacks %q:\n%s", want, msg)
		}
	}

	// A live pulumi: a real process whose program is named pulumi.
	bin := filepath.Join(t.TempDir(), "pulumi")
	if err := os.Symlink("/bin/sleep", bin); err != nil {
		t.Fatal(err)
	}
	live := exec.Command(bin, "30")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = live.Process.Kill(); _ = live.Wait() }()
	writeLock(t, backend, "staging", "b", live.Process.Pid, host)
	locks, _ = Locks(url, "upstream-tls", "staging")
	if len(locks) != 1 || locks[0].Holder != HolderAlive {
		t.Fatalf("live lock: %+v", locks)
	}
	if msg := (&LockedError{Stack: "staging", Locks: locks}).Error(); !strings.Contains(msg, "which is still running; wait for it to end") || strings.Contains(msg, "fix: make unlock STACK=staging,") {
		t.Errorf("live lock message:\n%s", msg)
	}

	// Another program holding the PID is not the holder: this test's own PID (not pulumi).
	writeLock(t, backend, "reused", "c", os.Getpid(), host)
	if locks, _ = Locks(url, "upstream-tls", "reused"); len(locks) != 1 || locks[0].Holder != HolderGone {
		t.Errorf("a PID reused by another program: %+v", locks)
	}

	// Another host: unknown, never called stale.
	writeLock(t, backend, "remote", "d", 1, "elsewhere.example")
	if locks, _ = Locks(url, "upstream-tls", "remote"); len(locks) != 1 || locks[0].Holder != HolderUnknown {
		t.Errorf("another host's lock: %+v", locks)
	}

	// No lock, and backends without lock files.
	if locks, err := Locks(url, "upstream-tls", "prod"); err != nil || len(locks) != 0 {
		t.Errorf("unlocked stack: %+v, %v", locks, err)
	}
	if locks, err := Locks("https://api.pulumi.com", "upstream-tls", "dev"); err != nil || locks != nil {
		t.Errorf("cloud backend: %+v, %v", locks, err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestDamagedState: a truncated checkpoint is refused naming the file and the engine's readable
// .bak; without a readable .bak, the newest readable copy in backups/; without any, the fix
// says so and never suggests starting over. A readable checkpoint, gzip included, passes.
func TestDamagedState(t *testing.T) {
	backend := t.TempDir()
	url := "file://" + backend
	stacks := filepath.Join(backend, ".pulumi", "stacks", "upstream-tls")
	backups := filepath.Join(backend, ".pulumi", "backups", "upstream-tls", "dev")
	for _, d := range []string{stacks, backups} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	good := `{"version":3,"checkpoint":{"stack":"organization/upstream-tls/dev","latest":{"resources":[]}}}`
	file := filepath.Join(stacks, "dev.json")
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := CheckState(url, "upstream-tls", "dev"); err != nil {
		t.Errorf("no checkpoint yet: %v", err)
	}
	write(file, good)
	if err := CheckState(url, "upstream-tls", "dev"); err != nil {
		t.Errorf("good checkpoint: %v", err)
	}
	// The blob store's metadata file beside it, left empty by a kill while saving: refused,
	// naming make unlock; whole, it passes.
	write(file+AttrsExt, "")
	var se *DamagedSidecarError
	if err := CheckState(url, "upstream-tls", "dev"); !errors.As(err, &se) || se.File != file+AttrsExt || !strings.Contains(err.Error(), "fix: make unlock STACK=dev") || !strings.Contains(err.Error(), "checkpoint itself is whole") {
		t.Errorf("empty metadata file: %v", err)
	}
	write(file+AttrsExt, `{"user.cache_control":"","user.content_type":"application/json","md5":"AAAA"}`)
	if err := CheckState(url, "upstream-tls", "dev"); err != nil {
		t.Errorf("whole metadata file: %v", err)
	}
	write(file, good[:40])
	write(file+".bak", good)
	write(filepath.Join(backups, "dev.1796143117047356996.json"), good)
	write(filepath.Join(backups, "dev.1796143876994654363.json"), good[:10])
	err := CheckState(url, "upstream-tls", "dev")
	var de *DamagedStateError
	if !errors.As(err, &de) || de.Backup != file+".bak" || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "cp "+file+".bak "+file) {
		t.Fatalf("truncated with a good .bak: %v", err)
	}
	if !strings.HasSuffix(de.Older, "dev.1796143117047356996.json") {
		t.Errorf("the newest readable backup is dev.1796143117047356996.json, got %q", de.Older)
	}
	write(file+".bak", "{}")
	if err := CheckState(url, "upstream-tls", "dev"); !errors.As(err, &de) || de.Backup != "" || !strings.Contains(err.Error(), "fix: restore the newest backup the engine kept: cp "+de.Older) {
		t.Errorf("without a readable .bak: %v", err)
	}
	_ = os.Remove(filepath.Join(backups, "dev.1796143117047356996.json"))
	if err := CheckState(url, "upstream-tls", "dev"); err == nil || !strings.Contains(err.Error(), "no readable backup is left") || !strings.Contains(err.Error(), "never delete it") {
		t.Errorf("without any backup: %v", err)
	}
	// gzip-compressed checkpoints read.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(good))
	_ = zw.Close()
	_ = os.Remove(file)
	write(file+".gz", buf.String())
	if err := CheckState(url, "upstream-tls", "dev"); err != nil {
		t.Errorf("gzip checkpoint: %v", err)
	}
}
