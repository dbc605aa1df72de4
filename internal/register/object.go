// Package register turns planned objects and install steps into Pulumi resources: Kubernetes
// objects (under their Kubernetes type tokens, with render.ToMap's fields, so what `pulumi up`
// applies and what `make render` shows cannot drift), CRD bundles and Helm releases, and the
// CertificateBundles of the upstream-tls provider. It applies the plan's decisions (names,
// dependencies, computed values) and makes none.
package register

import (
	"fmt"
	"math"
	"slices"
	"strings"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/render"
)

// Resource is the state of a registered Kubernetes object: its identity, metadata and status.
// One small struct serves every kind; the SDK's typed packages (and generated CRD types) would
// dominate every build for fields the components never read.
type Resource struct {
	pulumi.CustomResourceState

	APIVersion pulumi.StringOutput     `pulumi:"apiVersion"`
	Kind       pulumi.StringOutput     `pulumi:"kind"`
	Metadata   metav1.ObjectMetaOutput `pulumi:"metadata"`
	// Status is the object's status as the provider read it after apply (empty in render mode).
	Status pulumi.MapOutput `pulumi:"status"`
}

// TypeToken is the Pulumi Kubernetes type token of o, such as `kubernetes:core/v1:Secret` or
// `kubernetes:gateway.networking.k8s.io/v1:BackendTLSPolicy`.
func TypeToken(o core.Object) string {
	gvk := o.Resource.GroupVersionKind()
	group := gvk.Group
	if group == "" {
		group = "core"
	}
	return fmt.Sprintf("kubernetes:%s/%s:%s", group, gvk.Version, gvk.Kind)
}

// Deps holds the registered resources by plan key (core.Object.Key or an install step), so
// that every object depends on exactly what its plan entry names.
type Deps struct {
	byKey map[string][]pulumi.Resource
}

// NewDeps returns an empty set.
func NewDeps() *Deps { return &Deps{byKey: map[string][]pulumi.Resource{}} }

// Add records rs as the resources of key (an install step can be several resources).
func (d *Deps) Add(key string, rs ...pulumi.Resource) { d.byKey[key] = append(d.byKey[key], rs...) }

// Get returns the resources of key.
func (d *Deps) Get(key string) ([]pulumi.Resource, bool) {
	r, ok := d.byKey[key]
	return r, ok
}

// Of returns the resources of keys, in order. Every key must have been registered: the plan
// lists objects after what they wait for, so a missing key is a bug of the wiring.
func (d *Deps) Of(keys []string) ([]pulumi.Resource, error) {
	out := make([]pulumi.Resource, 0, len(keys))
	for _, k := range keys {
		rs, ok := d.byKey[k]
		if !ok {
			return nil, fmt.Errorf("dependency %s is not registered yet", k)
		}
		for _, r := range rs {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// Resolver returns the engine's value of a Ref.
type Resolver func(core.Ref) (pulumi.Input, error)

// Object registers o under its Kubernetes type token and resource name, depending on the
// resources of o.DependsOn (from deps), with its Computed bindings filled by resolve. Secrets
// are registered with their data marked secret, and so is every bound private key.
func Object(ctx *pulumi.Context, o core.Object, deps *Deps, resolve Resolver, opts ...pulumi.ResourceOption) (*Resource, error) {
	m, err := render.ToMap(o)
	if err != nil {
		return nil, err
	}
	props, err := Props(m, o.Computed, resolve)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Key(), err)
	}
	if o.Kind() == core.KindSecret && o.Resource.GroupVersionKind().Group == "" {
		for _, k := range []string{"data", "stringData"} {
			if v, ok := props[k]; ok {
				props[k] = pulumi.ToSecret(v)
			}
		}
		opts = append(opts, pulumi.AdditionalSecretOutputs([]string{"data", "stringData"}))
	}
	if deps != nil {
		after, err := deps.Of(o.DependsOn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Key(), err)
		}
		opts = append(opts, pulumi.DependsOn(after))
	}
	res := &Resource{}
	if err := Shallow(func() error { return ctx.RegisterResource(TypeToken(o), o.ResourceName(), props, res, opts...) }); err != nil {
		return nil, fmt.Errorf("register %s: %w", o.Key(), err)
	}
	if deps != nil {
		deps.Add(o.Key(), res)
	}
	return res, nil
}

