// Package proc reads the process table of this host from /proc (Linux): what the fault
// handling of `make up` needs to find a run's child processes and what is left of a killed
// run.
package proc

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Process is one entry of the process table, from /proc/<pid>/stat.
type Process struct {
	PID, PPID, PGRP, Session int
	// State is the one-letter state (R, S, D, Z for a zombie, ...).
	State string
	// Line is "pid (comm)", for messages.
	Line string
}

// Zombie reports whether the process has exited and waits to be reaped (it runs nothing).
func (p Process) Zombie() bool { return p.State == "Z" }

// List reads every process's /proc/<pid>/stat; processes that exit meanwhile are left out.
// Where /proc shows another PID namespace than this process's (see OwnNamespace), the PIDs are
// that namespace's.
func List() []Process {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []Process
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses, so
		// split after the last ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 4 {
			continue
		}
		p := Process{State: f[0], Line: strings.TrimSpace(string(b[:i+1]))}
		p.PID, _ = strconv.Atoi(filepath.Base(filepath.Dir(st)))
		p.PPID, _ = strconv.Atoi(f[1])
		p.PGRP, _ = strconv.Atoi(f[2])
		p.Session, _ = strconv.Atoi(f[3])
		out = append(out, p)
	}
	return out
}

// OwnNamespace reports whether /proc shows this process's own PID namespace (it does not in
// a sandbox that shares the host's /proc with a new PID namespace).
func OwnNamespace() bool {
	self, err := os.Readlink("/proc/self")
	return err == nil && self == strconv.Itoa(os.Getpid())
}
