// Package schema_test validates every rendered object against the pinned CRDs (Gateway API
// v1.6.3 standard channel, Envoy Gateway v1.9.1, AWS Load Balancer Controller v3.5.0), CEL rules
// (x-kubernetes-validations) and admission policies included, and against the Kubernetes core
// schemas, with the real kube-apiserver: a scratch local cluster (scripts/tools.sh cluster)
// with the pinned CRDs installed answers a server-side dry run of every object.
package schema_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/kube"
	"github.com/upstream-tls/upstream-tls/internal/lbc"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
	"github.com/upstream-tls/upstream-tls/internal/verify"
)

var api *kube.Client // the scratch cluster, with the pinned CRDs installed

func repoRoot() string { return testutil.MustRepoRoot() }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "schema-crds")
	if err != nil {
		panic(err)
	}
	crdDirs, err := testutil.OfflineInputs(repoRoot(), filepath.Join(dir, "offline"))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	sc, err := testutil.StartScratchCluster(ctx, repoRoot(), os.Stderr)
	if err != nil {
		panic(err)
	}
	if err := verify.PrepareSchemaCluster(ctx, sc.Admin, crdDirs); err != nil {
		sc.Stop()
		panic(err)
	}
	cancel()
	api = sc.Admin
	code := m.Run()
	sc.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

func validate(t *testing.T, objs []core.Object) (string, error) {
	t.Helper()
	return verify.DryRun(context.Background(), api, objs)
}

// goldenPlans plans every golden input that is valid, and every committed stack.
func goldenPlans(t *testing.T) map[string]*plan.Plan {
	t.Helper()
	golden, err := testutil.Golden(repoRoot())
	if err != nil {
		t.Fatal(err)
	}
	stacks, err := testutil.Stacks(repoRoot())
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
				t.Errorf("the API server refused the plan: %v\n%s", err, out)
			}
		})
	}
}

// TestViolationsAreCaught: the API server really enforces the CEL rules that guard upstream TLS,
// and the LBC CRDs' schemas the EKS path relies on.
func TestViolationsAreCaught(t *testing.T) {
	system := gwapiv1.WellKnownCACertificatesSystem
	for _, tc := range []struct {
		name   string
		mutate func(o core.Object) bool
		want   string
		stack  string // default Pulumi.dev.yaml
	}{
		{"policy with both a CA ref and the system CAs", func(o core.Object) bool {
			btp, ok := o.Resource.(*gwapiv1.BackendTLSPolicy)
			if ok && len(btp.Spec.Validation.CACertificateRefs) > 0 {
				btp.Spec.Validation.WellKnownCACertificates = &system
				return true
			}
			return false
		}, "must not contain both CACertificateRefs and WellKnownCACertificates", ""},
		{"insecure Backend that also trusts the system CAs", func(o core.Object) bool {
			b, ok := o.Resource.(*egv1a1.Backend)
			if ok {
				b.Spec.TLS.WellKnownCACertificates = &system
			}
			return ok
		}, "must not contain either CACertificateRefs or WellKnownCACertificates when InsecureSkipVerify is enabled", ""},
		{"policy hostname with upper case", func(o core.Object) bool {
			btp, ok := o.Resource.(*gwapiv1.BackendTLSPolicy)
			if ok {
				btp.Spec.Validation.Hostname = "Public-API.example.com"
			}
			return ok
		}, "spec.validation.hostname", ""},
		{"TLS health check on a target group", func(o core.Object) bool {
			tgc, ok := o.Resource.(*lbc.TargetGroupConfiguration)
			if ok {
				tgc.Spec.DefaultConfiguration.HealthCheckConfig.HealthCheckProtocol = "TLS"
			}
			return ok
		}, `healthCheckProtocol: Unsupported value: "TLS"`, "Pulumi.eks.yaml"},
		{"target group protocol in lower case", func(o core.Object) bool {
			tgc, ok := o.Resource.(*lbc.TargetGroupConfiguration)
			if ok {
				tgc.Spec.DefaultConfiguration.Protocol = "tls"
			}
			return ok
		}, "spec.defaultConfiguration.protocol", "Pulumi.eks.yaml"},
		{"TLS listener with neither certificateRefs nor options", func(o core.Object) bool {
			gw, ok := o.Resource.(*gwapiv1.Gateway)
			if ok && gw.Spec.Listeners[0].Protocol == gwapiv1.TLSProtocolType {
				gw.Spec.Listeners[0].TLS.Options = nil
				return true
			}
			return false
		}, "certificateRefs or options must be specified when mode is Terminate", "Pulumi.eks.yaml"},
		{"listener configuration with a malformed protocolPort", func(o core.Object) bool {
			lbcObj, ok := o.Resource.(*lbc.LoadBalancerConfiguration)
			if ok {
				lbcObj.Spec.ListenerConfigurations[0].ProtocolPort = "TLS-443"
			}
			return ok
		}, "protocolPort", "Pulumi.eks.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stack := tc.stack
			if stack == "" {
				stack = "Pulumi.dev.yaml"
			}
			st, err := config.FromFile(filepath.Join(repoRoot(), stack))
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
				t.Fatalf("the API server accepted the broken object:\n%s", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("validator output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestPathRulesAgreeWithTheCRD: the plan's HTTPRoute path checks (envoy.PathPrefixProblem,
// refused at preview) give the verdict the HTTPRoute CRD's own CEL rules give the API server,
// for paths on both sides of every rule.
func TestPathRulesAgreeWithTheCRD(t *testing.T) {
	st, err := config.FromFile(filepath.Join(repoRoot(), "Pulumi.dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(st.Args)
	if err != nil {
		t.Fatal(err)
	}
	var route *gwapiv1.HTTPRoute
	var obj core.Object
	for _, o := range p.AllObjects() {
		if r, ok := o.Resource.(*gwapiv1.HTTPRoute); ok {
			route, obj = r, o
			break
		}
	}
	for _, path := range []string{
		"/", "/api", "/api/v1", "/a%20b", "/~user/x.y", "/a:b@c", // valid
		"api", "/a//b", "/a/./b", "/a/../b", "/a%2fb", "/a%2Fb", "/a#b", "/a/..", "/a/.", "/a b", "/" + strings.Repeat("x", 1024), // invalid
	} {
		value := path
		route.Spec.Rules[0].Matches[0].Path.Value = &value
		out, err := validate(t, []core.Object{obj})
		crdOK := err == nil
		planOK := envoy.PathPrefixProblem(path) == ""
		if crdOK != planOK {
			t.Errorf("path %.40q: the CRD says valid=%v, the plan says valid=%v (%s)\n%s", path, crdOK, planOK, envoy.PathPrefixProblem(path), out)
		}
	}
}
