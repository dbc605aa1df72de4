// Package engine runs the upstream-tls stack program through the real Pulumi engine with the
// Automation API: the program (infra/program) is served in-process, the pinned `pulumi` CLI on
// PATH drives the engine and the provider plugins. `make up` calls it through cmd/up and
// scripts/up.sh, which build the toolchain and set the offline environment first.
package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/upstream-tls/upstream-tls/infra/program"
	"github.com/upstream-tls/upstream-tls/internal/config"
)

// Action is what Run does to the stack.
type Action string

const (
	// ActionUp updates the stack.
	ActionUp Action = "up"
	// ActionPreview previews the update.
	ActionPreview Action = "preview"
	// ActionDestroy destroys the stack's resources.
	ActionDestroy Action = "destroy"
	// ActionUnlock removes the stack's stale locks (`pulumi cancel`): it refuses while a
	// holder runs on this host, and, unless Force, while one may run on another host.
	ActionUnlock Action = "unlock"
)

// Options configure Run.
type Options struct {
	// Stack is the stack name; its configuration is Pulumi.<Stack>.yaml in Dir.
	Stack string
	// Dir is the workspace directory holding Pulumi.yaml and the stack configuration.
	Dir string
	// Root is the project directory relative paths of the configuration are resolved against.
	// Default Dir.
	Root string
	// Action is up (default), preview or destroy.
	Action Action
	// ExpectNoChanges fails the update or preview when anything would change.
	ExpectNoChanges bool
	// Force lets ActionUnlock remove a lock taken on another host.
	Force bool
	// Out and Err receive the engine's progress.
	Out, Err io.Writer
}

// Run runs opts.Action on the stack. The state backend and the secrets passphrase come from
// PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE. After an update it prints the posture and
// what Envoy Gateway reported for each route (the observed posture).
//
// A locked stack (a file backend's lock files) is refused before the engine starts, with a
// *LockedError that names each holder, whether it still runs, and the fix (make unlock for a
// stale lock, whose holder no longer runs on this host); so is a stack whose state file cannot
// be read (*DamagedStateError, naming the engine's backups), which nothing then starts over.
func Run(ctx context.Context, opts Options) error {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return err
	}
	backend := os.Getenv("PULUMI_BACKEND_URL")
	locks, err := Locks(backend, config.Namespace, opts.Stack)
	if err != nil {
		return err
	}
	if err := CheckState(backend, config.Namespace, opts.Stack); err != nil {
		return err
	}
	if opts.Action == ActionUnlock {
		return unlock(ctx, dir, opts, locks)
	}
	if len(locks) > 0 {
		return &LockedError{Stack: opts.Stack, Locks: locks}
	}
	root := opts.Root
	if root == "" {
		root = dir
	}
	prog := program.New(program.Options{Root: root, StackFile: filepath.Join(dir, "Pulumi."+opts.Stack+".yaml")})
	stack, err := auto.UpsertStackInlineSource(ctx, opts.Stack, config.Namespace, prog, auto.WorkDir(dir))
	if err != nil {
		return fmt.Errorf("select stack %s: %w", opts.Stack, err)
	}
	switch opts.Action {
	case ActionDestroy:
		_, err := stack.Destroy(ctx, optdestroy.ProgressStreams(opts.Out), optdestroy.ErrorProgressStreams(opts.Err))
		return err
	case ActionPreview:
		po := []optpreview.Option{optpreview.ProgressStreams(opts.Out), optpreview.ErrorProgressStreams(opts.Err)}
		if opts.ExpectNoChanges {
			po = append(po, optpreview.ExpectNoChanges())
		}
		_, err := stack.Preview(ctx, po...)
		return err
	case ActionUp, "":
	default:
		return fmt.Errorf("unknown action %q", opts.Action)
	}
	uo := []optup.Option{optup.ProgressStreams(opts.Out), optup.ErrorProgressStreams(opts.Err)}
	if opts.ExpectNoChanges {
		uo = append(uo, optup.ExpectNoChanges())
	}
	res, err := stack.Up(ctx, uo...)
	if err != nil {
		return err
	}
	if posture, ok := res.Outputs["posture"]; ok {
		fmt.Fprintf(opts.Out, "\nUpstream TLS posture (%s):\n%v", opts.Stack, posture.Value)
	}
	if observed, ok := res.Outputs["observedPosture"]; ok {
		fmt.Fprintf(opts.Out, "\nWhat Envoy Gateway reported for each route (%s):\n%v", opts.Stack, observed.Value)
	}
	return nil
}

// unlock removes the stack's locks with the engine's own `pulumi cancel`, unless a holder runs.
func unlock(ctx context.Context, dir string, opts Options, locks []Lock) error {
	if len(locks) == 0 {
		fmt.Fprintf(opts.Out, "stack %s is not locked\n", opts.Stack)
		return nil
	}
	for _, l := range locks {
		if l.Holder == HolderAlive || (l.Holder == HolderUnknown && !opts.Force) {
			return &LockedError{Stack: opts.Stack, Locks: locks}
		}
	}
	ws, err := auto.NewLocalWorkspace(ctx, auto.WorkDir(dir))
	if err != nil {
		return err
	}
	stack, err := auto.SelectStack(ctx, opts.Stack, ws)
	if err != nil {
		return fmt.Errorf("select stack %s: %w", opts.Stack, err)
	}
	if err := stack.Cancel(ctx); err != nil {
		return fmt.Errorf("pulumi cancel: %w", err)
	}
	for _, l := range locks {
		fmt.Fprintf(opts.Out, "removed the lock of %s\n", l)
	}
	return nil
}
