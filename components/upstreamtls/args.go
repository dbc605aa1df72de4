package upstreamtls

import "github.com/upstream-tls/upstream-tls/internal/spec"

// The component's arguments. They are defined, documented and defaulted in one place (the
// configuration contract, internal/spec) and named here for Go users; every field's comment
// there is its contract, and the same text is the multi-language schema's description.
type (
	// Args describes one environment: the Envoy Gateway install, one Gateway and its TLS
	// backends, and optionally the EKS path.
	Args = spec.Args
	// Environment is dev, staging or production.
	Environment = spec.Environment
	// Mode is how the gateway secures and verifies its connection to one backend.
	Mode = spec.Mode
	// RouteKind is HTTPRoute or GRPCRoute.
	RouteKind = spec.RouteKind
	// EnvoyGatewayArgs configures the Envoy Gateway install and its GatewayClass.
	EnvoyGatewayArgs = spec.EnvoyGatewayArgs
	// GatewayArgs describes the Gateway.
	GatewayArgs = spec.GatewayArgs
	// ListenerArgs describes one Gateway listener.
	ListenerArgs = spec.ListenerArgs
	// BackendArgs describes one backend reached through the gateway over TLS.
	BackendArgs = spec.BackendArgs
	// ServiceArgs names the backend Service and its ports.
	ServiceArgs = spec.ServiceArgs
	// PortArgs is one Service port.
	PortArgs = spec.PortArgs
	// DeployArgs describes the workload deployed for a backend.
	DeployArgs = spec.DeployArgs
	// RouteArgs describes the route from the Gateway to the backend.
	RouteArgs = spec.RouteArgs
	// TLSArgs is the upstream TLS configuration of one backend.
	TLSArgs = spec.TLSArgs
	// CAArgs is where the custom CA of mode ca comes from.
	CAArgs = spec.CAArgs
	// ClientCertificateArgs is where a client certificate the gateway presents comes from.
	ClientCertificateArgs = spec.ClientCertificateArgs
	// ExternalArgs locates a backend outside the cluster.
	ExternalArgs = spec.ExternalArgs
	// EKSArgs is the EKS path (AWS Load Balancer Controller NLB).
	EKSArgs = spec.EKSArgs
	// EKSIdentityArgs is the controller's IAM role and its binding.
	EKSIdentityArgs = spec.EKSIdentityArgs
	// LBCArgs configures the AWS Load Balancer Controller installation.
	LBCArgs = spec.LBCArgs
	// NLBGatewayArgs describes the NLB Gateway.
	NLBGatewayArgs = spec.NLBGatewayArgs
	// NLBListenerArgs is one NLB listener.
	NLBListenerArgs = spec.NLBListenerArgs
	// NLBTargetArgs is one Service behind the NLB.
	NLBTargetArgs = spec.NLBTargetArgs
	// NLBServiceArgs names an existing Service.
	NLBServiceArgs = spec.NLBServiceArgs
	// TargetGroupArgs configures a Service's TargetGroupConfiguration.
	TargetGroupArgs = spec.TargetGroupArgs
	// HealthCheckArgs configures a target group health check.
	HealthCheckArgs = spec.HealthCheckArgs
)

// Values of the enumerations.
const (
	EnvironmentDev        = spec.EnvironmentDev
	EnvironmentStaging    = spec.EnvironmentStaging
	EnvironmentProduction = spec.EnvironmentProduction
	ModeSystem            = spec.ModeSystem
	ModeCA                = spec.ModeCA
	ModeInsecure          = spec.ModeInsecure
	RouteKindHTTP         = spec.RouteKindHTTP
	RouteKindGRPC         = spec.RouteKindGRPC
)
