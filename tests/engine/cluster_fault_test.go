package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"

	"github.com/upstream-tls/upstream-tls/internal/cluster"
	"github.com/upstream-tls/upstream-tls/internal/kube"
)

// verdictTimeout is the envoyGateway.verdictTimeoutSeconds of the cluster fault stack: how
// long an up waits for the controller's verdict on a route before it fails.
const verdictTimeout = 20

// TestClusterFaults runs the faults of a real cluster against one stack of the dev
// configuration on a fresh local cluster, each followed by the recovery the README documents
// and the same checks: the next up converges, a preview then changes nothing, the state holds
// no pending operation, and no object the stack's field managers wrote is left in the cluster
// outside the state.
//
//  1. Five SIGKILL points (every process of the run, its plugins included): the first deploy
//     at a seeded number of resources, then four updates (internal-api from ca to insecure and
//     back) a seeded fraction of the way through; the next up refuses naming `make unlock`;
//     unlock, then up.
//  2. Five SIGINT (Ctrl-C) points in updates: the engine stops gracefully, unlocked; up.
//  3. The API server killed during an update and restarted: the run fails or completes; up.
//  4. The Envoy Gateway controller down while an up waits for its verdict on a new backend's
//     route: the up fails after verdictTimeoutSeconds on that route; the cluster started again
//     (make cluster), up.
//
// An object the user owns (a ConfigMap of another field manager in a namespace of the stack),
// created after the first deploy, is left untouched by all of them; and the check that finds
// objects outside the state is shown to find one planted with a provider field manager.
func TestClusterFaults(t *testing.T) {
	becomeSubreaper(t)
	seed := faultSeed(t)
	lc := startLocalCluster(t)
	w := lc.workspace(t, func(cfg string) string {
		out := strings.Replace(cfg, "  upstream-tls:envoyGateway:\n", fmt.Sprintf("  upstream-tls:envoyGateway:\n    verdictTimeoutSeconds: %d\n", verdictTimeout), 1)
		if out == cfg {
			panic("Pulumi.dev-render.yaml has no upstream-tls:envoyGateway map")
		}
		return out
	})
	raw, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	base := string(raw)
	var userObject string
	s := &series{
		w: w, rng: rand.New(rand.NewPCG(seed, 99)),
		variants:    []string{base, caToInsecure(base)},
		firstDeploy: true, points: 5, timeout: 10 * time.Minute,
		check: func(p int) {
			lc.noObjectOutsideState(t, w, fmt.Sprintf("point %d", p))
			if userObject == "" {
				userObject = lc.applyUserObject(t)
				lc.outsideStateFound(t, w)
			}
		},
	}

	// 1 and 2. SIGKILL, then SIGINT, at seeded points.
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT} {
		s.sig = sig
		s.run()
		s.firstDeploy = false
	}

	// recover runs the next up and the checks every fault ends with.
	recoverBy := func(fault, how string, start time.Time) {
		t.Helper()
		c := w.start()
		if err := c.wait(10 * time.Minute); err != nil {
			t.Fatalf("%s: the up after it failed: %v\n%s", fault, err, c.output())
		}
		w.checkStateClean(0)
		lc.noObjectOutsideState(t, w, fault)
		if res, err := w.preview(optpreview.ExpectNoChanges()); err != nil {
			t.Errorf("%s: a preview after the recovery shows changes: %v\n%s", fault, err, res.StdOut)
		}
		t.Logf("%s: recovered by %s in %s", fault, how, time.Since(start).Round(time.Second))
	}
	rng := s.rng
	var (
		r     *run
		delay time.Duration
		fault string
		start time.Time
	)

	// 3. The API server restarted during an update.
	r = s.update()
	if !waitUntil(2*time.Minute, func() bool { return len(w.lockFiles()) > 0 || r.exited() }) {
		r.kill()
		t.Fatalf("the update never took the lock:\n%s", r.output())
	}
	delay = time.Duration((0.1 + 0.8*rng.Float64()) * float64(s.ref))
	waitUntil(delay, r.exited)
	fault = fmt.Sprintf("the API server killed in an update after %s", delay.Round(time.Millisecond))
	st, _, err := cluster.Status(lc.dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(st.PIDs[cluster.KubeAPIServer], syscall.SIGKILL); err != nil {
		t.Fatalf("kill the API server: %v", err)
	}
	time.Sleep(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	if _, err := cluster.Start(ctx, lc.opts); err != nil {
		cancel()
		t.Fatalf("start the cluster again: %v", err)
	}
	cancel()
	runErr := r.wait(10 * time.Minute)
	t.Logf("%s: the run %s", fault, map[bool]string{true: "completed", false: "failed:\n" + errorLines(r.output())}[runErr == nil])
	if l := w.lockFiles(); len(l) > 0 {
		t.Errorf("%s: the run left the stack locked (%v)", fault, l)
		w.unlock(0)
	}
	start = time.Now()
	recoverBy(fault, "the next up", start)

	// 4. The controller down while an up waits for its verdict on a new route.
	if st, _, err = cluster.Status(lc.dir); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(st.PIDs[cluster.EnvoyGatewayHost], syscall.SIGTERM); err != nil {
		t.Fatalf("stop the Envoy Gateway host: %v", err)
	}
	eventuallyFor(t, time.Minute, "the Envoy Gateway host stopped", func() error {
		cs, err := cluster.ReadControllerStatus(lc.dir)
		if err != nil {
			return err
		}
		if cs.State != "stopped" {
			return fmt.Errorf("controller %s", cs.State)
		}
		return nil
	})
	w.writeConfig(withFaultApp(s.variants[s.cur]))
	r = w.start()
	runErr = r.wait(10 * time.Minute)
	fault = "the controller down while up waits for its verdict"
	out := r.output()
	if runErr == nil {
		t.Fatalf("%s: the up succeeded without a verdict:\n%s", fault, out)
	}
	// The failure is the wait on the new route (the other routes' verdicts were in place).
	if !strings.Contains(out, "httproute-gateway-fault-app **creating failed**") {
		t.Errorf("%s: the failure does not name the route that waited:\n%s", fault, errorLines(out))
	}
	if !strings.Contains(out, "up: no verdict from Envoy Gateway on HTTPRoute httproute-gateway-fault-app within envoyGateway.verdictTimeoutSeconds") {
		t.Errorf("%s: cmd/up does not say which verdict the up waited for:\n%s", fault, lastLines(out, 8))
	}
	t.Logf("%s: the up failed with:\n%s\n%s", fault, errorLines(out), lastLines(out, 2))
	start = time.Now()
	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Minute)
	if _, err := cluster.Start(ctx, lc.opts); err != nil {
		cancel()
		t.Fatalf("start the cluster again: %v", err)
	}
	cancel()
	recoverBy(fault, "make cluster, then the next up", start)
	if now := lc.userObjectVersion(t); now != userObject {
		t.Errorf("the user's ConfigMap apps/platform-notes changed (uid/resourceVersion %s, was %s)", now, userObject)
	}
}

