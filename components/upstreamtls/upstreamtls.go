// Package upstreamtls is the top-level UpstreamTls component: from one Args it plans the whole
// environment (failing before anything is registered when the input is invalid), then installs
// Envoy Gateway, creates the namespaces, the Gateway and every TLS backend, and reports each
// backend's TLS posture.
package upstreamtls

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/eks"
	"github.com/upstream-tls/upstream-tls/components/envoygateway"
	"github.com/upstream-tls/upstream-tls/components/gateway"
	"github.com/upstream-tls/upstream-tls/components/install"
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
	// Install order. Without the EKS path the Envoy Gateway component owns the Gateway API CRDs.
	// With it, this component owns them (one owner for both paths) and installs, in order: the
	// CRDs, the AWS Load Balancer Controller (its CRDs, then the controller), then Envoy Gateway
	// and everything else that creates Services, because the controller's Service webhook
	// (failurePolicy Fail) rejects every Service until the controller serves. Aliases keep the
	// CRD bundle the same resource when the EKS path is switched on or off, so that switching
	// never replaces (deletes) the CRDs.
	egName := name + "-envoy-gateway"
	crdsName := envoygateway.CRDsName(egName)
	egArgs := &envoygateway.Args{Install: p.Install, DependsOn: namespaces}
	installed := append([]pulumi.Resource(nil), namespaces...)
	var nlb *eks.EksNlb
	if p.EKS != nil {
		eksDeps := append([]pulumi.Resource(nil), namespaces...)
		if p.Install.GatewayAPICRDs != nil {
			crds, err := install.CRDs(ctx, crdsName, p.Install.GatewayAPICRDs, parent,
				pulumi.Aliases([]pulumi.Alias{{ParentURN: childURN(c.URN(), envoygateway.Token, egName)}}))
			if err != nil {
				return nil, fmt.Errorf("upstreamtls %q: %w", name, err)
			}
			eksDeps = append(eksDeps, crds)
			egArgs.Install.GatewayAPICRDs = nil
			egArgs.DependsOn = append(egArgs.DependsOn, crds)
		}
		if nlb, err = eks.New(ctx, name+"-eks", &eks.Args{EKS: p.EKS, DependsOn: eksDeps}, parent); err != nil {
			return nil, err
		}
		if ctrl := nlb.Controller(); ctrl != nil {
			egArgs.DependsOn = append(egArgs.DependsOn, ctrl)
			installed = append(installed, ctrl)
		}
	} else {
		egArgs.CRDAliases = []pulumi.Alias{{Parent: c, Name: pulumi.String(crdsName)}}
	}
	eg, err := envoygateway.New(ctx, egName, egArgs, parent)
	if err != nil {
		return nil, err
	}
	// Pulumi does not pass a component's dependsOn to its children: the components take them as
	// arguments and put them on every object.
	before := append([]pulumi.Resource{eg}, installed...)
	after := pulumi.DependsOn(before)
	gw, err := gateway.New(ctx, name+"-gateway", &gateway.Args{Gateway: p.Gateway, DependsOn: before}, parent, after)
	if err != nil {
		return nil, err
	}
	var statuses pulumi.MapArray
	for _, b := range p.Backends {
		if _, err := tlsbackend.New(ctx, name+"-"+b.Name, &tlsbackend.Args{Backend: b, DependsOn: before}, parent, after); err != nil {
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
	if nlb != nil {
		c.NLBTargets = nlb.Targets
		c.NLBAddress = nlb.GatewayAddress
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

// childURN is the URN a child of type typ named name has under the resource whose URN is
// parent.
func childURN(parent pulumi.URNOutput, typ, name string) pulumi.URNOutput {
	return parent.ApplyT(func(u pulumi.URN) pulumi.URN {
		s := string(u)
		i := strings.LastIndex(s, "::")
		return pulumi.URN(s[:i] + "$" + typ + "::" + name)
	}).(pulumi.URNOutput)
}
