// Command cluster starts, stops and reports the local Kubernetes control plane of
// internal/cluster. `make cluster` and `make down` call it through scripts/cluster.sh, which
// builds the binaries first.
//
//	cluster [-dir .state/cluster] [-bin DIR] [-ephemeral] start|stop|status|kubeconfig
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/upstream-tls/upstream-tls/internal/cluster"
)

func main() {
	dir := flag.String("dir", ".state/cluster", "the cluster's directory (PKI, data, logs, kubeconfig)")
	bin := flag.String("bin", "", "directory with etcd, kube-apiserver and kube-controller-manager")
	ephemeral := flag.Bool("ephemeral", false, "etcd without fsync (test clusters only)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: cluster [flags] start|stop|status|kubeconfig")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch flag.Arg(0) {
	case "start":
		_, err = cluster.Start(ctx, cluster.Options{Dir: *dir, Bin: *bin, Ephemeral: *ephemeral, Log: os.Stderr})
	case "stop":
		if err = cluster.Stop(*dir); err == nil {
			fmt.Fprintf(os.Stderr, "cluster %s stopped (data kept; `make cluster` starts it again)\n", *dir)
		}
	case "status":
		st, n, e := cluster.Status(*dir)
		if e != nil {
			err = fmt.Errorf("no cluster in %s: %w", *dir, e)
			break
		}
		fmt.Printf("%s: %d of 3 processes running, API server %s, kubeconfig %s\n", *dir, n, st.Server, cluster.Kubeconfig(*dir))
		if n != 3 {
			os.Exit(3)
		}
	case "kubeconfig":
		fmt.Println(cluster.Kubeconfig(*dir))
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
