// Package tlsbackend creates one TLS backend: its generated certificates, the workload and
// Service (unless existing), the upstream TLS objects of its mode (BackendTLSPolicy, CA
// ConfigMap or Envoy Gateway Backend), the ReferenceGrant and the route.
package tlsbackend

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/certificate"
	"github.com/upstream-tls/upstream-tls/components/kubeobject"
	"github.com/upstream-tls/upstream-tls/components/plan"
)

// Token is the component's type.
const Token = "upstream-tls:index:TLSBackend"

// Args are one planned backend (an element of plan.Build(...).Backends).
type Args struct {
	Backend plan.Backend
	// DependsOn are what the objects need first: their namespace, the CRDs, the controllers.
	// (Pulumi does not pass a component's dependsOn to its children, so it goes here.)
	DependsOn []pulumi.Resource
}

// TLSBackend reports how the gateway reaches the backend.
type TLSBackend struct {
	pulumi.ResourceState

	// Mode is system, ca or insecure.
	Mode pulumi.StringOutput `pulumi:"mode"`
	// Verified is true when the gateway verifies the backend's certificate.
	Verified pulumi.BoolOutput `pulumi:"verified"`
	// Hostname is the SNI the gateway sends.
	Hostname pulumi.StringOutput `pulumi:"hostname"`
	// Objects lists the created Kubernetes objects as kind/namespace/name.
	Objects pulumi.StringArrayOutput `pulumi:"objects"`
	// CACertificate is the PEM of the generated CA (mode ca with ca.generate), else empty.
	CACertificate pulumi.StringOutput `pulumi:"caCertificate"`
}

// New creates the planned backend.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*TLSBackend, error) {
	if args == nil || args.Backend.Name == "" {
		return nil, fmt.Errorf("tlsbackend %q: args.Backend must come from plan.Build", name)
	}
	be := args.Backend
	c := &TLSBackend{}
	if err := ctx.RegisterComponentResource(Token, name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	certs, err := certificate.NewSet(ctx, be.Certificates, parent)
	if err != nil {
		return nil, fmt.Errorf("tlsbackend %q: %w", name, err)
	}
	c.CACertificate = pulumi.String("").ToStringOutput()
	for _, req := range be.Certificates {
		if req.WithCA {
			c.CACertificate = certs[req.Name].CACertPEM
		}
	}
	var keys []string
	prev := args.DependsOn
	for _, o := range be.Objects {
		// Objects are applied in plan order: Secret before Deployment, ConfigMap before policy,
		// ReferenceGrant before route.
		res, err := kubeobject.Register(ctx, o, certs, parent, pulumi.DependsOn(prev))
		if err != nil {
			return nil, fmt.Errorf("tlsbackend %q: %w", name, err)
		}
		prev = append(append([]pulumi.Resource(nil), args.DependsOn...), res)
		keys = append(keys, plan.ObjectKey(o))
	}
	c.Mode = pulumi.String(string(be.Mode)).ToStringOutput()
	c.Verified = pulumi.Bool(be.Verified).ToBoolOutput()
	c.Hostname = pulumi.String(be.Hostname).ToStringOutput()
	c.Objects = pulumi.ToStringArray(keys).ToStringArrayOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"mode": c.Mode, "verified": c.Verified, "hostname": c.Hostname, "objects": c.Objects, "caCertificate": c.CACertificate,
	}); err != nil {
		return nil, err
	}
	return c, nil
}
