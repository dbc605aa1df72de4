package bench

import (
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Machine describes where the benchmark ran: cores, memory, kernel, Go, the pulumi CLI and the
// commit.
func Machine(root string) string {
	var b strings.Builder
	mem := "?"
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		fmt.Sscanf(string(raw), "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf("%.0f GiB", float64(kb)/1024/1024)
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Fprintf(&b, "- machine: %d cores, %s memory, Linux %s, %s\n", runtime.NumCPU(), mem, strings.TrimSpace(string(kernel)), runtime.Version())
	if v, err := exec.Command("pulumi", "version").Output(); err == nil {
		fmt.Fprintf(&b, "- pulumi CLI %s (the engine), the Kubernetes provider plugin of tools/versions.env\n", strings.TrimSpace(string(v)))
	}
	if c, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		dirty := ""
		if s, _ := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); len(s) > 0 {
			dirty = " (with uncommitted changes)"
		}
		fmt.Fprintf(&b, "- commit %s%s\n", strings.TrimSpace(string(c)), dirty)
	}
	return b.String()
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// PlanExponent is the plan tier's growth exponent over its sizes.
func (r *Results) PlanExponent() float64 {
	var n, ms []float64
	for _, p := range r.Plan {
		n, ms = append(n, float64(p.N)), append(ms, p.Ms)
	}
	return GrowthExponent(n, ms)
}

// FirstUpExponent is the component's first-up growth exponent between the engine sizes ≥ 100.
func (r *Results) FirstUpExponent() float64 {
	var n, s []float64
	for _, e := range r.Engine {
		if e.N >= 100 {
			n, s = append(n, float64(e.N)), append(s, Median(e.Component.FirstUp))
		}
	}
	return GrowthExponent(n, s)
}

func (r *Results) engine(n int) *EngineResult {
	for i := range r.Engine {
		if r.Engine[i].N == n {
			return &r.Engine[i]
		}
	}
	return nil
}

func (r *Results) plan(n int) *PlanResult {
	for i := range r.Plan {
		if r.Plan[i].N == n {
			return &r.Plan[i]
		}
	}
	return nil
}

// Lines are the last lines `make bench` prints (key=value, NaN where a size was not run).
func (r *Results) Lines() string {
	nan := math.NaN()
	pl := func(f func(*PlanResult) float64) float64 {
		if p := r.plan(1000); p != nil {
			return f(p)
		}
		return nan
	}
	en := func(n int, f func(*EngineResult) float64) float64 {
		if e := r.engine(n); e != nil {
			return f(e)
		}
		return nan
	}
	first := func(e *EngineResult) float64 { return Median(e.Component.FirstUp) }
	var b strings.Builder
	fmt.Fprintf(&b, "plan_ms_n1000=%s\n", integer(pl(func(p *PlanResult) float64 { return p.Ms })))
	fmt.Fprintf(&b, "plan_peak_mb_n1000=%s\n", integer(pl(func(p *PlanResult) float64 { return p.PeakMB })))
	fmt.Fprintf(&b, "plan_growth_exponent=%.2f\n", r.PlanExponent())
	fmt.Fprintf(&b, "first_up_s_n100=%.1f\n", en(100, first))
	fmt.Fprintf(&b, "first_up_s_n500=%.1f\n", en(500, first))
	fmt.Fprintf(&b, "ratio_first_up_n100=%.2f\n", en(100, func(e *EngineResult) float64 { return ratio(Median(e.Component.FirstUp), Median(e.Anchor.FirstUp)) }))
	fmt.Fprintf(&b, "ratio_preview_n100=%.2f\n", en(100, func(e *EngineResult) float64 { return ratio(Median(e.Component.Preview), Median(e.Anchor.Preview)) }))
	fmt.Fprintf(&b, "ratio_up_n100=%.2f\n", en(100, func(e *EngineResult) float64 { return ratio(Median(e.Component.Up), Median(e.Anchor.Up)) }))
	fmt.Fprintf(&b, "state_mb_n100=%.2f\n", en(100, func(e *EngineResult) float64 { return e.Component.StateMB }))
	return b.String()
}

// Markdown is the measured tables of r by tier ("plan", "engine": the tiers it ran).
func (r *Results) Markdown(machine, command string, rounds int) map[string]string {
	out := map[string]string{}
	head := fmt.Sprintf("Measured %s (`%s`, %s)\n\n%s\n", r.Started.UTC().Format("2006-01-02 15:04 UTC"), command, r.Took.Round(1e9), machine)
	if len(r.Plan) > 0 {
		var b strings.Builder
		b.WriteString(head)
		r.planMarkdown(&b)
		out["plan"] = b.String()
	}
	if len(r.Engine) > 0 {
		var b strings.Builder
		b.WriteString(head)
		r.engineMarkdown(&b, rounds)
		fmt.Fprintf(&b, "\n```\n%s```\n", r.Lines())
		out["engine"] = b.String()
	}
	if len(r.Cluster) > 0 {
		var b strings.Builder
		b.WriteString(head)
		r.clusterMarkdown(&b)
		out["cluster"] = b.String()
	}
	return out
}

func (r *Results) planMarkdown(w io.Writer) {
	fmt.Fprintf(w, "### Plan (engine-free: `plan.Build` in `cmd/bench-plan`, median of the repetitions; peak = that process's maximum resident set, reading the stack file included; allocated = by one plan; held = the live heap of one finished plan)\n\n| backends | plan | peak memory | allocated | held |\n|---:|---:|---:|---:|---:|\n")
	for _, p := range r.Plan {
		fmt.Fprintf(w, "| %d | %.1f ms | %.0f MB | %.1f MB | %.1f MB |\n", p.N, p.Ms, p.PeakMB, p.AllocatedMB, p.HeapMB)
	}
	fmt.Fprintf(w, "\nGrowth exponent (least-squares slope of log time over log N): **%.2f**\n", r.PlanExponent())
}

func (r *Results) engineMarkdown(w io.Writer, rounds int) {
	fmt.Fprintf(w, "### Engine, render mode (medians of %d rounds, the component (A) and the anchor (B) interleaved A B A B; both with the state written once per run, `PULUMI_SKIP_CHECKPOINTS=true`, the render-mode default of `make up`)\n\n", rounds)
	fmt.Fprintf(w, "The anchor registers the very objects the component's first up rendered, without the component, through one `yaml/v2` ConfigGroup on a Kubernetes provider configured alike. Peak = the largest resident set of the run's process tree (the engine, the program, the plugins).\n\n")
	sideBySide(w, r.Engine)
	fmt.Fprintf(w, "\nFirst-up growth exponent of the component between the sizes ≥ 100: **%.2f**\n\nEvery round's figures (seconds):\n\n", r.FirstUpExponent())
	everyRound(w, r.Engine)
	if inc := r.Incremental; inc != nil {
		fmt.Fprintf(w, "\n### Incremental (n=%d, backend %s given a second route hostname)\n\nPreview: %.1f s; %d resources change, %d of them not %s's:\n\n", inc.N, inc.Backend, inc.Seconds, len(inc.Changed), len(inc.Other), inc.Backend)
		for _, c := range inc.Changed {
			fmt.Fprintf(w, "- `%s`\n", c)
		}
	}
	if c := r.Checkpoints; c != nil {
		fmt.Fprintf(w, "\n### First up with the engine's checkpoints on (n=%d, one run each)\n\n| | checkpoints on | state written once | |\n|---|---:|---:|---:|\n| component | %.1f s | %.1f s | %.0f× |\n| anchor | %.1f s | %.1f s | %.0f× |\n| ratio | %.2f | %.2f | |\n",
			c.N, c.Component, c.ComponentS, ratio(c.Component, c.ComponentS), c.Anchor, c.AnchorS, ratio(c.Anchor, c.AnchorS), ratio(c.Component, c.Anchor), ratio(c.ComponentS, c.AnchorS))
	}
}

func (r *Results) clusterMarkdown(w io.Writer) {
	rounds := len(r.Cluster[0].Component.FirstUp)
	fmt.Fprintf(w, "### Engine, the local cluster (medians of %d round(s), the component (A) and the anchor (B) interleaved A B A B, each run on a fresh local cluster of its own)\n\n", rounds)
	fmt.Fprintf(w, "The stacks are Pulumi.dev.yaml's settings (`nodelessCluster`) with the synthetic backends. The first up writes the state once (`PULUMI_SKIP_CHECKPOINTS=true`, as the README advises for a first deploy of many backends); the no-change preview and up keep `make up`'s default against a cluster (checkpoints on). Both sides wait for Envoy Gateway's verdict on every route. Each measured run starts once the machine is at least 80%% idle over 2 s (at most 90 s; the log says how long). The anchor registers the very objects the same configuration renders through one `yaml/v2` ConfigGroup with the same kubeconfig. Peak = the largest resident set of the run's process tree (the engine, the program, the plugins; not the cluster's processes).\n\n")
	sideBySide(w, r.Cluster)
	fmt.Fprintf(w, "\nEvery round's figures (seconds):\n\n")
	everyRound(w, r.Cluster)
}

// sideBySide is the table of the component against the anchor at every size of es.
func sideBySide(w io.Writer, es []EngineResult) {
	fmt.Fprintf(w, "| backends (objects) | | first up | no-change preview | no-change up | first up peak | state | resources |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, e := range es {
		c, a := e.Component, e.Anchor
		fmt.Fprintf(w, "| %d (%d) | component | %.1f s | %.1f s | %.1f s | %.0f MB | %.2f MB | %d |\n", e.N, e.Objects, Median(c.FirstUp), Median(c.Preview), Median(c.Up), Median(c.FirstUpMB), c.StateMB, c.Resources)
		fmt.Fprintf(w, "| | anchor | %.1f s | %.1f s | %.1f s | %.0f MB | %.2f MB | %d |\n", Median(a.FirstUp), Median(a.Preview), Median(a.Up), Median(a.FirstUpMB), a.StateMB, a.Resources)
		fmt.Fprintf(w, "| | **ratio** | **%.2f** | **%.2f** | **%.2f** | %.2f | **%.2f** | %.2f |\n", ratio(Median(c.FirstUp), Median(a.FirstUp)), ratio(Median(c.Preview), Median(a.Preview)), ratio(Median(c.Up), Median(a.Up)),
			ratio(Median(c.FirstUpMB), Median(a.FirstUpMB)), ratio(c.StateMB, a.StateMB), ratio(float64(c.Resources), float64(a.Resources)))
	}
}

// everyRound lists every round's figures of es.
func everyRound(w io.Writer, es []EngineResult) {
	for _, e := range es {
		fmt.Fprintf(w, "- n=%d component first up %v, preview %v, up %v; anchor first up %v, preview %v, up %v\n", e.N, rounded(e.Component.FirstUp), rounded(e.Component.Preview), rounded(e.Component.Up), rounded(e.Anchor.FirstUp), rounded(e.Anchor.Preview), rounded(e.Anchor.Up))
	}
}

// integer prints x rounded, or NaN.
func integer(x float64) string {
	if math.IsNaN(x) {
		return "NaN"
	}
	return fmt.Sprint(int(math.Round(x)))
}

func rounded(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = math.Round(x*10) / 10
	}
	return out
}
