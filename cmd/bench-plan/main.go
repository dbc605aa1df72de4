// Command bench-plan is the plan tier's measured process (`make bench` runs it once per size):
// it plans the synthetic stack of -n backends (internal/bench/synth) -reps times after a
// warm-up and prints one JSON line, synth.PlanResult. It is a process of its own, importing the
// configuration reader and the plan only, so that its peak resident set is planning's, not the
// benchmark harness's.
//
//	bench-plan -n 1000 [-reps 5] [-root .]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/upstream-tls/upstream-tls/internal/bench/synth"
)

func main() {
	n := flag.Int("n", 100, "backends")
	reps := flag.Int("reps", 5, "timed repetitions (the median is reported)")
	root := flag.String("root", ".", "checkout holding Pulumi.dev-render.yaml")
	flag.Parse()
	base, err := os.ReadFile(filepath.Join(*root, "Pulumi.dev-render.yaml"))
	if err == nil {
		var r synth.PlanResult
		if r, err = synth.MeasurePlan(base, filepath.Join(*root, "Pulumi.bench.yaml"), *n, *reps); err == nil {
			err = json.NewEncoder(os.Stdout).Encode(r)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-plan:", err)
		os.Exit(1)
	}
}
