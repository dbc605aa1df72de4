package engine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"

	"github.com/upstream-tls/upstream-tls/internal/engine"
	"github.com/upstream-tls/upstream-tls/internal/proc"
)

// The fault tests interrupt `make up` (cmd/up, what scripts/up.sh runs once the toolchain is
// ready) at seeded points and check that one documented step recovers: for SIGINT (Ctrl-C, a
// CI runner's cancel) nothing but the next `make up`; for SIGKILL of the whole process tree
// (power loss, an OOM kill, a CI timeout) `make unlock` and the next `make up`. Each point is
// followed by checks that can fail: no process of the interrupted run (its plugins included)
// outlives it, the lock is as the signal leaves it, the recovery converges to the planned
// objects with a clean state, and a preview after it changes nothing.

// faultSeed is the seed the interrupt points are drawn from: UPSTREAM_TLS_FAULT_SEED, default
// 17. The log names it, so that a failing point is reproduced with the same seed.
func faultSeed(t *testing.T) uint64 {
	seed := uint64(17)
	if s := os.Getenv("UPSTREAM_TLS_FAULT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("UPSTREAM_TLS_FAULT_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("interrupt points drawn with UPSTREAM_TLS_FAULT_SEED=%d", seed)
	return seed
}

// TestInterruptedRunsConverge interrupts five runs per signal in render mode: the first
// deploy, once a seeded number of resources is in the checkpoint, then four updates (a
// backend's mode switched from ca to insecure and back), each a seeded fraction of the way
// through. During the first, a second `make up` on the same stack is refused at once, naming
// the live holder. After SIGINT the engine stops gracefully and releases the lock, and the
// next up converges; after SIGKILL of every process of the run the next up refuses, naming
// the dead holder and `make unlock`, which removes the lock, and the next up converges. The
// same configuration always converges to the same resources, and the state holds no pending
// operation and no resource marked for deletion. The SIGKILL series ends with a damaged
// state: a truncated state file is refused naming it and the engine's .bak, left as it was,
// and restored by the documented copy with nothing to change.
func TestInterruptedRunsConverge(t *testing.T) {
	becomeSubreaper(t)
	seed := faultSeed(t)
	for i, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(strings.ToUpper(sig.String()), func(t *testing.T) {
			w := newWorkspaceFrom(t, "Pulumi.dev-render.yaml", "out/dev", withoutInstall)
			// The checkpointing engine, the default against a cluster: render mode skips the
			// checkpoints by default (engine.CheckpointEnv), which TestSkippedCheckpointsConverge
			// interrupts.
			w.env = []string{engine.SkipCheckpoints + "=false"}
			raw, err := os.ReadFile(w.config)
			if err != nil {
				t.Fatal(err)
			}
			s := &series{
				w: w, sig: sig, rng: rand.New(rand.NewPCG(seed, uint64(i))),
				variants:    []string{string(raw), caToInsecure(string(raw))},
				firstDeploy: true, concurrent: sig == syscall.SIGINT, points: 5,
				timeout: 3 * time.Minute,
				check:   func(int) { w.checkRenderedEqualsPlan(w.plan(), w.rendered()) },
			}
			s.run()
			if sig == syscall.SIGKILL {
				w.damagedStateRefused()
			}
		})
	}
}

// caToInsecure switches internal-api from a generated CA to an unverified Backend.
func caToInsecure(cfg string) string {
	out := strings.Replace(cfg, "      tls:\n        mode: ca\n        ca:\n          generate: true\n", "      tls:\n        mode: insecure\n", 1)
	if out == cfg {
		panic("Pulumi.dev-render.yaml no longer gives internal-api `mode: ca` with `ca: {generate: true}`")
	}
	return out
}

