package kubeobject

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/plan"
	egv1alpha1 "github.com/upstream-tls/upstream-tls/crds/envoygateway/v1alpha1"
	gwv1 "github.com/upstream-tls/upstream-tls/crds/gateway/v1"
	gwv1beta1 "github.com/upstream-tls/upstream-tls/crds/gateway/v1beta1"
	lbcv1 "github.com/upstream-tls/upstream-tls/crds/lbc/v1"
)

// Resource is the state of a registered core Kubernetes object (Namespace, Secret, ConfigMap,
// Service, Deployment): its identity and metadata. Core kinds use this small struct rather than
// the SDK's typed packages, whose size would dominate every build.
type Resource struct {
	pulumi.CustomResourceState

	APIVersion pulumi.StringOutput     `pulumi:"apiVersion"`
	Kind       pulumi.StringOutput     `pulumi:"kind"`
	Metadata   metav1.ObjectMetaOutput `pulumi:"metadata"`
}

// newResource returns the state struct the engine fills for o: the generated CRD type (crds/)
// for Gateway API, Envoy Gateway and AWS Load Balancer Controller kinds, Resource for core kinds.
func newResource(o plan.Object) pulumi.CustomResource {
	gvk := o.GroupVersionKind()
	switch gvk.GroupVersion().String() + "/" + gvk.Kind {
	case "gateway.networking.k8s.io/v1/GatewayClass":
		return &gwv1.GatewayClass{}
	case "gateway.networking.k8s.io/v1/Gateway":
		return &gwv1.Gateway{}
	case "gateway.networking.k8s.io/v1/HTTPRoute":
		return &gwv1.HTTPRoute{}
	case "gateway.networking.k8s.io/v1/GRPCRoute":
		return &gwv1.GRPCRoute{}
	case "gateway.networking.k8s.io/v1/TLSRoute":
		return &gwv1.TLSRoute{}
	case "gateway.networking.k8s.io/v1/TCPRoute":
		return &gwv1.TCPRoute{}
	case "gateway.k8s.aws/v1/LoadBalancerConfiguration":
		return &lbcv1.LoadBalancerConfiguration{}
	case "gateway.k8s.aws/v1/TargetGroupConfiguration":
		return &lbcv1.TargetGroupConfiguration{}
	case "gateway.networking.k8s.io/v1/BackendTLSPolicy":
		return &gwv1.BackendTLSPolicy{}
	case "gateway.networking.k8s.io/v1beta1/ReferenceGrant":
		return &gwv1beta1.ReferenceGrant{}
	case "gateway.envoyproxy.io/v1alpha1/Backend":
		return &egv1alpha1.Backend{}
	}
	return &Resource{}
}
