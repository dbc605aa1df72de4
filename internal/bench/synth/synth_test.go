package synth

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

// synthetic reads the synthetic stack of raw as `pulumi preview` reads a stack file.
func synthetic(tb testing.TB, raw []byte) config.Stack {
	tb.Helper()
	st, err := config.FromBytes(raw, filepath.Join(testutil.MustRepoRoot(), "Pulumi.bench.yaml"))
	if err != nil {
		tb.Fatalf("%v\n%s", err, raw)
	}
	return st
}

func baseStack(tb testing.TB) []byte {
	tb.Helper()
	base, err := os.ReadFile(filepath.Join(testutil.MustRepoRoot(), "Pulumi.dev-render.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	return base
}

// TestMeasurePlan: the plan tier's measurement plans the synthetic stack and reports every
// figure (a plan of 30 backends allocates and holds some memory and takes some time).
func TestMeasurePlan(t *testing.T) {
	r, err := MeasurePlan(baseStack(t), filepath.Join(testutil.MustRepoRoot(), "Pulumi.bench.yaml"), 30, 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 30 || r.Ms <= 0 || r.AllocatedMB <= 0 || r.HeapMB <= 0 {
		t.Errorf("MeasurePlan(30 backends) = %+v, want N 30 and positive figures", r)
	}
}

// TestSyntheticStacksPlan: the synthetic stacks the benchmark deploys are valid configurations
// (read as pulumi preview reads them, planned), with n backends over the three modes, and the
// incremental change touches the one backend's route only.
func TestSyntheticStacksPlan(t *testing.T) {
	base := baseStack(t)
	for _, n := range []int{1, 30} {
		raw, err := StackConfig(base, n, "out/bench")
		if err != nil {
			t.Fatal(err)
		}
		st := synthetic(t, raw)
		p, err := plan.Build(st.Args)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if got := len(p.Args.Backends); got != n {
			t.Errorf("n=%d: %d backends planned", n, got)
		}
		modes := map[string]int{}
		for _, b := range p.Args.Backends {
			modes[string(b.TLS.Mode)]++
		}
		if n == 30 && (modes["system"] != 10 || modes["ca"] != 10 || modes["insecure"] != 10) {
			t.Errorf("n=30: modes %v, want 10 of each", modes)
		}
	}
	raw, err := ChangeOne(base, 5, 1, "out/bench")
	if err != nil {
		t.Fatal(err)
	}
	st := synthetic(t, raw)
	if h := st.Args.Backends[1].Route.Hostnames; len(h) != 2 || h[1] != "b1-v2.dev.example.com" {
		t.Errorf("ChangeOne: backend 1 hostnames %v", h)
	}
	if h := st.Args.Backends[2].Route.Hostnames; len(h) != 1 {
		t.Errorf("ChangeOne changed backend 2: %v", h)
	}
}

// BenchmarkPlan1000 is plan.Build of 1000 synthetic backends (go test -bench Plan1000
// -cpuprofile …: where the plan spends its time; make bench times it per size). Besides the
// wall time it reports cpu-ms/op, the process's CPU time (user and system, the garbage
// collector's workers included) per plan: the figure to compare two versions by on a machine
// that is busy with something else, where the wall time is not.
func BenchmarkPlan1000(b *testing.B) {
	raw, err := StackConfig(baseStack(b), 1000, "out/bench")
	if err != nil {
		b.Fatal(err)
	}
	st := synthetic(b, raw)
	before := cpuTime(b)
	for b.Loop() {
		if _, err := plan.Build(st.Args); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime(b)-before).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// cpuTime is the process's CPU time so far (user and system).
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestParallelPlanIsTheSequentialPlan: a plan large enough to be split over goroutines
// (core.Parallel) is exactly the plan made on one: the same backends in the same order, the
// same objects, certificates and postures. Under the race detector (go test -race -run
// '^TestParallel' ./internal/plan/core ./internal/bench/synth) it also fails if a backend's
// planning writes anything shared; make test does not run that (its race-instrumented build of
// the Kubernetes API packages adds 4 minutes to a cold CI run).
func TestParallelPlanIsTheSequentialPlan(t *testing.T) {
	raw, err := StackConfig(baseStack(t), 300, "out/bench")
	if err != nil {
		t.Fatal(err)
	}
	st := synthetic(t, raw)
	prev := runtime.GOMAXPROCS(1)
	now := plan.Options{Now: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)}
	sequential, err := plan.BuildWith(st.Args, now)
	runtime.GOMAXPROCS(max(prev, 4))
	defer runtime.GOMAXPROCS(prev)
	if err != nil {
		t.Fatal(err)
	}
	parallel, err := plan.BuildWith(st.Args, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(parallel.Envoy.Backends) != 300 {
		t.Fatalf("%d backends planned, want 300", len(parallel.Envoy.Backends))
	}
	for i := range sequential.Envoy.Backends {
		s, p := sequential.Envoy.Backends[i], parallel.Envoy.Backends[i]
		if !reflect.DeepEqual(s, p) {
			t.Fatalf("backend %d (%s) planned on 4 goroutines differs from the plan on one:\n%+v\n%+v", i, s.Name, p.Posture, s.Posture)
		}
	}
	if !reflect.DeepEqual(sequential, parallel) {
		t.Error("the plan on 4 goroutines differs from the plan on one outside the backends")
	}
}
