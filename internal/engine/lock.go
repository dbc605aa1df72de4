package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Lock is one lock file of a stack in a file (diy) state backend: what the pulumi CLI that
// holds it wrote (backend/diy/lock.go: pid, username, hostname, timestamp).
type Lock struct {
	// Path is the lock file.
	Path string
	// PID, User, Host and Since identify the pulumi process that took it.
	PID   int       `json:"pid"`
	User  string    `json:"username"`
	Host  string    `json:"hostname"`
	Since time.Time `json:"timestamp"`
	// Holder says whether that process runs: HolderAlive, HolderGone (it runs on this host and
	// is no longer running: the lock is stale) or HolderUnknown (another host).
	Holder Holder `json:"-"`
}

// Holder is what is known of a lock's process.
type Holder string

const (
	HolderAlive   Holder = "alive"
	HolderGone    Holder = "gone"
	HolderUnknown Holder = "unknown"
)

func (l Lock) String() string {
	return fmt.Sprintf("pid %d (%s@%s, since %s)", l.PID, l.User, l.Host, l.Since.Local().Format(time.RFC3339))
}

// Locks lists the locks of stack (of project) in the file backend at backendURL
// ("file:///path"); other backends keep no lock files here and yield none.
func Locks(backendURL, project, stack string) ([]Lock, error) {
	u, err := url.Parse(backendURL)
	if err != nil || u.Scheme != "file" {
		return nil, nil
	}
	dir := filepath.Join(u.Path, ".pulumi", "locks", "organization", project, stack)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	host, _ := os.Hostname()
	var out []Lock
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) { // released meanwhile
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", f, err)
		}
		l := Lock{Path: f}
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, fmt.Errorf("lock %s is not a Pulumi lock file: %w", f, err)
		}
		switch {
		case l.Host != host:
			l.Holder = HolderUnknown
		case pulumiRuns(l.PID):
			l.Holder = HolderAlive
		default:
			l.Holder = HolderGone
		}
		out = append(out, l)
	}
	return out, nil
}

// pulumiRuns reports whether pid is a running pulumi CLI on this host. Where /proc shows this
// process's own PID namespace, the process's program name must be pulumi (a reused PID is not
// the holder); elsewhere signal 0 decides.
func pulumiRuns(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if self, err := os.Readlink("/proc/self"); err != nil || self != strconv.Itoa(os.Getpid()) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			return false // a zombie holds nothing
		}
	}
	argv0, _, _ := strings.Cut(string(b), "\x00")
	return argv0 == "" || filepath.Base(argv0) == "pulumi"
}

// LockedError is the refusal to run on a locked stack: it names every holder and the fix.
type LockedError struct {
	Stack string
	Locks []Lock
}

func (e *LockedError) Error() string {
	var b strings.Builder
	stale := true
	for _, l := range e.Locks {
		if l.Holder != HolderGone {
			stale = false
		}
	}
	if stale {
		fmt.Fprintf(&b, "the stack %s is locked by a run that no longer runs (interrupted, killed or crashed):", e.Stack)
	} else {
		fmt.Fprintf(&b, "the stack %s is locked:", e.Stack)
	}
	for _, l := range e.Locks {
		switch l.Holder {
		case HolderAlive:
			fmt.Fprintf(&b, "\n  %s, which is still running; wait for it to end", l)
		case HolderGone:
			fmt.Fprintf(&b, "\n  %s, which is no longer running", l)
		default:
			fmt.Fprintf(&b, "\n  %s, on another host; if no run is in progress there, the lock is stale", l)
		}
		fmt.Fprintf(&b, " (lock file %s)", l.Path)
	}
	if stale {
		fmt.Fprintf(&b, "\nfix: make unlock STACK=%s, then make up STACK=%s (it converges: the engine resumes from the state the interrupted run saved)", e.Stack, e.Stack)
	} else {
		fmt.Fprintf(&b, "\nfix: wait for the run to end; a lock of another host that is stale: make unlock STACK=%s FORCE=1", e.Stack)
	}
	return b.String()
}
