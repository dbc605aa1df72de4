package plan

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// lifetimes are the certificate lifecycle of a, every unset value its default.
func lifetimes(a *spec.Args) (validity, caValidity, renewBefore int) {
	validity, caValidity, renewBefore = core.DefaultValidityDays, core.DefaultCAValidityDays, core.DefaultRenewBeforeDays
	if c := a.Certificates; c != nil {
		if c.ValidityDays != 0 {
			validity = c.ValidityDays
		}
		if c.CAValidityDays != 0 {
			caValidity = c.CAValidityDays
		}
		if c.RenewBeforeDays != 0 {
			renewBefore = c.RenewBeforeDays
		}
	}
	return validity, caValidity, renewBefore
}

// validateLifecycle refuses a lifecycle that would re-issue on every run, let a CA rollover not
// fit before the CA ends, or have leaves outlive their CA.
func validateLifecycle(p *core.Problems, a *spec.Args) {
	if a.Certificates == nil {
		return
	}
	path := field.NewPath("certificates")
	v, ca, rb := lifetimes(a)
	c := a.Certificates
	if c.ValidityDays < 0 || c.CAValidityDays < 0 || c.RenewBeforeDays < 0 {
		p.Add(path, "a lifetime is negative", "give days as positive numbers, or leave them unset for the defaults (365, 1825, 30)")
		return
	}
	if rb >= v {
		p.Add(path.Child("renewBeforeDays"), fmt.Sprintf("%d is not less than validityDays %d: every `pulumi up` would re-issue every certificate", rb, v),
			"set renewBeforeDays below validityDays (the default is 30 of 365)")
	}
	if ca < v {
		p.Add(path.Child("caValidityDays"), fmt.Sprintf("%d is less than validityDays %d: a leaf never outlives its CA, so every leaf would be cut short", ca, v),
			"set caValidityDays to at least validityDays (the default is 1825)")
	} else if ca <= 2*rb {
		p.Add(path.Child("caValidityDays"), fmt.Sprintf("%d is not more than twice renewBeforeDays (%d): a CA rollover takes three runs inside that window", ca, 2*rb),
			"raise caValidityDays or lower renewBeforeDays")
	}
}

// applyLifecycle writes a's lifecycle into every planned certificate, where it differs from the
// defaults.
func applyLifecycle(p *Plan) {
	v, ca, rb := lifetimes(&p.Args)
	set := func(certs []core.Certificate) {
		for i := range certs {
			if v != core.DefaultValidityDays {
				certs[i].ValidityDays = v
			}
			if ca != core.DefaultCAValidityDays {
				certs[i].CAValidityDays = ca
			}
			if rb != core.DefaultRenewBeforeDays {
				certs[i].RenewBeforeDays = rb
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
