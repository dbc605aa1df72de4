package engine_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/cluster"
	"github.com/upstream-tls/upstream-tls/internal/kube"
	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
	"github.com/upstream-tls/upstream-tls/internal/verify"
)

// TestDevStackOnTheLocalCluster deploys the dev configuration for real: `pulumi up` through the
// real Kubernetes provider into a fresh local cluster (etcd, kube-apiserver,
// kube-controller-manager), whose Envoy Gateway host runs the real controller from the
// Deployment, ConfigMap, Secret and ServiceAccount the release created. It then checks what the
// controller reported on every object that decides upstream TLS: the GatewayClass and the
// Gateway accepted, each route accepted with its references resolved, each BackendTLSPolicy
// accepted for the Gateway with its references resolved, the Backend accepted. The next three
// ups roll every generated CA over (made 55 days in the past), every backend answering on the
// wire after each; then an up changes nothing, and destroy removes every namespace of the stack.
func TestDevStackOnTheLocalCluster(t *testing.T) {
	lc := startLocalCluster(t)
	cdir, api := lc.dir, lc.api
	// The certificates are made 55 days in the past (the provider's clock, pki.ClockEnv) with
	// lifetimes that put every CA inside its rollover window today while its leaves are still
	// valid (a 90-day CA, 60-day leaves, renewals 20 days ahead): the runs after the first then
	// roll every CA over on the wire (see below). Envoy, the controller and the echo servers
	// check certificates against the real clock, so only the past can be simulated.
	w := lc.workspace(t, func(cfg string) string {
		return strings.TrimRight(cfg, "\n") + "\n  upstream-tls:certificates:\n    validityDays: 60\n    caValidityDays: 90\n    renewBeforeDays: 20\n"
	})
	t.Setenv(pki.ClockEnv, time.Now().Add(-55*24*time.Hour).UTC().Format(time.RFC3339))
	res, err := w.up()
	os.Unsetenv(pki.ClockEnv) // every later run at the real clock (t.Setenv's cleanup keeps it unset)
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
	get := func(apiVersion, kind, ns, name string) (map[string]any, error) {
		r, err := api.Resource(context.Background(), apiVersion, kind)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		return m, api.Get(context.Background(), r.Path(ns, name), &m)
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
			m, err := get(gwv1, "GatewayClass", "", "envoy-gateway")
			if err != nil {
				return err
			}
			return want("GatewayClass envoy-gateway", conds(status(m)["conditions"]), "Accepted")
		}},
		{"Gateway gateway/upstream-tls", func() error {
			m, err := get(gwv1, "Gateway", "gateway", "upstream-tls")
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
			m, err := get(gwv1, "HTTPRoute", "gateway", r)
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
			m, err := get(gwv1, "BackendTLSPolicy", p.ns, p.name)
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
		m, err := get("gateway.envoyproxy.io/v1alpha1", "Backend", "legacy", "legacy-app")
		if err != nil {
			return err
		}
		return want("Backend legacy/legacy-app", conds(status(m)["conditions"]), "Accepted")
	}})
	for _, c := range checks {
		eventuallyFor(t, time.Minute, c.what+" (the real controller's status)", c.f)
	}

	// (The second up is the CA rollover's first step, below; nothing changes after its third.)

	// On the wire: the cluster's host runs the real Envoy for the Gateway (configured by the
	// real controller over xDS) and each backend's echo server with the certificate the stack
	// created; a request through Envoy to each route shows what the backend saw.
	// internal-api (ca, verified against the generated CA) and legacy-app (insecure, an Envoy
	// Gateway Backend reached by its FQDN) answer over TLS with the SNI the posture names.
	// public-api (system) serves the certificate Secret public-api-tls, which on a real
	// cluster a platform issuer writes: here the cluster's public CA issues it (its
	// BackendTLSPolicy verifies against the system store), and Envoy, whose system store is
	// the local trust bundle, verifies it like any publicly trusted certificate.
	wires := lc.wireUntil(t, w.plan(), "every dev backend answers over TLS", func(ws map[string]verify.Wire) bool {
		return ws["public-api"].OK() && ws["internal-api"].OK() && ws["legacy-app"].OK()
	})
	for name, sni := range map[string]string{"public-api": "public-api.dev.example.com", "internal-api": "internal-api.apps.svc", "legacy-app": "legacy-app.legacy.svc"} {
		if wi := wires[name]; wi.TLS == "" || wi.SNI != sni || wi.Status != 200 {
			t.Errorf("on the wire, %s: %s; want TLS with SNI %s", name, wi, sni)
		}
	}
	// mTLS: internal-api verifies the client certificate the gateway presents, so it received
	// the gateway's (the wire judge checks that), and it refuses one of another CA, straight at
	// its echo server, while the gateway's Secret is accepted there too.
	if wi := wires["internal-api"]; wi.ClientCert != "CN=upstream-tls.gateway,O=upstream-tls" {
		t.Errorf("on the wire, internal-api received client certificate %q, want the gateway's CN=upstream-tls.gateway,O=upstream-tls", wi.ClientCert)
	}
	gwSecret, err := get("v1", "Secret", "gateway", "upstream-tls-client-tls")
	if err != nil {
		t.Fatalf("the gateway's client certificate Secret: %v", err)
	}
	checkClientCertificateRefusal(t, lc.dir, gwSecret)

	// A CA rollover on the wire, at the real clock: every CA ends in 35 days, within twice
	// renewBeforeDays. Three runs (both CAs trusted; the serving certificates move; the old CA
	// leaves), and after each every backend still answers over TLS with its SNI, Envoy
	// verifying internal-api against the CA ConfigMap of the step, and the control plane (the
	// controller's xDS certificate and the proxy's client certificate, rolled over too) still
	// configuring Envoy.
	caBefore, _ := get("v1", "ConfigMap", "apps", "internal-api-ca")
	for i, step := range []string{"step 1 (both CAs trusted)", "step 2 (the certificates move)", "step 3 (the old CA leaves)"} {
		if res, err := w.up(); err != nil {
			t.Fatalf("CA rollover %s: up: %v\n%s", step, err, res.StdOut+res.StdErr)
		} else if i == 0 && !strings.Contains(res.StdOut, "CA rollover, step 1 of 3") {
			t.Errorf("the first run after the deploy does not announce the CA rollover:\n%s", res.StdOut)
		}
		lc.wireUntil(t, w.plan(), "every backend answers after the CA rollover's "+step, func(ws map[string]verify.Wire) bool {
			return ws["public-api"].OK() && ws["internal-api"].OK() && ws["legacy-app"].OK()
		})
	}
	caAfter, _ := get("v1", "ConfigMap", "apps", "internal-api-ca")
	if ca := func(m map[string]any) string {
		d, _ := m["data"].(map[string]any)
		s, _ := d["ca.crt"].(string)
		return s
	}; ca(caBefore) == ca(caAfter) || strings.Count(ca(caAfter), "BEGIN CERTIFICATE") != 1 {
		t.Errorf("after the rollover internal-api-ca is unchanged or holds more than one CA:\n%s", ca(caAfter))
	}
	w.expectNoChanges()

	if m, err := get("v1", "Secret", "apps", "public-api-tls"); err != nil {
		t.Errorf("public-api-tls: %v", err)
	} else if by, _ := m["metadata"].(map[string]any)["annotations"].(map[string]any)["upstream-tls.dev/issued-by"].(string); !strings.Contains(by, "public-api.dev.example.com") {
		t.Errorf("public-api-tls was not issued by the cluster's public CA for public-api.dev.example.com: annotations %v", m["metadata"].(map[string]any)["annotations"])
	}

	// Refused before anything changes, through the real engine. A BackendTLSPolicy of another
	// owner on public-api's port (the preflight reads find it) and an invalid mode (the plan
	// refuses it) each fail preview and up with the field and the fix, and leave every object
	// of the stack as it was (uid, and generation or resourceVersion).
	raw, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	good := string(raw)
	before := snapshot(t, api)
	foreign, _ := json.Marshal(map[string]any{"apiVersion": gwv1, "kind": "BackendTLSPolicy",
		"metadata": map[string]any{"name": "other-team", "namespace": "apps"},
		"spec": map[string]any{"targetRefs": []any{map[string]any{"group": "", "kind": "Service", "name": "public-api", "sectionName": "https"}},
			"validation": map[string]any{"hostname": "public-api.dev.example.com", "wellKnownCACertificates": "System"}}})
	if _, err := api.Apply(context.Background(), foreign, kube.ApplyOptions{FieldManager: "kubectl"}); err != nil {
		t.Fatal(err)
	}
	refusedBefore := func(what string, wants ...string) {
		t.Helper()
		pres, perr := w.preview()
		ures, uerr := w.up()
		for stage, r := range map[string]struct {
			out string
			err error
		}{"preview": {pres.StdOut + pres.StdErr, perr}, "up": {ures.StdOut + ures.StdErr, uerr}} {
			if r.err == nil {
				t.Errorf("%s: %s succeeded", what, stage)
				continue
			}
			for _, want := range append(wants, "fix:") {
				if !strings.Contains(r.out+r.err.Error(), want) {
					t.Errorf("%s: %s's output lacks %q:\n%s\n%v", what, stage, want, r.out, r.err)
				}
			}
		}
	}
	refusedBefore("a foreign BackendTLSPolicy on public-api", "backends[0].tls: BackendTLSPolicy apps/other-team (field manager kubectl) already targets Service apps/public-api port https", "apps/public-api-https")
	if err := api.Delete(context.Background(), gwv1, "BackendTLSPolicy", "apps", "other-team"); err != nil {
		t.Fatal(err)
	}
	w.writeConfig(strings.Replace(good, "        mode: insecure", "        mode: insecur", 1))
	refusedBefore("an invalid mode", "backends[2].tls.mode")
	w.writeConfig(good)
	if after := snapshot(t, api); !reflect.DeepEqual(before, after) {
		t.Errorf("refused updates changed the cluster:\nbefore %v\nafter  %v", before, after)
	}

	// Mode changes are followed by the controller: internal-api from ca to insecure (its
	// BackendTLSPolicy gone, an Envoy Gateway Backend accepted), then to system (the Backend
	// gone, a policy with the system CAs accepted), every route accepted each time.
	caBlock := "        mode: ca\n        ca:\n          generate: true\n"
	if !strings.Contains(good, caBlock) {
		t.Fatalf("the dev config no longer has the shape this test edits:\n%s", good)
	}
	for _, step := range []struct {
		mode, block string
		gone, kept  [3]string // apiVersion, kind, name in namespace apps
	}{
		{"insecure", "        mode: insecure\n", [3]string{gwv1, "BackendTLSPolicy", "internal-api-https"}, [3]string{"gateway.envoyproxy.io/v1alpha1", "Backend", "internal-api"}},
		{"system", "        mode: system\n        hostname: internal-api.dev.example.com\n", [3]string{"gateway.envoyproxy.io/v1alpha1", "Backend", "internal-api"}, [3]string{gwv1, "BackendTLSPolicy", "internal-api-https"}},
	} {
		cfg := strings.Replace(good, caBlock, step.block, 1)
		if step.mode == "system" { // a publicly trusted certificate from a Secret, as public-api
			// (internal-api's deploy block, which verifies the gateway's client certificate, gets
			// the Secret.)
			deploy := "    - name: internal-api\n      namespace: apps\n      deploy:\n"
			if !strings.Contains(cfg, deploy) {
				t.Fatalf("the dev config no longer gives internal-api a deploy block:\n%s", cfg)
			}
			cfg = strings.Replace(cfg, deploy, deploy+"        certificateSecret: internal-api-public-tls\n", 1)
		}
		// The pull request's view: a preview, as the read-only identity of
		// examples/ci/preview-rbac.yaml for the first change, says the posture change in plain
		// words.
		says := map[string]string{
			"insecure": "posture change: internal-api: verified yes → NO (upstream TLS ca → insecure, via Backend/apps/internal-api)",
			"system":   "posture change: internal-api: verified NO → yes (upstream TLS insecure → system, via BackendTLSPolicy/apps/internal-api-https)",
		}[step.mode]
		previewCfg := cfg
		if step.mode == "insecure" {
			previewCfg = strings.Replace(cfg, "upstream-tls:kubeconfig: "+cluster.Kubeconfig(cdir), "upstream-tls:kubeconfig: "+readOnlyKubeconfig(t, api, cdir), 1)
		}
		w.writeConfig(previewCfg)
		if pres, err := w.preview(); err != nil {
			t.Errorf("mode %s: preview failed: %v\n%s", step.mode, err, pres.StdOut+pres.StdErr)
		} else if !strings.Contains(pres.StdOut, says) {
			t.Errorf("mode %s: the preview does not say %q:\n%s", step.mode, says, pres.StdOut)
		}
		w.writeConfig(cfg)
		res, err := w.up()
		if err != nil {
			t.Fatalf("up with internal-api in mode %s: %v\n%s", step.mode, err, res.StdOut+res.StdErr)
		}
		if _, err := get(step.gone[0], step.gone[1], "apps", step.gone[2]); !kube.IsNotFound(err) {
			t.Errorf("mode %s: %s apps/%s is still there (%v)", step.mode, step.gone[1], step.gone[2], err)
		}
		eventuallyFor(t, time.Minute, fmt.Sprintf("mode %s: %s apps/%s accepted", step.mode, step.kept[1], step.kept[2]), func() error {
			m, err := get(step.kept[0], step.kept[1], "apps", step.kept[2])
			if err != nil {
				return err
			}
			if step.kept[1] == "Backend" {
				return want("Backend apps/internal-api", conds(status(m)["conditions"]), "Accepted")
			}
			v, _ := m["spec"].(map[string]any)["validation"].(map[string]any)
			if v["wellKnownCACertificates"] != "System" {
				return fmt.Errorf("policy validation %v, want the system CAs", v)
			}
			return forGateway("BackendTLSPolicy apps/internal-api-https", status(m)["ancestors"], "Accepted", "ResolvedRefs")
		})
		observed, _ := res.Outputs["observedPosture"].Value.(string)
		if n := strings.Count(observed, " accepted "); n != 3 {
			t.Errorf("mode %s: %d of 3 routes observed accepted:\n%s", step.mode, n, observed)
		}
		// And on the wire, in the new mode: insecure with the generated self-signed
		// certificate, system with internal-api-public-tls from the cluster's public CA, each
		// with the SNI of the mode's plan.
		sni := map[string]string{"insecure": "internal-api.apps.svc", "system": "internal-api.dev.example.com"}[step.mode]
		lc.wireUntil(t, w.plan(), "internal-api answers in mode "+step.mode+" with SNI "+sni, func(ws map[string]verify.Wire) bool {
			return ws["internal-api"].OK() && ws["internal-api"].SNI == sni
		})
	}
	w.writeConfig(good)
	if res, err := w.up(); err != nil {
		t.Fatalf("up back to the dev config: %v\n%s", err, res.StdOut+res.StdErr)
	}

	// Destroy deletes every object of the stack but its CRDs (retained on delete: deleting a
	// CRD deletes every object of its kinds in the cluster, other stacks' too); the up that
	// follows the first destroy installs over the CRDs left in place.
	goneAfterDestroy := func() {
		t.Helper()
		w.destroyLeavesNothing()
		for _, ns := range []string{"gateway", "apps", "legacy", "envoy-gateway-system"} {
			eventuallyFor(t, 2*time.Minute, "namespace "+ns+" deleted after destroy", func() error {
				if _, err := get("v1", "Namespace", "", ns); !kube.IsNotFound(err) {
					return fmt.Errorf("still there (%v)", err)
				}
				return nil
			})
		}
		for _, crd := range []string{"httproutes.gateway.networking.k8s.io", "backendtlspolicies.gateway.networking.k8s.io", "backends.gateway.envoyproxy.io"} {
			if _, err := get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", crd); err != nil {
				t.Errorf("CRD %s after destroy: %v; want it retained", crd, err)
			}
		}
	}
	goneAfterDestroy()

	// A CA the controller rejects makes `pulumi up` fail on the backend's route, naming the
	// route and the controller's reason: internal-api verifies against the ConfigMap broken-ca,
	// which does not exist (the preflight reads only warn: another resource may create it).
	// Once it holds a real CA, the next up retries the route and succeeds.
	broken := strings.Replace(good, "        ca:\n          generate: true", "        ca:\n          configMap: broken-ca", 1)
	broken = strings.Replace(broken, "    - name: internal-api\n      namespace: apps\n      deploy:\n", "    - name: internal-api\n      namespace: apps\n      deploy:\n        certificateSecret: internal-api-issued-by-broken-ca\n", 1)
	broken = strings.Replace(broken, "    gatewayAPICRDs:", "    verdictTimeoutSeconds: 20\n    gatewayAPICRDs:", 1)
	if !strings.Contains(broken, "configMap: broken-ca") || !strings.Contains(broken, "verdictTimeoutSeconds: 20") || !strings.Contains(broken, "internal-api-issued-by-broken-ca") {
		t.Fatalf("the dev config no longer has the shape this test edits:\n%s", good)
	}
	w.writeConfig(broken)
	refused := func(stage string) {
		t.Helper()
		res, err := w.up()
		if err == nil {
			t.Fatalf("%s: pulumi up succeeded", stage)
		}
		out := res.StdOut + res.StdErr + err.Error()
		m, gerr := get(gwv1, "HTTPRoute", "gateway", "internal-api")
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
	// (A ConfigMap without ca.crt is not a stage here: Envoy Gateway v1.9.1 reads a single key
	// of any name as the CA, and with several keys it logs "failed to process
	// CACertificateRef" yet went on reporting the policy and the route accepted in this
	// cluster; see the issue 12 note.)
	ca, err := pki.Generate(pki.Request{CommonName: "internal-api.apps.svc", DNSNames: []string{"internal-api.apps.svc"}, WithCA: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cm, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "broken-ca", "namespace": "apps"}, "data": map[string]any{"ca.crt": ca.CACertPEM}})
	if _, err := api.Apply(context.Background(), cm, kube.ApplyOptions{FieldManager: "engine-test"}); err != nil {
		t.Fatal(err)
	}
	if res, err := w.up(); err != nil {
		t.Fatalf("pulumi up with a valid CA in broken-ca failed: %v\n%s", err, res.StdOut+res.StdErr)
	}
	// The control plane cannot tell a backend whose certificate another CA issued: the route
	// is accepted either way. The wire can: with a serving certificate from another CA, Envoy
	// refuses the backend (a 503 from Envoy, not the echo server, and Envoy's own counter of
	// verification failures for the route's cluster grew: ssl.fail_verify_error);
	// with one from the CA in broken-ca, the backend answers over TLS.
	other, err := pki.Generate(pki.Request{CommonName: "internal-api.apps.svc", DNSNames: []string{"internal-api.apps.svc"}, WithCA: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	serve := func(b *pki.Bundle) {
		t.Helper()
		s, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
			"metadata":   map[string]any{"name": "internal-api-issued-by-broken-ca", "namespace": "apps"},
			"stringData": map[string]any{"tls.crt": b.CertPEM, "tls.key": b.KeyPEM}})
		if _, err := api.Apply(context.Background(), s, kube.ApplyOptions{FieldManager: "engine-test"}); err != nil {
			t.Fatal(err)
		}
	}
	serve(other)
	wires = lc.wireUntil(t, w.plan(), "Envoy refuses internal-api's certificate from another CA", func(ws map[string]verify.Wire) bool {
		return strings.Contains(ws["internal-api"].Detail, "(ssl.fail_verify_error)")
	})
	if wi := wires["internal-api"]; wi.OK() || wi.Echoed || wi.Status != 503 {
		t.Errorf("on the wire, internal-api serving a certificate of another CA: %s; want Envoy's 503, MISMATCH", wi)
	}
	t.Logf("on the wire, a certificate of another CA: %s", wires["internal-api"])
	serve(ca)
	lc.wireUntil(t, w.plan(), "internal-api answers with a certificate from the CA in broken-ca", func(ws map[string]verify.Wire) bool {
		return ws["internal-api"].OK()
	})
	// Another actor deletes internal-api's BackendTLSPolicy: the stack still says ca, Envoy
	// now speaks plain text to the backend's TLS port, and the wire says so.
	if err := api.Delete(context.Background(), gwv1, "BackendTLSPolicy", "apps", "internal-api-https"); err != nil {
		t.Fatal(err)
	}
	wires = lc.wireUntil(t, w.plan(), "internal-api reached in plain text once its policy is gone", func(ws map[string]verify.Wire) bool {
		return ws["internal-api"].PlainToTLSPort
	})
	if wi := wires["internal-api"]; wi.OK() || !strings.Contains(strings.Join(wi.Problems, ";"), "reached the backend in plain text") {
		t.Errorf("on the wire, internal-api without its policy: %s; want MISMATCH, reached in plain text", wi)
	}
	goneAfterDestroy()
}

