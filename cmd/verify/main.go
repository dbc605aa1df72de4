// Command verify is `make verify STACK=<stack>`: it plans Pulumi.<stack>.yaml, validates every
// object against the pinned CRDs and CEL rules (kubectl-validate), translates the
// planned objects (with generated certificates) with the real Envoy Gateway translator
// (egctl-verify: the pinned egctl whose `x translate` can disable the Backend API, built into the
// tools cache by verify.EnsureEgctl when missing; run from the repository root) and prints, per
// backend, `NAME MODE EFFECTIVE SNI OK|MISMATCH(reason)`, then one line per NLB target of the
// EKS path (checked by the schema tier only). It exits 1 on any schema violation,
// mismatch or bad status condition, and 2 when it cannot run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/upstream-tls/upstream-tls/components/plan"
	"github.com/upstream-tls/upstream-tls/components/stackconfig"
	"github.com/upstream-tls/upstream-tls/components/verify"
)

func main() {
	stack := flag.String("stack", "dev", "stack name: reads Pulumi.<stack>.yaml")
	config := flag.String("config", "", "stack config file (default Pulumi.<stack>.yaml in the current directory)")
	egctl := flag.String("egctl", "", "egctl binary (default: egctl-verify, built by verify.EnsureEgctl into the tools cache when missing)")
	flag.Parse()
	if *config == "" {
		*config = "Pulumi." + *stack + ".yaml"
	}
	ok, err := run(*config, *egctl)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(configPath, egctl string) (bool, error) {
	st, err := stackconfig.FromFile(configPath)
	if err != nil {
		return false, err
	}
	p, err := plan.Build(st.Args)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if egctl == "" {
		cache, err := verify.DefaultCacheDir()
		if err != nil {
			return false, err
		}
		if egctl, err = verify.EnsureEgctl(ctx, ".", cache); err != nil {
			return false, err
		}
	}
	// Tier 1: the API server's view — pinned CRD schemas, CEL rules, core schemas.
	validator, crdDirs, err := verify.SchemaTools(ctx, ".", "out/offline")
	if err != nil {
		return false, err
	}
	schemaOK := true
	if report, err := verify.ValidateSchema(ctx, validator, crdDirs, p.AllObjects()); err != nil {
		schemaOK = false
		fmt.Println("schema: VIOLATION")
		fmt.Println(report)
	}
	// Tier 2: Envoy Gateway's view — what the translator makes of the objects.
	rep, err := verify.Verify(ctx, egctl, p, time.Now())
	if err != nil {
		return false, err
	}
	for _, r := range rep.Results {
		fmt.Println(r)
	}
	for _, c := range rep.Conditions {
		fmt.Println("condition:", c)
	}
	// The EKS path has no offline translator: its objects passed the schema tier above; what the
	// NLB does to the pods is fixed by AWS and stated, not derived.
	if p.EKS != nil {
		for _, t := range p.EKS.Targets {
			fmt.Printf("%s nlb %s->pods NOT-VERIFIED-BY-NLB schema-only\n", t.Name, t.TargetGroupProtocol)
		}
	}
	return schemaOK && rep.OK(), nil
}