// applyUserObject creates the ConfigMap apps/platform-notes with another field manager, as a
// platform team's own tooling would, and returns its uid/resourceVersion.
func (lc *localCluster) applyUserObject(t *testing.T) string {
	t.Helper()
	cm := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: platform-notes\n  namespace: apps\ndata:\n  owner: platform-team\n")
	if _, err := lc.api.Apply(context.Background(), cm, kube.ApplyOptions{FieldManager: "platform-team"}); err != nil {
		t.Fatal(err)
	}
	return lc.userObjectVersion(t)
}

func (lc *localCluster) userObjectVersion(t *testing.T) string {
	t.Helper()
	var cm struct {
		Metadata struct{ UID, ResourceVersion string } `json:"metadata"`
	}
	if err := lc.api.Get(context.Background(), "/api/v1/namespaces/apps/configmaps/platform-notes", &cm); err != nil {
		t.Fatalf("the user's ConfigMap apps/platform-notes: %v", err)
	}
	return cm.Metadata.UID + "/" + cm.Metadata.ResourceVersion
}

// withFaultApp adds a fourth backend (unverified, so that it needs nothing but a route and a
// Backend) whose route is new, so that an up waits for the controller's first verdict on it.
func withFaultApp(cfg string) string {
	anchor := "        mode: insecure\n"
	i := strings.LastIndex(cfg, anchor)
	if i < 0 {
		panic("the configuration has no insecure backend to add fault-app after")
	}
	i += len(anchor)
	return cfg[:i] + `    - name: fault-app
      namespace: legacy
      route:
        hostnames: ["fault.dev.example.com"]
        listener: https
      tls:
        mode: insecure
` + cfg[i:]
}

