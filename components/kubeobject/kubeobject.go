// Package kubeobject registers planned Kubernetes objects as Pulumi Kubernetes resources. The
// object's fields come from manifest.ToMap, the same conversion the engine-free render uses, so
// what `pulumi up` applies and what `make render` shows cannot drift. Placeholders for values
// the engine computes (plan.Computed) are replaced by the matching certificate outputs.
package kubeobject

import (
	"fmt"
	"math"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/certificate"
	"github.com/upstream-tls/upstream-tls/components/manifest"
	"github.com/upstream-tls/upstream-tls/components/plan"
)

// TypeToken is the Pulumi Kubernetes type token of o, such as
// `kubernetes:core/v1:Secret` or `kubernetes:gateway.networking.k8s.io/v1:BackendTLSPolicy`.
func TypeToken(o plan.Object) string {
	gvk := o.GroupVersionKind()
	group := gvk.Group
	if group == "" {
		group = "core"
	}
	return fmt.Sprintf("kubernetes:%s/%s:%s", group, gvk.Version, gvk.Kind)
}

// ResourceName is the deterministic Pulumi resource name of o:
// `<kind>-<namespace>-<name>`, lowercase.
func ResourceName(o plan.Object) string {
	return strings.TrimSuffix(manifest.FileName(o), ".yaml")
}

// Register registers o under its Kubernetes type token, with the certificate placeholders in it
// resolved from certs. Secrets are registered with their data marked secret.
func Register(ctx *pulumi.Context, o plan.Object, certs certificate.Set, opts ...pulumi.ResourceOption) (pulumi.CustomResource, error) {
	m, err := manifest.ToMap(o)
	if err != nil {
		return nil, err
	}
	in, err := Input(m, certs, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", plan.ObjectKey(o), err)
	}
	props, ok := in.(pulumi.Map)
	if !ok {
		return nil, fmt.Errorf("%s: object is not a map", plan.ObjectKey(o))
	}
	if o.GroupVersionKind().Kind == "Secret" && o.GroupVersionKind().Group == "" {
		for _, k := range []string{"data", "stringData"} {
			if v, ok := props[k]; ok {
				props[k] = pulumi.ToSecret(v)
			}
		}
		opts = append(opts, pulumi.AdditionalSecretOutputs([]string{"data", "stringData"}))
	}
	res := newResource(o)
	if err := ctx.RegisterResource(TypeToken(o), ResourceName(o), props, res, opts...); err != nil {
		return nil, fmt.Errorf("register %s: %w", plan.ObjectKey(o), err)
	}
	return res, nil
}

// Input converts a JSON-shaped value (as produced by manifest.ToMap or found in Helm values) to
// a Pulumi input. Strings that are plan.Computed placeholders become the named certificate's
// output (the key a secret); strings that are keys of computed become that input; a placeholder
// that nothing resolves is an error.
func Input(v any, certs certificate.Set, computed map[string]pulumi.Input) (pulumi.Input, error) {
	switch t := v.(type) {
	case string:
		if in, ok := computed[t]; ok {
			return in, nil
		}
		if strings.HasPrefix(t, "<<computed:") && !strings.HasPrefix(t, "<<computed:certificate/") {
			return nil, fmt.Errorf("placeholder %q is not resolved", t)
		}
		name, field, ok := plan.ParseComputed(t)
		if !ok {
			return pulumi.String(t), nil
		}
		b, found := certs[name]
		if !found {
			return nil, fmt.Errorf("placeholder %q names certificate %q, which was not registered", t, name)
		}
		out, found := b.Field(field)
		if !found {
			return nil, fmt.Errorf("placeholder %q names unknown field %q", t, field)
		}
		return out, nil
	case bool:
		return pulumi.Bool(t), nil
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return pulumi.Int(int(t)), nil
		}
		return pulumi.Float64(t), nil
	case map[string]any:
		m := pulumi.Map{}
		for k, e := range t {
			in, err := Input(e, certs, computed)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			m[k] = in
		}
		return m, nil
	case []any:
		a := make(pulumi.Array, 0, len(t))
		for i, e := range t {
			in, err := Input(e, certs, computed)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			a = append(a, in)
		}
		return a, nil
	case nil:
		return nil, fmt.Errorf("unexpected null")
	}
	return nil, fmt.Errorf("unsupported value %T", v)
}
