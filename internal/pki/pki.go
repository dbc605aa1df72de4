// Package pki is the crypto of upstream-tls: it parses and checks CA bundles given as input, and
// generates the CA, serving and client certificates the component creates. It is pure Go
// (crypto/x509) with no Pulumi dependency, so the plan, the CertificateBundle provider and the
// tests share one implementation. (The Pulumi client of the provider's CertificateBundle is
// internal/register.)
package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// ParseCABundle parses PEM text holding one or more CA certificates and returns them with the
// normalised PEM (certificates only, in input order). It rejects empty input, text that is not
// PEM, private keys, certificates that do not parse and certificates that are not CAs; every
// error says which block is wrong.
func ParseCABundle(text string) ([]*x509.Certificate, string, error) {
	rest := []byte(strings.TrimSpace(text))
	if len(rest) == 0 {
		return nil, "", errors.New("is empty")
	}
	var certs []*x509.Certificate
	var out bytes.Buffer
	for i := 1; len(bytes.TrimSpace(rest)) > 0; i++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if i == 1 {
				return nil, "", errors.New("is not PEM: expected text starting with -----BEGIN CERTIFICATE-----")
			}
			return nil, "", fmt.Errorf("has trailing text after PEM block %d that is not PEM", i-1)
		}
		if strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, "", fmt.Errorf("block %d is a %s: never put private keys in a CA bundle", i, block.Type)
		}
		if block.Type != "CERTIFICATE" {
			return nil, "", fmt.Errorf("block %d has type %q, want CERTIFICATE", i, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, "", fmt.Errorf("block %d is not a valid X.509 certificate: %w", i, err)
		}
		if !cert.IsCA {
			return nil, "", fmt.Errorf("certificate %d (subject %q) is not a CA (basicConstraints CA:FALSE): give the certificate of the CA that issued the backend's certificate, not the backend's own", i, cert.Subject.String())
		}
		certs = append(certs, cert)
		if err := pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes}); err != nil {
			return nil, "", fmt.Errorf("encode block %d: %w", i, err)
		}
	}
	return certs, out.String(), nil
}

// CheckCA refuses CA certificates that can never verify a backend served as hostname at time
// now: one that is expired or not yet valid, one whose key usage does not include certificate
// signing, or one whose name constraints exclude hostname. The error names the certificate by
// its position in the bundle (1-based) and subject.
func CheckCA(certs []*x509.Certificate, hostname string, now time.Time) error {
	for i, c := range certs {
		who := fmt.Sprintf("certificate %d (subject %q)", i+1, c.Subject.String())
		switch {
		case now.After(c.NotAfter):
			return fmt.Errorf("%s expired on %s: every handshake verified against it fails", who, c.NotAfter.UTC().Format(time.RFC3339))
		case now.Before(c.NotBefore):
			return fmt.Errorf("%s is not valid before %s: every handshake verified against it fails until then", who, c.NotBefore.UTC().Format(time.RFC3339))
		case c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0:
			return fmt.Errorf("%s has a key usage without certificate signing (keyCertSign), so no certificate it issued verifies", who)
		}
		if hostname != "" && !permits(c, hostname) {
			return fmt.Errorf("%s has name constraints that exclude %q, so a certificate for that name issued under it never verifies", who, hostname)
		}
	}
	return nil
}

// permits reports whether c's DNS name constraints allow name (RFC 5280: a permitted subtree
// list, if any, must contain the name; no excluded subtree may).
func permits(c *x509.Certificate, name string) bool {
	match := func(constraint string) bool {
		constraint = strings.TrimPrefix(strings.ToLower(constraint), ".")
		return name == constraint || strings.HasSuffix(name, "."+constraint)
	}
	for _, ex := range c.ExcludedDNSDomains {
		if match(ex) {
			return false
		}
	}
	if len(c.PermittedDNSDomains) == 0 {
		return true
	}
	for _, ok := range c.PermittedDNSDomains {
		if match(ok) {
			return true
		}
	}
	return false
}

// Usage is what a generated leaf is for.
type Usage string

const (
	// UsageServer is a TLS server certificate (extended key usage serverAuth). The default.
	UsageServer Usage = "server"
	// UsageClient is a TLS client certificate (extended key usage clientAuth).
	UsageClient Usage = "client"
)

// ClockEnv names the environment variable (an RFC 3339 time) that replaces the clock of the
// CertificateBundle provider, so that tests drive renewals through the real engine without
// waiting for them. Only tests set it.
const ClockEnv = "UPSTREAM_TLS_TEST_CLOCK"

// DefaultValidity is the validity of a generated leaf certificate when Request.ValidFor is zero.
const DefaultValidity = DefaultValidityDays * 24 * time.Hour

// DefaultCAValidity is the validity of a generated CA when Request.CAValidFor is zero: five
// leaf lifetimes, so that a CA rollover (see provider/lifecycle.go) is rare.
const DefaultCAValidity = DefaultCAValidityDays * 24 * time.Hour

