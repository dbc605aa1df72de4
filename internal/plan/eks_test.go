package plan_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/upstream-tls/upstream-tls/internal/lbc"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/eks"
	"github.com/upstream-tls/upstream-tls/internal/spec"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

const testCertARN = testutil.TestCertARN

var eksArgs = testutil.EKSBaseArgs

func TestEKSOffByDefault(t *testing.T) {
	for _, e := range []*spec.EKSArgs{nil, {ClusterName: "x"}} {
		a := args(backend("api", spec.ModeInsecure))
		a.EKS = e
		p, err := plan.Build(a)
		if err != nil {
			t.Fatal(err)
		}
		if p.EKS != nil {
			t.Errorf("EKS planned with eks = %+v", e)
		}
		for _, o := range p.AllObjects() {
			if o.Resource.GroupVersionKind().Group == lbc.GroupName {
				t.Errorf("LBC object %s planned while the EKS path is off", o.Key())
			}
		}
	}
}

func TestEKSPlan(t *testing.T) {
	p, err := plan.Build(eksArgs())
	if err != nil {
		t.Fatal(err)
	}
	e := p.EKS
	if e == nil {
		t.Fatal("no EKS plan")
	}
	if e.Release == nil || !e.Release.SkipCRDs || e.Release.Version != eks.DefaultLBCChartVersion || e.Release.Namespace != "kube-system" {
		t.Errorf("release = %+v", e.Release)
	}
	if e.CRDs == nil || len(e.CRDs.Sources) != 2 {
		t.Errorf("LBC CRDs = %+v", e.CRDs)
	}
	if e.IAM.Mode != spec.IdentityPodIdentity || e.IAM.RoleName != "dev-cluster-aws-load-balancer-controller" || e.IAM.PolicyDocument == "" {
		t.Errorf("IAM = %+v", e.IAM)
	}
	if gc := e.GatewayClass; gc.Name() != "aws-nlb" {
		t.Errorf("GatewayClass %s", gc.Name())
	}
	lbcObj, ok := e.Objects[0].Resource.(*lbc.LoadBalancerConfiguration)
	if !ok {
		t.Fatalf("first EKS object is %T, want the LoadBalancerConfiguration", e.Objects[0])
	}
	if lbcObj.Spec.Scheme != "internal" || len(lbcObj.Spec.ListenerConfigurations) != 1 ||
		lbcObj.Spec.ListenerConfigurations[0].ProtocolPort != "TLS:443" || lbcObj.Spec.ListenerConfigurations[0].DefaultCertificate != testCertARN {
		t.Errorf("LoadBalancerConfiguration spec = %+v", lbcObj.Spec)
	}
	if len(e.Targets) != 1 {
		t.Fatalf("targets = %d", len(e.Targets))
	}
	tg := e.Targets[0]
	if tg.TargetGroupProtocol != "TLS" || tg.ListenerProtocol != "TLS" || tg.Namespace != "apps" || tg.Service != "api" || tg.Statement != eks.StatementTLS {
		t.Errorf("target = %+v", tg)
	}
	tgc, ok := tg.Objects[0].Resource.(*lbc.TargetGroupConfiguration)
	if !ok || tgc.Namespace != "apps" || tgc.Spec.TargetReference.Name != "api" || tgc.Spec.DefaultConfiguration.HealthCheckConfig.HealthCheckProtocol != "TCP" {
		t.Errorf("TargetGroupConfiguration = %+v", tg.Objects[0])
	}
	if !strings.Contains(p.Posture(), "NLB VERIFIES") {
		t.Errorf("posture lacks the NLB section:\n%s", p.Posture())
	}
}

func TestEKSIRSATrustPolicy(t *testing.T) {
	a := eksArgs()
	a.EKS.Identity = &spec.EKSIdentityArgs{Mode: spec.IdentityIRSA, OIDCProviderARN: "arn:aws-cn:iam::111122223333:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC"}
	a.EKS.Controller = &spec.LBCArgs{Namespace: "lbc", ServiceAccount: "lbc-sa"}
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	var trust struct {
		Statement []struct {
			Action    string
			Principal map[string]string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(p.EKS.IAM.TrustPolicy), &trust); err != nil {
		t.Fatal(err)
	}
	st := trust.Statement[0]
	issuer := "oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC"
	if st.Action != "sts:AssumeRoleWithWebIdentity" || st.Principal["Federated"] != a.EKS.Identity.OIDCProviderARN ||
		st.Condition["StringEquals"][issuer+":sub"] != "system:serviceaccount:lbc:lbc-sa" {
		t.Errorf("trust policy = %s", p.EKS.IAM.TrustPolicy)
	}
	sa := p.EKS.Release.Values["serviceAccount"].(map[string]any)
	if sa["annotations"].(map[string]any)[eks.RoleARNAnnotation] != core.RoleARNRef.String() {
		t.Errorf("service account = %v", sa)
	}
}

func TestEKSBadInput(t *testing.T) {
	for _, tc := range testutil.EKSBadInputs() {
		t.Run(tc.Name, func(t *testing.T) {
			a := eksArgs()
			tc.Mutate(&a)
			p, err := plan.Build(a)
			if err == nil {
				t.Fatalf("Build accepted the input; EKS plan %+v", p.EKS)
			}
			requireProblem(t, err, tc.Field, tc.InMessage)
		})
	}
}

func TestEKSProductionAllowedWarns(t *testing.T) {
	a := eksArgs()
	a.Environment = spec.EnvironmentProduction
	a.AllowInsecureBackends = true
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "does not validate the pods' certificates") {
		t.Errorf("warnings = %q", p.Warnings)
	}
}

func TestEKSDoesNotMutateInput(t *testing.T) {
	a := eksArgs()
	before, _ := json.Marshal(a)
	if _, err := plan.Build(a); err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(a)
	if string(before) != string(after) {
		t.Errorf("Build changed its input:\nbefore %s\nafter  %s", before, after)
	}
}

func TestEKSExternalGatewayAPICRDsWarn(t *testing.T) {
	a := eksArgs()
	no := false
	a.EnvoyGateway = &spec.EnvoyGatewayArgs{ManageGatewayAPICRDs: &no}
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "v1.6 (or newer) standard-channel CRDs") {
		t.Errorf("warnings = %q", p.Warnings)
	}
}
