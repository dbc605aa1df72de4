package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/upstreamtls"
	"github.com/upstream-tls/upstream-tls/internal/cluster"
	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/kube"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/preflight"
	"github.com/upstream-tls/upstream-tls/internal/spec"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

// preflightArgs is the dev configuration with internal-api trusting the CA in the ConfigMap
// apps/internal-ca, and reads of the cluster in dir.
func preflightArgs(t *testing.T, dir string) spec.Args {
	t.Helper()
	st, err := config.FromFile(filepath.Join(testutil.MustRepoRoot(), "Pulumi.dev-render.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	a := st.Args
	for i := range a.Backends {
		if a.Backends[i].Name == "internal-api" {
			a.Backends[i].TLS.CA = &spec.CAArgs{ConfigMap: "internal-ca"}
			a.Backends[i].Deploy = &spec.DeployArgs{CertificateSecret: "internal-api-tls"}
		}
	}
	a.Preflight = &spec.PreflightArgs{Kubeconfig: cluster.Kubeconfig(dir)}
	return a
}

func check(t *testing.T, a spec.Args) preflight.Result {
	t.Helper()
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	c, warnings := preflight.Open(p.Args.Preflight)
	if c == nil {
		t.Fatalf("preflight.Open: %v", warnings)
	}
	return preflight.Check(context.Background(), c, p)
}

// problems are r's field errors as "field: text".
func problems(r preflight.Result) []string {
	var ve *core.ValidationError
	if !errors.As(r.Err, &ve) {
		return nil
	}
	var out []string
	for _, p := range ve.Problems {
		out = append(out, p.Error())
	}
	return out
}

func wantProblem(t *testing.T, r preflight.Result, field string, parts ...string) {
	t.Helper()
	for _, p := range problems(r) {
		if !strings.HasPrefix(p, field+": ") {
			continue
		}
		for _, part := range parts {
			if !strings.Contains(p, part) {
				t.Errorf("the problem of %s lacks %q:\n%s", field, part, p)
			}
		}
		return
	}
	t.Errorf("no problem at %s; got %q (warnings %q)", field, problems(r), r.Warnings)
}

func applyAs(t *testing.T, dir, manager string, obj map[string]any) {
	t.Helper()
	b, _ := json.Marshal(obj)
	if _, err := api(t, dir).Apply(context.Background(), b, kube.ApplyOptions{FieldManager: manager}); err != nil {
		t.Fatal(err)
	}
}

func policy(name, service string, section string) map[string]any {
	ref := map[string]any{"group": "", "kind": "Service", "name": service}
	if section != "" {
		ref["sectionName"] = section
	}
	return map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "BackendTLSPolicy",
		"metadata": map[string]any{"name": name, "namespace": "apps"},
		"spec": map[string]any{"targetRefs": []any{ref},
			"validation": map[string]any{"hostname": "x.example.com", "wellKnownCACertificates": "System"}}}
}

// TestPreflightOnTheRealAPIServer: the component's preview-time reads (internal/preflight)
// against a real API server find what the plan cannot know: Gateway API CRDs another tool owns,
// a BackendTLSPolicy of another owner on one of our Service ports,
// a CA ConfigMap without ca.crt, a client certificate Secret the gateway could not present (or
// a backend would refuse: expired, not yet valid, a serving certificate, a key of another); they leave alone our own policies and a correct ConfigMap, say
// a missing ConfigMap as a warning, and skip with a warning when the cluster does not answer.
// Through the component (Pulumi mocks, the real cluster) a refusal registers nothing.
func TestPreflightOnTheRealAPIServer(t *testing.T) {
	dir, crdDirs := startWithOfflineInputs(t)
	a := preflightArgs(t, dir)

	// An empty cluster: nothing to refuse; the missing CA ConfigMap is a warning.
	r := check(t, a)
	if r.Err != nil {
		t.Fatalf("empty cluster: %v", r.Err)
	}
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "backends[1].tls.ca.configMap: ConfigMap apps/internal-ca does not exist yet") {
		t.Errorf("no warning for the missing CA ConfigMap: %q", r.Warnings)
	}

	// Gateway API CRDs installed by another tool (here the field manager "helm").
	if err := api(t, dir).ApplyDirs(context.Background(), "helm", crdDirs[0]); err != nil {
		t.Fatal(err)
	}
	r = check(t, a)
	wantProblem(t, r, "envoyGateway.manageGatewayAPICRDs", "is already installed (bundle v1.6.3, channel standard) by field manager helm",
		"set envoyGateway.manageGatewayAPICRDs to false")
	off := false
	a.EnvoyGateway.ManageGatewayAPICRDs = &off
	if r = check(t, a); r.Err != nil {
		t.Fatalf("with manageGatewayAPICRDs false the installed CRDs are used, yet: %v", r.Err)
	}
	// The same CRDs, applied by Pulumi's Kubernetes provider, are ours (an upgrade).
	on := true
	a.EnvoyGateway.ManageGatewayAPICRDs = &on
	if err := api(t, dir).ApplyDirs(context.Background(), "pulumi-kubernetes-0123abcd", crdDirs[0]); err != nil {
		t.Fatal(err)
	}
	if r = check(t, a); r.Err != nil {
		t.Fatalf("CRDs applied by the Pulumi provider are refused: %v", r.Err)
	}

	// Policies: ours (by name) are fine; another owner's on our port, or on the whole Service,
	// are refused naming both objects.
	if err := api(t, dir).EnsureNamespace(context.Background(), "apps"); err != nil {
		t.Fatal(err)
	}
	applyAs(t, dir, "pulumi-kubernetes-0123abcd", policy("public-api-https", "public-api", "https"))
	applyAs(t, dir, "kubectl", policy("other-team", "public-api", "https"))
	applyAs(t, dir, "argocd-controller", policy("whole-service", "internal-api", ""))
	applyAs(t, dir, "kubectl", policy("other-port", "public-api", "metrics"))
	applyAs(t, dir, "argocd-controller", policy("same-port", "internal-api", "https"))
	r = check(t, a)
	wantProblem(t, r, "backends[0].tls", "BackendTLSPolicy apps/other-team (field manager kubectl) already targets Service apps/public-api port https",
		"BackendTLSPolicy apps/public-api-https targets", "delete BackendTLSPolicy apps/other-team")
	wantProblem(t, r, "backends[1].tls", "BackendTLSPolicy apps/same-port (field manager argocd-controller) already targets Service apps/internal-api port https")
	if n := len(problems(r)); n != 2 {
		t.Errorf("want exactly the two conflicts (ours, a policy on another port and one on the whole Service, which ours outranks, are fine), got %d: %q", n, problems(r))
	}

	// The component refuses and registers nothing (Pulumi mocks; the reads are real; preview and
	// update run the same reads).
	m := &testutil.Mocks{}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := upstreamtls.New(ctx, "env", &a)
		return err
	}, pulumi.WithMocks("upstream-tls", "dev", m))
	if err == nil || !strings.Contains(err.Error(), "apps/other-team") {
		t.Errorf("the component did not refuse the conflict: %v", err)
	}
	if n := len(m.All()); n != 0 {
		t.Errorf("the refused component registered %d resources", n)
	}
	for _, n := range []string{"other-team", "same-port"} {
		if err := api(t, dir).Delete(context.Background(), "gateway.networking.k8s.io/v1", "BackendTLSPolicy", "apps", n); err != nil {
			t.Fatal(err)
		}
	}

	// A CA ConfigMap without ca.crt is refused naming its keys; with ca.crt it passes.
	cm := func(data map[string]any) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "internal-ca", "namespace": "apps"}, "data": data}
	}
	applyAs(t, dir, "kubectl", cm(map[string]any{"ca.pem": "x", "README": "y"}))
	r = check(t, a)
	wantProblem(t, r, "backends[1].tls.ca.configMap", "ConfigMap apps/internal-ca has the keys README, ca.pem but no ca.crt", "--from-file=ca.crt=ca.pem")
	if err := api(t, dir).Delete(context.Background(), "v1", "ConfigMap", "apps", "internal-ca"); err != nil {
		t.Fatal(err)
	}
	applyAs(t, dir, "kubectl", cm(map[string]any{"ca.crt": "x"}))
	if r = check(t, a); r.Err != nil || len(r.Warnings) != 0 {
		t.Errorf("a correct cluster: %v, warnings %q", r.Err, r.Warnings)
	}

	// Client certificates given by their Secret.
	checkClientCertificates(t, dir, a)

	// A cluster that does not answer is skipped with a warning, never a refusal.
	if err := cluster.Stop(dir); err != nil {
		t.Fatal(err)
	}
	r = check(t, a)
	if r.Err != nil || !strings.Contains(strings.Join(r.Warnings, "\n"), "does not answer") {
		t.Errorf("stopped cluster: %v, warnings %q", r.Err, r.Warnings)
	}
}
