// Package upstreamtls is the UpstreamTls component, the product's Go API: from one Args it plans
// the whole environment (failing before anything is registered when the input is invalid),
// then owns the Gateway API CRDs, installs Envoy Gateway (and, with eks.enabled, the AWS Load
// Balancer Controller path), creates the namespaces, the Gateway and every TLS backend, and
// reports each backend's TLS posture. Other languages get the same component through the
// upstream-tls provider and its generated SDKs.
package upstreamtls

import (
	"context"
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/eksnlb"
	"github.com/upstream-tls/upstream-tls/components/envoygateway"
	"github.com/upstream-tls/upstream-tls/components/gateway"
	"github.com/upstream-tls/upstream-tls/components/tlsbackend"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
	"github.com/upstream-tls/upstream-tls/internal/preflight"
	"github.com/upstream-tls/upstream-tls/internal/register"
)

// Token is the component's type.
const Token = "upstream-tls:index:UpstreamTls"

// UpstreamTls is gateway-to-backend (upstream) TLS for one environment: Envoy Gateway with the
// Gateway API CRDs, one Gateway, and every backend with its route and its upstream TLS
// (BackendTLSPolicy with the system CAs or a custom CA, or an Envoy Gateway Backend that skips
// verification); optionally the AWS Load Balancer Controller NLB path on EKS. Invalid input is
// refused at preview, naming the field and the fix, before anything is registered.
type UpstreamTls struct {
	pulumi.ResourceState

	// Backends reports every backend: name, mode, verified, effective (the upstream TLS the
	// gateway uses, derived from the created objects), hostname, clientCertificate and objects.
	Backends pulumi.MapArrayOutput `pulumi:"backends"`
	// Posture is a table with one line per backend: mode, verified, hostname.
	Posture pulumi.StringOutput `pulumi:"posture"`
	// ObservedPosture is the table of what the plan derived next to what Envoy Gateway reported
	// for each backend's route after apply (accepted, rejected, unobserved), with MISMATCH where
	// a backend reached over TLS has a rejected route. Unknown during previews.
	ObservedPosture pulumi.StringOutput `pulumi:"observedPosture"`
	// CertificateExpiry is the end (RFC 3339) of every certificate generated for a backend or
	// the Gateway, by certificate name (backend-<name>, client-<name>, listener-<name>,
	// gateway-client); `pulumi up` renews each within certificates.renewBeforeDays of its end.
	CertificateExpiry pulumi.StringMapOutput `pulumi:"certificateExpiry"`
	// GatewayName is the name of the Gateway.
	GatewayName pulumi.StringOutput `pulumi:"gatewayName"`
	// GatewayNamespace is the namespace of the Gateway and the routes.
	GatewayNamespace pulumi.StringOutput `pulumi:"gatewayNamespace"`
	// BackendAPIEnabled reports whether Envoy Gateway's Backend API is on.
	BackendAPIEnabled pulumi.BoolOutput `pulumi:"backendApiEnabled"`
	// NLBTargets reports, when the EKS path is on, every NLB target: listener, target group
	// protocol and what the NLB-to-pod hop guarantees (encrypted, never verified). Empty otherwise.
	NLBTargets pulumi.MapArrayOutput `pulumi:"nlbTargets"`
	// NLBAddress is the NLB's DNS name once LBC has provisioned it; empty otherwise.
	NLBAddress pulumi.StringOutput `pulumi:"nlbAddress"`
}

// New validates args, then registers the component and its children. On invalid input it
// returns the plan's *core.ValidationError (every problem with its field and fix) and
// registers nothing.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*UpstreamTls, error) {
	if args == nil {
		args = &Args{}
	}
	p, err := plan.Build(*args)
	if err != nil {
		return nil, err
	}
	if err := readCluster(ctx, p); err != nil {
		return nil, err
	}
	return apply(ctx, name, p, opts...)
}

