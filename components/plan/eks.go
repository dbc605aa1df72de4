package plan

// The EKS path: on AWS EKS the AWS Load Balancer Controller (LBC) implements Gateway API with a
// Network Load Balancer (NLB). A TLS listener terminates the client's TLS with an ACM certificate
// and a TargetGroupConfiguration with protocol TLS makes the NLB open a new TLS connection to
// each pod. The NLB encrypts that hop but never verifies the pod's certificate.

// Pinned versions and defaults of the EKS path. The README's support matrix lists them.
const (
	// DefaultLBCChartVersion is the aws-load-balancer-controller Helm chart (and controller)
	// version installed.
	DefaultLBCChartVersion = "3.5.0"
	// DefaultLBCChartRepository hosts the aws-load-balancer-controller chart.
	DefaultLBCChartRepository = "https://aws.github.io/eks-charts"
	// LBCChartName is the chart's name.
	LBCChartName = "aws-load-balancer-controller"
	// DefaultLBCNamespace is where the controller runs.
	DefaultLBCNamespace = "kube-system"
	// DefaultLBCServiceAccount is the controller's service account, the one its IAM role trusts.
	DefaultLBCServiceAccount = "aws-load-balancer-controller"
	// NLBControllerName is the GatewayClass controllerName LBC reconciles with NLBs.
	NLBControllerName = "gateway.k8s.aws/nlb"
	// DefaultNLBGatewayClassName is the GatewayClass created for the NLB gateway.
	DefaultNLBGatewayClassName = "aws-nlb"
	// DefaultNLBGatewayName names the NLB Gateway (and its LoadBalancerConfiguration).
	DefaultNLBGatewayName = "upstream-tls-nlb"
	// DefaultNLBScheme keeps the NLB private unless asked otherwise.
	DefaultNLBScheme = "internal"
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
	WaitForAnnotation = "pulumi.com/waitFor"
	// LBCWebhookCertificate names the generated certificate of the controller's webhook.
	LBCWebhookCertificate = "lbc-webhook"
)

// LBCCRDsURLs are the upstream locations of the LBC CRDs (elbv2.k8s.aws and gateway.k8s.aws) of
// a controller version, as shipped in its chart's crds/ directory.
func LBCCRDsURLs(version string) []string {
	base := "https://raw.githubusercontent.com/kubernetes-sigs/aws-load-balancer-controller/v" + version + "/helm/aws-load-balancer-controller/crds/"
	return []string{base + "crds.yaml", base + "gateway-crds.yaml"}
}

// Identity modes of the controller's IAM role.
const (
	// IdentityPodIdentity binds the role through an EKS Pod Identity association.
	IdentityPodIdentity = "podIdentity"
	// IdentityIRSA binds the role through IAM Roles for Service Accounts (the cluster's OIDC
	// provider).
	IdentityIRSA = "irsa"
	// IdentityExisting creates no AWS resources: the controller's permissions are managed
	// elsewhere (an existing Pod Identity association, or an IRSA role given as RoleARN).
	IdentityExisting = "existing"
)

// EKSArgs is the EKS path: the AWS Load Balancer Controller and an NLB Gateway that speaks TLS
// to the pods. Off unless Enabled. The stack configuration key is `upstream-tls:eks`.
type EKSArgs struct {
	// Enabled turns the EKS path on. Default false.
	Enabled bool `json:"enabled,omitempty" pulumi:"enabled,optional"`
	// ClusterName is the existing EKS cluster's name. Required when Enabled.
	ClusterName string `json:"clusterName,omitempty" pulumi:"clusterName,optional"`
	// Region of the cluster, passed to the controller. Optional: the controller reads it from
	// the instance metadata service when empty.
	Region string `json:"region,omitempty" pulumi:"region,optional"`
	// VPCID of the cluster, passed to the controller. Optional, as Region.
	VPCID string `json:"vpcId,omitempty" pulumi:"vpcId,optional"`
	// Identity is how the controller gets its AWS permissions.
	Identity *EKSIdentityArgs `json:"identity,omitempty" pulumi:"identity,optional"`
	// Controller configures the controller installation.
	Controller *LBCArgs `json:"controller,omitempty" pulumi:"controller,optional"`
	// Gateway is the NLB Gateway.
	Gateway *NLBGatewayArgs `json:"gateway,omitempty" pulumi:"gateway,optional"`
	// Targets are the Services the NLB forwards to, one listener each.
	Targets []NLBTargetArgs `json:"targets,omitempty" pulumi:"targets,optional"`
}

