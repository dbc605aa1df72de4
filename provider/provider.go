// Package provider builds the upstream-tls provider with pulumi-go-provider's infer package.
package provider

import (
	"context"
	"fmt"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/pki"
	"github.com/upstream-tls/upstream-tls/components/plan"
	"github.com/upstream-tls/upstream-tls/components/upstreamtls"
)

// Name is the package name: type tokens are upstream-tls:index:<Type>.
const Name = "upstream-tls"

// New returns the provider serving CertificateBundle and the UpstreamTls component.
func New() (p.Provider, error) {
	return infer.NewProviderBuilder().
		WithNamespace("upstream-tls").
		WithDisplayName("upstream-tls").
		WithDescription("Gateway-to-backend (upstream) TLS on Envoy Gateway: BackendTLSPolicy with system or custom CAs, or an Envoy Gateway Backend for self-signed backends; on EKS, an AWS Load Balancer Controller NLB that speaks TLS to the pods.").
		WithModuleMap(map[tokens.ModuleName]tokens.ModuleName{"provider": "index", "upstreamtls": "index", "plan": "index"}).
		WithResources(infer.Resource(&CertificateBundle{})).
		WithComponents(infer.ComponentF(newUpstreamTls)).
		Build()
}

func newUpstreamTls(ctx *pulumi.Context, name string, args plan.Args, opts ...pulumi.ResourceOption) (*upstreamtls.UpstreamTls, error) {
	return upstreamtls.New(ctx, name, &args, opts...)
}

// CertificateBundle generates a certificate for DNS names, self-signed or issued by a CA it
// generates too.
type CertificateBundle struct{}

// CertificateBundleArgs are the inputs; any change replaces the bundle.
type CertificateBundleArgs struct {
	CommonName string   `pulumi:"commonName" provider:"replaceOnChanges"`
	DNSNames   []string `pulumi:"dnsNames" provider:"replaceOnChanges"`
	WithCA     bool     `pulumi:"withCa,optional" provider:"replaceOnChanges"`
}

// CertificateBundleState is the generated material.
type CertificateBundleState struct {
	CertificateBundleArgs
	CACertPEM string `pulumi:"caCertPem"`
	CertPEM   string `pulumi:"certPem"`
	KeyPEM    string `pulumi:"keyPem" provider:"secret"`
	NotAfter  string `pulumi:"notAfter"`
}

// Annotate documents the resource in the schema and every SDK.
func (c *CertificateBundle) Annotate(a infer.Annotator) {
	a.Describe(&c, "A generated TLS serving certificate and key, optionally issued by a generated CA. Generated once; the key is kept as a secret in the stack state.")
}

// Annotate documents the inputs.
func (a *CertificateBundleArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.CommonName, "Common name of the leaf certificate.")
	an.Describe(&a.DNSNames, "DNS subject alternative names of the leaf; the first is the name the gateway verifies.")
	an.Describe(&a.WithCA, "Issue the leaf from a generated CA (returned as caCertPem) instead of self-signing it.")
}

// Annotate documents the outputs.
func (s *CertificateBundleState) Annotate(an infer.Annotator) {
	an.Describe(&s.CACertPEM, "PEM of the CA that verifies certPem (the leaf itself when self-signed).")
	an.Describe(&s.CertPEM, "PEM of the leaf certificate.")
	an.Describe(&s.KeyPEM, "PEM (PKCS#8) of the leaf's private key. Secret.")
	an.Describe(&s.NotAfter, "Expiry of the certificates, RFC 3339.")
}

// Create generates the bundle (nothing during preview: the outputs are unknown then).
func (*CertificateBundle) Create(ctx context.Context, req infer.CreateRequest[CertificateBundleArgs]) (infer.CreateResponse[CertificateBundleState], error) {
	in := req.Inputs
	state := CertificateBundleState{CertificateBundleArgs: in}
	if req.DryRun {
		return infer.CreateResponse[CertificateBundleState]{ID: req.Name, Output: state}, nil
	}
	now := time.Now()
	b, err := pki.Generate(pki.Request{CommonName: in.CommonName, DNSNames: in.DNSNames, WithCA: in.WithCA}, now)
	if err != nil {
		return infer.CreateResponse[CertificateBundleState]{}, fmt.Errorf("certificate %s: %w", req.Name, err)
	}
	state.CACertPEM, state.CertPEM, state.KeyPEM = b.CACertPEM, b.CertPEM, b.KeyPEM
	state.NotAfter = now.Add(365 * 24 * time.Hour).UTC().Format(time.RFC3339)
	return infer.CreateResponse[CertificateBundleState]{ID: req.Name, Output: state}, nil
}
