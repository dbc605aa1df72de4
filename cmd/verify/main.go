// Command verify is `make verify STACK=<stack>` (see verify.Stack). The Makefile builds the
// tools with scripts/tools.sh and passes their paths.
//
//	verify -stack dev -egctl <egctl-verify> -validator <kubectl-validate> -crds <dir>,<dir>
//
// It exits 1 on any schema violation, mismatch or bad status condition, and 2 when it cannot
// run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/verify"
)

func main() {
	stack := flag.String("stack", "dev", "stack name: reads Pulumi.<stack>.yaml")
	config := flag.String("config", "", "stack config file (default Pulumi.<stack>.yaml in the current directory)")
	egctl := flag.String("egctl", "", "egctl-verify binary (scripts/tools.sh egctl-verify)")
	validator := flag.String("validator", "", "kubectl-validate binary (scripts/tools.sh kubectl-validate)")
	crds := flag.String("crds", "", "comma-separated directories of the pinned CRDs (scripts/offline-inputs.sh)")
	flag.Parse()
	if *config == "" {
		*config = "Pulumi." + *stack + ".yaml"
	}
	if *egctl == "" || *validator == "" || *crds == "" {
		fmt.Fprintln(os.Stderr, "verify: -egctl, -validator and -crds are required (make verify passes them)")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ok, err := verify.Stack(ctx, *config, verify.Tools{Egctl: *egctl, Validator: *validator, CRDDirs: strings.Split(*crds, ",")}, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}
