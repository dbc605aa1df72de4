package kubeobject

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/plan"
)

// Resource is the state of any registered Kubernetes object: its identity and metadata.
type Resource struct {
	pulumi.CustomResourceState

	APIVersion pulumi.StringOutput     `pulumi:"apiVersion"`
	Kind       pulumi.StringOutput     `pulumi:"kind"`
	Metadata   metav1.ObjectMetaOutput `pulumi:"metadata"`
}

// newResource returns the state struct the engine fills for o.
func newResource(o plan.Object) pulumi.CustomResource {
	return &Resource{}
}
