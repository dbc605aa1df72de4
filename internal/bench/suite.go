package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/bench/synth"
	"github.com/upstream-tls/upstream-tls/internal/engine"
)

// Options configure Suite.
type Options struct {
	Root       string // the checkout (Pulumi.dev-render.yaml, out/offline)
	Work       string // scratch directory for the stacks (emptied first)
	Self       string // this benchmark's binary (for `anchor` and `changes` runs)
	PlanBin    string // cmd/bench-plan's binary, the plan tier's measured process
	PlanN      []int  // plan tier sizes
	PlanReps   int    // plan.Build repetitions per size (median)
	EngineN    []int  // engine tier sizes
	Rounds     int    // A B rounds per engine size
	Checkpoint bool   // also one first up per side at the smallest engine size ≥ 100 with checkpoints on
	// ClusterN are the cluster tier's sizes (none: the tier is skipped); ClusterBin holds the
	// local cluster's programs (scripts/tools.sh cluster) and ClusterHost is cmd/cluster's
	// binary. ClusterRounds are its A B rounds per size (each round starts two fresh
	// clusters; 0 means Rounds).
	ClusterN                []int
	ClusterRounds           int
	ClusterBin, ClusterHost string
	Log                     io.Writer
}

// PlanResult is one plan tier size (measured by cmd/bench-plan).
type PlanResult = synth.PlanResult

// Side is one side's medians at one engine size.
type Side struct {
	FirstUp, Preview, Up []float64 // seconds, one per round
	FirstUpMB, PreviewMB []float64
	StateMB              float64
	Resources            int
}

// EngineResult is one engine tier size: the component and the anchor.
type EngineResult struct {
	N                 int
	Objects           int // Kubernetes objects rendered
	Component, Anchor Side
}

// Incremental is the one-backend change at the largest engine size.
type Incremental struct {
	N       int
	Backend string
	Seconds float64
	Changed []string
	Other   []string // changed resources that are not the backend's
}

// CheckpointRun is a first up with the engine's checkpoints on.
type CheckpointRun struct {
	N                   int
	Component, Anchor   float64
	ComponentS, AnchorS float64 // the same with checkpoints skipped (medians of the rounds)
}

// Results is what Suite measured.
type Results struct {
	Started     time.Time
	Plan        []PlanResult
	Engine      []EngineResult
	Cluster     []EngineResult // the cluster tier
	Incremental *Incremental
	Checkpoints *CheckpointRun
	Took        time.Duration
}

func (o Options) logf(format string, a ...any) { fmt.Fprintf(o.Log, "bench: "+format+"\n", a...) }

// Suite runs the plan tier and the engine tier (component and anchor interleaved, A B A B).
func Suite(o Options) (*Results, error) {
	r := &Results{Started: time.Now()}
	base, err := os.ReadFile(filepath.Join(o.Root, "Pulumi.dev-render.yaml"))
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(o.Work); err != nil {
		return nil, err
	}
	for _, n := range o.PlanN {
		var out strings.Builder
		m, err := Exec(o.Root, nil, &out, o.PlanBin, "-n", fmt.Sprint(n), "-reps", fmt.Sprint(o.PlanReps), "-root", o.Root)
		if err != nil {
			return nil, err
		}
		var pr PlanResult
		if err := json.Unmarshal([]byte(lastLine(out.String())), &pr); err != nil {
			return nil, fmt.Errorf("plan -n %d: %w: %q", n, err, out.String())
		}
		pr.PeakMB = m.PeakMB
		r.Plan = append(r.Plan, pr)
		o.logf("plan n=%d: %.1f ms, peak %.0f MB (one plan allocates %.1f MB and holds %.1f MB)", n, pr.Ms, pr.PeakMB, pr.AllocatedMB, pr.HeapMB)
	}
	for _, n := range o.EngineN {
		er, err := o.engineSize(base, n)
		if err != nil {
			return nil, err
		}
		r.Engine = append(r.Engine, *er)
		if n == o.EngineN[len(o.EngineN)-1] {
			inc, err := o.incremental(base, n)
			if err != nil {
				return nil, err
			}
			r.Incremental = inc
		}
	}
	for _, n := range o.ClusterN {
		er, err := o.clusterSize(base, n)
		if err != nil {
			return nil, err
		}
		r.Cluster = append(r.Cluster, *er)
	}
	if o.Checkpoint {
		for _, er := range r.Engine {
			if er.N < 100 {
				continue
			}
			c, err := o.checkpoints(base, er)
			if err != nil {
				return nil, err
			}
			r.Checkpoints = c
			break
		}
	}
	r.Took = time.Since(r.Started)
	return r, nil
}

