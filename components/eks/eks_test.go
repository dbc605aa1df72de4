package eks_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/certificate"
	"github.com/upstream-tls/upstream-tls/components/eks"
	"github.com/upstream-tls/upstream-tls/components/lbciam"
	"github.com/upstream-tls/upstream-tls/components/pki"
	"github.com/upstream-tls/upstream-tls/components/plan"
)

const certARN = "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"

type registered struct {
	Type, Name, URN string
	Inputs          resource.PropertyMap
	Deps            []string
}

// mocks records registrations; AWS resources get an ARN output, certificates real material.
type mocks struct {
	mu  sync.Mutex
	all []registered
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	out := args.Inputs.Copy()
	switch args.TypeToken {
	case "aws:iam/role:Role", "aws:iam/policy:Policy":
		kind := strings.ToLower(strings.TrimPrefix(args.TypeToken[strings.LastIndex(args.TypeToken, ":")+1:], ""))
		out["arn"] = resource.NewStringProperty("arn:aws:iam::111122223333:" + kind + "/" + args.Inputs["name"].StringValue())
	case certificate.Token:
		var names []string
		for _, v := range args.Inputs["dnsNames"].ArrayValue() {
			names = append(names, v.StringValue())
		}
		b, err := pki.Generate(pki.Request{CommonName: args.Inputs["commonName"].StringValue(), DNSNames: names, WithCA: args.Inputs["withCa"].BoolValue()}, time.Now())
		if err != nil {
			return "", nil, err
		}
		out["caCertPem"] = resource.NewStringProperty(b.CACertPEM)
		out["certPem"] = resource.NewStringProperty(b.CertPEM)
		out["keyPem"] = resource.NewStringProperty(b.KeyPEM)
	}
	r := registered{Type: args.TypeToken, Name: args.Name, Inputs: args.Inputs}
	if args.RegisterRPC != nil {
		r.Deps = args.RegisterRPC.GetDependencies()
	}
	m.mu.Lock()
	m.all = append(m.all, r)
	m.mu.Unlock()
	return args.Name + "-id", out, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) { return args.Args, nil }

func (m *mocks) find(typ, name string) *registered {
	for i := range m.all {
		if m.all[i].Type == typ && (name == "" || m.all[i].Name == name) {
			return &m.all[i]
		}
	}
	return nil
}

// dependsOn reports whether r lists a dependency on a resource of type typ named name.
func (r *registered) dependsOn(typ, name string) bool {
	for _, d := range r.Deps {
		if strings.HasSuffix(d, typ+"::"+name) {
			return true
		}
	}
	return false
}

func eksArgs(mode string) plan.Args {
	a := plan.Args{
		Environment: plan.EnvironmentStaging,
		Backends: []plan.BackendArgs{
			{Name: "api", Namespace: "apps", TLS: plan.TLSArgs{Mode: plan.ModeCA, CA: &plan.CAArgs{Generate: true}}},
		},
		EKS: &plan.EKSArgs{
			Enabled:     true,
			ClusterName: "staging",
			Region:      "eu-west-1",
			Identity:    &plan.EKSIdentityArgs{Mode: mode},
			Gateway: &plan.NLBGatewayArgs{Listeners: []plan.NLBListenerArgs{
				{Name: "tls", Port: 443, Hostname: "api.example.com", CertificateARN: certARN},
			}},
			Targets: []plan.NLBTargetArgs{{Backend: "api"}},
		},
	}
	if mode == plan.IdentityIRSA {
		a.EKS.Identity.OIDCProviderARN = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF"
	}
	return a
}

// run plans args and registers the EKS component alone (owning the Gateway API CRDs).
func run(t *testing.T, a plan.Args) (*mocks, *plan.Plan, map[string]any) {
	t.Helper()
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	m := &mocks{}
	outputs := map[string]any{}
	var mu sync.Mutex
	var wg sync.WaitGroup // output callbacks may run after RunErr returns
	wg.Add(2)
	set := func(k string, v any) {
		mu.Lock()
		defer mu.Unlock()
		outputs[k] = v
		wg.Done()
	}
	err = pulumi.RunErr(func(ctx *pulumi.Context) error {
		c, err := eks.New(ctx, "nlb", &eks.Args{EKS: p.EKS, GatewayAPICRDs: p.Install.GatewayAPICRDs})
		if err != nil {
			return err
		}
		c.Targets.ApplyT(func(v []map[string]any) int { set("targets", v); return 0 })
		c.RoleArn.ApplyT(func(v string) int { set("roleArn", v); return 0 })
		return nil
	}, pulumi.WithMocks("upstream-tls", "test", m))
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return m, p, outputs
}

