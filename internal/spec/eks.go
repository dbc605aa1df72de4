package spec

// The EKS path: on AWS EKS the AWS Load Balancer Controller (LBC) implements Gateway API with a
// Network Load Balancer (NLB). A TLS listener terminates the client's TLS with an ACM certificate
// and a TargetGroupConfiguration with protocol TLS makes the NLB open a new TLS connection to
// each pod. The NLB encrypts that hop but never verifies the pod's certificate.

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
	Enabled bool `json:"enabled,omitempty" pulumi:"enabled,optional" default:"false"`
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
	Mode string `json:"mode,omitempty" pulumi:"mode,optional" default:"podIdentity"`
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
	Install *bool `json:"install,omitempty" pulumi:"install,optional" default:"true"`
	// Namespace of the controller. Default kube-system.
	Namespace string `json:"namespace,omitempty" pulumi:"namespace,optional" default:"kube-system"`
	// ServiceAccount of the controller. Default aws-load-balancer-controller.
	ServiceAccount string `json:"serviceAccount,omitempty" pulumi:"serviceAccount,optional" default:"aws-load-balancer-controller"`
	// Version of the chart. Default DefaultLBCChartVersion.
	Version string `json:"version,omitempty" pulumi:"version,optional" default:"3.5.0"`
	// ChartRepository is where the chart comes from when ChartDir is empty.
	// Default https://aws.github.io/eks-charts.
	ChartRepository string `json:"chartRepository,omitempty" pulumi:"chartRepository,optional" default:"https://aws.github.io/eks-charts"`
	// ChartDir is a local directory holding the aws-load-balancer-controller chart directory,
	// for offline installs and renders. Takes precedence over ChartRepository.
	ChartDir string `json:"chartDir,omitempty" pulumi:"chartDir,optional"`
	// ManageCRDs installs the controller's CRDs before the controller (the chart is installed
	// with skipCrds, so the CRDs have one owner). Default true.
	ManageCRDs *bool `json:"manageCrds,omitempty" pulumi:"manageCrds,optional" default:"true"`
	// CRDs are the sources of the controller's CRDs: URLs of YAML files or local directories.
	// Default LBCCRDsURLs(Version).
	CRDs []string `json:"crds,omitempty" pulumi:"crds,optional"`
}

// NLBGatewayArgs describes the NLB Gateway and its LoadBalancerConfiguration.
type NLBGatewayArgs struct {
	// Name of the Gateway and of its LoadBalancerConfiguration. Default upstream-tls-nlb.
	Name string `json:"name,omitempty" pulumi:"name,optional" default:"upstream-tls-nlb"`
	// Namespace of the Gateway and its routes. Default: gateway.namespace.
	Namespace string `json:"namespace,omitempty" pulumi:"namespace,optional"`
	// GatewayClassName is the GatewayClass created for controller gateway.k8s.aws/nlb.
	// Default aws-nlb.
	GatewayClassName string `json:"gatewayClassName,omitempty" pulumi:"gatewayClassName,optional" default:"aws-nlb"`
	// Scheme is internal (default) or internet-facing.
	Scheme string `json:"scheme,omitempty" pulumi:"scheme,optional" default:"internal"`
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
	Protocol string `json:"protocol,omitempty" pulumi:"protocol,optional" default:"TLS"`
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
	Protocol string `json:"protocol,omitempty" pulumi:"protocol,optional" default:"TLS"`
	// TargetType is ip (default; pods are targets, needs the VPC CNI) or instance.
	TargetType string `json:"targetType,omitempty" pulumi:"targetType,optional" default:"ip"`
	// HealthCheck of the target group. Default a TCP check on the traffic port.
	HealthCheck *HealthCheckArgs `json:"healthCheck,omitempty" pulumi:"healthCheck,optional"`
}

// HealthCheckArgs configures a target group health check. NLB does not accept TLS here.
type HealthCheckArgs struct {
	// Protocol is TCP (default), HTTPS or HTTP.
	Protocol string `json:"protocol,omitempty" pulumi:"protocol,optional" default:"TCP"`
	// Port is a port number or traffic-port (default).
	Port string `json:"port,omitempty" pulumi:"port,optional" default:"traffic-port"`
	// Path of an HTTP or HTTPS check. Default / for those protocols.
	Path string `json:"path,omitempty" pulumi:"path,optional"`
	// IntervalSeconds between checks, 5-300. Optional.
	IntervalSeconds int `json:"intervalSeconds,omitempty" pulumi:"intervalSeconds,optional"`
	// TimeoutSeconds of one check, 2-120. Optional.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty" pulumi:"timeoutSeconds,optional"`
	// HealthyThreshold is the number of consecutive successes before a target is healthy, 2-10.
	// Optional.
	HealthyThreshold int `json:"healthyThreshold,omitempty" pulumi:"healthyThreshold,optional"`
	// UnhealthyThreshold is the number of consecutive failures before a target is unhealthy,
	// 2-10. Optional.
	UnhealthyThreshold int `json:"unhealthyThreshold,omitempty" pulumi:"unhealthyThreshold,optional"`
}
