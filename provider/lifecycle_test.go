package provider_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/provider"
)

// at sets the provider's clock to t0 plus d days.
func at(t *testing.T, t0 time.Time, d int) time.Time {
	t.Helper()
	now := t0.Add(time.Duration(d) * 24 * time.Hour)
	t.Setenv(provider.ClockEnv, now.UTC().Format(time.RFC3339))
	return now
}

// changed is the sorted keys of a diff.
func changed(d p.DiffResponse) string {
	var keys []string
	for k := range d.DetailedDiff {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// run diffs and, when the diff has changes, previews and applies the update at the current
// clock; it returns the diff, the preview's properties and the new state.
func run(t *testing.T, s integration.Server, name string, state, in property.Map) (p.DiffResponse, property.Map, property.Map) {
	t.Helper()
	d, err := s.Diff(p.DiffRequest{ID: name, Urn: urn(name), State: state, OldInputs: in, Inputs: in})
	if err != nil {
		t.Fatal(err)
	}
	if !d.HasChanges {
		return d, state, state
	}
	pre, err := s.Update(p.UpdateRequest{ID: name, Urn: urn(name), State: state, OldInputs: in, Inputs: in, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	up, err := s.Update(p.UpdateRequest{ID: name, Urn: urn(name), State: state, OldInputs: in, Inputs: in})
	if err != nil {
		t.Fatal(err)
	}
	return d, pre.Properties, up.Properties
}

func verifies(t *testing.T, when string, st property.Map, host string, now time.Time) {
	t.Helper()
	if err := pki.Verify(st.Get("caCertPem").AsString(), st.Get("certPem").AsString(), host, now); err != nil {
		t.Errorf("%s: the trust bundle does not verify the serving certificate: %v", when, err)
	}
}

// TestLeafRenewal: no renewal before the window; inside it the leaf is re-issued under the same
// CA (caCertPem unchanged), the preview makes exactly the changed outputs unknown; no change on
// the run after.
func TestLeafRenewal(t *testing.T) {
	s := server(t)
	t0 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	at(t, t0, 0)
	in := inputs("api.apps.svc")
	created, err := s.Create(p.CreateRequest{Urn: urn("api"), Properties: in})
	if err != nil {
		t.Fatal(err)
	}
	st := created.Properties
	if st.Get("caKeyPem").AsString() == "" {
		t.Errorf("the state does not keep the CA's key")
	}
	at(t, t0, 300) // 65 days left
	if d, _, _ := run(t, s, "api", st, in); d.HasChanges {
		t.Fatalf("65 days before the end (renewBefore 30): %s change", changed(d))
	}
	now := at(t, t0, 340) // 25 days left
	d, pre, next := run(t, s, "api", st, in)
	if got := changed(d); got != "certPem,keyPem,notAfter" {
		t.Fatalf("inside the window the diff changes %q, want certPem,keyPem,notAfter", got)
	}
	for _, f := range []string{"certPem", "keyPem", "notAfter"} {
		if !pre.Get(f).IsComputed() {
			t.Errorf("the preview of the renewal shows %s known: %v", f, pre.Get(f))
		}
	}
	if pre.Get("caCertPem").IsComputed() {
		t.Errorf("the preview of a leaf renewal makes caCertPem unknown")
	}
	if next.Get("caCertPem").AsString() != st.Get("caCertPem").AsString() {
		t.Errorf("the leaf renewal changed the CA")
	}
	if next.Get("certPem").AsString() == st.Get("certPem").AsString() {
		t.Errorf("the leaf renewal kept the old certificate")
	}
	verifies(t, "after the leaf renewal", next, "api.apps.svc", now)
	if end, _ := time.Parse(time.RFC3339, next.Get("notAfter").AsString()); end.Sub(now) < 360*24*time.Hour {
		t.Errorf("the renewed leaf ends on %s, not a year after %s", end, now)
	}
	if d, _, _ := run(t, s, "api", next, in); d.HasChanges {
		t.Errorf("the run after the renewal changes %s", changed(d))
	}
}

// TestCARollover: a CA inside twice renewBeforeDays rolls over in three runs, each verifiable
// with the trust bundle of its own step (and the step before's, so a gateway that has not yet
// seen the new bundle keeps working), then nothing changes.
func TestCARollover(t *testing.T) {
	s := server(t)
	t0 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	at(t, t0, 0)
	in := inputs("api.apps.svc").Set("validityDays", property.New(30.0)).Set("caValidityDays", property.New(90.0)).Set("renewBeforeDays", property.New(10.0))
	created, err := s.Create(p.CreateRequest{Urn: urn("api"), Properties: in})
	if err != nil {
		t.Fatal(err)
	}
	st := created.Properties
	// Day 25: the leaf (30 days) has 5 days left; renewed under the same CA.
	now := at(t, t0, 25)
	d, _, st := run(t, s, "api", st, in)
	if changed(d) != "certPem,keyPem,notAfter" {
		t.Fatalf("day 25: %q, want the leaf renewed", changed(d))
	}
	verifies(t, "day 25", st, "api.apps.svc", now)
	// Day 50: 5 days left again; renewed, now clipped to the CA's end (day 90).
	now = at(t, t0, 50)
	if d, _, st = run(t, s, "api", st, in); changed(d) != "certPem,keyPem,notAfter" {
		t.Fatalf("day 50: %q, want the leaf renewed", changed(d))
	}
	if end, _ := time.Parse(time.RFC3339, st.Get("notAfter").AsString()); end.After(t0.Add(90 * 24 * time.Hour)) {
		t.Errorf("day 50: the leaf ends on %s, after its CA", end)
	}
	// Day 75: the CA (90 days) ends in 15 days, within 2×10: the rollover starts.
	now = at(t, t0, 75)
	oldBundle := st.Get("caCertPem").AsString()
	oldLeaf := st.Get("certPem").AsString()
	d, pre, st := run(t, s, "api", st, in)
	if changed(d) != "caCertPem,caKeyPem,caNotAfter" {
		t.Fatalf("step 1: %q, want caCertPem,caKeyPem,caNotAfter", changed(d))
	}
	if !pre.Get("caCertPem").IsComputed() || pre.Get("certPem").IsComputed() {
		t.Errorf("step 1 preview: caCertPem unknown %v, certPem unknown %v; want true, false", pre.Get("caCertPem").IsComputed(), pre.Get("certPem").IsComputed())
	}
	if n := strings.Count(st.Get("caCertPem").AsString(), "BEGIN CERTIFICATE"); n != 2 || !strings.HasPrefix(st.Get("caCertPem").AsString(), oldBundle) {
		t.Fatalf("step 1: the trust bundle holds %d CAs (want the old one first, then the new one)", n)
	}
	if st.Get("certPem").AsString() != oldLeaf {
		t.Errorf("step 1 changed the serving certificate")
	}
	verifies(t, "step 1", st, "api.apps.svc", now)
	// Step 2 on the next run: the leaf moves to the new CA; the two-CA bundle verifies it, the
	// old CA alone does not.
	bundle2 := st.Get("caCertPem").AsString()
	d, _, st = run(t, s, "api", st, in)
	if changed(d) != "certPem,keyPem,notAfter" {
		t.Fatalf("step 2: %q, want the leaf moved", changed(d))
	}
	if st.Get("caCertPem").AsString() != bundle2 {
		t.Errorf("step 2 changed the trust bundle")
	}
	verifies(t, "step 2", st, "api.apps.svc", now)
	if pki.Verify(oldBundle, st.Get("certPem").AsString(), "api.apps.svc", now) == nil {
		t.Errorf("step 2: the old CA alone verifies the new leaf: it did not move")
	}
	// Step 3: the old CA leaves.
	d, _, st = run(t, s, "api", st, in)
	if changed(d) != "caCertPem" {
		t.Fatalf("step 3: %q, want caCertPem", changed(d))
	}
	if n := strings.Count(st.Get("caCertPem").AsString(), "BEGIN CERTIFICATE"); n != 1 || strings.Contains(st.Get("caCertPem").AsString(), strings.TrimSpace(oldBundle)) {
		t.Errorf("step 3: the trust bundle holds %d CAs, or still the old one", n)
	}
	verifies(t, "step 3", st, "api.apps.svc", now)
	if d, _, _ := run(t, s, "api", st, in); d.HasChanges {
		t.Errorf("the run after the rollover changes %s", changed(d))
	}
}

// TestRenewalWithoutTheCAKey: a bundle whose state has no CA key (made before it was kept)
// renews by a CA rollover, not by failing or by replacing.
func TestRenewalWithoutTheCAKey(t *testing.T) {
	s := server(t)
	t0 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	at(t, t0, 0)
	in := inputs("api.apps.svc")
	created, err := s.Create(p.CreateRequest{Urn: urn("api"), Properties: in})
	if err != nil {
		t.Fatal(err)
	}
	legacy := created.Properties.Delete("caKeyPem", "caNotAfter")
	at(t, t0, 340)
	d, _, st := run(t, s, "api", legacy, in)
	if changed(d) != "caCertPem,caKeyPem,caNotAfter" {
		t.Fatalf("a legacy bundle inside the window: %q, want the rollover's step 1", changed(d))
	}
	if strings.Count(st.Get("caCertPem").AsString(), "BEGIN CERTIFICATE") != 2 {
		t.Errorf("the legacy rollover's bundle does not hold both CAs")
	}
}

// TestLifecycleInputsChecked: a renewal window as long as the validity is refused at check,
// naming the field; the lifecycle inputs never replace the bundle.
func TestLifecycleInputsChecked(t *testing.T) {
	s := server(t)
	check, err := s.Check(p.CheckRequest{Urn: urn("bad"), Inputs: inputs("a.example.com").Set("validityDays", property.New(30.0)).Set("renewBeforeDays", property.New(30.0))})
	if err != nil {
		t.Fatal(err)
	}
	if len(check.Failures) != 1 || check.Failures[0].Property != "renewBeforeDays" || !strings.Contains(check.Failures[0].Reason, "less than validityDays 30") {
		t.Errorf("renewBeforeDays = validityDays not refused: %+v", check.Failures)
	}
	created, err := s.Create(p.CreateRequest{Urn: urn("api"), Properties: inputs("api.apps.svc")})
	if err != nil {
		t.Fatal(err)
	}
	longer := inputs("api.apps.svc").Set("validityDays", property.New(90.0))
	d, err := s.Diff(p.DiffRequest{ID: "api", Urn: urn("api"), State: created.Properties, OldInputs: inputs("api.apps.svc"), Inputs: longer})
	if err != nil {
		t.Fatal(err)
	}
	if d.HasChanges {
		t.Errorf("changing validityDays changes the bundle now: %s", changed(d))
	}
}
