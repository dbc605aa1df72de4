package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/bench/synth"
	"github.com/upstream-tls/upstream-tls/internal/cluster"
)

// The cluster tier: the component and the anchor against the local cluster (make cluster: the
// real etcd, kube-apiserver, kube-controller-manager and Envoy Gateway controller, with the
// echo servers of the backends it can run), each run on a fresh cluster of its own, so that a
// first up is a first up. The stacks are Pulumi.dev.yaml's settings (nodelessCluster) with
// the synthetic backends; the first up writes the state once (PULUMI_SKIP_CHECKPOINTS=true, as
// the README tells a first deploy of many backends to), the no-change preview and up keep
// make up's default for a cluster (checkpoints on). The anchor registers the very objects the
// same configuration renders (nodelessCluster's annotations included) through one yaml/v2
// ConfigGroup on a provider with the same kubeconfig. Every route of both carries the
// component's pulumi.com/waitFor, so both wait for Envoy Gateway's verdicts alike.

// clusterStartTimeout bounds the start of one benchmark cluster.
const clusterStartTimeout = 3 * time.Minute

// clusterSize measures size n against the local cluster, o.ClusterRounds rounds A B.
func (o Options) clusterSize(base []byte, n int) (*EngineResult, error) {
	dir := filepath.Join(o.Work, fmt.Sprintf("cluster-n%d", n))
	clusterDir := filepath.Join(dir, "cluster")
	stack := fmt.Sprintf("bench%d", n)
	render := side{dir: filepath.Join(dir, "render"), stack: stack}
	comp := side{dir: filepath.Join(dir, "component"), stack: stack}
	anch := side{dir: filepath.Join(dir, "anchor"), stack: stack, anchor: true, kubeconfig: cluster.Kubeconfig(clusterDir)}
	for _, s := range []side{render, comp, anch} {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return nil, err
		}
	}
	write := func(s side, cfg []byte) error {
		if err := os.WriteFile(filepath.Join(s.dir, "Pulumi."+stack+".yaml"), cfg, 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(s.dir, "Pulumi.yaml"), []byte("name: upstream-tls\nruntime: go\n"), 0o644)
	}
	// The anchor's objects: the cluster configuration rendered.
	cfg, err := synth.ClusterStackConfig(base, n, "", filepath.Join(render.dir, "rendered"))
	if err != nil {
		return nil, err
	}
	if err := write(render, cfg); err != nil {
		return nil, err
	}
	if err := render.reset(); err != nil {
		return nil, err
	}
	if _, err := o.run(render, "up", true); err != nil {
		return nil, fmt.Errorf("cluster n=%d: render the anchor's objects: %w", n, err)
	}
	if err := copyTree(filepath.Join(render.dir, "rendered"), filepath.Join(anch.dir, "manifests")); err != nil {
		return nil, err
	}
	files, err := Manifests(filepath.Join(anch.dir, "manifests"))
	if err != nil {
		return nil, err
	}
	if cfg, err = synth.ClusterStackConfig(base, n, cluster.Kubeconfig(clusterDir), ""); err != nil {
		return nil, err
	}
	if err := write(comp, cfg); err != nil {
		return nil, err
	}

	er := &EngineResult{N: n, Objects: len(files)}
	rounds := o.ClusterRounds
	if rounds < 1 {
		rounds = o.Rounds
	}
	for round := 0; round < rounds; round++ {
		for _, s := range []side{comp, anch} {
			res, who := &er.Component, "component"
			if s.anchor {
				res, who = &er.Anchor, "anchor"
			}
			if err := s.reset(); err != nil {
				return nil, err
			}
			if err := o.onFreshCluster(clusterDir, func() error {
				label := fmt.Sprintf("cluster n=%d round %d %s", n, round+1, who)
				o.settle(label + ", before the first up")
				first, err := o.run(s, "up", true)
				if err != nil {
					return fmt.Errorf("first up: %w", err)
				}
				mb, resources, err := s.stateMB()
				if err != nil {
					return err
				}
				o.settle(label + ", before the no-change preview")
				prev, err := o.run(s, "preview", false)
				if err != nil {
					return fmt.Errorf("no-change preview: %w", err)
				}
				o.settle(label + ", before the no-change up")
				up, err := o.run(s, "up", false)
				if err != nil {
					return fmt.Errorf("no-change up: %w", err)
				}
				res.FirstUp, res.Preview, res.Up = append(res.FirstUp, first.Seconds), append(res.Preview, prev.Seconds), append(res.Up, up.Seconds)
				res.FirstUpMB, res.PreviewMB = append(res.FirstUpMB, first.PeakMB), append(res.PreviewMB, prev.PeakMB)
				res.StateMB, res.Resources = mb, resources
				o.logf("%s: first up %.1f s (peak %.0f MB), preview %.1f s, up %.1f s, state %.2f MB, %d resources",
					label, first.Seconds, first.PeakMB, prev.Seconds, up.Seconds, mb, resources)
				return nil
			}); err != nil {
				return nil, fmt.Errorf("cluster n=%d round %d %s: %w", n, round+1, who, err)
			}
		}
	}
	return er, nil
}

// onFreshCluster starts an empty, ephemeral local cluster in dir (its etcd does not fsync: a
// benchmark cluster is thrown away), runs f, and stops and removes the cluster.
func (o Options) onFreshCluster(dir string, f func() error) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterStartTimeout)
	defer cancel()
	if _, err := cluster.Start(ctx, cluster.Options{Dir: dir, Bin: o.ClusterBin, Host: o.ClusterHost, Ephemeral: true}); err != nil {
		_ = cluster.Stop(dir)
		return fmt.Errorf("start a local cluster: %w", err)
	}
	err := f()
	if stopErr := cluster.Stop(dir); stopErr != nil && err == nil {
		err = fmt.Errorf("stop the local cluster: %w", stopErr)
	}
	if err == nil {
		err = os.RemoveAll(dir)
	}
	return err
}
