// Package gateway creates the Gateway and the certificates of its HTTPS listeners.
package gateway

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/certificate"
	"github.com/upstream-tls/upstream-tls/components/kubeobject"
	"github.com/upstream-tls/upstream-tls/components/plan"
)

// Token is the component's type.
const Token = "upstream-tls:index:Gateway"

// Args are the planned Gateway (plan.Build(...).Gateway).
type Args struct {
	Gateway plan.GatewayPlan
	// DependsOn are what the objects need first: their namespace, the CRDs, the controllers.
	// (Pulumi does not pass a component's dependsOn to its children, so it goes here.)
	DependsOn []pulumi.Resource
}

// Gateway is the created Gateway.
type Gateway struct {
	pulumi.ResourceState

	// Name and Namespace of the Gateway.
	Name      pulumi.StringOutput `pulumi:"name"`
	Namespace pulumi.StringOutput `pulumi:"namespace"`
}

// New creates the planned Gateway with its generated listener certificates.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Gateway, error) {
	if args == nil || len(args.Gateway.Objects) == 0 {
		return nil, fmt.Errorf("gateway %q: args.Gateway must come from plan.Build", name)
	}
	c := &Gateway{}
	if err := ctx.RegisterComponentResource(Token, name, c, opts...); err != nil {
		return nil, err
	}
	certs, err := certificate.NewSet(ctx, args.Gateway.Certificates, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("gateway %q: %w", name, err)
	}
	var gw plan.Object
	for _, o := range args.Gateway.Objects {
		if _, err := kubeobject.Register(ctx, o, certs, pulumi.Parent(c), pulumi.DependsOn(args.DependsOn)); err != nil {
			return nil, fmt.Errorf("gateway %q: %w", name, err)
		}
		if o.GroupVersionKind().Kind == "Gateway" {
			gw = o
		}
	}
	c.Name = pulumi.String(gw.GetName()).ToStringOutput()
	c.Namespace = pulumi.String(gw.GetNamespace()).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"name": c.Name, "namespace": c.Namespace}); err != nil {
		return nil, err
	}
	return c, nil
}
