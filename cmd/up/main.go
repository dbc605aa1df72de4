// Command up runs the upstream-tls stack program through the real Pulumi engine (see
// internal/engine). `make up` calls it through scripts/up.sh.
//
// An interrupt (Ctrl-C, or SIGTERM to this process) stops the run gracefully: the engine
// finishes what is in flight, saves the state and releases the lock (see handleInterrupts).
//
//	up [-stack dev] [-dir .] [-root DIR] [-preview|-destroy|-unlock [-force]] [-expect-no-changes]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/upstream-tls/upstream-tls/internal/engine"
)

func main() {
	stack := flag.String("stack", "dev", "stack name; its config is Pulumi.<stack>.yaml in -dir")
	dir := flag.String("dir", ".", "workspace directory holding Pulumi.yaml and the stack config")
	root := flag.String("root", "", "project directory the configuration's relative paths are resolved against (default -dir)")
	preview := flag.Bool("preview", false, "preview instead of update")
	destroy := flag.Bool("destroy", false, "destroy the stack's resources")
	expectNoChanges := flag.Bool("expect-no-changes", false, "fail if the update or preview would change anything")
	unlock := flag.Bool("unlock", false, "remove the stack's stale locks (pulumi cancel); refused while their holder runs")
	force := flag.Bool("force", false, "with -unlock: also remove a lock taken on another host")
	flag.Parse()
	action := engine.ActionUp
	switch {
	case *unlock:
		action = engine.ActionUnlock
	case *destroy:
		action = engine.ActionDestroy
	case *preview:
		action = engine.ActionPreview
	}
	if action != engine.ActionUnlock {
		handleInterrupts(*stack, os.Stderr)
	}
	if err := engine.Run(context.Background(), engine.Options{Stack: *stack, Dir: *dir, Root: *root, Action: action, ExpectNoChanges: *expectNoChanges, Force: *force, Out: os.Stdout, Err: os.Stderr}); err != nil {
		fmt.Fprintln(os.Stderr, "up:", err)
		// (An interrupt can end a child of the engine's before the handler has run: the
		// Automation API's last `pulumi stack output`, once the update is done.)
		if interrupted.Load() || strings.Contains(err.Error(), "signal: interrupt") {
			fmt.Fprintf(os.Stderr, "up: the run was interrupted; run it again (make up STACK=%s): it resumes from the state the engine saved\n", *stack)
		}
		os.Exit(1)
	}
}
