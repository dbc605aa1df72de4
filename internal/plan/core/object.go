// Package core is the shared core of the plan: the planned object and its identity, the
// references to values only the engine computes, certificate requests, install steps, field
// errors with their fixes, the validators every path uses, and the registry that gives every
// planned name one owner. It is pure Go: no Pulumi calls, no I/O.
package core

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Resource is a Kubernetes object as an upstream typed API struct (Gateway API, Envoy Gateway,
// Kubernetes core, or the AWS Load Balancer Controller types in internal/lbc) with its
// apiVersion and kind set.
type Resource interface {
	GetName() string
	GetNamespace() string
	GroupVersionKind() schema.GroupVersionKind
}

// Object is one planned Kubernetes object.
type Object struct {
	// Resource is the object itself. Where a field holds a value only the engine computes, it
	// holds that value's Ref.String() as display text, and Computed says so.
	Resource Resource
	// Field is the configuration path that asks for the object, such as `backends[1]` or
	// `gateway.listeners[0]`: the registry names it when two fields claim one name.
	Field string
	// Computed lists the fields of Resource whose values only the engine knows. Registration,
	// the verifier and the tests fill exactly these paths (Resolve); no other string is ever read
	// as a reference, whatever it contains.
	Computed []Binding
	// DependsOn are the keys (Key, or an install step's StepKey) of what must exist before this
	// object is applied. The wiring turns them into Pulumi dependencies; nothing else orders
	// objects.
	DependsOn []string
}

// Kind is the object's kind. Upstream API structs embed metav1.TypeMeta, whose Kind field is
// read directly; GroupVersionKind (which parses apiVersion) is the fallback for any other
// Resource. The plan asks for kinds thousands of times per plan (keys, the registry, postures).
func (o Object) Kind() string {
	if k, ok := o.Resource.(interface{ GetObjectKind() schema.ObjectKind }); ok {
		if tm, ok := k.GetObjectKind().(*metav1.TypeMeta); ok {
			return tm.Kind
		}
	}
	return o.Resource.GroupVersionKind().Kind
}

// Name is the object's metadata.name.
func (o Object) Name() string { return o.Resource.GetName() }

// Namespace is the object's metadata.namespace ("" for cluster-scoped objects).
func (o Object) Namespace() string { return o.Resource.GetNamespace() }

// Key is the object's identity, `Kind/namespace/name` (or `Kind/name` when cluster-scoped).
func (o Object) Key() string { return Key(o.Kind(), o.Namespace(), o.Name()) }

// Key renders an identity as `kind/namespace/name`, or `kind/name` when namespace is empty.
func Key(kind, namespace, name string) string {
	if namespace == "" {
		return kind + "/" + name
	}
	return kind + "/" + namespace + "/" + name
}

// ResourceName is the deterministic Pulumi resource name (and rendered file name without
// `.yaml`) of an object: `<kind>-<namespace>-<name>`, lowercase, namespace omitted for
// cluster-scoped objects. It never changes for an object, so stacks keep their resources.
func ResourceName(kind, namespace, name string) string {
	if namespace == "" {
		return strings.ToLower(kind) + "-" + name
	}
	return strings.ToLower(kind) + "-" + namespace + "-" + name
}

// ResourceName is the object's Pulumi resource name; see the function of the same name.
func (o Object) ResourceName() string { return ResourceName(o.Kind(), o.Namespace(), o.Name()) }

// TypeMeta is the apiVersion and kind of gv/kind (gv is a schema or metav1 GroupVersion, as the
// upstream API packages export them).
func TypeMeta(gv fmt.Stringer, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: gv.String(), Kind: kind}
}

// ComponentLabel marks every object the component creates; ComponentLabelValue is its value.
const (
	ComponentLabel      = "app.kubernetes.io/managed-by"
	ComponentLabelValue = "upstream-tls"
	// AppLabel names the backend (or NLB target) an object belongs to.
	AppLabel = "app.kubernetes.io/name"
)

// Labels returns the component label plus extra.
func Labels(extra map[string]string) map[string]string {
	l := make(map[string]string, 1+len(extra)) // (sized once: the plan makes thousands)
	l[ComponentLabel] = ComponentLabelValue
	for k, v := range extra {
		l[k] = v
	}
	return l
}

// Meta is the metadata of a planned object: name, namespace and Labels(extra).
func Meta(name, namespace string, extra map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: Labels(extra)}
}

// Keys returns the keys of objs, in order.
func Keys(objs []Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Key()
	}
	return out
}