// EKSIdentityArgs is the controller's IAM role and how it is bound to the service account.
type EKSIdentityArgs struct {
	// Mode is podIdentity (default; needs the EKS Pod Identity Agent add-on), irsa, or
	// existing (no AWS resources; the permissions are managed elsewhere).
	Mode string `json:"mode,omitempty" pulumi:"mode,optional"`
	// OIDCProviderARN is the cluster's IAM OIDC provider, required for irsa, for example
	// arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE.
	OIDCProviderARN string `json:"oidcProviderArn,omitempty" pulumi:"oidcProviderArn,optional"`
	// RoleName of the IAM role created. Default <clusterName>-aws-load-balancer-controller.
	RoleName string `json:"roleName,omitempty" pulumi:"roleName,optional"`
	// PolicyARN attaches an existing IAM policy instead of creating one from the controller's
	// documented policy.
	PolicyARN string `json:"policyArn,omitempty" pulumi:"policyArn,optional"`
	// RoleARN is, in mode existing, an IRSA role to annotate the service account with.
	// Leave it empty when an existing Pod Identity association grants the permissions.
	RoleARN string `json:"roleArn,omitempty" pulumi:"roleArn,optional"`
}

// LBCArgs configures the AWS Load Balancer Controller installation.
type LBCArgs struct {
	// Install deploys the controller with Helm. Default true. When false the controller must
	// already run with the NLBGatewayAPI feature gate on and see the CRDs.
	Install *bool `json:"install,omitempty" pulumi:"install,optional"`
	// Namespace of the controller. Default kube-system.
	Namespace string `json:"namespace,omitempty" pulumi:"namespace,optional"`
	// ServiceAccount of the controller. Default aws-load-balancer-controller.
	ServiceAccount string `json:"serviceAccount,omitempty" pulumi:"serviceAccount,optional"`
	// Version of the chart. Default DefaultLBCChartVersion.
	Version string `json:"version,omitempty" pulumi:"version,optional"`
	// ChartRepository is where the chart comes from when ChartDir is empty.
	// Default https://aws.github.io/eks-charts.
	ChartRepository string `json:"chartRepository,omitempty" pulumi:"chartRepository,optional"`
	// ChartDir is a local directory holding the aws-load-balancer-controller chart directory,
	// for offline installs and renders. Takes precedence over ChartRepository.
	ChartDir string `json:"chartDir,omitempty" pulumi:"chartDir,optional"`
	// ManageCRDs installs the controller's CRDs before the controller (the chart is installed
	// with skipCrds, so the CRDs have one owner). Default true.
	ManageCRDs *bool `json:"manageCrds,omitempty" pulumi:"manageCrds,optional"`
	// CRDs are the sources of the controller's CRDs: URLs of YAML files or local directories.
	// Default LBCCRDsURLs(Version).
	CRDs []string `json:"crds,omitempty" pulumi:"crds,optional"`
}

