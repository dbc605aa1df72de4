// Command cluster starts, stops and reports the local Kubernetes control plane of
// internal/cluster. `make cluster` and `make down` call it through scripts/cluster.sh, which
// builds the binaries first.
//
//	cluster [-dir .state/cluster] [-bin DIR] [-ephemeral] start|stop|status|kubeconfig
//
// It is built as upstream-tls-cluster (cluster.HostBinary): a started cluster runs this same
// binary as its Envoy Gateway host (`envoy-gateway-host`, see cluster.RunEnvoyGatewayHost).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/upstream-tls/upstream-tls/internal/cluster"
)

func main() {
	dir := flag.String("dir", ".state/cluster", "the cluster's directory (PKI, data, logs, kubeconfig)")
	bin := flag.String("bin", "", "directory with etcd, kube-apiserver and kube-controller-manager")
	ephemeral := flag.Bool("ephemeral", false, "etcd without fsync (test clusters only)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: upstream-tls-cluster [flags] start|stop|status|kubeconfig")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch flag.Arg(0) {
	case "start":
		var self string
		if self, err = os.Executable(); err == nil {
			_, err = cluster.Start(ctx, cluster.Options{Dir: *dir, Bin: *bin, Host: self, Ephemeral: *ephemeral, Log: os.Stderr})
		}
	case "envoy-gateway-host":
		err = cluster.RunEnvoyGatewayHost(ctx, *dir, *bin, os.Stderr)
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
		fmt.Printf("%s: %d of %d processes running, API server %s, kubeconfig %s\n", *dir, n, cluster.ProcessCount(), st.Server, cluster.Kubeconfig(*dir))
		if cs, e := cluster.ReadControllerStatus(*dir); e == nil {
			fmt.Printf("envoy-gateway controller: %s", cs.State)
			if cs.Deployment != "" {
				fmt.Printf(" (Deployment %s", cs.Deployment)
				if cs.PID != 0 {
					fmt.Printf(", pid %d, ready %v", cs.PID, cs.Ready)
				}
				fmt.Print(")")
			}
			if cs.Reason != "" {
				fmt.Printf(": %s", cs.Reason)
			}
			fmt.Printf(" since %s\n", cs.Since)
		}
		if n != cluster.ProcessCount() {
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