// side is one side's workspace at one size.
type side struct {
	dir, stack, render string
	anchor             bool
	kubeconfig         string // the anchor's cluster (the cluster tier); "" renders
}

func (s side) env(skip bool) []string {
	return []string{"PULUMI_BACKEND_URL=file://" + filepath.Join(s.dir, "state"), "PULUMI_CONFIG_PASSPHRASE=" + Passphrase,
		fmt.Sprintf("%s=%t", engine.SkipCheckpoints, skip)}
}

func (s side) reset() error {
	for _, d := range []string{"state", "rendered"} {
		if err := os.RemoveAll(filepath.Join(s.dir, d)); err != nil {
			return err
		}
	}
	return os.MkdirAll(filepath.Join(s.dir, "state"), 0o755)
}

func (s side) stateMB() (float64, int, error) {
	project := "upstream-tls"
	if s.anchor {
		project = AnchorProject
	}
	f := filepath.Join(s.dir, "state", ".pulumi", "stacks", project, s.stack+".json")
	b, err := os.ReadFile(f)
	if err != nil {
		return 0, 0, err
	}
	return float64(len(b)) / 1e6, strings.Count(string(b), `"urn":`), nil
}

// run is one engine action of a side: up or preview.
func (o Options) run(s side, action string, skip bool) (Measure, error) {
	if s.anchor {
		args := []string{"anchor", "-dir", s.dir, "-stack", s.stack, "-manifests", filepath.Join(s.dir, "manifests")}
		if s.kubeconfig != "" {
			args = append(args, "-kubeconfig", s.kubeconfig)
		} else {
			args = append(args, "-render", filepath.Join(s.dir, "rendered"))
		}
		if action == "preview" {
			args = append(args, "-preview")
		}
		return Exec(s.dir, s.env(skip), io.Discard, o.Self, args...)
	}
	args := []string{"-stack", s.stack, "-dir", s.dir, "-root", o.Root}
	if action == "preview" {
		args = append(args, "-preview", "-expect-no-changes")
	}
	return Exec(s.dir, s.env(skip), io.Discard, "upstream-tls-up", args...)
}

func (o Options) workspaces(base []byte, n int, tag string) (side, side, error) {
	stack := fmt.Sprintf("bench%d", n)
	comp := side{dir: filepath.Join(o.Work, fmt.Sprintf("n%d%s", n, tag), "component"), stack: stack}
	anch := side{dir: filepath.Join(o.Work, fmt.Sprintf("n%d%s", n, tag), "anchor"), stack: stack, anchor: true}
	for _, s := range []side{comp, anch} {
		s.render = filepath.Join(s.dir, "rendered")
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return side{}, side{}, err
		}
	}
	cfg, err := synth.StackConfig(base, n, filepath.Join(comp.dir, "rendered"))
	if err != nil {
		return side{}, side{}, err
	}
	if err := os.WriteFile(filepath.Join(comp.dir, "Pulumi."+stack+".yaml"), cfg, 0o644); err != nil {
		return side{}, side{}, err
	}
	// The project file of the component's workspace: the inline program needs no main.
	if err := os.WriteFile(filepath.Join(comp.dir, "Pulumi.yaml"), []byte("name: upstream-tls\nruntime: go\n"), 0o644); err != nil {
		return side{}, side{}, err
	}
	return comp, anch, nil
}

