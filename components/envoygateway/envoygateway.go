// Package envoygateway installs Envoy Gateway: the Gateway API CRDs (when this component owns
// them), Envoy Gateway's own CRDs and controller from its Helm charts with the Backend API
// enabled when needed, and the GatewayClass. Everything that uses the CRDs depends on this
// component, so CRDs are established before any Gateway API object is applied.
package envoygateway

import (
	"fmt"
	"strings"

	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/kubeobject"
	"github.com/upstream-tls/upstream-tls/components/plan"
)

// Token is the component's type.
const Token = "upstream-tls:index:EnvoyGateway"

// Args are the planned installation (plan.Build(...).Install).
type Args struct {
	Install plan.Install
}

// EnvoyGateway is the installed controller and its GatewayClass.
type EnvoyGateway struct {
	pulumi.ResourceState

	// GatewayClassName is the name of the GatewayClass routes' Gateways use.
	GatewayClassName pulumi.StringOutput `pulumi:"gatewayClassName"`
	// BackendAPIEnabled reports whether Envoy Gateway's Backend API is on.
	BackendAPIEnabled pulumi.BoolOutput `pulumi:"backendApiEnabled"`
}

// New installs Envoy Gateway as planned.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*EnvoyGateway, error) {
	if args == nil || args.Install.GatewayClass == nil {
		return nil, fmt.Errorf("envoygateway %q: args.Install must come from plan.Build", name)
	}
	in := args.Install
	c := &EnvoyGateway{}
	if err := ctx.RegisterComponentResource(Token, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	var deps []pulumi.Resource

	if in.GatewayAPICRDs != nil {
		crds, err := gatewayAPICRDs(ctx, name+"-gateway-api-crds", in.GatewayAPICRDs, parent)
		if err != nil {
			return nil, fmt.Errorf("envoygateway %q: Gateway API CRDs: %w", name, err)
		}
		deps = append(deps, crds)
	}
	for _, r := range in.Releases {
		chart, err := helmv4.NewChart(ctx, name+"-"+r.Name, chartArgs(r), parent, pulumi.DependsOn(deps))
		if err != nil {
			return nil, fmt.Errorf("envoygateway %q: chart %s: %w", name, r.Name, err)
		}
		deps = append(deps, chart)
	}
	if _, err := kubeobject.Register(ctx, in.GatewayClass, nil, parent, pulumi.DependsOn(deps)); err != nil {
		return nil, fmt.Errorf("envoygateway %q: %w", name, err)
	}

	c.GatewayClassName = pulumi.String(in.GatewayClass.GetName()).ToStringOutput()
	c.BackendAPIEnabled = pulumi.Bool(in.EnableBackend).ToBoolOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"gatewayClassName":  c.GatewayClassName,
		"backendApiEnabled": c.BackendAPIEnabled,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// yamlComponent is the state of a Kubernetes provider `yaml/v2` component (ConfigFile or
// ConfigGroup). The components are registered by token rather than through the SDK's yaml/v2
// package, which imports every Kubernetes API package and multiplies build times.
type yamlComponent struct {
	pulumi.ResourceState

	Resources pulumi.ArrayOutput `pulumi:"resources"`
}

// gatewayAPICRDs installs the bundle from a URL (one multi-document file, as a
// kubernetes:yaml/v2:ConfigFile) or a local directory (kubernetes:yaml/v2:ConfigGroup).
func gatewayAPICRDs(ctx *pulumi.Context, name string, b *plan.CRDBundle, opts ...pulumi.ResourceOption) (pulumi.Resource, error) {
	var res yamlComponent
	if strings.Contains(b.Source, "://") {
		err := ctx.RegisterRemoteComponentResource("kubernetes:yaml/v2:ConfigFile", name, pulumi.Map{"file": pulumi.String(b.Source)}, &res, opts...)
		return &res, err
	}
	err := ctx.RegisterRemoteComponentResource("kubernetes:yaml/v2:ConfigGroup", name, pulumi.Map{
		"files": pulumi.ToStringArray([]string{strings.TrimSuffix(b.Source, "/") + "/*.yaml"}),
	}, &res, opts...)
	return &res, err
}

func chartArgs(r plan.HelmRelease) *helmv4.ChartArgs {
	a := &helmv4.ChartArgs{
		Name:      pulumi.String(r.Name),
		Namespace: pulumi.String(r.Namespace),
		Values:    pulumi.ToMap(r.Values),
	}
	if r.Path != "" {
		a.Chart = pulumi.String(r.Path)
	} else {
		a.Chart = pulumi.String(strings.TrimSuffix(r.Repository, "/") + "/" + r.Chart)
		a.Version = pulumi.String(r.Version)
	}
	return a
}
