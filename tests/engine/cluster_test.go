package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/cluster"
	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

// TestDevStackOnTheLocalCluster deploys the dev configuration for real: `pulumi up` through the
// real Kubernetes provider into a fresh local cluster (etcd, kube-apiserver,
// kube-controller-manager), whose Envoy Gateway host runs the real controller from the
// Deployment, ConfigMap, Secret and ServiceAccount the release created. It then checks what the
// controller reported on every object that decides upstream TLS: the GatewayClass and the
// Gateway accepted, each route accepted with its references resolved, each BackendTLSPolicy
// accepted for the Gateway with its references resolved, the Backend accepted. A second up
// changes nothing, and destroy removes every namespace of the stack.
func TestDevStackOnTheLocalCluster(t *testing.T) {
	root := repoRoot()
	bin, err := testutil.Tools(root, "cluster")
	if err != nil {
		t.Fatal(err)
	}
	host, err := testutil.ClusterHost(root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cdir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := cluster.Start(ctx, cluster.Options{Dir: cdir, Bin: bin, Host: host, Ephemeral: true}); err != nil {
		dumpLogs(t, cdir)
		t.Fatalf("start the local cluster: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(t, cdir)
		}
		if err := cluster.Stop(cdir); err != nil {
			t.Errorf("stop the local cluster: %v", err)
		}
	})
	kubectl := func(args ...string) (string, error) {
		out, err := exec.Command(filepath.Join(bin, "kubectl"), append([]string{"--kubeconfig", cluster.Kubeconfig(cdir)}, args...)...).CombinedOutput()
		return string(out), err
	}

	w := newWorkspaceFrom(t, "Pulumi.dev-render.yaml", "out/dev", func(cfg string) string {
		// Deploy as Pulumi.dev.yaml does (TestDevStacksAgree): the renderDir line becomes the
		// test cluster's kubeconfig and nodelessCluster.
		return regexp.MustCompile(`(?m)^  upstream-tls:renderDir: .*$`).ReplaceAllString(cfg,
			"  upstream-tls:kubeconfig: "+cluster.Kubeconfig(cdir)+"\n  upstream-tls:nodelessCluster: true")
	})
	res, err := w.up()
	if err != nil {
		t.Fatalf("pulumi up into the local cluster failed: %v\n%s", err, res.StdErr)
	}
	// The observed posture: what the controller reported for each route, next to the plan.
	observed, _ := res.Outputs["observedPosture"].Value.(string)
	t.Logf("observed posture:\n%s", observed)
	for _, b := range []string{"public-api", "internal-api", "legacy-app"} {
		found := false
		for _, l := range strings.Split(observed, "\n") {
			if f := strings.Fields(l); len(f) >= 4 && f[0] == b {
				found = true
				if f[3] != "accepted" || !strings.Contains(l, "ResolvedRefs=True(ResolvedRefs)") {
					t.Errorf("observed posture of %s: %q, want accepted with ResolvedRefs=True", b, l)
				}
			}
		}
		if !found {
			t.Errorf("observed posture has no line for %s:\n%s", b, observed)
		}
	}

	// The controller runs, from what the release created (its certificates Secret included).
	eventuallyFor(t, 90*time.Second, "the Envoy Gateway controller running and ready", func() error {
		cs, err := cluster.ReadControllerStatus(cdir)
		if err != nil {
			return err
		}
		if cs.State != "running" || !cs.Ready {
			return fmt.Errorf("controller %s (ready %v): %s", cs.State, cs.Ready, cs.Reason)
		}
		return nil
	})

	type cond struct{ Type, Status, Reason, Message string }
	get := func(kind, ns, name string) (map[string]any, error) {
		args := []string{"get", kind, name, "-o", "json"}
		if ns != "" {
			args = append(args, "-n", ns)
		}
		out, err := kubectl(args...)
		if err != nil {
			return nil, fmt.Errorf("%s", out)
		}
		var m map[string]any
		return m, json.Unmarshal([]byte(out), &m)
	}
	conds := func(v any) []cond {
		b, _ := json.Marshal(v)
		var cs []cond
		_ = json.Unmarshal(b, &cs)
		return cs
	}
	want := func(what string, cs []cond, types ...string) error {
		for _, typ := range types {
			found := false
			for _, c := range cs {
				if c.Type == typ {
					found = true
					if c.Status != "True" {
						return fmt.Errorf("%s: %s=%s (%s: %s)", what, typ, c.Status, c.Reason, c.Message)
					}
				}
			}
			if !found {
				return fmt.Errorf("%s: no %s condition yet", what, typ)
			}
		}
		return nil
	}
	status := func(m map[string]any) map[string]any { s, _ := m["status"].(map[string]any); return s }
	// ancestors checks a route's status.parents or a policy's status.ancestors entry for the
	// Gateway (gateway/upstream-tls).
	forGateway := func(what string, entries any, types ...string) error {
		list, _ := entries.([]any)
		for _, e := range list {
			em, _ := e.(map[string]any)
			ref, _ := em["ancestorRef"].(map[string]any)
			if ref == nil {
				ref, _ = em["parentRef"].(map[string]any)
			}
			if ref["name"] == "upstream-tls" {
				return want(what+" for Gateway gateway/upstream-tls", conds(em["conditions"]), types...)
			}
		}
		return fmt.Errorf("%s: no status for Gateway gateway/upstream-tls yet", what)
	}
	checks := []struct {
		what string
		f    func() error
	}{
		{"GatewayClass envoy-gateway", func() error {
			m, err := get("gatewayclass", "", "envoy-gateway")
			if err != nil {
				return err
			}
			return want("GatewayClass envoy-gateway", conds(status(m)["conditions"]), "Accepted")
		}},
		{"Gateway gateway/upstream-tls", func() error {
			m, err := get("gateway", "gateway", "upstream-tls")
			if err != nil {
				return err
			}
			return want("Gateway gateway/upstream-tls", conds(status(m)["conditions"]), "Accepted")
		}},
	}
	for _, r := range []string{"public-api", "internal-api", "legacy-app"} {
		r := r
		checks = append(checks, struct {
			what string
			f    func() error
		}{"HTTPRoute gateway/" + r, func() error {
			m, err := get("httproute", "gateway", r)
			if err != nil {
				return err
			}
			return forGateway("HTTPRoute gateway/"+r, status(m)["parents"], "Accepted", "ResolvedRefs")
		}})
	}
	for _, p := range []struct{ ns, name string }{{"apps", "public-api-https"}, {"apps", "internal-api-https"}} {
		p := p
		checks = append(checks, struct {
			what string
			f    func() error
		}{"BackendTLSPolicy " + p.ns + "/" + p.name, func() error {
			m, err := get("backendtlspolicy", p.ns, p.name)
			if err != nil {
				return err
			}
			return forGateway("BackendTLSPolicy "+p.ns+"/"+p.name, status(m)["ancestors"], "Accepted", "ResolvedRefs")
		}})
	}
	checks = append(checks, struct {
		what string
		f    func() error
	}{"Backend legacy/legacy-app", func() error {
		m, err := get("backend.gateway.envoyproxy.io", "legacy", "legacy-app")
		if err != nil {
			return err
		}
		return want("Backend legacy/legacy-app", conds(status(m)["conditions"]), "Accepted")
	}})
	for _, c := range checks {
		eventuallyFor(t, time.Minute, c.what+" (the real controller's status)", c.f)
	}

	w.expectNoChanges()
	goneAfterDestroy := func() {
		t.Helper()
		w.destroyLeavesNothing()
		for _, ns := range []string{"gateway", "apps", "legacy", "envoy-gateway-system"} {
			eventuallyFor(t, 2*time.Minute, "namespace "+ns+" deleted after destroy", func() error {
				out, err := kubectl("get", "namespace", ns)
				if err == nil || !strings.Contains(out, "NotFound") {
					return fmt.Errorf("still there: %s", strings.TrimSpace(out))
				}
				return nil
			})
		}
	}
	goneAfterDestroy()

	// A CA the controller rejects makes `pulumi up` fail on the backend's route, naming the
	// route and the controller's reason: internal-api verifies against the ConfigMap broken-ca,
	// which does not exist. Once it holds a real CA, the next up retries the route and succeeds.
	raw, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(raw), "        ca:\n          generate: true", "        ca:\n          configMap: broken-ca", 1)
	broken = strings.Replace(broken, "    - name: internal-api\n      namespace: apps\n", "    - name: internal-api\n      namespace: apps\n      deploy:\n        certificateSecret: internal-api-issued-by-broken-ca\n", 1)
	broken = strings.Replace(broken, "    gatewayAPICRDs:", "    verdictTimeoutSeconds: 20\n    gatewayAPICRDs:", 1)
	if !strings.Contains(broken, "configMap: broken-ca") || !strings.Contains(broken, "verdictTimeoutSeconds: 20") || !strings.Contains(broken, "internal-api-issued-by-broken-ca") {
		t.Fatalf("the dev config no longer has the shape this test edits:\n%s", raw)
	}
	w.writeConfig(broken)
	refused := func(stage string) {
		t.Helper()
		res, err := w.up()
		if err == nil {
			t.Fatalf("%s: pulumi up succeeded", stage)
		}
		out := res.StdOut + res.StdErr + err.Error()
		m, gerr := get("httproute", "gateway", "internal-api")
		if gerr != nil {
			t.Fatalf("%s: %v", stage, gerr)
		}
		var reason string
		for _, p := range status(m)["parents"].([]any) {
			for _, c := range conds(p.(map[string]any)["conditions"]) {
				if c.Type == "ResolvedRefs" {
					if c.Status != "False" {
						t.Errorf("%s: the controller says ResolvedRefs=%s (%s)", stage, c.Status, c.Reason)
					}
					reason = c.Reason
				}
			}
		}
		if reason == "" || !strings.Contains(out, "httproute-gateway-internal-api") || !strings.Contains(out, `found "`+reason+`"`) {
			t.Errorf("%s: pulumi up's output does not name the route and the controller's reason %q:\n%s", stage, reason, out)
		}
		t.Logf("%s: up refused with the controller's reason %s", stage, reason)
	}
	refused("CA ConfigMap missing")
	mustKubectl := func(args ...string) {
		t.Helper()
		if out, err := kubectl(args...); err != nil {
			t.Fatalf("kubectl %v: %v\n%s", args, err, out)
		}
	}
	// (A ConfigMap without ca.crt is not a stage here: Envoy Gateway v1.9.1 reads a single key
	// of any name as the CA, and with several keys it logs "failed to process
	// CACertificateRef" yet went on reporting the policy and the route accepted in this
	// cluster; see the issue 12 note.)
	ca, err := pki.Generate(pki.Request{CommonName: "internal-api.apps.svc", DNSNames: []string{"internal-api.apps.svc"}, WithCA: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	mustKubectl("-n", "apps", "create", "configmap", "broken-ca", "--from-literal=ca.crt="+ca.CACertPEM)
	if res, err := w.up(); err != nil {
		t.Fatalf("pulumi up with a valid CA in broken-ca failed: %v\n%s", err, res.StdOut+res.StdErr)
	}
	goneAfterDestroy()
}

func eventuallyFor(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func dumpLogs(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		s := string(b)
		if len(s) > 3000 {
			s = s[len(s)-3000:]
		}
		t.Logf("%s (tail):\n%s", l, s)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "envoy-gateway", "status.json")); err == nil {
		t.Logf("envoy-gateway host status: %s", b)
	}
}
