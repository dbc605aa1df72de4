// Package synth makes the synthetic stacks of `make bench` (N backends spread over the TLS
// modes) and measures planning one, engine-free (MeasurePlan, the process cmd/bench-plan runs).
// It imports the configuration reader and the plan and nothing of the engine, so that the plan
// tier's process weighs what planning weighs, not what the benchmark harness (internal/bench:
// the Automation API, the Kubernetes SDK) does.
package synth

import (
	"fmt"
	"runtime"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/plan"
)

// Modes are the TLS modes the synthetic backends cycle through, in this order.
var Modes = []string{"system", "ca", "insecure"}

// Namespaces is how many backend namespaces the synthetic backends are spread over.
const Namespaces = 10

// Backend is the configuration of synthetic backend i: mode Modes[i%3], in namespace
// apps-<i%10>, routed from the https listener by its own hostname; a system backend's workload
// serves an existing Secret, a ca backend's a certificate of a generated CA, an insecure one
// its own self-signed certificate (the dev stack's three backends, repeated).
func Backend(i int) map[string]any {
	name := fmt.Sprintf("b%d", i)
	b := map[string]any{
		"name":      name,
		"namespace": fmt.Sprintf("apps-%d", i%Namespaces),
		"route":     map[string]any{"hostnames": []any{name + ".dev.example.com"}, "listener": "https"},
	}
	switch mode := Modes[i%len(Modes)]; mode {
	case "system":
		b["deploy"] = map[string]any{"certificateSecret": name + "-tls"}
		b["tls"] = map[string]any{"mode": mode, "hostname": name + ".dev.example.com"}
	case "ca":
		b["tls"] = map[string]any{"mode": mode, "ca": map[string]any{"generate": true}}
	default:
		b["tls"] = map[string]any{"mode": mode}
	}
	return b
}

// StackConfig is a stack configuration file with n synthetic backends: base (a committed stack
// file, Pulumi.dev-render.yaml) with its backends replaced, rendering into renderDir. Its
// encryption salt is dropped: the engine writes a new one for the new stack.
func StackConfig(base []byte, n int, renderDir string) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("read the base stack file: %w", err)
	}
	cfg, ok := doc["config"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the base stack file has no config map")
	}
	if _, ok := cfg["upstream-tls:renderDir"]; !ok {
		return nil, fmt.Errorf("the base stack file does not render (no upstream-tls:renderDir)")
	}
	backends := make([]any, n)
	for i := range backends {
		backends[i] = Backend(i)
	}
	cfg["upstream-tls:backends"] = backends
	cfg["upstream-tls:renderDir"] = renderDir
	delete(doc, "encryptionsalt")
	return yaml.Marshal(doc)
}

// ChangeOne is cfg (a StackConfig) with backend i's route given a second hostname: the
// incremental change whose preview must touch that backend's objects only.
func ChangeOne(base []byte, n, i int, renderDir string) ([]byte, error) {
	raw, err := StackConfig(base, n, renderDir)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	b := doc["config"].(map[string]any)["upstream-tls:backends"].([]any)[i].(map[string]any)
	r := b["route"].(map[string]any)
	r["hostnames"] = append(r["hostnames"].([]any), fmt.Sprintf("%s-v2.dev.example.com", b["name"]))
	return yaml.Marshal(doc)
}

// PlanResult is one measured plan size: the median wall time of plan.Build, what one plan
// allocates, and the Go heap the finished plan holds.
type PlanResult struct {
	N           int
	Ms          float64 // median plan.Build, milliseconds
	AllocatedMB float64 // bytes allocated by one plan.Build (the garbage collector's work)
	HeapMB      float64 // the live heap one finished plan holds (after a collection)
	PeakMB      float64 // the measuring process's peak resident set (filled in by the caller)
}

// MeasurePlan plans the synthetic stack of n backends (base: a committed stack file,
// Pulumi.dev-render.yaml, read as `pulumi preview` reads a stack file) reps times after one
// warm-up build, and returns the median time and the memory figures of one build.
func MeasurePlan(base []byte, stackFile string, n, reps int) (PlanResult, error) {
	raw, err := StackConfig(base, n, "out/bench")
	if err != nil {
		return PlanResult{}, err
	}
	st, err := config.FromBytes(raw, stackFile)
	if err != nil {
		return PlanResult{}, fmt.Errorf("read the synthetic stack of %d backends: %w", n, err)
	}
	if _, err := plan.Build(st.Args); err != nil { // (warm-up)
		return PlanResult{}, fmt.Errorf("plan %d backends: %w", n, err)
	}
	r := PlanResult{N: n}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := plan.Build(st.Args)
	if err != nil {
		return PlanResult{}, err
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(p)
	r.AllocatedMB = float64(after.TotalAlloc-before.TotalAlloc) / (1 << 20)
	r.HeapMB = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
	var ms []float64
	for range max(reps, 1) {
		start := time.Now()
		if _, err := plan.Build(st.Args); err != nil {
			return PlanResult{}, err
		}
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
	}
	slices.Sort(ms)
	r.Ms = ms[len(ms)/2]
	if len(ms)%2 == 0 {
		r.Ms = (ms[len(ms)/2-1] + ms[len(ms)/2]) / 2
	}
	return r, nil
}

// ClusterStackConfig is StackConfig deploying into the local cluster whose kubeconfig file is
// kubeconfig, as Pulumi.dev.yaml deploys (upstream-tls:kubeconfig and nodelessCluster instead
// of renderDir). With kubeconfig "" it renders into renderDir instead, nodelessCluster still
// set: the very objects the cluster stack applies (the skipped readiness waits are
// annotations), which is what the anchor of the cluster tier registers.
func ClusterStackConfig(base []byte, n int, kubeconfig, renderDir string) ([]byte, error) {
	raw, err := StackConfig(base, n, renderDir)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	cfg := doc["config"].(map[string]any)
	cfg["upstream-tls:nodelessCluster"] = true
	if kubeconfig != "" {
		delete(cfg, "upstream-tls:renderDir")
		cfg["upstream-tls:kubeconfig"] = kubeconfig
	}
	return yaml.Marshal(doc)
}
