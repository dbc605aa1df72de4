package proc

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// TestList finds this process and a child started in a session of its own, with the right
// parent, group and session.
func TestList(t *testing.T) {
	if !OwnNamespace() {
		t.Skip("/proc shows another PID namespace here")
	}
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var self, child *Process
	for _, p := range List() {
		p := p
		switch p.PID {
		case os.Getpid():
			self = &p
		case cmd.Process.Pid:
			child = &p
		}
	}
	if self == nil || child == nil {
		t.Fatalf("List misses this process (%v) or its child (%v)", self, child)
	}
	if child.PPID != os.Getpid() || child.Session != child.PID || child.PGRP != child.PID || child.Zombie() {
		t.Errorf("child: %+v, want parent %d and its own session and group", *child, os.Getpid())
	}
	if self.Session == child.Session {
		t.Errorf("the child's session is this process's: %+v", *self)
	}
}
