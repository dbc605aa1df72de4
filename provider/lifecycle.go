package provider

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/upstream-tls/upstream-tls/internal/pki"
)

// The lifecycle of a CertificateBundle: every `pulumi up` (and preview) holds the bundle's
// certificates against the clock, and a certificate inside its renewal window is re-issued by an
// update of the bundle, never by a replacement. The rules, in the order they are checked (one
// step per run):
//
//  1. A CA rollover in progress (the trust bundle caCertPem holds two CAs) goes on: step 2 moves
//     the leaf to the new CA (a new certPem/keyPem; both CAs stay trusted), step 3, on the run
//     after, drops the old CA from caCertPem.
//  2. The CA is due (it ends within twice renewBeforeDays, so the three runs of a rollover fit
//     before it ends): step 1 generates a new CA and caCertPem carries the old and the new one;
//     the leaf stays under the old CA. Whoever verifies with caCertPem (the CA ConfigMap of a
//     `ca` backend) trusts both before any leaf of the new CA is served.
//  3. The leaf is due (it ends within renewBeforeDays): it is re-issued under the same CA, so only
//     certPem, keyPem and notAfter change (the backend's Secret, not its CA ConfigMap). A bundle
//     whose state does not hold its CA's key (made before keys were kept) cannot do that: it
//     starts a CA rollover instead.
//
// A self-signed leaf (withCa false) is simply re-issued when due (caCertPem is the leaf).
// Each step is logged at preview in plain words (which certificate, why, what changes), and the
// fields it changes are unknown in the preview, so the objects built from them show as updates.
//
// The clock is the host's, or ClockEnv's time: tests move it to drive renewals through the real
// engine without waiting a year.

// ClockEnv names the environment variable, RFC 3339, that replaces the provider's clock. Only
// tests set it.
const ClockEnv = pki.ClockEnv

// now is the provider's clock.
func now() (time.Time, error) {
	if v := os.Getenv(ClockEnv); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s=%q: %w", ClockEnv, v, err)
		}
		return t, nil
	}
	return time.Now(), nil
}

type stepKind int

const (
	stepNone stepKind = iota
	stepRenewLeaf
	stepRolloverBegin
	stepRolloverMove
	stepRolloverEnd
)

// step is what a run does to a bundle, why (in plain words) and which outputs it changes.
type step struct {
	kind   stepKind
	why    string
	fields []string
}

func days(v *int) int {
	if v == nil {
		return 0
	}
	return *v
}

// lifecycle is the bundle's lifecycle, every unset value its default.
func (in CertificateBundleArgs) lifecycle() pki.Lifetimes {
	return pki.Lifetimes{ValidityDays: days(in.ValidityDays), CAValidityDays: days(in.CAValidityDays), RenewBeforeDays: days(in.RenewBeforeDays)}.Resolved()
}

func (in CertificateBundleArgs) lifetimes() (validity, caValidity, renewBefore time.Duration) {
	l, d := in.lifecycle(), 24*time.Hour
	return time.Duration(l.ValidityDays) * d, time.Duration(l.CAValidityDays) * d, time.Duration(l.RenewBeforeDays) * d
}

// checkLifetimes returns the failures of the lifecycle inputs (pki.Lifetimes.Check).
func checkLifetimes(in CertificateBundleArgs) []p.CheckFailure {
	var out []p.CheckFailure
	for _, pr := range (pki.Lifetimes{ValidityDays: days(in.ValidityDays), CAValidityDays: days(in.CAValidityDays), RenewBeforeDays: days(in.RenewBeforeDays)}).Check(in.WithCA) {
		f, reason := pr.Field, pr.Problem
		if f == "" {
			f = "validityDays"
		} else {
			reason = f + " " + reason
		}
		out = append(out, p.CheckFailure{Property: f, Reason: reason + "; fix: " + pr.Fix})
	}
	return out
}

