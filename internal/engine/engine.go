// Package engine runs the upstream-tls stack program through the real Pulumi engine with the
// Automation API: the program (infra/program) is served in-process, the pinned `pulumi` CLI on
// PATH drives the engine and the provider plugins. `make up` calls it through cmd/up and
// scripts/up.sh, which build the toolchain and set the offline environment first.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
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
	// ActionUnlock recovers a stack after a killed run: it removes the stale locks (`pulumi
	// cancel`), refusing while a holder runs on this host and, unless Force, while one may
	// run on another host; it settles the operations the run left unfinished (a refresh that
	// drops the pending creates, see settlePending); and it removes a damaged blob metadata
	// file beside a whole checkpoint (DamagedSidecarError). A damaged checkpoint is refused.
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
	// A locked stack is refused before its state is read: a run that holds the lock may be
	// writing it (the blob store's metadata file is empty for a moment while it is rewritten),
	// and a stale lock's fix, make unlock, also repairs what a kill leaves.
	if opts.Action != ActionUnlock && len(locks) > 0 {
		return &LockedError{Stack: opts.Stack, Locks: locks}
	}
	for _, l := range locks {
		if l.Holder == HolderAlive || (l.Holder == HolderUnknown && !opts.Force) {
			return &LockedError{Stack: opts.Stack, Locks: locks}
		}
	}
	if err := CheckState(backend, config.Namespace, opts.Stack); err != nil {
		// make unlock, the recovery of a killed run, also removes the blob metadata file such
		// a run can leave damaged (it holds no state); a damaged checkpoint stays refused.
		var side *DamagedSidecarError
		if opts.Action != ActionUnlock || !errors.As(err, &side) {
			return err
		}
		if err := os.Remove(side.File); err != nil {
			return fmt.Errorf("remove the damaged metadata file: %w", err)
		}
		fmt.Fprintf(opts.Out, "removed %s, the blob metadata file beside the checkpoint (%s; it holds no state)\n", side.File, side.Problem)
	}
	if opts.Action == ActionUnlock {
		return unlock(ctx, dir, opts, locks)
	}
	root := opts.Root
	if root == "" {
		root = dir
	}
	prog := program.New(program.Options{Root: root, StackFile: filepath.Join(dir, "Pulumi."+opts.Stack+".yaml")})
	wsOpts := []auto.LocalWorkspaceOption{auto.WorkDir(dir)}
	if env := CheckpointEnv(filepath.Join(dir, "Pulumi."+opts.Stack+".yaml")); env != nil {
		wsOpts = append(wsOpts, auto.EnvVars(env))
	}
	stack, err := auto.UpsertStackInlineSource(ctx, opts.Stack, config.Namespace, prog, wsOpts...)
	if err != nil {
		return fmt.Errorf("select stack %s: %w", opts.Stack, err)
	}
	switch opts.Action {
	case ActionDestroy:
		_, err := stack.Destroy(ctx, optdestroy.ProgressStreams(opts.Out), optdestroy.ErrorProgressStreams(opts.Err))
		return engineFailed("destroy", err, "")
	case ActionPreview:
		po := []optpreview.Option{optpreview.ProgressStreams(opts.Out), optpreview.ErrorProgressStreams(opts.Err)}
		if opts.ExpectNoChanges {
			po = append(po, optpreview.ExpectNoChanges())
		}
		_, err := stack.Preview(ctx, po...)
		return engineFailed("preview", err, "")
	case ActionUp, "":
	default:
		return fmt.Errorf("unknown action %q", opts.Action)
	}
	var waits verdictWaits
	// (ShowSecrets(false): the summary the Automation API reads from the stack's history after
	// the update, which nothing here uses, is read without decrypting the configuration's
	// secrets, a third of a second less per up.)
	uo := []optup.Option{optup.ProgressStreams(waits.Writer(opts.Out)), optup.ErrorProgressStreams(waits.Writer(opts.Err)), optup.ShowSecrets(false)}
	if opts.ExpectNoChanges {
		uo = append(uo, optup.ExpectNoChanges())
	}
	res, err := stack.Up(ctx, uo...)
	if err != nil {
		return engineFailed("up", err, waits.explain())
	}
	if posture, ok := res.Outputs["posture"]; ok {
		fmt.Fprintf(opts.Out, "\nUpstream TLS posture (%s):\n%v", opts.Stack, posture.Value)
	}
	if observed, ok := res.Outputs["observedPosture"]; ok {
		fmt.Fprintf(opts.Out, "\nWhat Envoy Gateway reported for each route (%s):\n%v", opts.Stack, observed.Value)
	}
	return nil
}

