package engine_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"

	"github.com/upstream-tls/upstream-tls/internal/pki"
)

// TestCertificateRenewal drives the generated certificates' lifecycle through the real engine
// and the real provider plugin, with the provider's clock moved (pki.ClockEnv) instead of
// waiting: no renewal before the window; inside it every leaf is re-issued under its own CA, so
// only Secrets change (no ConfigMap, nothing replaced) and the preview says so in plain words;
// nothing changes on the run after; and, years later, the CA rolls over in three runs, the
// serving certificate verifiable by the ConfigMap's bundle after each.
func TestCertificateRenewal(t *testing.T) {
	w := newWorkspace(t)
	t0 := time.Now().UTC().Truncate(time.Second)
	clock := func(d int) time.Time {
		now := t0.Add(time.Duration(d) * 24 * time.Hour)
		t.Setenv(pki.ClockEnv, now.Format(time.RFC3339))
		return now
	}
	served := func(now time.Time, when string) (ca, cert string) {
		t.Helper()
		got := w.rendered()
		ca = got["configmap-apps-internal-api-ca"]["data"].(map[string]any)["ca.crt"].(string)
		cert = secretValue(t, got["secret-apps-internal-api-tls"], "tls.crt")
		if err := pki.Verify(ca, cert, "internal-api.apps.svc", now); err != nil {
			t.Errorf("%s: the CA ConfigMap does not verify internal-api's serving certificate: %v", when, err)
		}
		return ca, cert
	}
	// up runs an update and returns the Kubernetes objects it changed, by URN, with the op.
	up := func(when string) map[string]apitype.OpType {
		t.Helper()
		ch := make(chan events.EngineEvent)
		ops := map[string]apitype.OpType{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ev := range ch {
				if ev.ResourcePreEvent != nil {
					m := ev.ResourcePreEvent.Metadata
					if m.Op != apitype.OpSame && strings.HasPrefix(m.Type, "kubernetes:") {
						ops[m.URN] = m.Op
					}
				}
			}
		}()
		res, err := w.up(optup.EventStreams(ch))
		<-done
		if err != nil {
			t.Fatalf("%s: up: %v\n%s", when, err, res.StdOut+res.StdErr)
		}
		return ops
	}

	now := clock(0)
	up("first deploy")
	ca0, cert0 := served(now, "first deploy")

	// 300 days on: 65 days left, renewBefore 30: nothing.
	clock(300)
	w.expectNoChanges()

	// 340 days on: 25 days left. The preview says which certificate and why.
	now = clock(340)
	pre, err := w.preview()
	if err != nil {
		t.Fatalf("preview inside the renewal window: %v", err)
	}
	for _, want := range []string{"renewal: certificate backend-internal-api (internal-api.apps.svc, internal-api.apps.svc.cluster.local) ends on", "within renewBeforeDays 30): it is re-issued under the same CA"} {
		if !strings.Contains(pre.StdOut, want) {
			t.Errorf("the preview does not say %q:\n%s", want, pre.StdOut)
		}
	}
	ops := up("the renewal")
	for urn, op := range ops {
		if !strings.Contains(urn, "kubernetes:core/v1:Secret") || op != apitype.OpUpdate {
			t.Errorf("the renewal did %s to %s; only Secrets may change, in place", op, urn)
		}
	}
	if len(ops) == 0 {
		t.Error("the renewal changed no Kubernetes object")
	}
	// The posture's CERTIFICATES column counts from the real end of the renewed certificate
	// (the program's clock is not moved: 340 + 365 days from now), not from the configuration.
	outs, err := w.stack.Outputs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	posture, _ := outs["posture"].Value.(string)
	if !regexp.MustCompile(`(?m)^internal-api .* 70[45]d \(generated, renews at 30d\)$`).MatchString(posture) {
		t.Errorf("after the renewal the posture does not count the new certificate's days:\n%s", posture)
	}
	ca1, cert1 := served(now, "after the renewal")
	if ca1 != ca0 || cert1 == cert0 {
		t.Errorf("the renewal: CA changed %v, serving certificate changed %v; want false, true", ca1 != ca0, cert1 != cert0)
	}
	w.expectNoChanges()

	// A yearly up keeps the leaves fresh; in the fifth year the CA (five years) is within 60
	// days of its end and rolls over, one step per run.
	for _, d := range []int{700, 1060, 1420} {
		now = clock(d)
		up("the yearly renewal")
		served(now, "the yearly renewal")
	}
	now = clock(1780)
	caBefore, _ := served(now, "before the rollover")
	pre, err = w.preview()
	if err != nil {
		t.Fatalf("preview of the rollover: %v", err)
	}
	if !strings.Contains(pre.StdOut, "CA rollover, step 1 of 3") {
		t.Errorf("the preview does not announce the CA rollover:\n%s", pre.StdOut)
	}
	// Step 1 and 3 change the CA ConfigMap (and the ca.crt of the serving Secret, which carries
	// the trust bundle too); step 2 the serving Secret only. Nothing is replaced.
	steps := []struct {
		what      string
		configMap bool
	}{
		{"step 1 (the bundle carries both CAs)", true},
		{"step 2 (the serving certificate moves)", false},
		{"step 3 (the old CA leaves)", true},
	}
	var bundles []string
	for _, s := range steps {
		ops := up(s.what)
		cm := false
		for urn, op := range ops {
			if op != apitype.OpUpdate {
				t.Errorf("%s did %s to %s; want updates in place only", s.what, op, urn)
			}
			if strings.Contains(urn, "kubernetes:core/v1:ConfigMap::configmap-apps-internal-api-ca") {
				cm = true
			}
		}
		if cm != s.configMap {
			t.Errorf("%s: the CA ConfigMap changed: %v, want %v (changes: %v)", s.what, cm, s.configMap, ops)
		}
		ca, _ := served(now, s.what)
		bundles = append(bundles, ca)
	}
	if n := strings.Count(bundles[0], "BEGIN CERTIFICATE"); n != 2 || !strings.HasPrefix(bundles[0], strings.TrimSpace(caBefore)) {
		t.Errorf("step 1: the CA ConfigMap holds %d CAs; want the old one, then the new one", n)
	}
	if bundles[1] != bundles[0] {
		t.Error("step 2 changed the CA ConfigMap")
	}
	if strings.Count(bundles[2], "BEGIN CERTIFICATE") != 1 || strings.Contains(bundles[2], strings.TrimSpace(caBefore)) {
		t.Error("step 3: the old CA is still in the ConfigMap")
	}
	if res, err := w.preview(optpreview.ExpectNoChanges()); err != nil {
		t.Errorf("after the rollover, a preview shows changes: %v\n%s", err, res.StdOut)
	}
}
