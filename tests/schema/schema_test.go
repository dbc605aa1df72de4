// Package schema_test validates every rendered object against the pinned CRDs (Gateway API
// v1.6.3 standard channel, Envoy Gateway v1.9.1, AWS Load Balancer Controller v3.5.0), CEL rules (x-kubernetes-validations) included,
// and against the Kubernetes core schemas, with the real kubectl-validate built by
// scripts/tools.sh.
package schema_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"github.com/upstream-tls/upstream-tls/components/lbcapi"
	"github.com/upstream-tls/upstream-tls/components/plan"
	"github.com/upstream-tls/upstream-tls/components/stackconfig"
	"github.com/upstream-tls/upstream-tls/components/verify"
	"github.com/upstream-tls/upstream-tls/tests/cases"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

var (
	validator string   // kubectl-validate binary
	crdDirs   []string // pinned CRDs
)

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "schema-crds")
	if err != nil {
		panic(err)
	}
	validator, crdDirs, err = verify.SchemaTools(context.Background(), repoRoot(), filepath.Join(dir, "offline"))
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func validate(t *testing.T, objs []plan.Object) (string, error) {
	t.Helper()
	return verify.ValidateSchema(context.Background(), validator, crdDirs, objs)
}

// goldenPlans plans every golden input that is valid, and every committed stack.
func goldenPlans(t *testing.T) map[string]*plan.Plan {
	t.Helper()
	golden, err := cases.Golden(repoRoot())
	if err != nil {
		t.Fatal(err)
	}
	stacks, err := cases.Stacks(repoRoot())
	if err != nil {
		t.Fatal(err)
	}
	plans := map[string]*plan.Plan{}
	for _, c := range stacks {
		if c.Err != nil {
			t.Fatalf("%s: %v", c.Name, c.Err)
		}
		plans[c.Name] = c.Plan
	}
	for _, c := range golden {
		if c.Err == nil {
			plans[c.Name] = c.Plan
		}
	}
	return plans
}

// TestEveryRenderedObjectIsValid: the objects of every golden case and every stack pass the
// pinned CRD schemas and CEL rules and the core schemas.
func TestEveryRenderedObjectIsValid(t *testing.T) {
	for name, p := range goldenPlans(t) {
		t.Run(name, func(t *testing.T) {
			if out, err := validate(t, p.AllObjects()); err != nil {
				t.Errorf("kubectl-validate rejected the plan: %v\n%s", err, out)
			}
		})
	}
}

// TestViolationsAreCaught: the validator really enforces the CEL rules that guard upstream TLS,
// and the LBC CRDs' schemas the EKS path relies on.
func TestViolationsAreCaught(t *testing.T) {
	system := gwapiv1.WellKnownCACertificatesSystem
	for _, tc := range []struct {
		name   string
		mutate func(o plan.Object) bool
		want   string
		stack  string // default Pulumi.dev.yaml
	}{
		{"policy with both a CA ref and the system CAs", func(o plan.Object) bool {
			btp, ok := o.(*gwapiv1.BackendTLSPolicy)
			if ok && len(btp.Spec.Validation.CACertificateRefs) > 0 {
				btp.Spec.Validation.WellKnownCACertificates = &system
				return true
			}
			return false
		}, "must not contain both CACertificateRefs and WellKnownCACertificates", ""},
		{"insecure Backend that also trusts the system CAs", func(o plan.Object) bool {
			b, ok := o.(*egv1a1.Backend)
			if ok {
				b.Spec.TLS.WellKnownCACertificates = &system
			}
			return ok
		}, "must not contain either CACertificateRefs or WellKnownCACertificates when InsecureSkipVerify is enabled", ""},
		{"policy hostname with upper case", func(o plan.Object) bool {
			btp, ok := o.(*gwapiv1.BackendTLSPolicy)
			if ok {
				btp.Spec.Validation.Hostname = "Public-API.example.com"
			}
			return ok
		}, "spec.validation.hostname", ""},
		{"TLS health check on a target group", func(o plan.Object) bool {
			tgc, ok := o.(*lbcapi.TargetGroupConfiguration)
			if ok {
				tgc.Spec.DefaultConfiguration.HealthCheckConfig.HealthCheckProtocol = "TLS"
			}
			return ok
		}, `healthCheckProtocol: Unsupported value: "TLS"`, "Pulumi.eks.yaml"},
		{"target group protocol in lower case", func(o plan.Object) bool {
			tgc, ok := o.(*lbcapi.TargetGroupConfiguration)
			if ok {
				tgc.Spec.DefaultConfiguration.Protocol = "tls"
			}
			return ok
		}, "spec.defaultConfiguration.protocol", "Pulumi.eks.yaml"},
		{"TLS listener with neither certificateRefs nor options", func(o plan.Object) bool {
			gw, ok := o.(*gwapiv1.Gateway)
			if ok && gw.Spec.Listeners[0].Protocol == gwapiv1.TLSProtocolType {
				gw.Spec.Listeners[0].TLS.Options = nil
				return true
			}
			return false
		}, "certificateRefs or options must be specified when mode is Terminate", "Pulumi.eks.yaml"},
		{"listener configuration with a malformed protocolPort", func(o plan.Object) bool {
			lbc, ok := o.(*lbcapi.LoadBalancerConfiguration)
			if ok {
				lbc.Spec.ListenerConfigurations[0].ProtocolPort = "TLS-443"
			}
			return ok
		}, "protocolPort", "Pulumi.eks.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stack := tc.stack
			if stack == "" {
				stack = "Pulumi.dev.yaml"
			}
			st, err := stackconfig.FromFile(filepath.Join(repoRoot(), stack))
			if err != nil {
				t.Fatal(err)
			}
			p, err := plan.Build(st.Args)
			if err != nil {
				t.Fatal(err)
			}
			mutated := false
			for _, o := range p.AllObjects() {
				if tc.mutate(o) {
					mutated = true
					break
				}
			}
			if !mutated {
				t.Fatalf("no object to mutate in the %s plan", stack)
			}
			out, err := validate(t, p.AllObjects())
			if err == nil {
				t.Fatalf("kubectl-validate accepted the broken object:\n%s", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("validator output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}
