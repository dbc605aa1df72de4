// Command bench is `make bench` (scripts/bench.sh sets up the offline toolchain first): the plan
// tier and the engine tier on synthetic stacks of N backends, the component against the anchor
// (internal/bench). It writes the measured tables into bench/RESULTS.md (between the markers)
// and ends with the key=value lines. Never part of make test.
//
//	bench [-plan-n 10,100,1000,5000] [-engine-n 10,100,500] [-cluster-n 10,100] [-cluster-rounds 1] [-rounds 3] [-checkpoints]
//
// Its subcommands are measured processes: `anchor` (an anchor stack's up or preview) and
// `changes` (a component preview listing what changes); the plan tier's process is
// cmd/bench-plan (-plan-bin, default upstream-tls-bench-plan beside this binary).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/bench"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "anchor":
			exit(anchor(os.Args[2:]))
			return
		case "changes":
			exit(changes(os.Args[2:]))
			return
		}
	}
	exit(suite())
}

func exit(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a list of positive integers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func suite() error {
	planN := flag.String("plan-n", "10,100,1000,5000", "plan tier sizes")
	engineN := flag.String("engine-n", "10,100,500", "engine tier sizes")
	rounds := flag.Int("rounds", 3, "A B rounds per engine size")
	reps := flag.Int("reps", 5, "plan.Build repetitions per plan size")
	clusterN := flag.String("cluster-n", "10,100", "cluster tier sizes (the local cluster; \",\" skips the tier)")
	clusterRounds := flag.Int("cluster-rounds", 1, "A B rounds per cluster tier size (each round starts two fresh clusters; 0: -rounds)")
	clusterBin := flag.String("cluster-bin", os.Getenv("BENCH_CLUSTER_BIN"), "the local cluster's programs (scripts/tools.sh cluster; default $BENCH_CLUSTER_BIN); needed by the cluster tier")
	clusterHost := flag.String("cluster-host", os.Getenv("BENCH_CLUSTER_HOST"), "cmd/cluster's binary (default $BENCH_CLUSTER_HOST); needed by the cluster tier")
	checkpoints := flag.Bool("checkpoints", false, "also one first up per side with the engine's checkpoints on, at the first engine size >= 100 (slow: minutes)")
	results := flag.String("results", "bench/RESULTS.md", "file whose measured section is replaced")
	planBin := flag.String("plan-bin", "", "cmd/bench-plan's binary (default: upstream-tls-bench-plan beside this one)")
	work := flag.String("work", filepath.Join(os.TempDir(), "upstream-tls-bench"), "scratch directory (emptied)")
	flag.Parse()
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if *planBin == "" {
		*planBin = filepath.Join(filepath.Dir(self), "upstream-tls-bench-plan")
	}
	o := bench.Options{Root: root, Work: *work, Self: self, PlanBin: *planBin, PlanReps: *reps, Rounds: *rounds, Checkpoint: *checkpoints, Log: os.Stderr}
	if o.PlanN, err = ints(*planN); err != nil {
		return fmt.Errorf("-plan-n: %w", err)
	}
	if o.EngineN, err = ints(*engineN); err != nil {
		return fmt.Errorf("-engine-n: %w", err)
	}
	if o.ClusterN, err = ints(*clusterN); err != nil {
		return fmt.Errorf("-cluster-n: %w", err)
	}
	if len(o.ClusterN) > 0 && (*clusterBin == "" || *clusterHost == "") {
		return fmt.Errorf("the cluster tier needs -cluster-bin and -cluster-host (scripts/bench.sh passes them), or -cluster-n , to skip it")
	}
	o.ClusterBin, o.ClusterHost, o.ClusterRounds = *clusterBin, *clusterHost, *clusterRounds
	machine := bench.Machine(root) // (before the run: the commit measured)
	r, err := bench.Suite(o)
	if err != nil {
		return err
	}
	blocks := r.Markdown(machine, "make bench "+strings.Join(os.Args[1:], " "), *rounds)
	if err := replaceMeasured(*results, blocks); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s in %s\n", *results, r.Took.Round(time.Second))
	fmt.Print(r.Lines())
	return nil
}

// replaceMeasured replaces, in file, each block a run measured (blocks: name → markdown) between
// its markers `<!-- measured NAME: begin -->` and `<!-- measured NAME: end -->`, appending the
// blocks the file lacks; the prose around them and the blocks of tiers not run stay.
func replaceMeasured(file string, blocks map[string]string) error {
	raw, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		raw = []byte("# Benchmarks\n")
	} else if err != nil {
		return err
	}
	s := string(raw)
	for _, name := range []string{"plan", "engine", "cluster"} {
		md, ok := blocks[name]
		if !ok {
			continue
		}
		begin, end := "<!-- measured "+name+": begin (make bench rewrites this part) -->", "<!-- measured "+name+": end -->"
		b, e := strings.Index(s, begin), strings.Index(s, end)
		if b < 0 || e < b {
			s += "\n" + begin + "\n" + end + "\n"
			b, e = strings.Index(s, begin), strings.Index(s, end)
		}
		s = s[:b+len(begin)] + "\n" + md + s[e:]
	}
	return os.WriteFile(file, []byte(s), 0o644)
}

func anchor(args []string) error {
	fs := flag.NewFlagSet("anchor", flag.ExitOnError)
	dir := fs.String("dir", "", "workspace")
	stack := fs.String("stack", "", "stack")
	manifests := fs.String("manifests", "", "rendered manifests to register")
	render := fs.String("render", "", "render directory")
	kubeconfig := fs.String("kubeconfig", "", "the cluster to deploy into, instead of a render directory")
	preview := fs.Bool("preview", false, "preview instead of up")
	_ = fs.Parse(args)
	files, err := bench.Manifests(*manifests)
	if err != nil {
		return err
	}
	return bench.RunAnchor(context.Background(), *dir, *stack, files, bench.Target{RenderDir: *render, Kubeconfig: *kubeconfig}, *preview, os.Stderr)
}

func changes(args []string) error {
	fs := flag.NewFlagSet("changes", flag.ExitOnError)
	dir := fs.String("dir", "", "workspace")
	stack := fs.String("stack", "", "stack")
	root := fs.String("root", ".", "checkout")
	_ = fs.Parse(args)
	urns, took, err := bench.Changes(context.Background(), *dir, *root, *stack)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(bench.Incremental{Seconds: took.Seconds(), Changed: urns})
}
