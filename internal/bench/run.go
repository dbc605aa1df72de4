package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/upstream-tls/upstream-tls/infra/program"
	"github.com/upstream-tls/upstream-tls/internal/config"
)

// Passphrase is the secrets passphrase of the benchmark's throwaway stacks.
const Passphrase = "upstream-tls-bench-only"

// Measure is one timed run of a process tree.
type Measure struct {
	Seconds float64
	PeakMB  float64 // the largest resident set of the process and every descendant it waited for
}

// Exec runs name args in dir with env added to the environment and measures it. The output goes
// to log; an exit status other than 0 is an error that quotes the output's end.
func Exec(dir string, env []string, log io.Writer, name string, args ...string) (Measure, error) {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, log), io.MultiWriter(&out, log)
	start := time.Now()
	err := cmd.Run()
	m := Measure{Seconds: time.Since(start).Seconds()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.PeakMB = float64(ru.Maxrss) / 1024
		}
	}
	if err != nil {
		tail := out.String()
		if len(tail) > 3000 {
			tail = tail[len(tail)-3000:]
		}
		return m, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail)
	}
	return m, nil
}

// RunAnchor is `bench anchor`: up (or preview, when preview) of the anchor stack stackName in
// the workspace dir, registering files into target.
func RunAnchor(ctx context.Context, dir, stackName string, files []string, target Target, preview bool, out io.Writer) error {
	s, err := auto.UpsertStackInlineSource(ctx, stackName, AnchorProject, Anchor(files, target), auto.WorkDir(dir))
	if err != nil {
		return fmt.Errorf("select anchor stack %s: %w", stackName, err)
	}
	if preview {
		_, err = s.Preview(ctx, optpreview.ProgressStreams(out))
		return err
	}
	_, err = s.Up(ctx, optup.ProgressStreams(out))
	return err
}

// Changes is `bench changes`: a preview of the component stack stackName in the workspace dir
// (its configuration Pulumi.<stack>.yaml there, relative paths against root), returning the
// URNs of every resource the preview would change (any step but same) and how long it took.
func Changes(ctx context.Context, dir, root, stackName string) ([]string, time.Duration, error) {
	prog := program.New(program.Options{Root: root, StackFile: filepath.Join(dir, "Pulumi."+stackName+".yaml")})
	s, err := auto.UpsertStackInlineSource(ctx, stackName, config.Namespace, prog, auto.WorkDir(dir))
	if err != nil {
		return nil, 0, fmt.Errorf("select stack %s: %w", stackName, err)
	}
	ch, done := make(chan events.EngineEvent), make(chan []string)
	go func() {
		var urns []string
		for e := range ch {
			if pre := e.ResourcePreEvent; pre != nil && pre.Metadata.Op != "same" {
				urns = append(urns, string(pre.Metadata.Op)+" "+pre.Metadata.URN)
			}
		}
		done <- urns
	}()
	start := time.Now()
	_, err = s.Preview(ctx, optpreview.EventStreams(ch))
	took := time.Since(start)
	var urns []string
	select {
	case urns = <-done:
	case <-time.After(10 * time.Second):
	}
	return urns, took, err
}

// OnlyBackend reports the changed URNs (from Changes) whose resource name does not name the
// backend (as a whole word of the name): what a change of that backend alone should not touch.
// The package's default provider is not counted: the engine hands it the project's whole
// `upstream-tls:` configuration (the configuration namespace is the package's name), so it
// shows an update on any configuration change, and changes no object.
func OnlyBackend(changed []string, backend string) []string {
	word := regexp.MustCompile(`(^|[^a-z0-9])` + regexp.QuoteMeta(backend) + `($|[^a-z0-9])`)
	var other []string
	for _, c := range changed {
		urn := c[strings.Index(c, " ")+1:]
		if strings.Contains(urn, "::pulumi:providers:upstream-tls::default") {
			continue
		}
		name := urn[strings.LastIndex(urn, "::")+2:]
		if !word.MatchString(name) {
			other = append(other, c)
		}
	}
	return other
}