// wireUntil sends a request through the cluster's Envoy to every backend of p (verify.Live)
// until done holds of the answers, by backend (the proxy, its xDS configuration and the echo
// servers take a few seconds to follow a change), and returns them; it fails the test after
// two minutes, with the last answers.
func (lc *localCluster) wireUntil(t *testing.T, p *plan.Plan, what string, done func(map[string]verify.Wire) bool) map[string]verify.Wire {
	t.Helper()
	var last map[string]verify.Wire
	var lastErr error
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		ws, err := verify.Live(context.Background(), p, lc.dir)
		lastErr = err
		if err == nil {
			last = map[string]verify.Wire{}
			for _, w := range ws {
				last[w.Backend] = w
			}
			if done(last) {
				for _, w := range ws {
					t.Logf("%s", w)
				}
				return last
			}
		}
		time.Sleep(time.Second)
	}
	var lines []string
	for _, w := range last {
		lines = append(lines, w.String())
	}
	sort.Strings(lines)
	ws, _ := cluster.ReadWorkloads(lc.dir)
	t.Fatalf("on the wire: %s: not within 2 minutes (last error %v):\n%s\nworkloads: %+v", what, lastErr, strings.Join(lines, "\n"), ws)
	return nil
}

// snapshot is the identity and version of every object in the stack's namespaces of the kinds
// the stack creates: uid and generation (spec changes), or resourceVersion for kinds without a
// generation. Status writes by the controller do not change it.
func snapshot(t *testing.T, api *kube.Client) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range [][2]string{{"v1", "ConfigMap"}, {"v1", "Secret"}, {"v1", "Service"}, {"apps/v1", "Deployment"},
		{gwv1, "HTTPRoute"}, {gwv1, "BackendTLSPolicy"}, {gwv1, "Gateway"}, {"gateway.networking.k8s.io/v1beta1", "ReferenceGrant"},
		{"gateway.envoyproxy.io/v1alpha1", "Backend"}} {
		r, err := api.Resource(context.Background(), k[0], k[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, ns := range []string{"gateway", "apps", "legacy", "envoy-gateway-system"} {
			var l struct {
				Items []struct {
					Metadata struct {
						Name, UID, ResourceVersion string
						Generation                 int64
					} `json:"metadata"`
				} `json:"items"`
			}
			if err := api.Get(context.Background(), r.Path(ns, ""), &l); err != nil {
				t.Fatal(err)
			}
			for _, it := range l.Items {
				m := it.Metadata
				v := fmt.Sprintf("%s gen %d", m.UID, m.Generation)
				if m.Generation == 0 {
					v = m.UID + " rv " + m.ResourceVersion
				}
				if k[1] == "ConfigMap" && m.Name == "kube-root-ca.crt" {
					continue
				}
				out[k[1]+" "+ns+"/"+m.Name] = v
			}
		}
	}
	return out
}

// readOnlyKubeconfig applies examples/ci/preview-rbac.yaml to the cluster in cdir, asks a
// token for its ServiceAccount (TokenRequest), checks that the identity cannot write, and
// returns the path of a kubeconfig for it (the admin kubeconfig's cluster, so the Kubernetes
// provider sees the same cluster).
func readOnlyKubeconfig(t *testing.T, admin *kube.Client, cdir string) string {
	t.Helper()
	ctx := context.Background()
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "ci", "preview-rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range kube.SplitDocuments(raw) {
		if _, err := admin.Apply(ctx, doc, kube.ApplyOptions{FieldManager: "engine-test"}); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := json.Marshal(map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": map[string]any{"expirationSeconds": 3600}})
	var tr struct {
		Status struct{ Token string } `json:"status"`
	}
	if err := admin.Do(ctx, "POST", "/api/v1/namespaces/upstream-tls-ci/serviceaccounts/upstream-tls-preview/token", "application/json", req, &tr); err != nil || tr.Status.Token == "" {
		t.Fatalf("token for upstream-tls-preview: %v", err)
	}
	adminCfg, err := os.ReadFile(cluster.Kubeconfig(cdir))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(adminCfg), "users:\n")
	j := strings.Index(string(adminCfg), "contexts:\n")
	if i < 0 || j < i {
		t.Fatalf("unexpected admin kubeconfig layout:\n%s", adminCfg)
	}
	user := regexp.MustCompile(`(?m)^- name: (\S+)$`).FindStringSubmatch(string(adminCfg[i:j]))
	ro := string(adminCfg[:i]) + "users:\n- name: " + user[1] + "\n  user:\n    token: " + tr.Status.Token + "\n" + string(adminCfg[j:])
	path := filepath.Join(t.TempDir(), "preview-kubeconfig")
	if err := os.WriteFile(path, []byte(ro), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := kube.FromKubeconfig(path, "")
	if err != nil {
		t.Fatal(err)
	}
	cm, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "written-by-preview", "namespace": "apps"}})
	if _, err := c.Apply(ctx, cm, kube.ApplyOptions{FieldManager: "preview"}); !kube.IsForbidden(err) {
		t.Fatalf("the preview identity can write (or failed otherwise): %v", err)
	}
	return path
}

