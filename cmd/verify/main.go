// Command verify is `make verify STACK=<stack>` (see verify.Stack). The Makefile builds the
// tools with scripts/tools.sh and passes their paths.
//
//	verify -stack dev -egctl <egctl-verify> -cluster-bin <dir> -host <upstream-tls-cluster> -crds <dir>,<dir>
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
	clusterBin := flag.String("cluster-bin", "", "directory of the local cluster's tools (scripts/tools.sh cluster)")
	host := flag.String("host", "", "this checkout's cluster command, built as upstream-tls-cluster (go build -o <dir>/upstream-tls-cluster ./cmd/cluster)")
	kubeconfig := flag.String("kubeconfig", "", "the stack's cluster (default: the stack's kubeconfig key)")
	requireCluster := flag.Bool("require-cluster", false, "fail when the stack's cluster cannot be reached (default: report it as not checked)")
	live := flag.Bool("live", false, "also send a request through the local cluster's Envoy to every backend and check what it saw (make verify LIVE=1)")
	crds := flag.String("crds", "", "comma-separated directories of the pinned CRDs (scripts/offline-inputs.sh)")
	flag.Parse()
	if *config == "" {
		*config = "Pulumi." + *stack + ".yaml"
	}
	if *egctl == "" || *clusterBin == "" || *host == "" || *crds == "" {
		fmt.Fprintln(os.Stderr, "verify: -egctl, -cluster-bin, -host and -crds are required (make verify passes them)")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ok, err := verify.Stack(ctx, *config, verify.Tools{Egctl: *egctl, ClusterBin: *clusterBin, Host: *host, CRDDirs: strings.Split(*crds, ",")},
		verify.ClusterCheck{Kubeconfig: *kubeconfig, Required: *requireCluster || *live, Live: *live}, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}
