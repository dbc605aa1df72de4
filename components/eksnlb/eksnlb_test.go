package eksnlb_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/eksnlb"
	"github.com/upstream-tls/upstream-tls/internal/lbc/iam"
	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/eks"
	"github.com/upstream-tls/upstream-tls/internal/register"
	"github.com/upstream-tls/upstream-tls/internal/spec"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

const certARN = "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"

func eksArgs(mode string) spec.Args {
	a := spec.Args{
		Environment: spec.EnvironmentStaging,
		Backends: []spec.BackendArgs{
			{Name: "api", Namespace: "apps", TLS: spec.TLSArgs{Mode: spec.ModeCA, CA: &spec.CAArgs{Generate: true}}},
		},
		EKS: &spec.EKSArgs{
			Enabled:     true,
			ClusterName: "staging",
			Region:      "eu-west-1",
			Identity:    &spec.EKSIdentityArgs{Mode: mode},
			Gateway: &spec.NLBGatewayArgs{Listeners: []spec.NLBListenerArgs{
				{Name: "tls", Port: 443, Hostname: "api.example.com", CertificateARN: certARN},
			}},
			Targets: []spec.NLBTargetArgs{{Backend: "api"}},
		},
	}
	if mode == spec.IdentityIRSA {
		a.EKS.Identity.OIDCProviderARN = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF"
	}
	return a
}

// run plans args and registers the EKS component alone, after what it waits for (the
// namespaces and the Gateway API CRDs, which UpstreamTls registers in a real run).
func run(t *testing.T, a spec.Args) (*testutil.Mocks, *plan.Plan, map[string]any) {
	t.Helper()
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	m := &testutil.Mocks{}
	var targets testutil.Await[[]map[string]any]
	var role testutil.Await[string]
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		deps := register.NewDeps()
		for _, ns := range p.Namespaces {
			if _, err := register.Object(ctx, ns, deps, nil); err != nil {
				return err
			}
		}
		if p.GatewayAPICRDs != nil {
			crds, err := register.CRDs(ctx, "nlb-gateway-api-crds", p.GatewayAPICRDs)
			if err != nil {
				return err
			}
			deps.Add(core.StepGatewayAPICRDs, crds)
		}
		c, err := eksnlb.New(ctx, "nlb", &eksnlb.Args{EKS: p.EKS, Deps: deps})
		if err != nil {
			return err
		}
		targets.Watch(c.Targets)
		role.Watch(c.RoleArn)
		return nil
	}, pulumi.WithMocks("upstream-tls", "test", m))
	if err != nil {
		t.Fatal(err)
	}
	return m, p, map[string]any{"targets": targets.Wait(), "roleArn": role.Wait()}
}

func plain(v resource.PropertyValue) any {
	p, _ := testutil.Plain(v)
	return p
}