func plainValue(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return plainValue(v.SecretValue().Element)
	case v.IsOutput():
		return plainValue(v.OutputValue().Element)
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			out[string(k)] = plainValue(e)
		}
		return out
	case v.IsArray():
		var out []any
		for _, e := range v.ArrayValue() {
			out = append(out, plainValue(e))
		}
		return out
	}
	return v.Mappable()
}

func isSecret(v resource.PropertyValue) bool {
	return v.IsSecret() || (v.IsOutput() && v.OutputValue().Secret)
}

// upstreamPolicy reads docs/install/iam_policy.json from the pinned LBC module (lbciam.Source)
// through the Go module cache.
func upstreamPolicy(t *testing.T) map[string]any {
	t.Helper()
	mod, path, _ := strings.Cut(lbciam.Source, " ")
	tmp := t.TempDir()
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", mod, err)
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		t.Fatalf("go mod download %s: no Dir in %s", mod, out)
	}
	raw, err := os.ReadFile(filepath.Join(info.Dir, path))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
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
// document, statement for statement, so it grants exactly the actions LBC lists.
func TestIAMPolicyGrantsTheDocumentedActions(t *testing.T) {
	m, _, _ := run(t, eksArgs(plan.IdentityPodIdentity))
	pol := m.find("aws:iam/policy:Policy", "")
	if pol == nil {
		t.Fatal("no aws:iam/policy:Policy registered")
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(pol.Inputs["policy"].StringValue()), &got); err != nil {
		t.Fatalf("policy input is not JSON: %v", err)
	}
	want := upstreamPolicy(t)
	if g, w := actions(got), actions(want); !reflect.DeepEqual(g, w) {
		t.Errorf("policy actions differ from LBC's pinned policy\n got %d: %v\nwant %d: %v", len(g), g, len(w), w)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("policy document differs from LBC's pinned iam_policy.json (conditions or resources)")
	}
	att := m.find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "")
	if att == nil || !att.dependsOn("aws:iam/policy:Policy", pol.Name) || !att.dependsOn("aws:iam/role:Role", "nlb-controller") {
		t.Error("the role policy attachment does not tie the created policy to the created role")
	}
}

// TestPodIdentity: the role trusts EKS Pod Identity and is associated with the controller's
// service account; the chart does not annotate the service account.
func TestPodIdentity(t *testing.T) {
	m, _, outputs := run(t, eksArgs(plan.IdentityPodIdentity))
	role := m.find("aws:iam/role:Role", "nlb-controller")
	if role == nil {
		t.Fatal("role not registered")
	}
	trust := role.Inputs["assumeRolePolicy"].StringValue()
	for _, want := range []string{`"Service":"pods.eks.amazonaws.com"`, `"sts:AssumeRole"`, `"sts:TagSession"`} {
		if !strings.Contains(trust, want) {
			t.Errorf("trust policy lacks %s: %s", want, trust)
		}
	}
	assoc := m.find("aws:eks/podIdentityAssociation:PodIdentityAssociation", "")
	if assoc == nil {
		t.Fatal("no PodIdentityAssociation registered")
	}
	for k, want := range map[string]string{"clusterName": "staging", "namespace": "kube-system", "serviceAccount": "aws-load-balancer-controller"} {
		if got := assoc.Inputs[resource.PropertyKey(k)].StringValue(); got != want {
			t.Errorf("association %s = %q, want %q", k, got, want)
		}
	}
	if got := plainValue(assoc.Inputs["roleArn"]); got != "arn:aws:iam::111122223333:role/staging-aws-load-balancer-controller" {
		t.Errorf("association roleArn = %v", got)
	}
	chart := m.find("kubernetes:helm.sh/v4:Chart", "")
	sa := plainValue(chart.Inputs["values"]).(map[string]any)["serviceAccount"].(map[string]any)
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
	m, _, _ := run(t, eksArgs(plan.IdentityIRSA))
	if m.find("aws:eks/podIdentityAssociation:PodIdentityAssociation", "") != nil {
		t.Error("IRSA must not create a Pod Identity association")
	}
	var trust map[string]any
	role := m.find("aws:iam/role:Role", "nlb-controller")
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
	chart := m.find("kubernetes:helm.sh/v4:Chart", "")
	sa := plainValue(chart.Inputs["values"]).(map[string]any)["serviceAccount"].(map[string]any)
	ann, _ := sa["annotations"].(map[string]any)
	if ann[plan.RoleARNAnnotation] != "arn:aws:iam::111122223333:role/staging-aws-load-balancer-controller" {
		t.Errorf("service account annotations = %v, want the role ARN", sa["annotations"])
	}
}

