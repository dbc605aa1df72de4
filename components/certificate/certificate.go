// Package certificate is the Go client of the CertificateBundle resource that the upstream-tls
// provider (provider/) serves: it generates a serving certificate (optionally with its own CA)
// once, keeps it in the stack state with the private key as a secret, and returns the same
// material on every later run, so a second `pulumi up` changes nothing.
package certificate

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/plan"
)

// Token is the resource type served by the upstream-tls provider.
const Token = "upstream-tls:index:CertificateBundle"

// Output property names of a CertificateBundle.
const (
	OutCACertPEM = "caCertPem"
	OutCertPEM   = "certPem"
	OutKeyPEM    = "keyPem"
)

// Bundle is a generated certificate, its key and its CA.
type Bundle struct {
	pulumi.CustomResourceState

	// CommonName of the leaf.
	CommonName pulumi.StringOutput `pulumi:"commonName"`
	// DNSNames of the leaf.
	DNSNames pulumi.StringArrayOutput `pulumi:"dnsNames"`
	// WithCA is true when the leaf was issued by a generated CA.
	WithCA pulumi.BoolOutput `pulumi:"withCa"`
	// CACertPEM is the CA certificate that verifies CertPEM (the leaf itself when self-signed).
	CACertPEM pulumi.StringOutput `pulumi:"caCertPem"`
	// CertPEM is the leaf certificate.
	CertPEM pulumi.StringOutput `pulumi:"certPem"`
	// KeyPEM is the leaf's private key; always a secret.
	KeyPEM pulumi.StringOutput `pulumi:"keyPem"`
}

// New registers the certificate requested by the plan. Changing any input replaces the bundle.
func New(ctx *pulumi.Context, name string, req plan.Certificate, opts ...pulumi.ResourceOption) (*Bundle, error) {
	var b Bundle
	props := pulumi.Map{
		"commonName": pulumi.String(req.CommonName),
		"dnsNames":   pulumi.ToStringArray(req.DNSNames),
		"withCa":     pulumi.Bool(req.WithCA),
	}
	opts = append(opts,
		pulumi.AdditionalSecretOutputs([]string{OutKeyPEM}),
		pulumi.ReplaceOnChanges([]string{"commonName", "dnsNames", "withCa"}),
	)
	if err := ctx.RegisterResource(Token, name, props, &b, opts...); err != nil {
		return nil, err
	}
	return &b, nil
}

// Field returns the output named by a plan.Computed field (plan.FieldCACert, FieldCert,
// FieldKey); the key is returned as a secret.
func (b *Bundle) Field(field string) (pulumi.StringOutput, bool) {
	switch field {
	case plan.FieldCACert:
		return b.CACertPEM, true
	case plan.FieldCert:
		return b.CertPEM, true
	case plan.FieldKey:
		return pulumi.ToSecret(b.KeyPEM).(pulumi.StringOutput), true
	}
	return pulumi.StringOutput{}, false
}

// Set maps plan certificate names to their registered bundles.
type Set map[string]*Bundle

// NewSet registers every requested certificate, named after the request.
func NewSet(ctx *pulumi.Context, reqs []plan.Certificate, opts ...pulumi.ResourceOption) (Set, error) {
	set := Set{}
	for _, req := range reqs {
		b, err := New(ctx, req.Name, req, opts...)
		if err != nil {
			return nil, fmt.Errorf("certificate %s: %w", req.Name, err)
		}
		set[req.Name] = b
	}
	return set, nil
}