// NLBGatewayArgs describes the NLB Gateway and its LoadBalancerConfiguration.
type NLBGatewayArgs struct {
	// Name of the Gateway and of its LoadBalancerConfiguration. Default upstream-tls-nlb.
	Name string `json:"name,omitempty" pulumi:"name,optional"`
	// Namespace of the Gateway and its routes. Default: gateway.namespace.
	Namespace string `json:"namespace,omitempty" pulumi:"namespace,optional"`
	// GatewayClassName is the GatewayClass created for controller gateway.k8s.aws/nlb.
	// Default aws-nlb.
	GatewayClassName string `json:"gatewayClassName,omitempty" pulumi:"gatewayClassName,optional"`
	// Scheme is internal (default) or internet-facing.
	Scheme string `json:"scheme,omitempty" pulumi:"scheme,optional"`
	// SourceRanges are the client CIDRs allowed to reach the NLB. Default: the controller's
	// default (the VPC for internal, anywhere for internet-facing).
	SourceRanges []string `json:"sourceRanges,omitempty" pulumi:"sourceRanges,optional"`
	// Listeners of the NLB. Default one TLS listener `tls` on 443 (its certificateArn must be set).
	Listeners []NLBListenerArgs `json:"listeners,omitempty" pulumi:"listeners,optional"`
}

// NLBListenerArgs is one NLB listener.
type NLBListenerArgs struct {
	// Name is the listener (section) name.
	Name string `json:"name" pulumi:"name"`
	// Protocol is TLS (the NLB terminates the client's TLS and re-encrypts to the pods) or TCP
	// (passthrough: the pod terminates the client's TLS). Default TLS.
	Protocol string `json:"protocol,omitempty" pulumi:"protocol,optional"`
	// Port is 1-65535.
	Port int `json:"port" pulumi:"port"`
	// Hostname restricts the listener (TLS only); route hostnames must fall under it.
	Hostname string `json:"hostname,omitempty" pulumi:"hostname,optional"`
	// CertificateARN is the ACM certificate a TLS listener serves. Required for TLS.
	CertificateARN string `json:"certificateArn,omitempty" pulumi:"certificateArn,optional"`
	// AdditionalCertificateARNs are further ACM certificates served by SNI.
	AdditionalCertificateARNs []string `json:"additionalCertificateArns,omitempty" pulumi:"additionalCertificateArns,optional"`
	// SSLPolicy of a TLS listener. Default ELBSecurityPolicy-TLS13-1-2-2021-06.
	SSLPolicy string `json:"sslPolicy,omitempty" pulumi:"sslPolicy,optional"`
	// ALPNPolicy of a TLS listener: HTTP1Only, HTTP2Only, HTTP2Optional, HTTP2Preferred or None.
	ALPNPolicy string `json:"alpnPolicy,omitempty" pulumi:"alpnPolicy,optional"`
}

// NLBTargetArgs is one Service behind the NLB. Exactly one of Backend and Service is set.
type NLBTargetArgs struct {
	// Backend names an entry of `backends`; its Service, namespace and route port are used.
	Backend string `json:"backend,omitempty" pulumi:"backend,optional"`
	// Service names an existing Service directly.
	Service *NLBServiceArgs `json:"service,omitempty" pulumi:"service,optional"`
	// Listener is the NLB listener that forwards to this target. Default the first listener.
	// An NLB listener forwards to one target group (NLB does no SNI routing), so each target
	// needs its own listener.
	Listener string `json:"listener,omitempty" pulumi:"listener,optional"`
	// Hostnames of the TLSRoute (TLS listeners). Default the listener's hostname.
	Hostnames []string `json:"hostnames,omitempty" pulumi:"hostnames,optional"`
	// TargetGroup configures the target group (a TargetGroupConfiguration for the Service).
	TargetGroup *TargetGroupArgs `json:"targetGroup,omitempty" pulumi:"targetGroup,optional"`
}

// NLBServiceArgs names an existing Service.
type NLBServiceArgs struct {
	// Name of the Service.
	Name string `json:"name" pulumi:"name"`
	// Namespace of the Service. Default: the NLB Gateway's namespace.
	Namespace string `json:"namespace,omitempty" pulumi:"namespace,optional"`
	// Port is the Service port number the route forwards to.
	Port int `json:"port" pulumi:"port"`
}