// gwv1 is the Gateway API version the plan's objects use.
const gwv1 = "gateway.networking.k8s.io/v1"

// localCluster is a fresh, ephemeral local cluster for one test, stopped when the test ends
// (its logs printed when the test failed).
type localCluster struct {
	dir  string
	opts cluster.Options
	api  *kube.Client
}

func startLocalCluster(t *testing.T) *localCluster {
	t.Helper()
	root := repoRoot()
	bin, err := testutil.Tools(root, "cluster")
	if err != nil {
		t.Fatal(err)
	}
	host, err := testutil.ClusterHost(root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lc := &localCluster{dir: t.TempDir()}
	lc.opts = cluster.Options{Dir: lc.dir, Bin: bin, Host: host, Ephemeral: true}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := cluster.Start(ctx, lc.opts); err != nil {
		dumpLogs(t, lc.dir)
		t.Fatalf("start the local cluster: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(t, lc.dir)
		}
		if err := cluster.Stop(lc.dir); err != nil {
			t.Errorf("stop the local cluster: %v", err)
		}
	})
	if lc.api, err = kube.FromKubeconfig(cluster.Kubeconfig(lc.dir), ""); err != nil {
		t.Fatal(err)
	}
	return lc
}

// workspace is a stack of the dev configuration deployed into the cluster, as Pulumi.dev.yaml
// deploys (TestDevStacksAgree): the renderDir line becomes the cluster's kubeconfig and
// nodelessCluster. edit, when set, rewrites the configuration further.
func (lc *localCluster) workspace(t *testing.T, edit func(string) string) *workspace {
	return newWorkspaceFrom(t, "Pulumi.dev-render.yaml", "out/dev", func(cfg string) string {
		cfg = regexp.MustCompile(`(?m)^  upstream-tls:renderDir: .*$`).ReplaceAllString(cfg,
			"  upstream-tls:kubeconfig: "+cluster.Kubeconfig(lc.dir)+"\n  upstream-tls:nodelessCluster: true")
		if edit != nil {
			cfg = edit(cfg)
		}
		return cfg
	})
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

// checkClientCertificateRefusal connects straight to internal-api's echo server (its host
// address and port, from the local cluster's workload status) with a client certificate of a
// CA the workload does not trust, which must fail, and with the gateway's (gwSecret), which must
// answer 200: the verification is the workload's, not the gateway's.
func checkClientCertificateRefusal(t *testing.T, dir string, gwSecret map[string]any) {
	t.Helper()
	st, err := cluster.ReadWorkloads(dir)
	if err != nil {
		t.Fatal(err)
	}
	addr := ""
	for _, wl := range st.Workloads {
		if wl.Kind == "backend" && wl.Deployment == "apps/internal-api" && wl.Ports["8443"] != 0 {
			addr = fmt.Sprintf("%s:%d", wl.Address, wl.Ports["8443"])
		}
	}
	if addr == "" {
		t.Fatalf("internal-api's echo server has no host address: %+v", st.Workloads)
	}
	foreign, err := pki.Generate(pki.Request{CommonName: "intruder", DNSNames: []string{"intruder"}, WithCA: true, Usage: pki.UsageClient}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := gwSecret["data"].(map[string]any)
	decode := func(k string) []byte {
		s, _ := data[k].(string)
		b, _ := base64.StdEncoding.DecodeString(s)
		return b
	}
	request := func(certPEM, keyPEM []byte) (int, error) {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return 0, fmt.Errorf("key pair: %w", err)
		}
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			// What is checked is the server's verification of the client, not the reverse.
			InsecureSkipVerify: true, ServerName: "internal-api.apps.svc",
			// Always present the certificate: with Certificates, Go's client sends none whose
			// issuer is not among the CAs the server names, and a server that verifies only
			// what it is given (echo-basic) then answers without one.
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil },
		}}}
		resp, err := c.Get("https://" + addr + "/")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := request([]byte(foreign.CertPEM), []byte(foreign.KeyPEM)); err == nil {
		t.Errorf("internal-api answered %d to a client certificate of another CA; want the handshake refused", code)
	} else {
		t.Logf("internal-api refuses a client certificate of another CA: %v", err)
	}
	if code, err := request(decode("tls.crt"), decode("tls.key")); err != nil || code != http.StatusOK {
		t.Errorf("internal-api with the gateway's client certificate: %d, %v; want 200", code, err)
	}
}