// unlock removes the stack's locks with the engine's own `pulumi cancel`, unless a holder runs,
// and settles the operations a killed run left unfinished (settlePending).
func unlock(ctx context.Context, dir string, opts Options, locks []Lock) error {
	if len(locks) == 0 {
		fmt.Fprintf(opts.Out, "stack %s is not locked\n", opts.Stack)
		if pending, err := PendingOperations(os.Getenv("PULUMI_BACKEND_URL"), config.Namespace, opts.Stack); err != nil || len(pending) == 0 {
			return err
		}
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
	if len(locks) > 0 {
		if err := stack.Cancel(ctx); err != nil {
			return fmt.Errorf("pulumi cancel: %w", err)
		}
	}
	for _, l := range locks {
		fmt.Fprintf(opts.Out, "removed the lock of %s\n", l)
	}
	return settlePending(ctx, stack, opts)
}

// settlePending resolves what a killed run left pending. The engine keeps an operation it
// started and never saw end in the state (pending_operations) and warns about it on every
// later run, without resolving it: a create may have reached the cluster or not. A refresh
// reads every object of the stack back from the cluster (what the killed run changed before
// it could save), and drops the pending creates: the next up creates those objects, or, where
// the killed run had created them already, takes them over, since the Kubernetes provider
// creates by server-side apply with the same name.
func settlePending(ctx context.Context, stack auto.Stack, opts Options) error {
	pending, err := PendingOperations(os.Getenv("PULUMI_BACKEND_URL"), config.Namespace, opts.Stack)
	if err != nil || len(pending) == 0 {
		return err
	}
	fmt.Fprintf(opts.Out, "the killed run left %d operations unfinished (the state does not know whether they happened):\n", len(pending))
	for _, p := range pending {
		fmt.Fprintf(opts.Out, "  %s\n", p)
	}
	fmt.Fprintln(opts.Out, "refreshing the stack from the cluster and dropping the unfinished creates (the next up makes them, taking over any the killed run created)")
	if _, err := stack.Refresh(ctx, optrefresh.ClearPendingCreates(), optrefresh.ProgressStreams(opts.Out), optrefresh.ErrorProgressStreams(opts.Err)); err != nil {
		return fmt.Errorf("pulumi refresh --clear-pending-creates: %w", err)
	}
	left, err := PendingOperations(os.Getenv("PULUMI_BACKEND_URL"), config.Namespace, opts.Stack)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("after the refresh the state still has %d unfinished operations (%v): resolve them with pulumi refresh in the project's environment", len(left), left)
	}
	return nil
}

// SkipCheckpoints is the engine setting (an environment variable of the pulumi CLI) that writes
// the state once, at the end of a run, instead of after every resource step.
const SkipCheckpoints = "PULUMI_SKIP_CHECKPOINTS"

// CheckpointEnv is the engine environment Run adds for the stack whose configuration file is
// stackFile: SkipCheckpoints=true when the stack renders to a directory (upstream-tls:renderDir)
// and the caller has not set SkipCheckpoints itself; nil otherwise.
//
// On a file or object-store state backend the engine rewrites the whole state after every
// resource step (pulumi/pulumi#10960), so a first deploy costs resources × state size: 100
// backends took 492 s, 97% of it rewriting the state, and 11 s with the state written once
// (bench/RESULTS.md). Skipping is harmless in render mode: a run that crashes leaves the state
// of the run before, and the next run rewrites every file it owns. Against a cluster it is the
// user's choice (README, "A hundred backends on a file or S3 state backend"): a crash then
// leaves objects in the cluster the state does not know, which the next up takes over by
// server-side apply, and certificates generated in the lost run are generated again.
func CheckpointEnv(stackFile string) map[string]string {
	if _, set := os.LookupEnv(SkipCheckpoints); set {
		return nil
	}
	st, err := config.FromFile(stackFile)
	if err != nil || st.RenderDir == "" { // (a broken configuration: the program reports it)
		return nil
	}
	return map[string]string{SkipCheckpoints: "true"}
}

// RunError is a run of the engine that failed. Its message is the first line of the Automation
// API's error (which repeats the engine's whole output, already streamed to Options.Out and
// Err) and, where the run's events tell more, what to do: Why.
type RunError struct {
	Action string
	Err    error  // the Automation API's error
	Why    string // "" or what the failure means and its fix
}

func (e *RunError) Error() string {
	first, _, _ := strings.Cut(e.Err.Error(), "\n")
	msg := fmt.Sprintf("pulumi %s failed (%s); the engine's diagnostics are above", e.Action, first)
	if e.Why != "" {
		msg += "\n" + e.Why
	}
	return msg
}

func (e *RunError) Unwrap() error { return e.Err }

// engineFailed returns nil for a nil err, else a *RunError.
func engineFailed(action string, err error, why string) error {
	if err == nil {
		return nil
	}
	return &RunError{Action: action, Err: err, Why: why}
}