// withoutInstall is the dev configuration without the Envoy Gateway release and the Gateway
// API CRDs (a controller installed by someone else): the stack the render-mode interrupt
// points run on. Its gateway, routes, policies, Backend and certificates are the dev stack's;
// the faults of the engine do not depend on the size of the stack, and the checkpoint the
// engine rewrites after every step is a few kilobytes instead of the CRDs' megabytes.
func withoutInstall(cfg string) string {
	out := strings.Replace(cfg, "  upstream-tls:envoyGateway:\n", "  upstream-tls:envoyGateway:\n    install: false\n    manageGatewayAPICRDs: false\n", 1)
	if out == cfg {
		panic("Pulumi.dev-render.yaml has no upstream-tls:envoyGateway map")
	}
	return out
}

// series is a seeded run of interrupt points on one workspace's stack, the same in render
// mode and against the local cluster. Point 0 is the first deploy (when firstDeploy), killed
// once a seeded number of resources is in the checkpoint; every other point is an update
// (variants toggled), interrupted a seeded fraction of the time an uninterrupted update holds
// the lock. Each point is followed by its recovery (nothing after SIGINT; after SIGKILL the
// refusal naming `make unlock`, then unlock) and the next up, and checked: no process of the
// interrupted run outlives it, a graceful interrupt releases the lock and cmd/up says so, the
// state is clean and the same configuration always converges to the same resources, check
// passes, and a preview changes nothing.
type series struct {
	w           *workspace
	sig         syscall.Signal
	rng         *rand.Rand
	variants    []string // the configurations updates toggle between; variants[cur] is deployed
	cur         int
	firstDeploy bool          // point 0 is the stack's first deploy
	concurrent  bool          // check at point 0 that a second up is refused while it runs
	points      int           // interrupt points
	timeout     time.Duration // the longest one run may take
	check       func(p int)   // the checks after a recovery beyond the state's
	ref         time.Duration // how long an uninterrupted update holds the lock; measured once
	converged   map[int][]string
}

// update writes the other variant to the stack's configuration and starts an up.
func (s *series) update() *run {
	s.cur ^= 1
	s.w.writeConfig(s.variants[s.cur])
	return s.w.start()
}

// measure runs one uninterrupted update and sets ref to how long it held the lock.
func (s *series) measure() {
	t := s.w.t
	r := s.update()
	held := s.w.lockHeld(r, s.timeout)
	if err := r.wait(time.Minute); err != nil {
		t.Fatalf("an uninterrupted update failed: %v\n%s", err, r.output())
	}
	s.ref = held
	t.Logf("an uninterrupted update held the lock for %s", held.Round(10*time.Millisecond))
}

