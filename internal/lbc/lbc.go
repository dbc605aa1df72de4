// Package lbc holds Go types for the gateway.k8s.aws/v1 objects this project creates for the
// AWS Load Balancer Controller (LBC): LoadBalancerConfiguration and TargetGroupConfiguration.
//
// LBC publishes no Go module at the pinned controller version (v3.5.0, whose CRDs store
// gateway.k8s.aws/v1), so these structs declare the subset of fields we set, with the JSON names
// of the pinned CRDs (github.com/aws/eks-charts stable/aws-load-balancer-controller/crds/
// gateway-crds.yaml). They carry no behaviour. The schema tier (tests/schema) validates every
// rendered object against those CRDs, OpenAPI and CEL rules included, so a field that drifts from
// the CRD fails a test.
package lbc

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the API group of the LBC gateway extensions.
const GroupName = "gateway.k8s.aws"

// GroupVersion is the version the pinned controller stores (v1beta1 is deprecated in v3.5.0).
var GroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1"}

// Kinds.
const (
	KindLoadBalancerConfiguration = "LoadBalancerConfiguration"
	KindTargetGroupConfiguration  = "TargetGroupConfiguration"
)

// LoadBalancerConfiguration customises the load balancer LBC provisions for a Gateway (through
// Gateway.spec.infrastructure.parametersRef, same namespace) or a GatewayClass.
type LoadBalancerConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              LoadBalancerConfigurationSpec `json:"spec"`
}

// LoadBalancerConfigurationSpec is the subset of the CRD's spec this project sets.
type LoadBalancerConfigurationSpec struct {
	// Scheme is internal or internet-facing.
	Scheme string `json:"scheme,omitempty"`
	// SourceRanges are the CIDRs allowed to reach the load balancer.
	SourceRanges []string `json:"sourceRanges,omitempty"`
	// ListenerConfigurations configure listeners by protocol and port.
	ListenerConfigurations []ListenerConfiguration `json:"listenerConfigurations,omitempty"`
	// Tags are added to the AWS resources LBC creates.
	Tags map[string]string `json:"tags,omitempty"`
}

// ListenerConfiguration configures one load balancer listener.
type ListenerConfiguration struct {
	// ProtocolPort identifies the listener as PROTOCOL:PORT, for example TLS:443.
	ProtocolPort string `json:"protocolPort"`
	// DefaultCertificate is the ACM certificate ARN the listener serves by default.
	DefaultCertificate string `json:"defaultCertificate,omitempty"`
	// Certificates are additional ACM certificate ARNs (SNI).
	Certificates []string `json:"certificates,omitempty"`
	// SSLPolicy is the ELB security policy of a TLS listener.
	SSLPolicy string `json:"sslPolicy,omitempty"`
	// ALPNPolicy is the ALPN policy of a TLS listener (NLB).
	ALPNPolicy string `json:"alpnPolicy,omitempty"`
}

// TargetGroupConfiguration customises the target groups LBC creates for one Service; it must
// live in the Service's namespace, one per Service.
type TargetGroupConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              TargetGroupConfigurationSpec `json:"spec"`
}

// TargetGroupConfigurationSpec is the subset of the CRD's spec this project sets.
type TargetGroupConfigurationSpec struct {
	// TargetReference names the Service.
	TargetReference *Reference `json:"targetReference,omitempty"`
	// DefaultConfiguration applies to every route that targets the Service.
	DefaultConfiguration TargetGroupProps `json:"defaultConfiguration"`
}

// Reference names the object a TargetGroupConfiguration applies to.
type Reference struct {
	// Group is "" for Services.
	Group *string `json:"group,omitempty"`
	// Kind is Service.
	Kind *string `json:"kind,omitempty"`
	// Name of the Service.
	Name string `json:"name"`
}

// TargetGroupProps are the target group settings.
type TargetGroupProps struct {
	// TargetType is ip or instance.
	TargetType string `json:"targetType,omitempty"`
	// Protocol is the protocol the load balancer speaks to the targets (TLS, TCP, ...).
	Protocol string `json:"protocol,omitempty"`
	// HealthCheckConfig configures the target group health check.
	HealthCheckConfig *HealthCheckConfig `json:"healthCheckConfig,omitempty"`
	// TargetGroupAttributes are AWS target group attributes.
	TargetGroupAttributes []Attribute `json:"targetGroupAttributes,omitempty"`
}

// HealthCheckConfig configures a target group health check.
type HealthCheckConfig struct {
	// HealthCheckProtocol is HTTP, HTTPS or TCP.
	HealthCheckProtocol string `json:"healthCheckProtocol,omitempty"`
	// HealthCheckPort is a port number or "traffic-port".
	HealthCheckPort string `json:"healthCheckPort,omitempty"`
	// HealthCheckPath is the HTTP(S) path.
	HealthCheckPath string `json:"healthCheckPath,omitempty"`
	// HealthCheckInterval in seconds.
	HealthCheckInterval *int32 `json:"healthCheckInterval,omitempty"`
	// HealthCheckTimeout in seconds.
	HealthCheckTimeout *int32 `json:"healthCheckTimeout,omitempty"`
	// HealthyThresholdCount is the number of successes before a target is healthy.
	HealthyThresholdCount *int32 `json:"healthyThresholdCount,omitempty"`
	// UnhealthyThresholdCount is the number of failures before a target is unhealthy.
	UnhealthyThresholdCount *int32 `json:"unhealthyThresholdCount,omitempty"`
}

// Attribute is one key/value attribute.
type Attribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}
