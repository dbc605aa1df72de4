// Package envoygateway is the EnvoyGateway component: Envoy Gateway's own CRDs and controller
// from its Helm charts (the Backend API enabled when the plan says so) and the GatewayClass.
// The Gateway API CRDs are not its concern: the top-level UpstreamTls owns them.
//
// It is a building block of UpstreamTls, which plans it; New registers the component, Install
// its children once what they wait for is registered.
package envoygateway

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
	"github.com/upstream-tls/upstream-tls/internal/register"
)

// Token is the component's type.
const Token = "upstream-tls:index:EnvoyGateway"

// Args are the planned installation.
type Args struct {
	// Install comes from the plan (plan.Build(...).Envoy.Install).
	Install envoy.Install
	// Deps holds every registered resource by plan key; the releases and the GatewayClass
	// depend on what their plan entries name, and are added to it.
	Deps *register.Deps
}

// EnvoyGateway is the installed controller and its GatewayClass.
type EnvoyGateway struct {
	pulumi.ResourceState

	// GatewayClassName is the name of the GatewayClass routes' Gateways use.
	GatewayClassName pulumi.StringOutput `pulumi:"gatewayClassName"`
	// BackendAPIEnabled reports whether Envoy Gateway's Backend API is on.
	BackendAPIEnabled pulumi.BoolOutput `pulumi:"backendApiEnabled"`

	name string
}

// New registers the component (no children yet: see Install).
func New(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) (*EnvoyGateway, error) {
	c := &EnvoyGateway{name: name}
	if err := ctx.RegisterComponentResource(Token, name, c, opts...); err != nil {
		return nil, err
	}
	return c, nil
}

// Install registers the control plane's certificates and their Secrets, the charts (Envoy
// Gateway CRDs, then the controller) and the GatewayClass as children, and the component's
// outputs.
func (c *EnvoyGateway) Install(ctx *pulumi.Context, args *Args) error {
	if args == nil || args.Install.GatewayClass.Resource == nil || args.Deps == nil {
		return fmt.Errorf("envoygateway %q: args must come from plan.Build", c.name)
	}
	in := args.Install
	parent := pulumi.Parent(c)
	// The control plane's certificates and Secrets come first: the controller release waits
	// for them (the chart's certgen hook, which would create them, never runs under Pulumi).
	certs, err := register.NewCertificates(ctx, in.Certificates, parent)
	if err != nil {
		return fmt.Errorf("envoygateway %q: %w", c.name, err)
	}
	for _, o := range in.Objects {
		if _, err := register.Object(ctx, o, args.Deps, certs.Resolver(nil), parent); err != nil {
			return fmt.Errorf("envoygateway %q: %w", c.name, err)
		}
	}
	for _, r := range in.Releases {
		after, err := args.Deps.Of(r.DependsOn)
		if err != nil {
			return fmt.Errorf("envoygateway %q: chart %s: %w", c.name, r.Name, err)
		}
		chart, err := register.Chart(ctx, c.name+"-"+r.Name, r.HelmRelease, nil, parent, pulumi.DependsOn(after))
		if err != nil {
			return fmt.Errorf("envoygateway %q: %w", c.name, err)
		}
		args.Deps.Add(r.Step, chart)
	}
	if _, err := register.Object(ctx, in.GatewayClass, args.Deps, nil, parent); err != nil {
		return fmt.Errorf("envoygateway %q: %w", c.name, err)
	}
	c.GatewayClassName = pulumi.String(in.GatewayClass.Name()).ToStringOutput()
	c.BackendAPIEnabled = pulumi.Bool(in.EnableBackend).ToBoolOutput()
	return ctx.RegisterResourceOutputs(c, pulumi.Map{
		"gatewayClassName":  c.GatewayClassName,
		"backendApiEnabled": c.BackendAPIEnabled,
	})
}
