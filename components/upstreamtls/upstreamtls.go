// Package upstreamtls is the top-level UpstreamTls component: from one Args it plans the whole
// environment (failing before anything is registered when the input is invalid), then installs
// Envoy Gateway, creates the namespaces, the Gateway and every TLS backend, and reports each
// backend's TLS posture.
package upstreamtls

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/eks"
	"github.com/upstream-tls/upstream-tls/components/envoygateway"
	"github.com/upstream-tls/upstream-tls/components/gateway"
	"github.com/upstream-tls/upstream-tls/components/kubeobject"
	"github.com/upstream-tls/upstream-tls/components/plan"
	"github.com/upstream-tls/upstream-tls/components/tlsbackend"
)

// Token is the component's type.
const Token = "upstream-tls:index:UpstreamTls"

// Args are the component inputs; see plan.Args for every field and default.
type Args = plan.Args

// BackendStatus is the outcome for one backend.
type BackendStatus struct {
	// Name of the backend.
	Name string `pulumi:"name"`
	// Mode is system, ca or insecure.
	Mode string `pulumi:"mode"`
	// Verified is true when the gateway verifies the backend's certificate.
	Verified bool `pulumi:"verified"`
	// Hostname is the SNI the gateway sends.
	Hostname string `pulumi:"hostname"`
	// Objects are the created objects, as kind/namespace/name.
	Objects []string `pulumi:"objects"`
}

// UpstreamTls is the provisioned environment.
type UpstreamTls struct {
	pulumi.ResourceState

	// Backends reports every backend's mode, verification and objects.
	Backends pulumi.MapArrayOutput `pulumi:"backends"`
	// Posture is a table with one line per backend: mode, verified, hostname.
	Posture pulumi.StringOutput `pulumi:"posture"`
	// GatewayName and GatewayNamespace locate the Gateway.
	GatewayName      pulumi.StringOutput `pulumi:"gatewayName"`
	GatewayNamespace pulumi.StringOutput `pulumi:"gatewayNamespace"`
	// BackendAPIEnabled reports whether Envoy Gateway's Backend API is on.
	BackendAPIEnabled pulumi.BoolOutput `pulumi:"backendApiEnabled"`
	// NLBTargets reports, when the EKS path is on, every NLB target: listener, target group
	// protocol and what the NLB-to-pod hop guarantees (encrypted, never verified). Empty otherwise.
	NLBTargets pulumi.MapArrayOutput `pulumi:"nlbTargets"`
	// NLBAddress is the NLB's DNS name once LBC has provisioned it; empty otherwise.
	NLBAddress pulumi.StringOutput `pulumi:"nlbAddress"`

	// plan is the validated plan the component applied (unexported: not a Pulumi property).
	plan *plan.Plan
}

// Plan returns the validated plan the component applied.
func (c *UpstreamTls) Plan() *plan.Plan { return c.plan }

// New validates args, then registers the component and its children. On invalid input it
// returns the plan's *plan.ValidationError and registers nothing.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*UpstreamTls, error) {
	if args == nil {
		args = &Args{}
	}
	p, err := plan.Build(*args)
	if err != nil {
		return nil, err
	}
	c := &UpstreamTls{plan: p}
	if err := ctx.RegisterComponentResource(Token, name, c, opts...); err != nil {
		return nil, err
	}
	for _, w := range p.Warnings {
		_ = ctx.Log.Warn(w, &pulumi.LogArgs{Resource: c})
	}
	parent := pulumi.Parent(c)

	var namespaces []pulumi.Resource
	for _, ns := range p.Namespaces {
		res, err := kubeobject.Register(ctx, ns, nil, parent)
		if err != nil {
			return nil, fmt.Errorf("upstreamtls %q: %w", name, err)
		}
		namespaces = append(namespaces, res)
	}
	eg, err := envoygateway.New(ctx, name+"-envoy-gateway", &envoygateway.Args{Install: p.Install}, parent)
	if err != nil {
		return nil, err
	}
	after := pulumi.DependsOn(append([]pulumi.Resource{eg}, namespaces...))
	gw, err := gateway.New(ctx, name+"-gateway", &gateway.Args{Gateway: p.Gateway}, parent, after)
	if err != nil {
		return nil, err
	}
	var statuses pulumi.MapArray
	for _, b := range p.Backends {
		if _, err := tlsbackend.New(ctx, name+"-"+b.Name, &tlsbackend.Args{Backend: b}, parent, after); err != nil {
			return nil, err
		}
		var objects []string
		for _, o := range b.Objects {
			objects = append(objects, plan.ObjectKey(o))
		}
		statuses = append(statuses, pulumi.Map{
			"name":     pulumi.String(b.Name),
			"mode":     pulumi.String(string(b.Mode)),
			"verified": pulumi.Bool(b.Verified),
			"hostname": pulumi.String(b.Hostname),
			"objects":  pulumi.ToStringArray(objects),
		})
	}
	c.NLBTargets = pulumi.MapArray{}.ToMapArrayOutput()
	c.NLBAddress = pulumi.String("").ToStringOutput()
	if p.EKS != nil {
		deps := append([]pulumi.Resource(nil), namespaces...)
		if crds := eg.GatewayAPICRDs(); crds != nil {
			deps = append(deps, crds)
		}
		// One owner for the Gateway API CRDs: the Envoy Gateway component installs them.
		e, err := eks.New(ctx, name+"-eks", &eks.Args{EKS: p.EKS, DependsOn: deps}, parent)
		if err != nil {
			return nil, err
		}
		c.NLBTargets = e.Targets
		c.NLBAddress = e.GatewayAddress
	}
	c.Backends = statuses.ToMapArrayOutput()
	c.Posture = pulumi.String(p.Posture()).ToStringOutput()
	c.GatewayName = gw.Name
	c.GatewayNamespace = gw.Namespace
	c.BackendAPIEnabled = eg.BackendAPIEnabled
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"backends": c.Backends, "posture": c.Posture, "gatewayName": c.GatewayName,
		"gatewayNamespace": c.GatewayNamespace, "backendApiEnabled": c.BackendAPIEnabled,
		"nlbTargets": c.NLBTargets, "nlbAddress": c.NLBAddress,
	}); err != nil {
		return nil, err
	}
	return c, nil
}
