package verify

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/plan"
)

// Tools are the programs the verifier runs; scripts/tools.sh builds them.
type Tools struct {
	// Egctl is egctl-verify (Envoy Gateway's egctl, honouring BackendDisabledEnv).
	Egctl string
	// Validator is kubectl-validate.
	Validator string
	// CRDDirs are directories of the pinned CRDs the schema tier validates against.
	CRDDirs []string
}

// Stack is `make verify STACK=<stack>`: it plans the stack file at configPath, validates every
// object against the pinned CRDs and CEL rules (kubectl-validate), translates the planned
// objects (with generated certificates) with Envoy Gateway's translator and prints, per
// backend, `NAME MODE EFFECTIVE SNI OK|MISMATCH(reason)`, then one line per NLB target of the
// EKS path (checked by the schema tier only). ok is false on any schema violation, mismatch or
// bad status condition; err is set when it cannot run.
func Stack(ctx context.Context, configPath string, tools Tools, out io.Writer) (ok bool, err error) {
	st, err := config.FromFile(configPath)
	if err != nil {
		return false, err
	}
	p, err := plan.Build(st.Args)
	if err != nil {
		return false, err
	}
	// Tier 1: the API server's view — pinned CRD schemas, CEL rules, core schemas.
	schemaOK := true
	if report, err := ValidateSchema(ctx, tools.Validator, tools.CRDDirs, p.AllObjects()); err != nil {
		schemaOK = false
		fmt.Fprintln(out, "schema: VIOLATION")
		fmt.Fprintln(out, report)
	}
	// Tier 2: Envoy Gateway's view — what the translator makes of the objects.
	rep, err := Verify(ctx, tools.Egctl, p, time.Now())
	if err != nil {
		return false, err
	}
	for _, r := range rep.Results {
		fmt.Fprintln(out, r)
	}
	for _, c := range rep.Conditions {
		fmt.Fprintln(out, "condition:", c)
	}
	// The EKS path has no offline translator: its objects passed the schema tier above; what the
	// NLB does to the pods is fixed by AWS and stated, not derived.
	if p.EKS != nil {
		for _, t := range p.EKS.Targets {
			fmt.Fprintf(out, "%s nlb %s->pods NOT-VERIFIED-BY-NLB schema-only\n", t.Name, t.TargetGroupProtocol)
		}
	}
	return schemaOK && rep.OK(), nil
}
