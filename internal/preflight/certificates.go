package preflight

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/upstream-tls/upstream-tls/internal/kube"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// Now is the preflight's clock; only tests set it.
var Now = time.Now

// suppliedClientCertificate is a client certificate the configuration names by its Secret.
type suppliedClientCertificate struct {
	path      *field.Path // the configuration's secret field
	namespace string
	name      string
	who       string // "the gateway presents to every TLS backend", "backend payments' own"
}

// suppliedClientCertificates are the existing Secrets the plan's gateway would present as
// client certificates: gateway.backendClientCertificate.secret and each insecure backend's
// tls.clientCertificate.secret.
func suppliedClientCertificates(a *spec.Args) []suppliedClientCertificate {
	var out []suppliedClientCertificate
	if c := a.Gateway.BackendClientCertificate; c != nil && !c.Generate && c.Secret != "" {
		ns, name := envoy.SecretRef(c.Secret, a.Gateway.Namespace)
		out = append(out, suppliedClientCertificate{field.NewPath("gateway", "backendClientCertificate", "secret"), ns, name, "the client certificate the gateway presents to every TLS backend"})
	}
	for i, b := range a.Backends {
		c := b.TLS.ClientCertificate
		if c == nil || c.Generate || c.Secret == "" || b.TLS.Mode != spec.ModeInsecure {
			continue
		}
		out = append(out, suppliedClientCertificate{field.NewPath("backends").Index(i).Child("tls", "clientCertificate", "secret"), b.Namespace, c.Secret,
			fmt.Sprintf("the client certificate the gateway presents to backend %q", b.Name)})
	}
	return out
}

// clientCertificates reads every supplied client certificate Secret and refuses one the
// gateway could not present, or a backend would reject: not a kubernetes.io/tls Secret with
// tls.crt and tls.key, a tls.crt that is no PEM certificate, a key that does not match it, a
// certificate expired or not valid yet, or one whose extended key usage excludes client
// authentication (a serving certificate). One that ends within the renewal window is a
// warning: the component does not renew what it did not issue. A Secret that does not exist
// yet is a warning (another resource of the stack may create it), as is one the identity may
// not read (the deploying identity can; a preview identity bound to `view` cannot).
func clientCertificates(ctx context.Context, c *kube.Client, p *plan.Plan, problems *core.Problems, warnings *[]string, skip func(string, error) bool) {
	renew := 30
	if p.Args.Certificates != nil && p.Args.Certificates.RenewBeforeDays > 0 {
		renew = p.Args.Certificates.RenewBeforeDays
	}
	for _, s := range suppliedClientCertificates(&p.Args) {
		var sec corev1.Secret
		err := c.Get(ctx, "/api/v1/namespaces/"+s.namespace+"/secrets/"+s.name, &sec)
		if kube.IsNotFound(err) {
			*warnings = append(*warnings, fmt.Sprintf("%s: Secret %s/%s does not exist yet; Envoy Gateway rejects the Gateway's (or Backend's) TLS settings until it exists with tls.crt and tls.key", s.path, s.namespace, s.name))
			continue
		}
		if skip("the client certificate check of "+s.path.String()+" (get Secret "+s.namespace+"/"+s.name+")", err) {
			continue
		}
		what := fmt.Sprintf("Secret %s/%s (%s)", s.namespace, s.name, s.who)
		create := fmt.Sprintf("kubectl -n %s create secret tls %s --cert=client.pem --key=client-key.pem", s.namespace, s.name)
		crt, key := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
		if len(crt) == 0 || len(key) == 0 {
			var missing []string
			for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
				if len(sec.Data[k]) == 0 {
					missing = append(missing, k)
				}
			}
			problems.Add(s.path, fmt.Sprintf("%s is of type %s and has no %s; a client certificate needs a kubernetes.io/tls Secret with the certificate under tls.crt and its key under tls.key", what, orUnknown(string(sec.Type)), strings.Join(missing, " or ")),
				"recreate it as a TLS Secret ("+create+"), or use generate: true")
			continue
		}
		cert, perr := firstCertificate(crt)
		if perr != nil {
			problems.Add(s.path, fmt.Sprintf("%s: tls.crt %v", what, perr), "store the PEM client certificate under tls.crt ("+create+")")
			continue
		}
		if _, kerr := tls.X509KeyPair(crt, key); kerr != nil {
			problems.Add(s.path, fmt.Sprintf("%s: tls.key is not the key of the certificate in tls.crt (%v); Envoy Gateway rejects the pair and the gateway presents nothing", what, kerr),
				"store the certificate and its own private key together ("+create+")")
			continue
		}
		now := Now()
		subject := describe(cert)
		switch {
		case now.After(cert.NotAfter):
			problems.Add(s.path, fmt.Sprintf("%s: the certificate %s expired on %s (%d days ago); a backend that verifies client certificates refuses every handshake with it", what, subject, cert.NotAfter.UTC().Format(time.DateOnly), int(now.Sub(cert.NotAfter).Hours()/24)),
				"renew it and update the Secret ("+create+"), or use generate: true, which the component renews")
			continue
		case now.Before(cert.NotBefore):
			problems.Add(s.path, fmt.Sprintf("%s: the certificate %s is not valid before %s; a backend that verifies client certificates refuses it until then", what, subject, cert.NotBefore.UTC().Format(time.RFC3339)),
				"issue it with a notBefore in the past (check the issuing machine's clock), or deploy after that time")
			continue
		}
		if !clientAuthAllowed(cert) {
			problems.Add(s.path, fmt.Sprintf("%s: the certificate %s has extended key usage %s but not clientAuth; a backend that verifies client certificates refuses it (a serving certificate is not a client certificate)", what, subject, usages(cert)),
				"issue a certificate with extended key usage clientAuth (TLS Web Client Authentication), or use generate: true")
			continue
		}
		if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
			problems.Add(s.path, fmt.Sprintf("%s: the certificate %s has key usage without digitalSignature, which a TLS client certificate signs the handshake with", what, subject),
				"issue it with key usage digitalSignature, or use generate: true")
			continue
		}
		if left := cert.NotAfter.Sub(now); left < time.Duration(renew)*24*time.Hour {
			*warnings = append(*warnings, fmt.Sprintf("%s: %s ends on %s, in %d days (inside the %d-day renewal window); the component does not renew a certificate it did not issue: renew it and update the Secret", s.path, what, cert.NotAfter.UTC().Format(time.DateOnly), int(left.Hours()/24), renew))
		}
	}
}