// TestInstallOrder: Gateway API CRDs, then LBC CRDs, then the controller (after its IAM binding),
// and the chart skips its own CRDs so that they have one owner.
func TestInstallOrder(t *testing.T) {
	m, _, _ := run(t, eksArgs(plan.IdentityPodIdentity))
	gwCRDs := m.find("kubernetes:yaml/v2:ConfigGroup", "nlb-gateway-api-crds")
	lbcCRDs := m.find("kubernetes:yaml/v2:ConfigGroup", "nlb-lbc-crds")
	chart := m.find("kubernetes:helm.sh/v4:Chart", "nlb-aws-load-balancer-controller")
	if gwCRDs == nil || lbcCRDs == nil || chart == nil {
		t.Fatalf("missing install resources: gateway CRDs %v, LBC CRDs %v, chart %v", gwCRDs != nil, lbcCRDs != nil, chart != nil)
	}
	if !lbcCRDs.dependsOn("kubernetes:yaml/v2:ConfigGroup", "nlb-gateway-api-crds") {
		t.Error("LBC CRDs do not wait for the Gateway API CRDs")
	}
	for _, dep := range [][2]string{
		{"kubernetes:yaml/v2:ConfigGroup", "nlb-gateway-api-crds"},
		{"kubernetes:yaml/v2:ConfigGroup", "nlb-lbc-crds"},
		{"aws:iam/rolePolicyAttachment:RolePolicyAttachment", "nlb-controller"},
		{"aws:eks/podIdentityAssociation:PodIdentityAssociation", "nlb-controller"},
	} {
		if !chart.dependsOn(dep[0], dep[1]) {
			t.Errorf("the controller chart does not wait for %s %s", dep[0], dep[1])
		}
	}
	if !chart.Inputs["skipCrds"].BoolValue() {
		t.Error("the chart must skip its crds/ (the component installs them first)")
	}
	if got := chart.Inputs["repositoryOpts"].ObjectValue()["repo"].StringValue(); got != plan.DefaultLBCChartRepository {
		t.Errorf("chart repository = %q", got)
	}
	if got := chart.Inputs["version"].StringValue(); got != plan.DefaultLBCChartVersion {
		t.Errorf("chart version = %q", got)
	}
	values := plainValue(chart.Inputs["values"]).(map[string]any)
	if fg := values["controllerConfig"].(map[string]any)["featureGates"].(map[string]any); fg["NLBGatewayAPI"] != true {
		t.Errorf("featureGates = %v, want NLBGatewayAPI true", fg)
	}
	files := plainValue(lbcCRDs.Inputs["files"])
	if !reflect.DeepEqual(files, []any{plan.LBCCRDsURLs(plan.DefaultLBCChartVersion)[0], plan.LBCCRDsURLs(plan.DefaultLBCChartVersion)[1]}) {
		t.Errorf("LBC CRD files = %v", files)
	}
	tgc := m.find("kubernetes:gateway.k8s.aws/v1:TargetGroupConfiguration", "")
	if tgc == nil || !tgc.dependsOn("kubernetes:yaml/v2:ConfigGroup", "nlb-lbc-crds") {
		t.Error("the TargetGroupConfiguration is not registered after the LBC CRDs")
	}
}