// Request describes a certificate to generate.
type Request struct {
	// CommonName of the leaf certificate.
	CommonName string
	// DNSNames are the leaf's DNS subject alternative names; the first is the policy hostname.
	DNSNames []string
	// WithCA issues the leaf from a freshly generated CA (returned as CACertPEM). When false the
	// leaf is self-signed and CACertPEM is the leaf itself.
	WithCA bool
	// ValidFor is the validity of the leaf. Zero means DefaultValidity.
	ValidFor time.Duration
	// CAValidFor is the validity of the generated CA. Zero means DefaultCAValidity.
	CAValidFor time.Duration
	// Usage of the leaf; empty means UsageServer.
	Usage Usage
}

// Bundle is a generated certificate and its key, in PEM.
type Bundle struct {
	// CACertPEM is the issuing CA (or the self-signed leaf when Request.WithCA is false).
	CACertPEM string
	// CAKeyPEM is the issuing CA's private key (PKCS#8), "" for a self-signed leaf. Secret.
	CAKeyPEM string
	// CertPEM is the leaf certificate.
	CertPEM string
	// KeyPEM is the leaf's private key (PKCS#8). Secret.
	KeyPEM string
	// NotAfter is the end of the validity of the leaf.
	NotAfter time.Time
	// CANotAfter is the end of the validity of the CA (the leaf's own when self-signed).
	CANotAfter time.Time
}

// CA is a CA that can issue leaves: its certificate and key.
type CA struct {
	// CertPEM and KeyPEM (PKCS#8; secret) of the CA.
	CertPEM, KeyPEM string
	// NotAfter is the end of the CA's validity; no leaf it issues outlives it.
	NotAfter time.Time

	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA generates a CA named commonName with an ECDSA P-256 key, valid from five minutes
// before now for validFor (DefaultCAValidity when zero); it issues leaves only (path length 0).
func NewCA(commonName string, now time.Time, validFor time.Duration) (*CA, error) {
	if validFor == 0 {
		validFor = DefaultCAValidity
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	notBefore := now.Add(-5 * time.Minute).UTC()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"upstream-tls"}},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(validFor),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sign CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal CA key: %w", err)
	}
	return &CA{CertPEM: encode("CERTIFICATE", der), KeyPEM: encode("PRIVATE KEY", keyDER), NotAfter: cert.NotAfter, cert: cert, key: key}, nil
}

// ParseCA reads a CA generated by NewCA back from its PEM.
func ParseCA(certPEM, keyPEM string) (*CA, error) {
	cb, _ := pem.Decode([]byte(certPEM))
	kb, _ := pem.Decode([]byte(keyPEM))
	if cb == nil || kb == nil {
		return nil, errors.New("parse CA: not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse CA: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse CA key: %w", err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("parse CA: the key is not the certificate's")
	}
	return &CA{CertPEM: certPEM, KeyPEM: keyPEM, NotAfter: cert.NotAfter, cert: cert, key: key}, nil
}

// Generate creates a bundle for req with ECDSA P-256 keys: a new CA and a leaf it issues
// (WithCA), or a self-signed leaf.
func Generate(req Request, now time.Time) (*Bundle, error) {
	if !req.WithCA {
		return Issue(req, nil, now)
	}
	if len(req.DNSNames) == 0 {
		return nil, errors.New("generate certificate: at least one DNS name is required")
	}
	ca, err := NewCA(req.CommonName+" CA", now, req.CAValidFor)
	if err != nil {
		return nil, err
	}
	return Issue(req, ca, now)
}

// Issue creates a leaf for req (its WithCA is ignored) issued by ca, or self-signed when ca is
// nil, valid from five minutes before now for req.ValidFor (DefaultValidity when zero) and
// never past the CA's own end.
func Issue(req Request, ca *CA, now time.Time) (*Bundle, error) {
	if len(req.DNSNames) == 0 {
		return nil, errors.New("generate certificate: at least one DNS name is required")
	}
	validFor := req.ValidFor
	if validFor == 0 {
		validFor = DefaultValidity
	}
	extUsage := x509.ExtKeyUsageServerAuth
	switch req.Usage {
	case "", UsageServer:
	case UsageClient:
		extUsage = x509.ExtKeyUsageClientAuth
	default:
		return nil, fmt.Errorf("generate certificate: unknown usage %q", req.Usage)
	}
	notBefore := now.Add(-5 * time.Minute).UTC()
	notAfter := notBefore.Add(validFor)
	if ca != nil && notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate leaf key: %w", err)
	}
	leaf := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: req.CommonName, Organization: []string{"upstream-tls"}},
		DNSNames:              req.DNSNames,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{extUsage},
		BasicConstraintsValid: true,
	}
	var issuer *x509.Certificate = leaf
	var issuerKey *ecdsa.PrivateKey = leafKey
	if ca != nil {
		issuer, issuerKey = ca.cert, ca.key
	} else {
		// A self-signed leaf must be usable as its own trust anchor.
		leaf.KeyUsage |= x509.KeyUsageCertSign
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, issuer, &leafKey.PublicKey, issuerKey)
	if err != nil {
		return nil, fmt.Errorf("sign leaf certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return nil, fmt.Errorf("marshal leaf key: %w", err)
	}
	b := &Bundle{
		CertPEM:    encode("CERTIFICATE", leafDER),
		KeyPEM:     encode("PRIVATE KEY", keyDER),
		NotAfter:   notAfter,
		CANotAfter: notAfter,
	}
	if ca != nil {
		b.CACertPEM, b.CAKeyPEM, b.CANotAfter = ca.CertPEM, ca.KeyPEM, ca.NotAfter
	} else {
		b.CACertPEM = b.CertPEM
	}
	return b, nil
}