// firstCertificate parses the first PEM CERTIFICATE block of b.
func firstCertificate(b []byte) (*x509.Certificate, error) {
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, fmt.Errorf("holds no PEM CERTIFICATE block")
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("holds a certificate that does not parse: %w", err)
		}
		return cert, nil
	}
}

// clientAuthAllowed: no extended key usage (any use, RFC 5280 4.2.1.12), or one that lists
// clientAuth or any.
func clientAuthAllowed(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny)
}

func usages(c *x509.Certificate) string {
	var out []string
	for _, u := range c.ExtKeyUsage {
		switch u {
		case x509.ExtKeyUsageServerAuth:
			out = append(out, "serverAuth")
		case x509.ExtKeyUsageCodeSigning:
			out = append(out, "codeSigning")
		case x509.ExtKeyUsageEmailProtection:
			out = append(out, "emailProtection")
		case x509.ExtKeyUsageTimeStamping:
			out = append(out, "timeStamping")
		case x509.ExtKeyUsageOCSPSigning:
			out = append(out, "OCSPSigning")
		default:
			out = append(out, fmt.Sprintf("#%d", u))
		}
	}
	for _, o := range c.UnknownExtKeyUsage {
		out = append(out, o.String())
	}
	return strings.Join(out, ", ")
}

// describe names a certificate by its subject and issuer.
func describe(c *x509.Certificate) string {
	s := fmt.Sprintf("%q", c.Subject.CommonName)
	if c.Issuer.CommonName != "" && c.Issuer.String() != c.Subject.String() {
		s += fmt.Sprintf(" (issued by %q)", c.Issuer.CommonName)
	}
	return s
}