// TargetGroupArgs configures the Service's TargetGroupConfiguration.
type TargetGroupArgs struct {
	// Name of the TargetGroupConfiguration. Default <service>-nlb.
	Name string `json:"name,omitempty" pulumi:"name,optional"`
	// Namespace of the TargetGroupConfiguration. LBC only reads it in the Service's namespace,
	// so it defaults to, and must equal, the Service's namespace.
	Namespace string `json:"namespace,omitempty" pulumi:"namespace,optional"`
	// Protocol the NLB speaks to the pods: TLS (default; behind a TLS listener) or TCP
	// (behind a TCP passthrough listener).
	Protocol string `json:"protocol,omitempty" pulumi:"protocol,optional"`
	// TargetType is ip (default; pods are targets, needs the VPC CNI) or instance.
	TargetType string `json:"targetType,omitempty" pulumi:"targetType,optional"`
	// HealthCheck of the target group. Default a TCP check on the traffic port.
	HealthCheck *HealthCheckArgs `json:"healthCheck,omitempty" pulumi:"healthCheck,optional"`
}

// HealthCheckArgs configures a target group health check. NLB does not accept TLS here.
type HealthCheckArgs struct {
	// Protocol is TCP (default), HTTPS or HTTP.
	Protocol string `json:"protocol,omitempty" pulumi:"protocol,optional"`
	// Port is a port number or traffic-port (default).
	Port string `json:"port,omitempty" pulumi:"port,optional"`
	// Path of an HTTP or HTTPS check. Default / for those protocols.
	Path string `json:"path,omitempty" pulumi:"path,optional"`
	// IntervalSeconds between checks, 5-300. Optional.
	IntervalSeconds int `json:"intervalSeconds,omitempty" pulumi:"intervalSeconds,optional"`
	// TimeoutSeconds of one check, 2-120. Optional.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty" pulumi:"timeoutSeconds,optional"`
	// HealthyThreshold and UnhealthyThreshold are consecutive results, 2-10. Optional.
	HealthyThreshold   int `json:"healthyThreshold,omitempty" pulumi:"healthyThreshold,optional"`
	UnhealthyThreshold int `json:"unhealthyThreshold,omitempty" pulumi:"unhealthyThreshold,optional"`
}

// EKSPlan is everything the EKS path creates.
type EKSPlan struct {
	// ClusterName is the EKS cluster.
	ClusterName string
	// IAM is the controller's role and policy.
	IAM IAMPlan
	// CRDs are the controller's CRDs; nil when installed elsewhere.
	CRDs *CRDBundle
	// Release is the controller's Helm release; nil when installed elsewhere.
	Release *HelmRelease
	// Certificates are generated for the controller's webhook (stable across runs, unlike the
	// chart's own genCA, which would change on every preview).
	Certificates []Certificate
	// GatewayClass is the NLB GatewayClass.
	GatewayClass Object
	// Objects are the LoadBalancerConfiguration and the Gateway.
	Objects []Object
	// Targets are the per-Service objects, in input order.
	Targets []NLBTarget
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

// NLBTarget is everything planned for one Service behind the NLB.
type NLBTarget struct {
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
	Objects []Object
}

// ComputedRoleARN stands, in the controller's Helm values, for the ARN of the IAM role the
// component creates (IRSA annotation). The eks component replaces it with the role's output.
const ComputedRoleARN = "<<computed:iam/controllerRoleArn>>"

// Statements about the NLB-to-pod hop, by target group protocol.
const (
	StatementTLS = "the NLB terminates client TLS with the ACM certificate and re-encrypts to the pods with TLS, but does not validate the pods' certificates: encrypted, not authenticated"
	StatementTCP = "the NLB passes the client's TLS through to the pods (TCP): the client authenticates the pod's certificate, the NLB sees ciphertext only"
)