// readCluster runs the preflight reads (args.preflight) against the cluster the stack deploys
// to, before anything is registered: at preview as at update. Their problems refuse the input
// like the plan's own (a *core.ValidationError); their warnings join the plan's.
func readCluster(ctx *pulumi.Context, p *plan.Plan) error {
	c, warnings := preflight.Open(p.Args.Preflight)
	p.Warnings = append(p.Warnings, warnings...)
	if c == nil {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx.Context(), PreflightTimeout)
	defer cancel()
	r := preflight.Check(rctx, c, p)
	if r.Err != nil {
		return r.Err
	}
	p.Warnings = append(p.Warnings, r.Warnings...)
	// What the update does to each backend's upstream TLS, in plain words, derived from the
	// live objects: a downgrade is a warning, anything else information.
	changes, err := preflight.PostureChanges(rctx, c, p)
	if err != nil {
		p.Warnings = append(p.Warnings, fmt.Sprintf("preflight: the posture comparison with the cluster was skipped: %v", err))
		return nil
	}
	for _, ch := range changes {
		if ch.Downgrade() {
			_ = ctx.Log.Warn(PostureChangePrefix+ch.String(), nil)
		} else {
			_ = ctx.Log.Info(PostureChangePrefix+ch.String(), nil)
		}
	}
	return nil
}

// PostureChangePrefix starts every message that reports a backend's posture change.
const PostureChangePrefix = "posture change: "

// PreflightTimeout bounds the preflight reads; a cluster slower than that is skipped with a
// warning.
const PreflightTimeout = 30 * time.Second

