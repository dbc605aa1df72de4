// Package gateway is the Gateway component: the Gateway and the generated certificates of its
// HTTPS listeners. It is a building block of UpstreamTls, which plans it.
package gateway

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
	"github.com/upstream-tls/upstream-tls/internal/register"
)

// Token is the component's type.
const Token = "upstream-tls:index:Gateway"

// Args are the planned Gateway.
type Args struct {
	// Gateway comes from the plan (plan.Build(...).Envoy.Gateway).
	Gateway envoy.GatewayPlan
	// Deps holds every registered resource by plan key; the objects depend on what their plan
	// entries name, and are added to it.
	Deps *register.Deps
}

// Gateway is the created Gateway.
type Gateway struct {
	pulumi.ResourceState

	// Name and Namespace of the Gateway.
	Name      pulumi.StringOutput `pulumi:"name"`
	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// Certificates are the Gateway's generated certificates (listeners', the gateway's client
	// certificate), for the backends whose objects carry one of them (a verifying workload's
	// client CA ConfigMap). Not an output.
	Certificates register.Certificates
}

// New creates the planned Gateway with its generated listener certificates.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Gateway, error) {
	if args == nil || len(args.Gateway.Objects) == 0 || args.Deps == nil {
		return nil, fmt.Errorf("gateway %q: args must come from plan.Build", name)
	}
	c := &Gateway{}
	if err := ctx.RegisterComponentResource(Token, name, c, opts...); err != nil {
		return nil, err
	}
	certs, err := register.NewCertificates(ctx, args.Gateway.Certificates, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("gateway %q: %w", name, err)
	}
	c.Certificates = certs
	var gw core.Object
	for _, o := range args.Gateway.Objects {
		if _, err := register.Object(ctx, o, args.Deps, certs.Resolver(nil), pulumi.Parent(c)); err != nil {
			return nil, fmt.Errorf("gateway %q: %w", name, err)
		}
		if o.Kind() == core.KindGateway {
			gw = o
		}
	}
	c.Name = pulumi.String(gw.Name()).ToStringOutput()
	c.Namespace = pulumi.String(gw.Namespace()).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"name": c.Name, "namespace": c.Namespace}); err != nil {
		return nil, err
	}
	return c, nil
}
