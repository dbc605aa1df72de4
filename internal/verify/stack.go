package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/cluster"
	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/kube"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
)

// Tools are the programs the verifier runs; scripts/tools.sh builds them.
type Tools struct {
	// Egctl is egctl-verify (Envoy Gateway's egctl, honouring BackendDisabledEnv).
	Egctl string
	// ClusterBin is the directory of the local cluster's tools (scripts/tools.sh cluster); the
	// schema tier runs a scratch cluster from it.
	ClusterBin string
	// Host is this checkout's cluster command built as cluster.HostBinary.
	Host string
	// CRDDirs are directories of the pinned CRDs the schema tier installs in its scratch cluster.
	CRDDirs []string
}

// ClusterCheck is how Stack treats the stack's own cluster.
type ClusterCheck struct {
	// Kubeconfig overrides the stack's kubeconfig key (empty: the key's file).
	Kubeconfig string
	// Required fails verification when the cluster cannot be reached; otherwise an unreachable
	// cluster (nothing listening: not started yet) is reported as not checked.
	Required bool
	// Live also sends a request through the local cluster's Envoy to every backend (Live):
	// `wire: NAME MODE status=… tls=… sni=… client-cert=… OK|MISMATCH(reason)`. The stack's
	// cluster must be a local cluster (make cluster), whose host runs the proxy and the echo
	// servers.
	Live bool
}

// Stack is `make verify STACK=<stack>`: it plans the stack file at configPath and checks it
// three ways.
//
//  1. Schema: every object, server-side dry-run on a scratch local cluster (started and stopped
//     here, never the stack's own cluster) with the pinned CRDs installed.
//  2. Translator: Envoy Gateway's translator on the planned objects (with generated
//     certificates); one line per backend, `NAME MODE EFFECTIVE SNI OK|MISMATCH(reason)`, then
//     one line per NLB target of the EKS path (checked by the schema tier only).
//  3. Cluster: when the stack deploys to a cluster (the kubeconfig stack key), what the real
//     controller reported for each backend's route there, read with that kubeconfig:
//     `cluster: NAME OBSERVED CONDITIONS`; a backend reached over TLS whose route is rejected
//     or missing is a MISMATCH.
//
// ok is false on any schema violation, mismatch or bad status condition; err is set when it
// cannot run.
func Stack(ctx context.Context, configPath string, tools Tools, check ClusterCheck, out io.Writer) (ok bool, err error) {
	st, err := config.FromFile(configPath)
	if err != nil {
		return false, err
	}
	p, err := plan.Build(st.Args)
	if err != nil {
		return false, err
	}
	// Tier 1: the API server's view — pinned CRD schemas, CEL rules, core schemas, admission.
	schemaOK := true
	if report, err := schemaOnScratchCluster(ctx, tools, p); err != nil {
		if report == "" {
			return false, err
		}
		schemaOK = false
		fmt.Fprintln(out, "schema: VIOLATION")
		fmt.Fprintln(out, report)
	} else {
		fmt.Fprintln(out, "schema:", report)
	}
	// Tier 2: Envoy Gateway's view — what the translator makes of the objects.
	rep, err := Verify(ctx, tools.Egctl, p, time.Now())
	if err != nil {
		return false, err
	}
	for _, r := range rep.Results {
		fmt.Fprintln(out, r)
	}
	for _, c := range rep.Conditions {
		fmt.Fprintln(out, "condition:", c)
	}
	// The EKS path has no offline translator: its objects passed the schema tier above; what the
	// NLB does to the pods is fixed by AWS and stated, not derived.
	if p.EKS != nil {
		for _, t := range p.EKS.Targets {
			fmt.Fprintf(out, "%s nlb %s->pods NOT-VERIFIED-BY-NLB schema-only\n", t.Name, t.TargetGroupProtocol)
		}
	}
	// Tier 3: the stack's own cluster, when it has one.
	clusterOK := true
	kc := st.Kubeconfig
	if kc != "" && !filepath.IsAbs(kc) {
		kc = filepath.Join(filepath.Dir(configPath), kc)
	}
	if check.Kubeconfig != "" {
		kc = check.Kubeconfig
	}
	if kc != "" && len(p.Envoy.Backends) > 0 {
		c, err := kube.FromKubeconfig(kc, "")
		if err != nil && !check.Required && errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(out, "cluster: not checked: %v (make up starts the cluster and deploys the stack)\n", err)
			return schemaOK && rep.OK(), nil
		}
		if err != nil {
			return false, fmt.Errorf("the stack's cluster: %w", err)
		}
		observed, err := ObserveRoutes(ctx, c, p.Envoy.Backends)
		if err != nil && !check.Required && errors.Is(err, syscall.ECONNREFUSED) {
			fmt.Fprintf(out, "cluster: not checked: nothing answers at %s (make up starts the cluster and deploys the stack)\n", c.Server)
			return schemaOK && rep.OK(), nil
		}
		if err != nil {
			return false, fmt.Errorf("the stack's cluster (%s): %w", kc, err)
		}
		for _, be := range p.Envoy.Backends {
			o := observed[be.Name]
			state := o.State
			if state != "accepted" && be.Posture.Effective.Encrypted() {
				state, clusterOK = "MISMATCH("+o.State+")", false
			}
			fmt.Fprintf(out, "cluster: %s %s %v\n", be.Name, state, o.Conditions)
		}
		if check.Live {
			wires, err := Live(ctx, p, filepath.Dir(kc))
			if err != nil {
				return false, fmt.Errorf("on the wire: %w", err)
			}
			for _, w := range wires {
				fmt.Fprintln(out, w)
				clusterOK = clusterOK && w.OK()
			}
		}
	} else if check.Live {
		return false, fmt.Errorf("on the wire: the stack has no kubeconfig key (a local cluster's, .state/cluster/kubeconfig) or no backend")
	}
	return schemaOK && rep.OK() && clusterOK, nil
}