func (o Options) engineSize(base []byte, n int) (*EngineResult, error) {
	comp, anch, err := o.workspaces(base, n, "")
	if err != nil {
		return nil, err
	}
	er := &EngineResult{N: n}
	for round := 0; round < o.Rounds; round++ {
		for _, s := range []side{comp, anch} {
			res := &er.Component
			if s.anchor {
				res = &er.Anchor
			}
			if err := s.reset(); err != nil {
				return nil, err
			}
			first, err := o.run(s, "up", true)
			if err != nil {
				return nil, fmt.Errorf("n=%d round %d first up: %w", n, round, err)
			}
			if !s.anchor && round == 0 {
				// The anchor registers the very objects this first up rendered.
				if err := copyTree(filepath.Join(s.dir, "rendered"), filepath.Join(anch.dir, "manifests")); err != nil {
					return nil, err
				}
				files, err := Manifests(filepath.Join(anch.dir, "manifests"))
				if err != nil {
					return nil, err
				}
				er.Objects = len(files)
			}
			mb, resources, err := s.stateMB()
			if err != nil {
				return nil, err
			}
			prev, err := o.run(s, "preview", true)
			if err != nil {
				return nil, fmt.Errorf("n=%d round %d no-change preview: %w", n, round, err)
			}
			up, err := o.run(s, "up", true)
			if err != nil {
				return nil, fmt.Errorf("n=%d round %d no-change up: %w", n, round, err)
			}
			res.FirstUp, res.Preview, res.Up = append(res.FirstUp, first.Seconds), append(res.Preview, prev.Seconds), append(res.Up, up.Seconds)
			res.FirstUpMB, res.PreviewMB = append(res.FirstUpMB, first.PeakMB), append(res.PreviewMB, prev.PeakMB)
			res.StateMB, res.Resources = mb, resources
			who := "component"
			if s.anchor {
				who = "anchor"
			}
			o.logf("n=%d round %d %s: first up %.1f s (peak %.0f MB), preview %.1f s, up %.1f s, state %.2f MB, %d resources",
				n, round+1, who, first.Seconds, first.PeakMB, prev.Seconds, up.Seconds, mb, resources)
		}
	}
	return er, nil
}

// incremental changes one backend of the component's n-backend stack (deployed by the last
// round) and previews it.
func (o Options) incremental(base []byte, n int) (*Incremental, error) {
	comp, _, err := o.workspaces(base, n, "")
	if err != nil {
		return nil, err
	}
	const i = 1
	cfg, err := synth.ChangeOne(base, n, i, filepath.Join(comp.dir, "rendered"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(comp.dir, "Pulumi."+comp.stack+".yaml"), cfg, 0o644); err != nil {
		return nil, err
	}
	var out strings.Builder
	if _, err := Exec(comp.dir, comp.env(true), &out, o.Self, "changes", "-dir", comp.dir, "-stack", comp.stack, "-root", o.Root); err != nil {
		return nil, err
	}
	var inc Incremental
	if err := json.Unmarshal([]byte(lastLine(out.String())), &inc); err != nil {
		return nil, fmt.Errorf("changes: %w: %q", err, lastLine(out.String()))
	}
	inc.N, inc.Backend = n, fmt.Sprintf("b%d", i)
	inc.Other = OnlyBackend(inc.Changed, inc.Backend)
	o.logf("n=%d, backend %s given a second hostname: preview %.1f s, %d resources change, %d of them not the backend's", n, inc.Backend, inc.Seconds, len(inc.Changed), len(inc.Other))
	return &inc, nil
}

// checkpoints is one first up per side with the engine's checkpoints on (what every step
// costs on a file backend without the render-mode default).
func (o Options) checkpoints(base []byte, er EngineResult) (*CheckpointRun, error) {
	comp, anch, err := o.workspaces(base, er.N, "-checkpoints")
	if err != nil {
		return nil, err
	}
	if err := copyTree(filepath.Join(o.Work, fmt.Sprintf("n%d", er.N), "anchor", "manifests"), filepath.Join(anch.dir, "manifests")); err != nil {
		return nil, err
	}
	c := &CheckpointRun{N: er.N, ComponentS: Median(er.Component.FirstUp), AnchorS: Median(er.Anchor.FirstUp)}
	for _, s := range []side{comp, anch} {
		if err := s.reset(); err != nil {
			return nil, err
		}
		m, err := o.run(s, "up", false)
		if err != nil {
			return nil, err
		}
		if s.anchor {
			c.Anchor = m.Seconds
		} else {
			c.Component = m.Seconds
		}
		o.logf("n=%d first up with checkpoints (anchor %t): %.1f s", er.N, s.anchor, m.Seconds)
	}
	return c, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

func copyTree(from, to string) error {
	if err := os.RemoveAll(to); err != nil {
		return err
	}
	return filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}
