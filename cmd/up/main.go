// Command up runs the upstream-tls stack program through the real Pulumi engine with the
// Automation API: the program (infra/program) is served in-process, the pinned `pulumi` CLI on
// PATH drives the engine and the provider plugins. `make up` calls it through scripts/up.sh,
// which builds the toolchain and sets the offline environment first.
//
//	up [-stack dev] [-dir .] [-preview|-destroy] [-expect-no-changes]
//
// The workspace directory (-dir) holds Pulumi.yaml and Pulumi.<stack>.yaml; the state backend
// and the secrets passphrase come from PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/upstream-tls/upstream-tls/components/stackconfig"
	"github.com/upstream-tls/upstream-tls/infra/program"
)

func main() {
	stackName := flag.String("stack", "dev", "stack name; its config is Pulumi.<stack>.yaml in -dir")
	dir := flag.String("dir", ".", "workspace directory holding Pulumi.yaml and the stack config")
	preview := flag.Bool("preview", false, "preview instead of update")
	destroy := flag.Bool("destroy", false, "destroy the stack's resources")
	expectNoChanges := flag.Bool("expect-no-changes", false, "fail if the update or preview would change anything")
	flag.Parse()
	if err := run(context.Background(), *stackName, *dir, *preview, *destroy, *expectNoChanges); err != nil {
		fmt.Fprintln(os.Stderr, "up:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, stackName, dir string, preview, destroy, expectNoChanges bool) error {
	stack, err := auto.UpsertStackInlineSource(ctx, stackName, stackconfig.Namespace, program.Run, auto.WorkDir(dir))
	if err != nil {
		return fmt.Errorf("select stack %s: %w", stackName, err)
	}
	switch {
	case destroy:
		_, err := stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout), optdestroy.ErrorProgressStreams(os.Stderr))
		return err
	case preview:
		opts := []optpreview.Option{optpreview.ProgressStreams(os.Stdout), optpreview.ErrorProgressStreams(os.Stderr)}
		if expectNoChanges {
			opts = append(opts, optpreview.ExpectNoChanges())
		}
		_, err := stack.Preview(ctx, opts...)
		return err
	}
	opts := []optup.Option{optup.ProgressStreams(os.Stdout), optup.ErrorProgressStreams(os.Stderr)}
	if expectNoChanges {
		opts = append(opts, optup.ExpectNoChanges())
	}
	res, err := stack.Up(ctx, opts...)
	if err != nil {
		return err
	}
	if posture, ok := res.Outputs["posture"]; ok {
		fmt.Printf("\nUpstream TLS posture (%s):\n%v", stackName, posture.Value)
	}
	return nil
}
