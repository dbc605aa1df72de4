// Package tlsbackend is the TLSBackend component: one TLS backend's generated certificates,
// its workload and Service (unless existing), the upstream TLS objects of its mode
// (BackendTLSPolicy, CA ConfigMap or Envoy Gateway Backend), the ReferenceGrant and the route.
// Every object waits only for what its plan entry names, so backends (and the objects within
// one) apply in parallel where Kubernetes allows it. It is a building block of UpstreamTls,
// which plans it.
package tlsbackend

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
	"github.com/upstream-tls/upstream-tls/internal/register"
)

// Token is the component's type.
const Token = "upstream-tls:index:TLSBackend"

// Args are one planned backend.
type Args struct {
	// Backend comes from the plan (an element of plan.Build(...).Envoy.Backends).
	Backend envoy.Backend
	// Deps holds every registered resource by plan key; the objects depend on what their plan
	// entries name, and are added to it.
	Deps *register.Deps
	// Gateway are the Gateway's registered certificates (gateway.Gateway.Certificates): a
	// verifying workload's client CA ConfigMap carries the gateway client certificate's CA.
	Gateway register.Certificates
}

// TLSBackend reports how the gateway reaches the backend.
type TLSBackend struct {
	pulumi.ResourceState

	// Mode is system, ca or insecure.
	Mode pulumi.StringOutput `pulumi:"mode"`
	// Verified is true when the gateway verifies the backend's certificate (derived from the
	// planned objects).
	Verified pulumi.BoolOutput `pulumi:"verified"`
	// Hostname is the SNI the gateway sends.
	Hostname pulumi.StringOutput `pulumi:"hostname"`
	// Objects lists the created Kubernetes objects as kind/namespace/name.
	Objects pulumi.StringArrayOutput `pulumi:"objects"`
	// CACertificate is the PEM of the generated CA (mode ca with ca.generate), else empty.
	CACertificate pulumi.StringOutput `pulumi:"caCertificate"`
	// Observed is what Envoy Gateway reported for the backend's route, read from the route's
	// live status after apply (envoy.Observe): state accepted, rejected or unobserved (render
	// mode, previews), and the conditions.
	Observed pulumi.MapOutput `pulumi:"observed"`
	// CertificateExpiry is the end (RFC 3339) of each certificate generated for the backend, by
	// certificate name; renewed certificates report their new end.
	CertificateExpiry pulumi.StringMapOutput `pulumi:"certificateExpiry"`
}

// New creates the planned backend.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*TLSBackend, error) {
	if args == nil || args.Backend.Name == "" || args.Deps == nil {
		return nil, fmt.Errorf("tlsbackend %q: args must come from plan.Build", name)
	}
	be := args.Backend
	c := &TLSBackend{}
	// (On a goroutine of its own, as register.Object registers: the state keeps a short stack.)
	if err := register.Shallow(func() error { return ctx.RegisterComponentResource(Token, name, c, opts...) }); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	certs, err := register.NewCertificates(ctx, be.Certificates, parent)
	if err != nil {
		return nil, fmt.Errorf("tlsbackend %q: %w", name, err)
	}
	c.CACertificate = pulumi.String("").ToStringOutput()
	ends := pulumi.StringMap{}
	for _, req := range be.Certificates {
		ends[req.Name] = certs[req.Name].NotAfter
	}
	c.CertificateExpiry = ends.ToStringMapOutput()
	for _, req := range be.Certificates {
		if req.WithCA {
			c.CACertificate = certs[req.Name].CACertPEM
		}
	}
	// The objects resolve the backend's own certificates and the Gateway's.
	all := register.Certificates{}
	for k, v := range args.Gateway {
		all[k] = v
	}
	for k, v := range certs {
		all[k] = v
	}
	var keys []string
	c.Observed = pulumi.ToMap(envoy.Observed{State: "unobserved"}.Map()).ToMapOutput()
	for _, o := range be.Objects {
		res, err := register.Object(ctx, o, args.Deps, all.Resolver(nil), parent)
		if err != nil {
			return nil, fmt.Errorf("tlsbackend %q: %w", name, err)
		}
		keys = append(keys, o.Key())
		if envoy.IsRoute(o.Resource) {
			c.Observed = res.Status.ApplyT(func(st map[string]any) map[string]any {
				return envoy.Observe(st).Map()
			}).(pulumi.MapOutput)
		}
	}
	c.Mode = pulumi.String(string(be.Mode)).ToStringOutput()
	c.Verified = pulumi.Bool(be.Verified()).ToBoolOutput()
	c.Hostname = pulumi.String(be.Hostname).ToStringOutput()
	c.Objects = pulumi.ToStringArray(keys).ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"mode": c.Mode, "verified": c.Verified, "hostname": c.Hostname, "objects": c.Objects, "caCertificate": c.CACertificate,
		"observed": c.Observed, "certificateExpiry": c.CertificateExpiry,
	}); err != nil {
		return nil, err
	}
	return c, nil
}