// ObserveRoutes reads, with c, the live status of every backend's route and returns what
// Envoy Gateway reported for each (envoy.Observe), by backend name. A route that does not
// exist is "missing".
func ObserveRoutes(ctx context.Context, c *kube.Client, backends []envoy.Backend) (map[string]envoy.Observed, error) {
	got := map[string]envoy.Observed{}
	for _, be := range backends {
		for _, o := range be.Objects {
			if !envoy.IsRoute(o.Resource) {
				continue
			}
			gvk := o.Resource.GroupVersionKind()
			r, err := c.Resource(ctx, gvk.GroupVersion().String(), gvk.Kind)
			if err != nil {
				return nil, err
			}
			var live struct {
				Status map[string]any `json:"status"`
			}
			if err := c.Get(ctx, r.Path(o.Namespace(), o.Name()), &live); err != nil {
				if kube.IsNotFound(err) {
					got[be.Name] = envoy.Observed{State: "missing", Conditions: []string{o.Kind() + " " + o.Namespace() + "/" + o.Name() + " not found"}}
					continue
				}
				return nil, err
			}
			got[be.Name] = envoy.Observe(live.Status)
		}
	}
	return got, nil
}

// schemaOnScratchCluster starts a scratch cluster in a temporary directory, installs the
// pinned CRDs, dry-runs p's objects (DryRun) and stops the cluster. A non-empty report with an
// error is a refusal; an empty report with an error is a failure to run.
func schemaOnScratchCluster(ctx context.Context, tools Tools, p *plan.Plan) (string, error) {
	dir, err := os.MkdirTemp("", "upstream-tls-verify")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	cdir := filepath.Join(dir, "cluster")
	if _, err := cluster.Start(ctx, cluster.Options{Dir: cdir, Bin: tools.ClusterBin, Host: tools.Host, Ephemeral: true}); err != nil {
		return "", fmt.Errorf("schema: scratch cluster: %w", err)
	}
	defer func() { _ = cluster.Stop(cdir) }()
	c, err := kube.FromKubeconfig(cluster.Kubeconfig(cdir), "")
	if err != nil {
		return "", err
	}
	if err := PrepareSchemaCluster(ctx, c, tools.CRDDirs); err != nil {
		return "", err
	}
	return DryRun(ctx, c, p.AllObjects())
}
