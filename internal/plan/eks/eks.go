// Package eks is the EKS path of the plan: on AWS EKS the AWS Load Balancer Controller (LBC)
// implements Gateway API with a Network Load Balancer (NLB). A TLS listener terminates the
// client's TLS with an ACM certificate and a TargetGroupConfiguration with protocol TLS makes
// the NLB open a new TLS connection to each pod. The NLB encrypts that hop but never verifies
// the pod's certificate; the plan says so for every target.
//
// Validation is split by section (validate_*.go); build.go plans the objects.
package eks

import (
	"strings"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// Pinned versions and fixed names of the EKS path. The README's support matrix lists them.
const (
	// DefaultLBCChartVersion is the aws-load-balancer-controller Helm chart (and controller)
	// version installed.
	DefaultLBCChartVersion = "3.5.0"
	// LBCChartName is the chart's name.
	LBCChartName = "aws-load-balancer-controller"
	// NLBControllerName is the GatewayClass controllerName LBC reconciles with NLBs.
	NLBControllerName = "gateway.k8s.aws/nlb"
	// DefaultNLBSSLPolicy is the ELB security policy of TLS listeners: TLS 1.3 and 1.2 only.
	DefaultNLBSSLPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
	// ListenerCertificateOption is the Gateway listener TLS option the component sets to the ACM
	// certificate ARN. LBC takes listener certificates from the LoadBalancerConfiguration and
	// ignores certificateRefs and options; Gateway API's CEL rule requires one of the two on a
	// Terminate listener, so the option records the ARN where a reader of the Gateway sees it.
	ListenerCertificateOption = "upstream-tls.io/acm-certificate-arn"
	// RoleARNAnnotation is the service account annotation IRSA reads.
	RoleARNAnnotation = "eks.amazonaws.com/role-arn"
	// WaitForAnnotation makes the Kubernetes provider wait for a condition on the live object.
	WaitForAnnotation = core.WaitForAnnotation
	// WebhookCertificate names the generated certificate of the controller's webhook.
	WebhookCertificate = "lbc-webhook"
	// ExampleCertificateARN shows the shape of an ACM certificate ARN in error messages.
	ExampleCertificateARN = "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
)

// CRDsURLs are the upstream locations of the LBC CRDs (elbv2.k8s.aws and gateway.k8s.aws) of a
// controller version, as shipped in its chart's crds/ directory.
func CRDsURLs(version string) []string {
	base := "https://raw.githubusercontent.com/kubernetes-sigs/aws-load-balancer-controller/v" + version + "/helm/aws-load-balancer-controller/crds/"
	return []string{base + "crds.yaml", base + "gateway-crds.yaml"}
}

// Statements about the NLB-to-pod hop, by target group protocol.
const (
	StatementTLS = "the NLB terminates client TLS with the ACM certificate and re-encrypts to the pods with TLS, but does not validate the pods' certificates: encrypted, not authenticated"
	StatementTCP = "the NLB passes the client's TLS through to the pods (TCP): the client authenticates the pod's certificate, the NLB sees ciphertext only"
)

// Plan is everything the EKS path creates.
type Plan struct {
	// ClusterName is the EKS cluster.
	ClusterName string
	// IAM is the controller's role and policy.
	IAM IAMPlan
	// CRDs are the controller's CRDs (install step core.StepLBCCRDs); nil when installed
	// elsewhere.
	CRDs *core.CRDBundle
	// Release is the controller's Helm release (install step core.StepLBC); nil when installed
	// elsewhere.
	Release *core.HelmRelease
	// ReleaseDependsOn are the keys the controller's release waits for.
	ReleaseDependsOn []string
	// Certificates are generated for the controller's webhook (stable across runs, unlike the
	// chart's own genCA, which would change on every preview).
	Certificates []core.Certificate
	// GatewayClass is the NLB GatewayClass.
	GatewayClass core.Object
	// Objects are the LoadBalancerConfiguration and the Gateway.
	Objects []core.Object
	// Targets are the per-Service objects, in input order.
	Targets []Target
}

// IAMPlan is the controller's IAM role, its policy and its binding to the service account.
type IAMPlan struct {
	// Mode is podIdentity, irsa or existing.
	Mode string `json:"mode"`
	// Create is false in mode existing: no AWS resource is created.
	Create bool `json:"create"`
	// RoleName of the role created.
	RoleName string `json:"roleName,omitempty"`
	// RoleARN is the existing role of mode existing, if any.
	RoleARN string `json:"roleArn,omitempty"`
	// TrustPolicy is the role's assume-role policy document (JSON).
	TrustPolicy string `json:"trustPolicy,omitempty"`
	// PolicyName of the policy created; empty when PolicyARN is given.
	PolicyName string `json:"policyName,omitempty"`
	// PolicyDocument is the controller's documented policy (JSON); empty when PolicyARN is given.
	PolicyDocument string `json:"policyDocument,omitempty"`
	// PolicyARN is an existing policy attached instead.
	PolicyARN string `json:"policyArn,omitempty"`
	// Namespace and ServiceAccount are the controller's service account.
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
}

// Target is everything planned for one Service behind the NLB.
type Target struct {
	// Name is the backend name or the Service name.
	Name string
	// Namespace and Service locate the Service.
	Namespace string
	Service   string
	// Listener is the NLB listener and ListenerProtocol its protocol (TLS or TCP).
	Listener         string
	ListenerProtocol string
	// TargetGroupProtocol is what the NLB speaks to the pods (TLS or TCP).
	TargetGroupProtocol string
	// Statement says in one sentence what the hop from the NLB to the pods guarantees.
	Statement string
	// Objects are the TargetGroupConfiguration, a ReferenceGrant when needed, and the route.
	Objects []core.Object
}

// Objects lists the EKS path's objects in apply order: GatewayClass,
// LoadBalancerConfiguration, Gateway, then each target's.
func (p *Plan) AllObjects() []core.Object {
	out := []core.Object{p.GatewayClass}
	out = append(out, p.Objects...)
	for _, t := range p.Targets {
		out = append(out, t.Objects...)
	}
	return out
}

// Enabled reports whether the arguments turn the EKS path on.
func Enabled(a *spec.Args) bool { return a.EKS != nil && a.EKS.Enabled }

// targetService resolves a target to its Service: name, namespace and port number, and the
// backend it names (nil for a `service:` target). ok is false when the target names no Service
// that validation accepts.
func targetService(a *spec.Args, t *spec.NLBTargetArgs) (name, namespace string, port int, backend *spec.BackendArgs, ok bool) {
	switch {
	case t.Backend != "" && t.Service == nil:
		for i := range a.Backends {
			b := &a.Backends[i]
			if b.Name == t.Backend {
				for _, sp := range b.Service.Ports {
					if sp.Name == b.Route.Port {
						return b.Service.Name, b.Namespace, sp.Port, b, true
					}
				}
				if len(b.Service.Ports) > 0 {
					return b.Service.Name, b.Namespace, b.Service.Ports[0].Port, b, true
				}
				return b.Service.Name, b.Namespace, 0, b, true
			}
		}
	case t.Service != nil && t.Backend == "":
		return t.Service.Name, t.Service.Namespace, t.Service.Port, nil, true
	}
	return "", "", 0, nil, false
}

// issuerOf returns the OIDC issuer (host/path) of an IAM OIDC provider ARN, or "".
func issuerOf(arn string) string {
	const marker = ":oidc-provider/"
	i := strings.Index(arn, marker)
	if i < 0 {
		return ""
	}
	return arn[i+len(marker):]
}
