package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/upstream-tls/upstream-tls/internal/proc"
)

// interrupted is set once an interrupt arrived.
var interrupted atomic.Bool

// Interrupts. The engine (the pulumi CLI the Automation API starts) runs in this process's
// process group, so an interrupt from a terminal or a CI runner (SIGINT to the group, Ctrl-C)
// reaches it directly: it cancels gracefully, finishing the operations in flight, saving the
// state and releasing the stack's lock, and a second one stops it at once. This command must
// outlive it, because it serves the stack program the engine is running and reads its output:
// it keeps running until the engine ends and then fails with the engine's error. SIGTERM (a
// `kill`, a supervisor, a CI timeout aimed at this process) is passed to the engine as the
// same graceful SIGINT. The Automation API's own cancellation is not used: it kills the
// engine ten seconds after interrupting it, which leaves the stack locked whenever an
// operation in flight (a wait for the controller's verdict) takes longer.
func handleInterrupts(stack string, out io.Writer) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		n, forwarded := 0, 0
		for sig := range ch {
			if sig == syscall.SIGINT && forwarded > 0 {
				forwarded-- // our own SIGINT to the process group (below)
				continue
			}
			n++
			interrupted.Store(true)
			// Where /proc shows another PID namespace (some CI sandboxes), the children cannot
			// be found: an engine may run, and the process group stands for it.
			own := proc.OwnNamespace()
			kids := children()
			if own && len(kids) == 0 {
				// No engine runs (not yet, or no more): nothing holds the lock.
				fmt.Fprintf(out, "up: interrupted (%s) while no engine was running: nothing is in flight and the stack is not locked\n", sig)
				os.Exit(130)
			}
			if sig == syscall.SIGTERM {
				if own {
					for _, pid := range kids {
						_ = syscall.Kill(pid, syscall.SIGINT)
					}
				} else {
					forwarded++
					_ = syscall.Kill(0, syscall.SIGINT)
				}
			}
			if n == 1 {
				fmt.Fprintf(out, "up: interrupted (%s): the engine finishes the operations in flight, saves the state and releases the lock; interrupt again to stop it at once (the stack then stays locked: make unlock STACK=%s)\n", sig, stack)
			} else {
				fmt.Fprintf(out, "up: interrupted again (%s): the engine stops at once\n", sig)
			}
		}
	}()
}

// children lists this process's child processes that run (the pulumi CLI while it runs).
func children() []int {
	var out []int
	for _, p := range proc.List() {
		if p.PPID == os.Getpid() && !p.Zombie() {
			out = append(out, p.PID)
		}
	}
	return out
}
