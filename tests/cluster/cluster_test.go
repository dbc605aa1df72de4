// Package cluster_test is the local-cluster tier: the real etcd, kube-apiserver and
// kube-controller-manager built from the pinned modules (scripts/tools.sh cluster), started and
// stopped by internal/cluster exactly as `make cluster` and `make down` do.
package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/upstream-tls/upstream-tls/internal/cluster"
	"github.com/upstream-tls/upstream-tls/internal/kube"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

// bin is the cluster tools' directory; host is this checkout's cluster command, which a
// started cluster runs as its Envoy Gateway host.
var bin, host string

func TestMain(m *testing.M) {
	var err error
	if bin, err = testutil.Tools(testutil.MustRepoRoot(), "cluster"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hostDir, err := os.MkdirTemp("", "upstream-tls-cluster-host")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if host, err = testutil.ClusterHost(testutil.MustRepoRoot(), hostDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(hostDir)
	os.Exit(code)
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func start(t *testing.T, dir string) *cluster.State {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := cluster.Start(ctx, cluster.Options{Dir: dir, Bin: bin, Host: host, Ephemeral: true, Log: logWriter{t}})
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s (tail):\n%s", l, tail(string(b), 2000))
		}
		t.Fatalf("start cluster: %v", err)
	}
	return st
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// api is a client of the cluster in dir as its admin (the kubeconfig `make cluster` writes).
func api(t *testing.T, dir string) *kube.Client {
	t.Helper()
	c, err := kube.FromKubeconfig(cluster.Kubeconfig(dir), "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// apply server-side applies manifest to the cluster in dir (dryRun: as a dry run).
func apply(t *testing.T, dir, manifest string, dryRun bool) error {
	t.Helper()
	_, err := api(t, dir).Apply(context.Background(), []byte(manifest), kube.ApplyOptions{FieldManager: "cluster-test", DryRun: dryRun})
	return err
}

func mustApply(t *testing.T, dir, manifest string) {
	t.Helper()
	if err := apply(t, dir, manifest, false); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, dir, path string) error {
	t.Helper()
	return api(t, dir).Get(context.Background(), path, nil)
}

func namespaces(t *testing.T, dir string) []string {
	t.Helper()
	var l corev1.NamespaceList
	if err := api(t, dir).Get(context.Background(), "/api/v1/namespaces", &l); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range l.Items {
		names = append(names, n.Name)
	}
	return names
}

// eventually retries f for up to a minute (controllers act asynchronously).
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestLocalCluster starts a cluster as `make cluster` does and checks what the product relies on:
// the pinned server version, the controller manager's work (default ServiceAccounts, namespaces
// really deleted), an idempotent start, a restart that keeps data, PKI and ports, and a second
// cluster side by side.
func TestLocalCluster(t *testing.T) {
	root := testutil.MustRepoRoot()
	pins, err := testutil.Pins(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st := start(t, dir)
	t.Cleanup(func() {
		if err := cluster.Stop(dir); err != nil {
			t.Errorf("stop: %v", err)
		}
	})

	var version struct{ GitVersion string }
	if err := api(t, dir).Get(context.Background(), "/version", &version); err != nil {
		t.Fatal(err)
	}
	if want := pins["KUBERNETES_VERSION"]; version.GitVersion != want {
		t.Errorf("server %q, want %q (the pin, stamped at build)", version.GitVersion, want)
	}

	// kube-controller-manager: a new namespace gets its default ServiceAccount.
	ctx := context.Background()
	for _, ns := range []string{"probe", "kept"} {
		if err := api(t, dir).EnsureNamespace(ctx, ns); err != nil {
			t.Fatal(err)
		}
	}
	mustApply(t, dir, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: probe}\ndata: {k: v}\n")
	eventually(t, "default ServiceAccount in namespace probe (kube-controller-manager)", func() error {
		return get(t, dir, "/api/v1/namespaces/probe/serviceaccounts/default")
	})
	// and a deleted namespace is really gone, with what it held.
	if err := api(t, dir).Delete(ctx, "v1", "Namespace", "", "probe"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "namespace probe deleted (namespace controller)", func() error {
		if err := get(t, dir, "/api/v1/namespaces/probe"); !kube.IsNotFound(err) {
			return fmt.Errorf("still there (%v)", err)
		}
		return nil
	})

	// Starting a running cluster changes nothing.
	again := start(t, dir)
	if fmt.Sprint(again.PIDs) != fmt.Sprint(st.PIDs) || again.Server != st.Server {
		t.Errorf("second start restarted the cluster: %v at %s, before %v at %s", again.PIDs, again.Server, st.PIDs, st.Server)
	}

	// A second cluster runs side by side on its own ports.
	other := t.TempDir()
	ost := start(t, other)
	t.Cleanup(func() { _ = cluster.Stop(other) })
	for use, p := range ost.Ports {
		for use2, q := range st.Ports {
			if p == q {
				t.Errorf("both clusters use port %d (%s / %s)", p, use, use2)
			}
		}
	}
	if names := namespaces(t, other); slices.Contains(names, "kept") {
		t.Errorf("the second cluster sees the first one's namespace: %v", names)
	}

	// Stop ends every process; a restart keeps data, PKI and (free) ports.
	if err := cluster.Stop(dir); err != nil {
		t.Fatal(err)
	}
	if _, n, err := cluster.Status(dir); err != nil || n != 0 {
		t.Fatalf("after stop: %d processes running (%v)", n, err)
	}
	for name, pid := range st.PIDs {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(b), dir) {
				t.Errorf("%s (pid %d) still runs after stop", name, pid)
			}
		}
	}
	if err := get(t, dir, "/api/v1/namespaces"); err == nil {
		t.Error("the API server answers after stop")
	}
	restarted := start(t, dir)
	if restarted.Server != st.Server {
		t.Logf("API server moved from %s to %s (port taken meanwhile)", st.Server, restarted.Server)
	}
	if err := get(t, dir, "/api/v1/namespaces/kept"); err != nil {
		t.Errorf("namespace kept after a restart: %v", err)
	}
}

// TestGatewayAPIOnTheRealAPIServer installs the pinned Gateway API CRDs (the offline inputs the
// dev stack installs) into a local cluster and checks that the real API server enforces their
// rules: the CRDs become Established, and the CEL and pattern rules of HTTPRoute and
// BackendTLSPolicy refuse what they should at a server-side dry run, while a valid object passes.
func TestGatewayAPIOnTheRealAPIServer(t *testing.T) {
	dir, crdDirs := startWithOfflineInputs(t)
	ctx := context.Background()
	if err := api(t, dir).ApplyDirs(ctx, "cluster-test", crdDirs[0]); err != nil {
		t.Fatal(err)
	}
	if err := api(t, dir).EnsureNamespace(ctx, "apps"); err != nil {
		t.Fatal(err)
	}
	route := func(path string) string {
		return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: apps}
spec:
  parentRefs: [{name: gw, namespace: gateway}]
  rules:
  - matches: [{path: {type: PathPrefix, value: "` + path + `"}}]
    backendRefs: [{name: api, port: 443}]
`
	}
	if err := apply(t, dir, route("/api/v1"), true); err != nil {
		t.Errorf("a valid HTTPRoute is refused: %v", err)
	}
	if err := apply(t, dir, route("/api//v1"), true); err == nil || !strings.Contains(err.Error(), "must not contain '//'") {
		t.Errorf("an HTTPRoute path with '//' is not refused by the CRD's CEL rule: %v", err)
	}
	// A dry run persists nothing.
	if err := get(t, dir, "/apis/gateway.networking.k8s.io/v1/namespaces/apps/httproutes/api"); !kube.IsNotFound(err) {
		t.Errorf("a dry-run HTTPRoute was persisted (%v)", err)
	}
	policy := `apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: api, namespace: apps}
spec:
  targetRefs: [{group: "", kind: Service, name: api, sectionName: https}]
  validation:
    hostname: api.apps.svc
    wellKnownCACertificates: System
    caCertificateRefs: [{group: "", kind: ConfigMap, name: api-ca}]
`
	if err := apply(t, dir, policy, true); err == nil || !strings.Contains(err.Error(), "must not contain both CACertificateRefs and WellKnownCACertificates") {
		t.Errorf("a BackendTLSPolicy with both a well-known CA and CA references is not refused: %v", err)
	}
}

// startWithOfflineInputs prepares the offline inputs (the pinned CRDs the dev stack installs)
// and starts a cluster in a new temporary directory, stopped when the test ends. It returns the
// cluster's directory and the CRD directories.
func startWithOfflineInputs(t *testing.T) (string, []string) {
	t.Helper()
	root := testutil.MustRepoRoot()
	crdDirs, err := testutil.OfflineInputs(root, filepath.Join(root, "out", "offline"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	start(t, dir)
	t.Cleanup(func() { _ = cluster.Stop(dir) })
	return dir, crdDirs
}