// Shallow runs register on a goroutine of its own and waits for it. The Pulumi Go SDK stores
// the caller's whole stack with every registration (a resource's stackTrace in the state); a
// registration made where the component makes them (the Automation API's gRPC server, the
// program, UpstreamTls, TLSBackend, here) stored about 20 frames per resource, 1.7 MB of a
// 100-backend state of 10.6 MB, where the anchor's yaml/v2 objects store 0.6 MB
// (bench/RESULTS.md). A fresh goroutine's stack holds a few frames; the registration itself is
// the same (the SDK's context is safe for concurrent use).
func Shallow(register func() error) error {
	done := make(chan error, 1)
	go func() { done <- register() }()
	return <-done
}

// Props converts m (a JSON-shaped object, as render.ToMap produces or a Helm release's values)
// to Pulumi inputs, with the value at every binding's path replaced by resolve(ref) (a secret
// when the Ref is one). Bindings are the only values resolved: a string in m that looks like a
// reference's display text is kept as the string it is.
func Props(m map[string]any, bindings []core.Binding, resolve Resolver) (pulumi.Map, error) {
	inputs := map[string]pulumi.Input{}
	copied := deepCopyJSON(m).(map[string]any)
	for i, b := range bindings {
		if resolve == nil {
			return nil, fmt.Errorf("%s has no resolver", b.Ref)
		}
		in, err := resolve(b.Ref)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strings.Join(b.Path, "."), err)
		}
		if b.Ref.Secret() {
			in = pulumi.ToSecret(in)
		}
		// A token no configuration string can hold (it contains a NUL byte) marks the slot.
		token := fmt.Sprintf("\x00binding-%d", i)
		inputs[token] = in
	}
	i := 0
	err := core.Resolve(copied, bindings, func(core.Ref) (any, error) {
		token := fmt.Sprintf("\x00binding-%d", i)
		i++
		return token, nil
	})
	if err != nil {
		return nil, err
	}
	in, err := toInput(copied, inputs)
	if err != nil {
		return nil, err
	}
	out, ok := in.(pulumi.Map)
	if !ok {
		return nil, fmt.Errorf("object is not a map")
	}
	return out, nil
}

// toInput converts a JSON-shaped value to a Pulumi input; strings that are binding tokens
// become their resolved inputs.
func toInput(v any, tokens map[string]pulumi.Input) (pulumi.Input, error) {
	switch t := v.(type) {
	case string:
		if in, ok := tokens[t]; ok {
			return in, nil
		}
		return pulumi.String(t), nil
	case bool:
		return pulumi.Bool(t), nil
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return pulumi.Int(int(t)), nil
		}
		return pulumi.Float64(t), nil
	case int:
		return pulumi.Int(t), nil
	case map[string]any:
		m := pulumi.Map{}
		for k, e := range t {
			in, err := toInput(e, tokens)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			m[k] = in
		}
		return m, nil
	case []any:
		a := make(pulumi.Array, 0, len(t))
		for i, e := range t {
			in, err := toInput(e, tokens)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			a = append(a, in)
		}
		return a, nil
	case []string:
		return pulumi.ToStringArray(t), nil
	case map[string]string:
		return pulumi.ToStringMap(t), nil
	case nil:
		return nil, fmt.Errorf("unexpected null")
	}
	return nil, fmt.Errorf("unsupported value %T", v)
}

// deepCopyJSON copies a JSON-shaped value (maps and lists are copied; scalars shared).
func deepCopyJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopyJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopyJSON(e)
		}
		return out
	}
	return v
}