// IssuedBy reports whether the certificate certPEM is signed by the certificate caPEM (the
// first certificate of each).
func IssuedBy(certPEM, caPEM string) bool {
	cb, _ := pem.Decode([]byte(certPEM))
	ab, _ := pem.Decode([]byte(caPEM))
	if cb == nil || ab == nil {
		return false
	}
	c, err1 := x509.ParseCertificate(cb.Bytes)
	a, err2 := x509.ParseCertificate(ab.Bytes)
	return err1 == nil && err2 == nil && c.CheckSignatureFrom(a) == nil
}

// NotAfter is the end of the validity of the first certificate in the PEM text.
func NotAfter(certPEM string) (time.Time, error) {
	b, _ := pem.Decode([]byte(certPEM))
	if b == nil {
		return time.Time{}, errors.New("not PEM")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return time.Time{}, err
	}
	return c.NotAfter, nil
}

// Verify checks that certPEM chains to caPEM and is valid for hostname at time now.
func Verify(caPEM, certPEM, hostname string, now time.Time) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(caPEM)) {
		return errors.New("verify: CA PEM holds no certificate")
	}
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil {
		return errors.New("verify: certificate is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("verify: parse certificate: %w", err)
	}
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: hostname, CurrentTime: now})
	if err != nil {
		return fmt.Errorf("verify %q: %w", hostname, err)
	}
	return nil
}

func encode(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ crashes instead).
		panic(err)
	}
	return n
}

// The lifecycle defaults of generated certificates, in days (the CertificateBundle provider's
// and the component's).
const (
	DefaultValidityDays    = 365
	DefaultCAValidityDays  = 5 * 365
	DefaultRenewBeforeDays = 30
)

// Lifetimes is a certificate lifecycle in days; 0 means the default.
type Lifetimes struct {
	ValidityDays, CAValidityDays, RenewBeforeDays int
}

// Resolved returns l with every unset value its default.
func (l Lifetimes) Resolved() Lifetimes {
	if l.ValidityDays == 0 {
		l.ValidityDays = DefaultValidityDays
	}
	if l.CAValidityDays == 0 {
		l.CAValidityDays = DefaultCAValidityDays
	}
	if l.RenewBeforeDays == 0 {
		l.RenewBeforeDays = DefaultRenewBeforeDays
	}
	return l
}

// LifetimeProblem is a lifecycle that cannot work: the field (validityDays, caValidityDays or
// renewBeforeDays), what is wrong and the fix.
type LifetimeProblem struct {
	Field, Problem, Fix string
}

// Check returns what is wrong with l (resolved): a negative lifetime, a renewal window not
// shorter than the validity (every run would re-issue), a CA shorter than its leaves, or, with
// a CA, a CA not longer than twice the window (a rollover takes three runs inside it).
func (l Lifetimes) Check(withCA bool) []LifetimeProblem {
	if l.ValidityDays < 0 || l.CAValidityDays < 0 || l.RenewBeforeDays < 0 {
		return []LifetimeProblem{{"", "a lifetime is negative", "give days as positive numbers, or leave them unset for the defaults (365, 1825, 30)"}}
	}
	r := l.Resolved()
	var out []LifetimeProblem
	if r.RenewBeforeDays >= r.ValidityDays {
		out = append(out, LifetimeProblem{"renewBeforeDays", fmt.Sprintf("%d is not less than validityDays %d: every `pulumi up` would re-issue every certificate", r.RenewBeforeDays, r.ValidityDays),
			"set renewBeforeDays below validityDays (the default is 30 of 365)"})
	}
	if !withCA {
		return out
	}
	if r.CAValidityDays < r.ValidityDays {
		out = append(out, LifetimeProblem{"caValidityDays", fmt.Sprintf("%d is less than validityDays %d: a leaf never outlives its CA, so every leaf would be cut short", r.CAValidityDays, r.ValidityDays),
			"set caValidityDays to at least validityDays (the default is 1825)"})
	} else if r.CAValidityDays <= 2*r.RenewBeforeDays {
		out = append(out, LifetimeProblem{"caValidityDays", fmt.Sprintf("%d is not more than twice renewBeforeDays (%d): a CA rollover takes three runs inside that window", r.CAValidityDays, 2*r.RenewBeforeDays),
			"raise caValidityDays or lower renewBeforeDays"})
	}
	return out
}