func left(t, now time.Time) string {
	d := int(t.Sub(now).Hours() / 24)
	if t.Before(now) {
		return fmt.Sprintf("expired %d days ago", -d)
	}
	return fmt.Sprintf("in %d days", d)
}

// nextStep is the step the rules above take for a bundle in state st with inputs in at now.
func nextStep(name string, st CertificateBundleState, in CertificateBundleArgs, now time.Time) (step, error) {
	_, _, renewBefore := in.lifetimes()
	rbDays := in.lifecycle().RenewBeforeDays
	leafEnd, err := pki.NotAfter(st.CertPEM)
	if err != nil {
		return step{}, fmt.Errorf("certificate %s: the state's certPem: %w", name, err)
	}
	leafFields := []string{"certPem", "keyPem", "notAfter"}
	if !in.WithCA {
		if now.Before(leafEnd.Add(-renewBefore)) {
			return step{}, nil
		}
		return step{kind: stepRenewLeaf, fields: append(leafFields, "caCertPem", "caNotAfter"),
			why: fmt.Sprintf("certificate %s (self-signed, %s) ends on %s (%s, within renewBeforeDays %d): it is re-issued; what holds its certificate and key changes", name, strings.Join(in.DNSNames, ", "), day(leafEnd), left(leafEnd, now), rbDays)}, nil
	}
	cas := splitPEM(st.CACertPEM)
	if len(cas) == 0 {
		return step{}, fmt.Errorf("certificate %s: the state's caCertPem holds no certificate", name)
	}
	newest := cas[len(cas)-1]
	if len(cas) > 1 {
		if !pki.IssuedBy(st.CertPEM, newest) {
			return step{kind: stepRolloverMove, fields: leafFields,
				why: fmt.Sprintf("certificate %s: CA rollover, step 2 of 3: the serving certificate moves to the new CA (the trust bundle keeps both CAs, so verification holds throughout); what holds its certificate and key changes", name)}, nil
		}
		return step{kind: stepRolloverEnd, fields: []string{"caCertPem"},
			why: fmt.Sprintf("certificate %s: CA rollover, step 3 of 3: the old CA leaves the trust bundle (caCertPem, the CA ConfigMap); the serving certificate is the new CA's since the last run", name)}, nil
	}
	caEnd, err := pki.NotAfter(newest)
	if err != nil {
		return step{}, fmt.Errorf("certificate %s: the state's caCertPem: %w", name, err)
	}
	begin := step{kind: stepRolloverBegin, fields: []string{"caCertPem", "caKeyPem", "caNotAfter"}}
	if !now.Before(caEnd.Add(-2 * renewBefore)) {
		begin.why = fmt.Sprintf("certificate %s: CA rollover, step 1 of 3: its CA ends on %s (%s, within twice renewBeforeDays %d): a new CA is generated and the trust bundle (caCertPem, the CA ConfigMap) carries the old and the new CA; the serving certificate stays under the old CA until the next run", name, day(caEnd), left(caEnd, now), rbDays)
		return begin, nil
	}
	if now.Before(leafEnd.Add(-renewBefore)) {
		return step{}, nil
	}
	if st.CAKeyPEM == "" {
		begin.why = fmt.Sprintf("certificate %s: CA rollover, step 1 of 3: the serving certificate ends on %s (%s, within renewBeforeDays %d) and the state does not hold its CA's key (the bundle was made by a version that did not keep it), so it cannot be re-issued under the same CA: a new CA is generated and the trust bundle (caCertPem, the CA ConfigMap) carries both; the serving certificate moves to it on the next run", name, day(leafEnd), left(leafEnd, now), rbDays)
		return begin, nil
	}
	return step{kind: stepRenewLeaf, fields: leafFields,
		why: fmt.Sprintf("certificate %s (%s) ends on %s (%s, within renewBeforeDays %d): it is re-issued under the same CA: what holds its certificate and key (a Secret) changes, the CA and what holds only the CA (a CA ConfigMap) do not", name, strings.Join(in.DNSNames, ", "), day(leafEnd), left(leafEnd, now), rbDays)}, nil
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// splitPEM returns each PEM block of text, re-encoded alone.
func splitPEM(text string) []string {
	var out []string
	const begin = "-----BEGIN CERTIFICATE-----"
	for _, part := range strings.Split(text, begin)[1:] {
		out = append(out, begin+strings.TrimRight(part, "\n")+"\n")
	}
	return out
}

// apply performs s on st at now and returns the new state.
func apply(name string, s step, st CertificateBundleState, in CertificateBundleArgs, now time.Time) (CertificateBundleState, error) {
	validity, caValidity, _ := in.lifetimes()
	req := pki.Request{CommonName: in.CommonName, DNSNames: in.DNSNames, ValidFor: validity, CAValidFor: caValidity, Usage: in.usage()}
	out := st
	out.CertificateBundleArgs = in
	switch s.kind {
	case stepRenewLeaf, stepRolloverMove:
		var ca *pki.CA
		if in.WithCA {
			cas := splitPEM(st.CACertPEM)
			var err error
			if ca, err = pki.ParseCA(cas[len(cas)-1], st.CAKeyPEM); err != nil {
				return st, fmt.Errorf("certificate %s: %w", name, err)
			}
		}
		b, err := pki.Issue(req, ca, now)
		if err != nil {
			return st, fmt.Errorf("certificate %s: %w", name, err)
		}
		out.CertPEM, out.KeyPEM, out.NotAfter = b.CertPEM, b.KeyPEM, rfc3339(b.NotAfter)
		if !in.WithCA {
			out.CACertPEM, out.CANotAfter = b.CACertPEM, rfc3339(b.CANotAfter)
		}
	case stepRolloverBegin:
		ca, err := pki.NewCA(in.CommonName+" CA", now, caValidity)
		if err != nil {
			return st, fmt.Errorf("certificate %s: %w", name, err)
		}
		out.CACertPEM = splitPEM(st.CACertPEM)[0] + ca.CertPEM
		out.CAKeyPEM, out.CANotAfter = ca.KeyPEM, rfc3339(ca.NotAfter)
	case stepRolloverEnd:
		cas := splitPEM(st.CACertPEM)
		out.CACertPEM = cas[len(cas)-1]
	}
	return out, nil
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (in CertificateBundleArgs) usage() pki.Usage {
	if in.Usage == nil {
		return pki.UsageServer
	}
	return pki.Usage(*in.Usage)
}

// replacing are the inputs whose change replaces the bundle (a new identity: new names, a CA or
// none, another usage). The lifecycle inputs never do: they apply from the next issue on.
func replacing(old, in CertificateBundleArgs) []string {
	var out []string
	if old.CommonName != in.CommonName {
		out = append(out, "commonName")
	}
	if strings.Join(old.DNSNames, "\x00") != strings.Join(in.DNSNames, "\x00") {
		out = append(out, "dnsNames")
	}
	if old.WithCA != in.WithCA {
		out = append(out, "withCa")
	}
	if old.usage() != in.usage() {
		out = append(out, "usage")
	}
	return out
}

// Diff replaces the bundle when its identity changed and otherwise plans the lifecycle step
// (nextStep), saying it in plain words.
func (*CertificateBundle) Diff(ctx context.Context, req infer.DiffRequest[CertificateBundleArgs, CertificateBundleState]) (infer.DiffResponse, error) {
	detailed := map[string]p.PropertyDiff{}
	for _, k := range replacing(req.State.CertificateBundleArgs, req.Inputs) {
		detailed[k] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
	}
	if len(detailed) > 0 {
		return infer.DiffResponse{HasChanges: true, DetailedDiff: detailed}, nil
	}
	t, err := now()
	if err != nil {
		return infer.DiffResponse{}, err
	}
	s, err := nextStep(req.ID, req.State, req.Inputs, t)
	if err != nil || s.kind == stepNone {
		return infer.DiffResponse{}, err
	}
	p.GetLogger(ctx).Info("renewal: " + s.why)
	for _, f := range s.fields {
		detailed[f] = p.PropertyDiff{Kind: p.Update}
	}
	return infer.DiffResponse{HasChanges: true, DetailedDiff: detailed}, nil
}

// Update performs the lifecycle step Diff planned; in a preview it changes nothing (the fields
// the step changes are made unknown by unknownDuringPreview).
func (*CertificateBundle) Update(ctx context.Context, req infer.UpdateRequest[CertificateBundleArgs, CertificateBundleState]) (infer.UpdateResponse[CertificateBundleState], error) {
	t, err := now()
	if err != nil {
		return infer.UpdateResponse[CertificateBundleState]{}, err
	}
	s, err := nextStep(req.ID, req.State, req.Inputs, t)
	if err != nil {
		return infer.UpdateResponse[CertificateBundleState]{}, err
	}
	if req.DryRun || s.kind == stepNone {
		out := req.State
		out.CertificateBundleArgs = req.Inputs
		return infer.UpdateResponse[CertificateBundleState]{Output: out}, nil
	}
	out, err := apply(req.ID, s, req.State, req.Inputs, t)
	return infer.UpdateResponse[CertificateBundleState]{Output: out}, err
}

// unknownDuringPreview wraps the provider's Update so that, in a preview, the outputs the
// planned lifecycle step changes are unknown: the Secret and ConfigMap built from them then show
// as changing in the preview diff, as they will at the update.
func unknownDuringPreview(inner func(context.Context, p.UpdateRequest) (p.UpdateResponse, error)) func(context.Context, p.UpdateRequest) (p.UpdateResponse, error) {
	return func(ctx context.Context, req p.UpdateRequest) (p.UpdateResponse, error) {
		resp, err := inner(ctx, req)
		if err != nil || !req.DryRun || string(req.Urn.Type()) != bundleToken {
			return resp, err
		}
		st, in := stateOf(req.State), argsOf(req.Inputs)
		t, err := now()
		if err != nil {
			return resp, err
		}
		s, err := nextStep(req.ID, st, in, t)
		if err != nil {
			return resp, err
		}
		for _, f := range s.fields {
			resp.Properties = resp.Properties.Set(f, property.New(property.Computed))
		}
		return resp, nil
	}
}

// bundleToken is CertificateBundle's type token.
const bundleToken = Name + ":index:CertificateBundle"

func str(m property.Map, k string) string {
	v := m.Get(k)
	if v.IsString() {
		return v.AsString()
	}
	return ""
}

func intPtr(m property.Map, k string) *int {
	v := m.Get(k)
	if !v.IsNumber() {
		return nil
	}
	n := int(v.AsNumber())
	return &n
}

// argsOf and stateOf read what nextStep needs from the wire form.
func argsOf(m property.Map) CertificateBundleArgs {
	in := CertificateBundleArgs{CommonName: str(m, "commonName"), ValidityDays: intPtr(m, "validityDays"),
		CAValidityDays: intPtr(m, "caValidityDays"), RenewBeforeDays: intPtr(m, "renewBeforeDays")}
	if v := m.Get("withCa"); v.IsBool() {
		in.WithCA = v.AsBool()
	}
	if v := m.Get("dnsNames"); v.IsArray() {
		for _, n := range v.AsArray().AsSlice() {
			if n.IsString() {
				in.DNSNames = append(in.DNSNames, n.AsString())
			}
		}
	}
	if u := str(m, "usage"); u != "" {
		in.Usage = &u
	}
	return in
}

func stateOf(m property.Map) CertificateBundleState {
	return CertificateBundleState{CertificateBundleArgs: argsOf(m), CACertPEM: str(m, "caCertPem"), CAKeyPEM: str(m, "caKeyPem"),
		CertPEM: str(m, "certPem"), KeyPEM: str(m, "keyPem"), NotAfter: str(m, "notAfter"), CANotAfter: str(m, "caNotAfter")}
}
