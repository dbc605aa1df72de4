package plan

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// lifetimes are the certificate lifecycle of a, every unset value its default.
func lifetimes(a *spec.Args) pki.Lifetimes {
	var l pki.Lifetimes
	if c := a.Certificates; c != nil {
		l = pki.Lifetimes{ValidityDays: c.ValidityDays, CAValidityDays: c.CAValidityDays, RenewBeforeDays: c.RenewBeforeDays}
	}
	return l.Resolved()
}

// validateLifecycle refuses a lifecycle that would re-issue on every run, let a CA rollover not
// fit before the CA ends, or have leaves outlive their CA (pki.Lifetimes.Check).
func validateLifecycle(p *core.Problems, a *spec.Args) {
	c := a.Certificates
	if c == nil {
		return
	}
	path := field.NewPath("certificates")
	for _, pr := range (pki.Lifetimes{ValidityDays: c.ValidityDays, CAValidityDays: c.CAValidityDays, RenewBeforeDays: c.RenewBeforeDays}).Check(true) {
		fp := path
		if pr.Field != "" {
			fp = path.Child(pr.Field)
		}
		p.Add(fp, pr.Problem, pr.Fix)
	}
}

// applyLifecycle writes a's lifecycle into every planned certificate, where it differs from the
// defaults.
func applyLifecycle(p *Plan) {
	l := lifetimes(&p.Args)
	set := func(certs []core.Certificate) {
		for i := range certs {
			if l.ValidityDays != pki.DefaultValidityDays {
				certs[i].ValidityDays = l.ValidityDays
			}
			if l.CAValidityDays != pki.DefaultCAValidityDays {
				certs[i].CAValidityDays = l.CAValidityDays
			}
			if l.RenewBeforeDays != pki.DefaultRenewBeforeDays {
				certs[i].RenewBeforeDays = l.RenewBeforeDays
			}
		}
	}
	set(p.Envoy.Install.Certificates)
	set(p.Envoy.Gateway.Certificates)
	for i := range p.Envoy.Backends {
		set(p.Envoy.Backends[i].Certificates)
	}
	if p.EKS != nil {
		set(p.EKS.Certificates)
	}
}