func (s *series) run() {
	w, t, sig := s.w, s.w.t, s.sig
	t.Helper()
	if s.converged == nil {
		s.converged = map[int][]string{}
	}
	objects := len(w.plan().AllObjects())
	for p := 0; p < s.points; p++ {
		first := p == 0 && s.firstDeploy
		phase := "update"
		if first {
			phase = "first deploy"
		} else if s.ref == 0 {
			s.measure()
		}
		var r *run
		var at string
		for try := 0; ; try++ {
			if first {
				r = w.start()
			} else {
				r = s.update()
			}
			if !waitUntil(2*time.Minute, func() bool { return len(w.lockFiles()) > 0 || r.exited() }) || r.exited() {
				r.kill()
				t.Fatalf("point %d: the run never took the lock (%v):\n%s", p, r.wait(time.Minute), r.output())
			}
			locked := time.Now()
			if p == 0 && s.concurrent {
				w.concurrentRunRefused(r)
			}
			if first {
				k := 3 + s.rng.IntN(max(1, objects-6))
				if !waitUntil(s.timeout, func() bool { return w.checkpointURNs() >= k || r.exited() }) {
					r.kill()
					t.Fatalf("point %d: never %d resources in the checkpoint:\n%s", p, k, r.output())
				}
			} else {
				delay := time.Duration((0.1 + 0.8*s.rng.Float64()) * float64(s.ref) / float64(int(1)<<try))
				waitUntil(delay, r.exited)
			}
			n, elapsed := w.checkpointURNs(), time.Since(locked).Round(10*time.Millisecond)
			if r.interrupt(sig) {
				at = fmt.Sprintf("%s after the lock was taken, %d resources in the checkpoint", elapsed, n)
				break
			}
			if err := r.wait(time.Minute); err != nil {
				t.Fatalf("point %d: the run failed before its interrupt: %v\n%s", p, err, r.output())
			}
			if first || try == 2 {
				t.Fatalf("point %d (%s): the run ended before its interrupt point (%s) %d times", p, phase, elapsed, try+1)
			}
			t.Logf("point %d (%s): the run ended before its interrupt point (%s); again in the other direction with half the delay", p, phase, elapsed)
		}
		runErr := r.wait(s.timeout)
		reapOrphans()
		if left := waitSessionGone(r.sid); len(left) > 0 {
			t.Errorf("point %d: processes of the interrupted run outlived it: %q", p, left)
		}
		recovery := "the next up"
		switch sig {
		case syscall.SIGINT:
			// (cmd/up says so from its signal handler, or, when the engine ended first, as it
			// exits.)
			if out := r.output(); !strings.Contains(out, "up: interrupted (interrupt)") && !strings.Contains(out, "up: the run was interrupted") {
				t.Errorf("point %d: cmd/up did not report the interrupt (%v):\n%s", p, runErr, r.output())
			}
			if l := w.lockFiles(); len(l) > 0 {
				t.Errorf("point %d: a graceful interrupt left the stack locked (%v):\n%s", p, l, r.output())
				w.unlock(p)
			}
		case syscall.SIGKILL:
			if len(w.lockFiles()) == 0 {
				if first {
					t.Fatalf("point %d: no lock left by a run killed in its first deploy:\n%s", p, r.output())
				}
				recovery = "the next up (the kill came after the engine had released the lock)"
				break
			}
			refused := w.start()
			b := refused.waitOutput(time.Minute)
			// A run killed while saving may also leave the blob metadata file beside the
			// checkpoint empty (UPSTREAM_TLS_FAULT_SEED=1 hits it): that refusal names the
			// same fix.
			if !(strings.Contains(b, "is locked by a run that no longer runs") || strings.Contains(b, "beside its checkpoint is damaged")) || !strings.Contains(b, "fix: make unlock STACK="+stack) {
				t.Fatalf("point %d: an up after the killed one:\n%s", p, b)
			}
			if p == 0 {
				t.Logf("the refusal:\n%s", b)
			}
			w.unlock(p)
			recovery = "make unlock, then the next up"
		}
		start := time.Now()
		c := w.start()
		held := w.lockHeld(c, s.timeout)
		if err := c.wait(time.Minute); err != nil {
			t.Fatalf("point %d: the up after the interrupt (%s) failed: %v\n%s", p, at, err, c.output())
		}
		if !first {
			s.ref = max(s.ref, held)
		}
		s.check(p)
		urns := w.checkStateClean(p)
		if prev, ok := s.converged[s.cur]; ok && strings.Join(prev, "\n") != strings.Join(urns, "\n") {
			t.Errorf("point %d: the same configuration converged to other resources than before:\nbefore: %q\nnow:    %q", p, prev, urns)
		}
		s.converged[s.cur] = urns
		if res, err := w.preview(optpreview.ExpectNoChanges()); err != nil {
			t.Errorf("point %d: a preview after the recovery shows changes: %v\n%s", p, err, res.StdOut)
		}
		t.Logf("point %d (%s, %s): interrupted %s; recovered by %s in %s (%d resources)", p, phase, sig, at, recovery, time.Since(start).Round(time.Second), len(urns))
	}
}

// concurrentRunRefused: while r holds the stack's lock, a second up on the stack fails at
// once (before r ends), naming the live holder.
func (w *workspace) concurrentRunRefused(r *run) {
	t := w.t
	t.Helper()
	second := w.start()
	b := second.waitOutput(time.Minute)
	if r.exited() {
		t.Fatalf("the run ended before the concurrent one was refused; the refusal is not checked:\n%s", b)
	}
	if !strings.Contains(b, "is locked:") || !strings.Contains(b, "which is still running; wait for it to end") || !strings.Contains(b, "pid ") {
		t.Errorf("a second up while one runs:\n%s", b)
	} else {
		t.Logf("a second up while one runs:\n%s", b)
	}
}

