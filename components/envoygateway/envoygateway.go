// Package envoygateway installs Envoy Gateway: the Gateway API CRDs (when this component owns
// them), Envoy Gateway's own CRDs and controller from its Helm charts with the Backend API
// enabled when needed, and the GatewayClass. Everything that uses the CRDs depends on this
// component, so CRDs are established before any Gateway API object is applied.
package envoygateway

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/install"
	"github.com/upstream-tls/upstream-tls/components/kubeobject"
	"github.com/upstream-tls/upstream-tls/components/plan"
)

// Token is the component's type.
const Token = "upstream-tls:index:EnvoyGateway"

// Args are the planned installation (plan.Build(...).Install).
type Args struct {
	Install plan.Install
	// DependsOn are resources the charts wait for (for example, on EKS, the AWS Load Balancer
	// Controller, whose Service webhook must serve before any Service is created).
	DependsOn []pulumi.Resource
	// CRDAliases are former identities of the Gateway API CRD bundle, so that moving its owner
	// (see upstreamtls) never replaces the CRDs.
	CRDAliases []pulumi.Alias
}

// EnvoyGateway is the installed controller and its GatewayClass.
type EnvoyGateway struct {
	pulumi.ResourceState

	// GatewayClassName is the name of the GatewayClass routes' Gateways use.
	GatewayClassName pulumi.StringOutput `pulumi:"gatewayClassName"`
	// BackendAPIEnabled reports whether Envoy Gateway's Backend API is on.
	BackendAPIEnabled pulumi.BoolOutput `pulumi:"backendApiEnabled"`

	// gatewayAPICRDs installed the Gateway API CRDs; nil when they are managed elsewhere.
	gatewayAPICRDs pulumi.Resource
}

// CRDsName is the resource name of the Gateway API CRD bundle installed by the component named
// name. Whoever else owns the bundle uses the same name, so that an alias can carry it over.
func CRDsName(name string) string { return name + "-gateway-api-crds" }

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
	deps := append([]pulumi.Resource(nil), args.DependsOn...)

	if in.GatewayAPICRDs != nil {
		crds, err := install.CRDs(ctx, CRDsName(name), in.GatewayAPICRDs, parent, pulumi.Aliases(args.CRDAliases))
		if err != nil {
			return nil, fmt.Errorf("envoygateway %q: Gateway API CRDs: %w", name, err)
		}
		deps = append(deps, crds)
		c.gatewayAPICRDs = crds
	}
	for _, r := range in.Releases {
		chart, err := install.Chart(ctx, name+"-"+r.Name, r, pulumi.ToMap(r.Values), parent, pulumi.DependsOn(deps))
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

// GatewayAPICRDs returns the resource that installed the Gateway API CRDs, or nil when they are
// managed elsewhere. Components that need the CRDs (the EKS path) depend on it.
func (c *EnvoyGateway) GatewayAPICRDs() pulumi.Resource { return c.gatewayAPICRDs }
