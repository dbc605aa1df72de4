package engine_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/pki"
)

// TestEngineEKS runs the EKS stack on the real engine with the Kubernetes provider in render
// mode. AWS resources need the AWS provider plugin and an account, which CI does not have, so the
// controller's identity is switched to mode existing (an IRSA role managed elsewhere): every
// Kubernetes part runs for real, including the pinned LBC v3.5.0 chart rendered by the provider's
// Helm support, the LBC CRDs from the pinned module, and the NLB objects.
func TestEngineEKS(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/platform-lbc"
	w := newWorkspaceFrom(t, "Pulumi.eks.yaml", "out/eks", func(cfg string) string {
		out := strings.Replace(cfg, "      mode: podIdentity\n", "      mode: existing\n      roleArn: "+role+"\n", 1)
		if out == cfg {
			t.Fatal("Pulumi.eks.yaml no longer sets identity mode podIdentity")
		}
		return out
	})
	// 0. First without the EKS path, as an existing Envoy Gateway environment would be: then
	// switching it on moves the Gateway API CRDs to their shared owner through an alias, so the
	// CRDs (and every Gateway API object in the cluster with them) are never deleted.
	enabled, err := os.ReadFile(w.config)
	if err != nil {
		t.Fatal(err)
	}
	disabled := strings.Replace(string(enabled), "    enabled: true\n", "    enabled: false\n", 1)
	if disabled == string(enabled) {
		t.Fatal("Pulumi.eks.yaml no longer sets eks.enabled: true")
	}
	w.writeConfig(disabled)
	if res, err := w.up(); err != nil {
		t.Fatalf("pulumi up without the EKS path failed: %v\n%s", err, res.StdErr)
	}
	w.writeConfig(string(enabled))
	res, err := w.up()
	if err != nil {
		t.Fatalf("pulumi up failed: %v\n%s", err, res.StdErr)
	}
	for op, n := range *res.Summary.ResourceChanges {
		if op != "same" && op != "create" && n > 0 {
			t.Errorf("switching the EKS path on: %d resources %s (want only creates)\n%s", n, op, res.StdOut)
		}
	}
	outputs, err := w.stack.Outputs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	targets, _ := outputs["nlbTargets"].Value.([]any)
	if len(targets) != 1 || targets[0].(map[string]any)["verified"] != false || targets[0].(map[string]any)["targetGroupProtocol"] != "TLS" {
		t.Errorf("nlbTargets output = %v", outputs["nlbTargets"].Value)
	}

	// 1. The planned objects, EKS path included, are what the engine rendered.
	p := w.plan()
	got := w.rendered()
	w.checkRenderedEqualsPlan(p, got)

	// 2. The LBC CRDs come once, from the pinned module (the chart skips its own).
	for _, crd := range []string{"targetgroupconfigurations.gateway.k8s.aws", "loadbalancerconfigurations.gateway.k8s.aws", "targetgroupbindings.elbv2.k8s.aws"} {
		if got["customresourcedefinition-"+crd] == nil {
			t.Errorf("CRD %s not rendered", crd)
		}
	}

	// 3. The controller, rendered from the pinned chart: NLB gateway on, our cluster, the IRSA
	// role on its service account, and the webhook serving the component's certificate.
	dep := got["deployment-kube-system-aws-load-balancer-controller"]
	if dep == nil {
		t.Fatalf("controller Deployment not rendered; rendered: %v", keys(got))
	}
	args := strings.Join(toStrings(dep["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["args"]), " ")
	for _, want := range []string{"--cluster-name=staging-eu", "--feature-gates=NLBGatewayAPI=true", "--aws-region=eu-west-1", "--aws-vpc-id=vpc-0123456789abcdef0"} {
		if !strings.Contains(args, want) {
			t.Errorf("controller args lack %s: %s", want, args)
		}
	}
	sa := got["serviceaccount-kube-system-aws-load-balancer-controller"]
	if sa == nil || sa["metadata"].(map[string]any)["annotations"].(map[string]any)["eks.amazonaws.com/role-arn"] != role {
		t.Errorf("controller service account lacks the IRSA role: %v", sa)
	}
	secret := got["secret-kube-system-aws-load-balancer-tls"]
	if secret == nil {
		t.Fatal("webhook Secret aws-load-balancer-tls not rendered")
	}
	if err := pki.Verify(secretValue(t, secret, "ca.crt"), secretValue(t, secret, "tls.crt"), "aws-load-balancer-webhook-service.kube-system.svc", time.Now()); err != nil {
		t.Errorf("webhook certificate: %v", err)
	}

	// 4. A second run changes nothing: the webhook certificate is stable (the chart's own genCA
	// would issue a new one on every run).
	w.expectNoChanges()

	// 5. Destroy leaves nothing.
	w.destroyLeavesNothing()
}

func toStrings(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}