// lockHeld polls the stack's lock while r runs (up to d) and returns how long r held it.
func (w *workspace) lockHeld(r *run, d time.Duration) time.Duration {
	var first, last time.Time
	deadline := time.Now().Add(d)
	for !r.exited() && time.Now().Before(deadline) {
		if len(w.lockFiles()) > 0 {
			if first.IsZero() {
				first = time.Now()
			}
			last = time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return last.Sub(first)
}

// unlock runs `make unlock` (cmd/up -unlock) and checks that it removed the lock.
func (w *workspace) unlock(p int) {
	t := w.t
	t.Helper()
	u := w.start("-unlock")
	b := u.waitOutput(time.Minute)
	if !strings.Contains(b, "removed the lock of pid") {
		t.Fatalf("point %d: unlock:\n%s", p, b)
	}
	if i := strings.Index(b, "the killed run left"); i >= 0 {
		t.Logf("point %d: make unlock: %s", p, lastLines(b[i:], 200)[:min(len(b)-i, 600)])
	}
	if l := w.lockFiles(); len(l) > 0 {
		t.Fatalf("point %d: unlock left %v", p, l)
	}
}

// damagedStateRefused: a truncated state file (a full disk) is refused naming the file and the
// engine's .bak and left as it was; the documented copy restores it with nothing to change.
func (w *workspace) damagedStateRefused() {
	t := w.t
	checkpoint := w.checkpointPath()
	raw, err := os.ReadFile(checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(checkpoint, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	b := w.start("-preview").waitOutput(time.Minute)
	if !strings.Contains(b, "the state of stack "+stack+" is damaged: "+checkpoint) || !strings.Contains(b, "cp "+checkpoint+".bak "+checkpoint) {
		t.Fatalf("a preview on a truncated state:\n%s", b)
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

func (w *workspace) checkpointPath() string {
	return filepath.Join(w.dir, "state", ".pulumi", "stacks", "upstream-tls", stack+".json")
}

// lockFiles lists the stack's lock files in the workspace's file backend.
func (w *workspace) lockFiles() []string {
	l, _ := filepath.Glob(filepath.Join(w.dir, "state", ".pulumi", "locks", "organization", "upstream-tls", stack, "*.json"))
	return l
}

// checkpointURNs counts the resources in the stack's checkpoint as the engine last wrote it.
func (w *workspace) checkpointURNs() int {
	b, _ := os.ReadFile(w.checkpointPath())
	return bytes.Count(b, []byte(`"urn"`))
}

// checkpointState is the part of the stack's checkpoint the fault tests read.
type checkpointState struct {
	Resources []struct {
		URN     string         `json:"urn"`
		Type    string         `json:"type"`
		Delete  bool           `json:"delete"`
		Outputs map[string]any `json:"outputs"`
	} `json:"resources"`
	PendingOperations []json.RawMessage `json:"pending_operations"`
}

// checkpoint reads the stack's checkpoint as the engine last wrote it.
func (w *workspace) checkpoint() checkpointState {
	w.t.Helper()
	b, err := os.ReadFile(w.checkpointPath())
	if err != nil {
		w.t.Fatal(err)
	}
	var cp struct {
		Checkpoint struct {
			Latest checkpointState `json:"latest"`
		} `json:"checkpoint"`
	}
	if err := json.Unmarshal(b, &cp); err != nil {
		w.t.Fatalf("the stack's checkpoint: %v", err)
	}
	return cp.Checkpoint.Latest
}

// checkStateClean checks the checkpoint after a recovery: no pending operation, no resource
// marked for deletion, no URN twice; it returns the URNs.
func (w *workspace) checkStateClean(p int) []string {
	t := w.t
	t.Helper()
	latest := w.checkpoint()
	if len(latest.PendingOperations) > 0 {
		t.Errorf("point %d: the state keeps %d pending operations after the recovery", p, len(latest.PendingOperations))
	}
	seen := map[string]bool{}
	var urns []string
	for _, r := range latest.Resources {
		if r.Delete {
			t.Errorf("point %d: the state keeps %s marked for deletion", p, r.URN)
		}
		if seen[r.URN] {
			t.Errorf("point %d: the state holds %s twice", p, r.URN)
		}
		seen[r.URN] = true
		urns = append(urns, r.URN)
	}
	sort.Strings(urns)
	return urns
}

// run is one cmd/up process (`make up` once the toolchain is built) in a session of its own,
// as a terminal job or a CI step is.
type run struct {
	cmd  *exec.Cmd
	sid  int
	out  syncBuffer
	done chan struct{}
	err  error
}

// start starts cmd/up on the workspace's stack with args.
func (w *workspace) start(args ...string) *run {
	w.t.Helper()
	r := &run{done: make(chan struct{})}
	r.cmd = exec.Command("upstream-tls-up", append([]string{"-stack", stack, "-dir", w.dir, "-root", repoRoot()}, args...)...)
	r.cmd.Env = append(os.Environ(), w.env...)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	r.sid = r.cmd.Process.Pid
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	return r
}

func (r *run) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// interrupt sends sig as the fault it stands for: SIGINT to the run's process group, as a
// terminal's Ctrl-C does (the plugins, in process groups of their own, do not get it);
// SIGKILL to every process of its session, the plugins included. It reports false when the
// run had already ended.
func (r *run) interrupt(sig syscall.Signal) bool {
	if r.exited() {
		return false
	}
	if sig == syscall.SIGKILL {
		r.kill()
		return true
	}
	return syscall.Kill(-r.sid, sig) == nil
}

// kill sends SIGKILL to every process of the run's session until none is left.
func (r *run) kill() {
	for i := 0; i < 20; i++ {
		members := sessionMembers(r.sid)
		if len(members) == 0 {
			return
		}
		for _, pid := range members {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wait waits up to d for the run to end (killing it after d) and returns its error.
func (r *run) wait(d time.Duration) error {
	select {
	case <-r.done:
		return r.err
	case <-time.After(d):
		r.kill()
		<-r.done
		return fmt.Errorf("still running after %s, killed: %v", d, r.err)
	}
}

// waitOutput waits for the run to end and returns its output with its exit status.
func (r *run) waitOutput(d time.Duration) string {
	err := r.wait(d)
	return fmt.Sprintf("%s(exit: %v)", r.output(), err)
}

func (r *run) output() string { return r.out.String() }

// syncBuffer is a bytes.Buffer the process's output goroutines write concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitUntil polls cond every 50 ms for up to d and reports whether it held.
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sessionMembers lists the PIDs of the processes of session sid that are not zombies. (The
// pulumi CLI starts each plugin in a process group of its own, so a process group does not
// hold a run's whole tree; its session does.)
func sessionMembers(sid int) []int {
	var out []int
	for _, p := range proc.List() {
		if p.Session == sid && !p.Zombie() {
			out = append(out, p.PID)
		}
	}
	return out
}

// waitSessionGone waits up to 5 s for session sid to have no running process and returns
// those left. Where /proc shows another PID namespace (CI's sandbox) the check cannot be made
// and nothing is returned.
func waitSessionGone(sid int) []string {
	if !proc.OwnNamespace() {
		return nil
	}
	var left []string
	for i := 0; i < 100; i++ {
		left = left[:0]
		for _, p := range proc.List() {
			if p.Session == sid && !p.Zombie() {
				left = append(left, p.Line)
			}
		}
		if len(left) == 0 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return left
}

// prSetChildSubreaper is prctl's PR_SET_CHILD_SUBREAPER.
const prSetChildSubreaper = 36

// becomeSubreaper makes this test process the reaper of the orphans of the runs it kills:
// where /proc shows another PID namespace (CI's sandbox), a zombie that nobody reaps would
// answer signal 0 like a live lock holder.
func becomeSubreaper(t *testing.T) {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Logf("PR_SET_CHILD_SUBREAPER: %v", errno)
	}
}

// reapOrphans waits (for up to 5 s) for the processes reparented to this test to exit, and
// reaps them. Call it only when no run is in flight: Wait4 on any child would race exec.Cmd's
// own Wait.
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