// TestWebhookCertificate: the controller's webhook serves a certificate the component generates
// once (stable across previews), signed by the CA the chart gives the API server; the key is a
// secret.
func TestWebhookCertificate(t *testing.T) {
	m, _, _ := run(t, eksArgs(plan.IdentityPodIdentity))
	chart := m.find("kubernetes:helm.sh/v4:Chart", "")
	tlsValues := chart.Inputs["values"].ObjectValue()["webhookTLS"]
	var key resource.PropertyValue
	switch {
	case tlsValues.IsObject():
		key = tlsValues.ObjectValue()["key"]
	case tlsValues.IsOutput():
		key = tlsValues.OutputValue().Element.ObjectValue()["key"]
	}
	if !isSecret(key) && !isSecret(tlsValues) && !isSecret(chart.Inputs["values"]) {
		t.Error("webhookTLS.key is not a secret")
	}
	v := plainValue(chart.Inputs["values"]).(map[string]any)["webhookTLS"].(map[string]any)
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
	m, p, outputs := run(t, eksArgs(plan.IdentityPodIdentity))
	for _, typ := range []string{
		"kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
		"kubernetes:gateway.networking.k8s.io/v1:Gateway",
		"kubernetes:gateway.k8s.aws/v1:LoadBalancerConfiguration",
		"kubernetes:gateway.k8s.aws/v1:TargetGroupConfiguration",
		"kubernetes:gateway.networking.k8s.io/v1:TLSRoute",
		"kubernetes:gateway.networking.k8s.io/v1beta1:ReferenceGrant",
	} {
		if m.find(typ, "") == nil {
			t.Errorf("no %s registered", typ)
		}
	}
	tgc := m.find("kubernetes:gateway.k8s.aws/v1:TargetGroupConfiguration", "")
	dc := plainValue(tgc.Inputs["spec"]).(map[string]any)["defaultConfiguration"].(map[string]any)
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
	a := eksArgs(plan.IdentityPodIdentity)
	no := false
	a.EKS.Identity.PolicyARN = "arn:aws:iam::111122223333:policy/LBC"
	a.EKS.Controller = &plan.LBCArgs{Install: &no, ManageCRDs: &no}
	m, _, _ := run(t, a)
	if m.find("aws:iam/policy:Policy", "") != nil {
		t.Error("a policy was created although policyArn names an existing one")
	}
	if att := m.find("aws:iam/rolePolicyAttachment:RolePolicyAttachment", ""); att == nil || att.Inputs["policyArn"].StringValue() != "arn:aws:iam::111122223333:policy/LBC" {
		t.Error("the existing policy is not attached")
	}
	for _, typ := range []string{"kubernetes:helm.sh/v4:Chart", certificate.Token} {
		if m.find(typ, "") != nil {
			t.Errorf("%s registered although controller.install is false", typ)
		}
	}
	if m.find("kubernetes:yaml/v2:ConfigGroup", "nlb-lbc-crds") != nil {
		t.Error("LBC CRDs registered although controller.manageCrds is false")
	}
}

// TestExistingIdentity: mode existing registers no AWS resource at all and annotates the service
// account with the given IRSA role.
func TestExistingIdentity(t *testing.T) {
	a := eksArgs(plan.IdentityExisting)
	a.EKS.Identity.RoleARN = "arn:aws:iam::111122223333:role/platform-lbc"
	m, _, outputs := run(t, a)
	for _, r := range m.all {
		if strings.HasPrefix(r.Type, "aws:") {
			t.Errorf("mode existing registered %s %s", r.Type, r.Name)
		}
	}
	chart := m.find("kubernetes:helm.sh/v4:Chart", "")
	sa := plainValue(chart.Inputs["values"]).(map[string]any)["serviceAccount"].(map[string]any)
	if sa["annotations"].(map[string]any)[plan.RoleARNAnnotation] != a.EKS.Identity.RoleARN {
		t.Errorf("service account = %v", sa)
	}
	if outputs["roleArn"] != a.EKS.Identity.RoleARN {
		t.Errorf("roleArn output = %v", outputs["roleArn"])
	}
}