// apply registers the component and its children for a plan made by plan.Build: the wiring of
// every planned fact (names, owners, dependencies, computed values), deciding none.
func apply(ctx *pulumi.Context, name string, p *plan.Plan, opts ...pulumi.ResourceOption) (*UpstreamTls, error) {
	c := &UpstreamTls{}
	if err := ctx.RegisterComponentResource(Token, name, c, opts...); err != nil {
		return nil, err
	}
	for _, w := range p.Warnings {
		_ = ctx.Log.Warn(w, &pulumi.LogArgs{Resource: c})
	}
	parent := pulumi.Parent(c)
	wrap := func(err error) error { return fmt.Errorf("upstreamtls %q: %w", name, err) }
	deps := register.NewDeps()

	for _, ns := range p.Namespaces {
		if _, err := register.Object(ctx, ns, deps, nil, parent); err != nil {
			return nil, wrap(err)
		}
	}
	eg, err := envoygateway.New(ctx, name+"-envoy-gateway", parent)
	if err != nil {
		return nil, err
	}
	// The Gateway API CRDs: owned here whichever paths are on. Earlier versions kept them under
	// the Envoy Gateway component; the alias carries such stacks over without replacing them.
	if p.GatewayAPICRDs != nil {
		var aliases []pulumi.Alias
		for _, former := range p.GatewayAPICRDsFormerParents {
			if former == plan.FormerParentEnvoyGateway {
				aliases = append(aliases, pulumi.Alias{Parent: eg})
			}
		}
		crds, err := register.CRDs(ctx, CRDsName(name), p.GatewayAPICRDs, parent, pulumi.Aliases(aliases))
		if err != nil {
			return nil, wrap(err)
		}
		deps.Add(core.StepGatewayAPICRDs, crds)
	}
	var nlb *eksnlb.EksNlb
	if p.EKS != nil {
		if nlb, err = eksnlb.New(ctx, name+"-eks", &eksnlb.Args{EKS: p.EKS, Deps: deps}, parent); err != nil {
			return nil, err
		}
	}
	if err := eg.Install(ctx, &envoygateway.Args{Install: p.Envoy.Install, Deps: deps}); err != nil {
		return nil, err
	}
	gw, err := gateway.New(ctx, name+"-gateway", &gateway.Args{Gateway: p.Envoy.Gateway, Deps: deps}, parent)
	if err != nil {
		return nil, err
	}
	var statuses pulumi.MapArray
	var observed, expiries []any
	for _, b := range p.Envoy.Backends {
		tb, err := tlsbackend.New(ctx, name+"-"+b.Name, &tlsbackend.Args{Backend: b, Deps: deps, Gateway: gw.Certificates}, parent)
		if err != nil {
			return nil, err
		}
		observed = append(observed, tb.Observed)
		expiries = append(expiries, tb.CertificateExpiry)
		statuses = append(statuses, pulumi.Map{
			"name":              pulumi.String(b.Name),
			"mode":              pulumi.String(string(b.Mode)),
			"verified":          pulumi.Bool(b.Verified()),
			"effective":         pulumi.String(string(b.Posture.Effective)),
			"hostname":          pulumi.String(b.Hostname),
			"clientCertificate": pulumi.String(b.ClientCertificate),
			"tlsParameters":     pulumi.String(b.Posture.Parameters.String()),
			"objects":           pulumi.ToStringArray(core.Keys(b.Objects)),
			"observed":          tb.Observed,
		})
	}
	backends := p.Envoy.Backends
	c.ObservedPosture = pulumi.All(observed...).ApplyT(func(obs []any) string {
		byName := map[string]envoy.Observed{}
		for i, o := range obs {
			m, _ := o.(map[string]any)
			state, _ := m["state"].(string)
			var conds []string
			for _, c := range asList(m["conditions"]) {
				if s, ok := c.(string); ok {
					conds = append(conds, s)
				}
			}
			byName[backends[i].Name] = envoy.Observed{State: state, Conditions: conds}
		}
		return envoy.ObservedPosture(backends, byName)
	}).(pulumi.StringOutput)
	c.NLBTargets = pulumi.MapArray{}.ToMapArrayOutput()
	c.NLBAddress = pulumi.String("").ToStringOutput()
	if nlb != nil {
		c.NLBTargets = nlb.Targets
		c.NLBAddress = nlb.GatewayAddress
	}
	c.Backends = statuses.ToMapArrayOutput()
	gwEnds := pulumi.StringMap{}
	for _, req := range p.Envoy.Gateway.Certificates {
		gwEnds[req.Name] = gw.Certificates[req.Name].NotAfter
	}
	expiries = append(expiries, gwEnds.ToStringMapOutput())
	// The posture's CERTIFICATES column counts the days left from the generated certificates'
	// real ends (a renewal shows at once).
	c.CertificateExpiry = pulumi.All(expiries...).ApplyT(func(all []any) map[string]string {
		out := map[string]string{}
		for _, m := range all {
			for k, v := range m.(map[string]string) {
				out[k] = v
			}
		}
		return out
	}).(pulumi.StringMapOutput)
	c.Posture = c.CertificateExpiry.ApplyT(func(m map[string]string) string {
		ends := map[string]time.Time{}
		for k, v := range m {
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				ends[k] = t
			}
		}
		return p.PostureAt(ends)
	}).(pulumi.StringOutput)
	c.GatewayName = gw.Name
	c.GatewayNamespace = gw.Namespace
	c.BackendAPIEnabled = eg.BackendAPIEnabled
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"backends": c.Backends, "posture": c.Posture, "certificateExpiry": c.CertificateExpiry, "observedPosture": c.ObservedPosture, "gatewayName": c.GatewayName,
		"gatewayNamespace": c.GatewayNamespace, "backendApiEnabled": c.BackendAPIEnabled,
		"nlbTargets": c.NLBTargets, "nlbAddress": c.NLBAddress,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// CRDsName is the resource name of the Gateway API CRD bundle of the component named name (the
// name it has had in every version, under whichever parent).
func CRDsName(name string) string { return name + "-envoy-gateway-gateway-api-crds" }

// asList is v as a list ([]any or []string), else nil.
func asList(v any) []any {
	switch l := v.(type) {
	case []any:
		return l
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out
	}
	return nil
}