func embeddedPolicy(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(iam.Raw(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func actions(doc map[string]any) []string {
	var all []string
	for _, s := range doc["Statement"].([]any) {
		switch a := s.(map[string]any)["Action"].(type) {
		case string:
			all = append(all, a)
		case []any:
			for _, e := range a {
				all = append(all, e.(string))
			}
		}
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// TestIAMPolicyGrantsTheDocumentedActions: the registered policy is LBC's own pinned policy
// document (embedded from the pinned module; tests/generate compares it with the module's
// file), statement for statement, so it grants exactly the actions LBC lists.
func TestIAMPolicyGrantsTheDocumentedActions(t *testing.T) {
	m, _, _ := run(t, eksArgs(spec.IdentityPodIdentity))
	pol := m.First("aws:iam/policy:Policy")
	if pol == nil {
		t.Fatal("no aws:iam/policy:Policy registered")
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(pol.Inputs["policy"].StringValue()), &got); err != nil {
		t.Fatalf("policy input is not JSON: %v", err)
	}
	want := embeddedPolicy(t)
	if g, w := actions(got), actions(want); !reflect.DeepEqual(g, w) {
		t.Errorf("policy actions differ from LBC's pinned policy\n got %d: %v\nwant %d: %v", len(g), g, len(w), w)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("policy document differs from LBC's pinned iam_policy.json (conditions or resources)")
	}
	att := m.First("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
	if att == nil || !att.DependsOn("aws:iam/policy:Policy", pol.Name) || !att.DependsOn("aws:iam/role:Role", "nlb-controller") {
		t.Error("the role policy attachment does not tie the created policy to the created role")
	}
}

// TestPodIdentity: the role trusts EKS Pod Identity and is associated with the controller's
// service account; the chart does not annotate the service account.
func TestPodIdentity(t *testing.T) {
	m, _, outputs := run(t, eksArgs(spec.IdentityPodIdentity))
	role := m.Find("aws:iam/role:Role", "nlb-controller")
	if role == nil {
		t.Fatal("role not registered")
	}
	trust := role.Inputs["assumeRolePolicy"].StringValue()
	for _, want := range []string{`"Service":"pods.eks.amazonaws.com"`, `"sts:AssumeRole"`, `"sts:TagSession"`} {
		if !strings.Contains(trust, want) {
			t.Errorf("trust policy lacks %s: %s", want, trust)
		}
	}
	assoc := m.First("aws:eks/podIdentityAssociation:PodIdentityAssociation")
	if assoc == nil {
		t.Fatal("no PodIdentityAssociation registered")
	}
	for k, want := range map[string]string{"clusterName": "staging", "namespace": "kube-system", "serviceAccount": "aws-load-balancer-controller"} {
		if got := assoc.Inputs[resource.PropertyKey(k)].StringValue(); got != want {
			t.Errorf("association %s = %q, want %q", k, got, want)
		}
	}
	if got := plain(assoc.Inputs["roleArn"]); got != "arn:aws:iam::111122223333:role/staging-aws-load-balancer-controller" {
		t.Errorf("association roleArn = %v", got)
	}
	chart := m.First("kubernetes:helm.sh/v4:Chart")
	sa := plain(chart.Inputs["values"]).(map[string]any)["serviceAccount"].(map[string]any)
	if _, ok := sa["annotations"]; ok {
		t.Errorf("pod identity must not annotate the service account: %v", sa)
	}
	if outputs["roleArn"] != "arn:aws:iam::111122223333:role/staging-aws-load-balancer-controller" {
		t.Errorf("roleArn output = %v", outputs["roleArn"])
	}
}

// TestIRSA: the role trusts the cluster's OIDC provider for exactly the controller's service
// account, and the chart annotates that service account with the role's ARN.
func TestIRSA(t *testing.T) {
	m, _, _ := run(t, eksArgs(spec.IdentityIRSA))
	if m.First("aws:eks/podIdentityAssociation:PodIdentityAssociation") != nil {
		t.Error("IRSA must not create a Pod Identity association")
	}
	var trust map[string]any
	role := m.Find("aws:iam/role:Role", "nlb-controller")
	if err := json.Unmarshal([]byte(role.Inputs["assumeRolePolicy"].StringValue()), &trust); err != nil {
		t.Fatal(err)
	}
	st := trust["Statement"].([]any)[0].(map[string]any)
	if st["Action"] != "sts:AssumeRoleWithWebIdentity" {
		t.Errorf("trust action = %v", st["Action"])
	}
	cond := st["Condition"].(map[string]any)["StringEquals"].(map[string]any)
	issuer := "oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF"
	if cond[issuer+":sub"] != "system:serviceaccount:kube-system:aws-load-balancer-controller" || cond[issuer+":aud"] != "sts.amazonaws.com" {
		t.Errorf("trust conditions = %v", cond)
	}
	chart := m.First("kubernetes:helm.sh/v4:Chart")
	sa := plain(chart.Inputs["values"]).(map[string]any)["serviceAccount"].(map[string]any)
	ann, _ := sa["annotations"].(map[string]any)
	if ann[eks.RoleARNAnnotation] != "arn:aws:iam::111122223333:role/staging-aws-load-balancer-controller" {
		t.Errorf("service account annotations = %v, want the role ARN", sa["annotations"])
	}
}

// TestInstallOrder: Gateway API CRDs, then LBC CRDs, then the controller (after its IAM binding),
// and the chart skips its own CRDs so that they have one owner.
func TestInstallOrder(t *testing.T) {
	m, _, _ := run(t, eksArgs(spec.IdentityPodIdentity))
	gwCRDs := m.Find("kubernetes:yaml/v2:ConfigGroup", "nlb-gateway-api-crds")
	lbcCRDs := m.Find("kubernetes:yaml/v2:ConfigGroup", "nlb-lbc-crds")
	chart := m.Find("kubernetes:helm.sh/v4:Chart", "nlb-aws-load-balancer-controller")
	if gwCRDs == nil || lbcCRDs == nil || chart == nil {
		t.Fatalf("missing install resources: gateway CRDs %v, LBC CRDs %v, chart %v", gwCRDs != nil, lbcCRDs != nil, chart != nil)
	}
	if !lbcCRDs.DependsOn("kubernetes:yaml/v2:ConfigGroup", "nlb-gateway-api-crds") {
		t.Error("LBC CRDs do not wait for the Gateway API CRDs")
	}
	for _, dep := range [][2]string{
		{"kubernetes:yaml/v2:ConfigGroup", "nlb-gateway-api-crds"},
		{"kubernetes:yaml/v2:ConfigGroup", "nlb-lbc-crds"},
		{"aws:iam/rolePolicyAttachment:RolePolicyAttachment", "nlb-controller"},
		{"aws:eks/podIdentityAssociation:PodIdentityAssociation", "nlb-controller"},
	} {
		if !chart.DependsOn(dep[0], dep[1]) {
			t.Errorf("the controller chart does not wait for %s %s", dep[0], dep[1])
		}
	}
	if !chart.Inputs["skipCrds"].BoolValue() {
		t.Error("the chart must skip its crds/ (the component installs them first)")
	}
	if got := chart.Inputs["repositoryOpts"].ObjectValue()["repo"].StringValue(); got != "https://aws.github.io/eks-charts" {
		t.Errorf("chart repository = %q", got)
	}
	if got := chart.Inputs["version"].StringValue(); got != eks.DefaultLBCChartVersion {
		t.Errorf("chart version = %q", got)
	}
	values := plain(chart.Inputs["values"]).(map[string]any)
	if fg := values["controllerConfig"].(map[string]any)["featureGates"].(map[string]any); fg["NLBGatewayAPI"] != true {
		t.Errorf("featureGates = %v, want NLBGatewayAPI true", fg)
	}
	files := plain(lbcCRDs.Inputs["files"])
	if !reflect.DeepEqual(files, []any{eks.CRDsURLs(eks.DefaultLBCChartVersion)[0], eks.CRDsURLs(eks.DefaultLBCChartVersion)[1]}) {
		t.Errorf("LBC CRD files = %v", files)
	}
	tgc := m.First("kubernetes:gateway.k8s.aws/v1:TargetGroupConfiguration")
	if tgc == nil || !tgc.DependsOn("kubernetes:yaml/v2:ConfigGroup", "nlb-lbc-crds") {
		t.Error("the TargetGroupConfiguration is not registered after the LBC CRDs")
	}
}

// TestWebhookCertificate: the controller's webhook serves a certificate the component generates
// once (stable across previews), signed by the CA the chart gives the API server; the key is a
// secret.
func TestWebhookCertificate(t *testing.T) {
	m, _, _ := run(t, eksArgs(spec.IdentityPodIdentity))
	chart := m.First("kubernetes:helm.sh/v4:Chart")
	tlsValues := chart.Inputs["values"].ObjectValue()["webhookTLS"]
	var key resource.PropertyValue
	switch {
	case tlsValues.IsObject():
		key = tlsValues.ObjectValue()["key"]
	case tlsValues.IsOutput():
		key = tlsValues.OutputValue().Element.ObjectValue()["key"]
	}
	if !testutil.IsSecret(key) && !testutil.IsSecret(tlsValues) && !testutil.IsSecret(chart.Inputs["values"]) {
		t.Error("webhookTLS.key is not a secret")
	}
	v := plain(chart.Inputs["values"]).(map[string]any)["webhookTLS"].(map[string]any)
	if !strings.Contains(v["key"].(string), "PRIVATE KEY") {
		t.Errorf("webhookTLS.key holds no key")
	}
	if err := pki.Verify(v["caCert"].(string), v["cert"].(string), "aws-load-balancer-webhook-service.kube-system.svc", time.Now()); err != nil {
		t.Errorf("webhook CA does not verify the webhook certificate for the service name: %v", err)
	}
}

// TestObjectsAndOutputs: the NLB objects are registered under their Kubernetes type tokens, and
// every target reports that the NLB does not verify the pods.
func TestObjectsAndOutputs(t *testing.T) {
	m, p, outputs := run(t, eksArgs(spec.IdentityPodIdentity))
	for _, typ := range []string{
		"kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
		"kubernetes:gateway.networking.k8s.io/v1:Gateway",
		"kubernetes:gateway.k8s.aws/v1:LoadBalancerConfiguration",
		"kubernetes:gateway.k8s.aws/v1:TargetGroupConfiguration",
		"kubernetes:gateway.networking.k8s.io/v1:TLSRoute",
		"kubernetes:gateway.networking.k8s.io/v1beta1:ReferenceGrant",
	} {
		if m.First(typ) == nil {
			t.Errorf("no %s registered", typ)
		}
	}
	tgc := m.First("kubernetes:gateway.k8s.aws/v1:TargetGroupConfiguration")
	dc := plain(tgc.Inputs["spec"]).(map[string]any)["defaultConfiguration"].(map[string]any)
	if dc["protocol"] != "TLS" || dc["targetType"] != "ip" || dc["healthCheckConfig"].(map[string]any)["healthCheckProtocol"] != "TCP" {
		t.Errorf("TargetGroupConfiguration defaultConfiguration = %v", dc)
	}
	targets := outputs["targets"].([]map[string]any)
	if len(targets) != 1 || targets[0]["verified"] != false || targets[0]["targetGroupProtocol"] != "TLS" ||
		!strings.Contains(targets[0]["statement"].(string), "does not validate") {
		t.Errorf("targets output = %v", targets)
	}
	if len(p.EKS.Targets[0].Objects) != 3 {
		t.Errorf("target objects = %d, want TargetGroupConfiguration, ReferenceGrant, TLSRoute", len(p.EKS.Targets[0].Objects))
	}
}

// TestExistingPolicyAndNoInstall: an existing policy is attached instead of creating one, and
// with controller.install false no chart, webhook certificate or CRDs are registered.
func TestExistingPolicyAndNoInstall(t *testing.T) {
	a := eksArgs(spec.IdentityPodIdentity)
	no := false
	a.EKS.Identity.PolicyARN = "arn:aws:iam::111122223333:policy/LBC"
	a.EKS.Controller = &spec.LBCArgs{Install: &no, ManageCRDs: &no}
	m, _, _ := run(t, a)
	if m.First("aws:iam/policy:Policy") != nil {
		t.Error("a policy was created although policyArn names an existing one")
	}
	if att := m.First("aws:iam/rolePolicyAttachment:RolePolicyAttachment"); att == nil || att.Inputs["policyArn"].StringValue() != "arn:aws:iam::111122223333:policy/LBC" {
		t.Error("the existing policy is not attached")
	}
	for _, typ := range []string{"kubernetes:helm.sh/v4:Chart", register.CertificateToken} {
		if m.Find(typ, "") != nil {
			t.Errorf("%s registered although controller.install is false", typ)
		}
	}
	if m.Find("kubernetes:yaml/v2:ConfigGroup", "nlb-lbc-crds") != nil {
		t.Error("LBC CRDs registered although controller.manageCrds is false")
	}
}

// TestExistingIdentity: mode existing registers no AWS resource at all and annotates the service
// account with the given IRSA role.
func TestExistingIdentity(t *testing.T) {
	a := eksArgs(spec.IdentityExisting)
	a.EKS.Identity.RoleARN = "arn:aws:iam::111122223333:role/platform-lbc"
	m, _, outputs := run(t, a)
	for _, r := range m.All() {
		if strings.HasPrefix(r.Type, "aws:") {
			t.Errorf("mode existing registered %s %s", r.Type, r.Name)
		}
	}
	chart := m.First("kubernetes:helm.sh/v4:Chart")
	sa := plain(chart.Inputs["values"]).(map[string]any)["serviceAccount"].(map[string]any)
	if sa["annotations"].(map[string]any)[eks.RoleARNAnnotation] != a.EKS.Identity.RoleARN {
		t.Errorf("service account = %v", sa)
	}
	if outputs["roleArn"] != a.EKS.Identity.RoleARN {
		t.Errorf("roleArn output = %v", outputs["roleArn"])
	}
}
