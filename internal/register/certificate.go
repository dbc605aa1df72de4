package register

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
)

// CertificateToken is the type of the generated-certificate resource the upstream-tls provider
// (provider/) serves: it generates a certificate (optionally with its own CA) once, keeps it in
// the stack state with the private keys as secrets, and returns the same material on every
// later run, so a second `pulumi up` changes nothing, until a certificate is inside its renewal
// window (provider/lifecycle.go): then an update re-issues it in place. This is its Pulumi client; the crypto is
// internal/pki.
const CertificateToken = "upstream-tls:index:CertificateBundle"

// Output property names of a CertificateBundle.
const (
	OutCACertPEM = "caCertPem"
	OutCertPEM   = "certPem"
	OutKeyPEM    = "keyPem"
	OutCAKeyPEM  = "caKeyPem"
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
	// NotAfter is the end of the leaf's validity, RFC 3339.
	NotAfter pulumi.StringOutput `pulumi:"notAfter"`
}

// Certificate registers the certificate requested by the plan, named after the request.
// Changing any input replaces the bundle. A server certificate sends no usage input, which
// keeps the inputs of bundles created before usages existed unchanged.
func Certificate(ctx *pulumi.Context, req core.Certificate, opts ...pulumi.ResourceOption) (*Bundle, error) {
	var b Bundle
	props := pulumi.Map{
		"commonName": pulumi.String(req.CommonName),
		"dnsNames":   pulumi.ToStringArray(req.DNSNames),
		"withCa":     pulumi.Bool(req.WithCA),
	}
	replaceOn := []string{"commonName", "dnsNames", "withCa"}
	if req.Usage != "" && req.Usage != core.UsageServer {
		props["usage"] = pulumi.String(string(req.Usage))
		replaceOn = append(replaceOn, "usage")
	}
	// The lifecycle goes only where it differs from the defaults (the plan leaves those 0).
	for k, v := range map[string]int{"validityDays": req.ValidityDays, "caValidityDays": req.CAValidityDays, "renewBeforeDays": req.RenewBeforeDays} {
		if v != 0 {
			props[k] = pulumi.Int(v)
		}
	}
	opts = append(opts,
		pulumi.AdditionalSecretOutputs([]string{OutKeyPEM, OutCAKeyPEM}),
		pulumi.ReplaceOnChanges(replaceOn),
	)
	if err := Shallow(func() error { return ctx.RegisterResource(CertificateToken, req.Name, props, &b, opts...) }); err != nil {
		return nil, err
	}
	return &b, nil
}

// Field returns the output a certificate Ref's field names (core.FieldCACert, FieldCert,
// FieldKey); the key is returned as a secret.
func (b *Bundle) Field(field string) (pulumi.StringOutput, bool) {
	switch field {
	case core.FieldCACert:
		return b.CACertPEM, true
	case core.FieldCert:
		return b.CertPEM, true
	case core.FieldKey:
		return pulumi.ToSecret(b.KeyPEM).(pulumi.StringOutput), true
	}
	return pulumi.StringOutput{}, false
}

// Certificates maps plan certificate names to their registered bundles.
type Certificates map[string]*Bundle

// NewCertificates registers every requested certificate.
func NewCertificates(ctx *pulumi.Context, reqs []core.Certificate, opts ...pulumi.ResourceOption) (Certificates, error) {
	set := Certificates{}
	for _, req := range reqs {
		b, err := Certificate(ctx, req, opts...)
		if err != nil {
			return nil, fmt.Errorf("certificate %s: %w", req.Name, err)
		}
		set[req.Name] = b
	}
	return set, nil
}

// Resolver resolves certificate Refs from the set, and others from extra (by Ref), for
// example the IAM role ARN.
func (s Certificates) Resolver(extra map[core.Ref]pulumi.Input) Resolver {
	return func(ref core.Ref) (pulumi.Input, error) {
		if in, ok := extra[ref]; ok {
			return in, nil
		}
		if ref.Source != core.SourceCertificate {
			return nil, fmt.Errorf("%s is not resolved here", ref)
		}
		b, ok := s[ref.Name]
		if !ok {
			return nil, fmt.Errorf("%s names certificate %q, which was not registered", ref, ref.Name)
		}
		out, ok := b.Field(ref.Field)
		if !ok {
			return nil, fmt.Errorf("%s names unknown field %q", ref, ref.Field)
		}
		return out, nil
	}
}