// noObjectOutsideState lists, for every kind the stack's state holds, the cluster's objects a
// field manager of the Kubernetes provider wrote (pulumi-kubernetes*), Helm's release objects
// aside (the Release resource tracks those), and fails on any the state does not hold: an
// object an interrupted create left behind, or a duplicate under another name.
func (lc *localCluster) noObjectOutsideState(t *testing.T, w *workspace, fault string) {
	t.Helper()
	if outside := lc.objectsOutsideState(t, w, fault); len(outside) > 0 {
		t.Errorf("%s: objects of the stack in the cluster but not in its state: %q", fault, outside)
	}
}

// outsideStateFound shows that noObjectOutsideState can fail: a Secret in apps written by a
// field manager of the provider's name, which the state does not hold, is found (then
// deleted).
func (lc *localCluster) outsideStateFound(t *testing.T, w *workspace) {
	t.Helper()
	ctx := context.Background()
	planted := []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: planted-outside-state\n  namespace: apps\nstringData:\n  k: v\n")
	if _, err := lc.api.Apply(ctx, planted, kube.ApplyOptions{FieldManager: "pulumi-kubernetes-planted"}); err != nil {
		t.Fatal(err)
	}
	outside := lc.objectsOutsideState(t, w, "a planted Secret")
	if err := lc.api.Delete(ctx, "v1", "Secret", "apps", "planted-outside-state"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(outside, ",") != "Secret apps/planted-outside-state" {
		t.Errorf("the check for objects outside the state found %q, not the planted Secret apps/planted-outside-state", outside)
	}
}

// objectsOutsideState lists what noObjectOutsideState fails on, sorted.
func (lc *localCluster) objectsOutsideState(t *testing.T, w *workspace, fault string) []string {
	t.Helper()
	inState := map[string]bool{}
	kinds := map[[2]string]bool{}
	for _, r := range w.checkpoint().Resources {
		if !strings.HasPrefix(r.Type, "kubernetes:") || strings.HasPrefix(r.Type, "kubernetes:helm.sh/") || strings.HasPrefix(r.Type, "kubernetes:yaml") {
			continue
		}
		apiVersion, _ := r.Outputs["apiVersion"].(string)
		kind, _ := r.Outputs["kind"].(string)
		md, _ := r.Outputs["metadata"].(map[string]any)
		name, _ := md["name"].(string)
		ns, _ := md["namespace"].(string)
		if apiVersion == "" || kind == "" || name == "" {
			continue
		}
		kinds[[2]string{apiVersion, kind}] = true
		inState[kind+" "+ns+"/"+name] = true
	}
	if len(inState) == 0 {
		t.Fatalf("%s: the state holds no Kubernetes object", fault)
	}
	var outside []string
	ctx := context.Background()
	for k := range kinds {
		res, err := lc.api.Resource(ctx, k[0], k[1])
		if err != nil {
			t.Errorf("%s: %s %s: %v", fault, k[0], k[1], err)
			continue
		}
		var list struct {
			Items []struct {
				Metadata struct {
					Name          string            `json:"name"`
					Namespace     string            `json:"namespace"`
					Annotations   map[string]string `json:"annotations"`
					ManagedFields []struct {
						Manager string `json:"manager"`
					} `json:"managedFields"`
				} `json:"metadata"`
			} `json:"items"`
		}
		if err := lc.api.Get(ctx, res.Path("", ""), &list); err != nil {
			t.Errorf("%s: list %s: %v", fault, k[1], err)
			continue
		}
		for _, it := range list.Items {
			md := it.Metadata
			if md.Annotations["meta.helm.sh/release-name"] != "" {
				continue
			}
			ours := false
			for _, mf := range md.ManagedFields {
				if strings.HasPrefix(mf.Manager, "pulumi-kubernetes") {
					ours = true
				}
			}
			if key := k[1] + " " + md.Namespace + "/" + md.Name; ours && !inState[key] {
				outside = append(outside, key)
			}
		}
	}
	sort.Strings(outside)
	return outside
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// errorLines returns the lines of s that report an error, each with the two lines after it
// (where the engine puts the provider's reason).
func errorLines(s string) string {
	var out []string
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.Contains(l, "error") {
			for _, m := range lines[i:min(i+3, len(lines))] {
				out = append(out, strings.TrimSpace(m))
			}
		}
	}
	return strings.Join(out, "\n")
}
