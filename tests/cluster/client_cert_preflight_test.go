package cluster_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// clientPair mints a certificate and its key (PEM): valid from notBefore to notAfter, with the
// extended key usages eku (none: any use).
func clientPair(t *testing.T, cn string, notBefore, notAfter time.Time, eku ...x509.ExtKeyUsage) (crt, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: eku}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func tlsSecret(ns, name, typ string, data map[string][]byte) map[string]any {
	enc := map[string]any{}
	for k, v := range data {
		enc[k] = base64.StdEncoding.EncodeToString(v)
	}
	return map[string]any{"apiVersion": "v1", "kind": "Secret", "type": typ,
		"metadata": map[string]any{"name": name, "namespace": ns}, "data": enc}
}

// checkClientCertificates: client certificates given by their Secret
// (gateway.backendClientCertificate.secret in another namespace, the insecure legacy-app's own
// tls.clientCertificate.secret) are read from the real API server at preview and refused when
// the gateway could not present them or a verifying backend would refuse them; a good one
// passes, one ending inside the renewal window is a warning, a missing one is a warning.
func checkClientCertificates(t *testing.T, dir string, base spec.Args) {
	a := base
	gw := *a.Gateway
	gw.BackendClientCertificate = &spec.ClientCertificateArgs{Secret: "certs/gw-client"}
	a.Gateway = &gw
	a.Backends = append([]spec.BackendArgs(nil), base.Backends...)
	legacy := -1
	for i := range a.Backends {
		if a.Backends[i].Name == "legacy-app" {
			legacy = i
			a.Backends[i].TLS.ClientCertificate = &spec.ClientCertificateArgs{Secret: "legacy-client"}
		}
		if a.Backends[i].Deploy != nil {
			d := *a.Backends[i].Deploy
			d.VerifyClientCertificate = false // the CA of a supplied certificate is not the component's
			a.Backends[i].Deploy = &d
		}
	}
	if legacy < 0 {
		t.Fatal("the dev configuration has no legacy-app backend")
	}
	gwField := "gateway.backendClientCertificate.secret"
	beField := "backends[2].tls.clientCertificate.secret"
	if legacy != 2 {
		t.Fatalf("legacy-app is backends[%d], the test expects backends[2]", legacy)
	}
	joined := func(ws []string) string { return strings.Join(ws, "\n") }

	// Neither Secret exists yet: warnings, no refusal.
	r := check(t, a)
	if n := len(problems(r)); n != 0 {
		t.Errorf("missing client certificate Secrets are refused: %q", problems(r))
	}
	for _, w := range []string{gwField + ": Secret certs/gw-client does not exist yet", beField + ": Secret legacy/legacy-client does not exist yet"} {
		if !strings.Contains(joined(r.Warnings), w) {
			t.Errorf("no warning %q in %q", w, r.Warnings)
		}
	}

	for _, ns := range []string{"certs", "legacy"} {
		if err := api(t, dir).EnsureNamespace(context.Background(), ns); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	put := func(ns, name, typ string, data map[string][]byte) {
		t.Helper()
		applyAs(t, dir, "kubectl", tlsSecret(ns, name, typ, data))
	}
	good, goodKey := clientPair(t, "gateway.client", now.Add(-time.Hour), now.AddDate(1, 0, 0), x509.ExtKeyUsageClientAuth)

	// Wrong usage (a serving certificate) on the gateway's; expired on legacy-app's.
	srv, srvKey := clientPair(t, "api.example.com", now.Add(-time.Hour), now.AddDate(1, 0, 0), x509.ExtKeyUsageServerAuth)
	old, oldKey := clientPair(t, "legacy.client", now.AddDate(-1, 0, 0), now.AddDate(0, 0, -3), x509.ExtKeyUsageClientAuth)
	put("certs", "gw-client", "kubernetes.io/tls", map[string][]byte{"tls.crt": srv, "tls.key": srvKey})
	put("legacy", "legacy-client", "kubernetes.io/tls", map[string][]byte{"tls.crt": old, "tls.key": oldKey})
	r = check(t, a)
	wantProblem(t, r, gwField, `Secret certs/gw-client (the client certificate the gateway presents to every TLS backend): the certificate "api.example.com" has extended key usage serverAuth but not clientAuth`,
		"fix: issue a certificate with extended key usage clientAuth")
	wantProblem(t, r, beField, `Secret legacy/legacy-client (the client certificate the gateway presents to backend "legacy-app"): the certificate "legacy.client" expired on `+now.AddDate(0, 0, -3).UTC().Format(time.DateOnly)+" (3 days ago)",
		"fix: renew it and update the Secret (kubectl -n legacy create secret tls legacy-client")
	if n := len(problems(r)); n != 2 {
		t.Errorf("want the two certificate problems, got %d: %q", n, problems(r))
	}

	// Not valid yet; a key of another certificate.
	future, futureKey := clientPair(t, "gateway.client", now.Add(48*time.Hour), now.AddDate(1, 0, 0), x509.ExtKeyUsageClientAuth)
	put("certs", "gw-client", "kubernetes.io/tls", map[string][]byte{"tls.crt": future, "tls.key": futureKey})
	put("legacy", "legacy-client", "kubernetes.io/tls", map[string][]byte{"tls.crt": good, "tls.key": srvKey})
	r = check(t, a)
	wantProblem(t, r, gwField, `the certificate "gateway.client" is not valid before`, "fix: issue it with a notBefore in the past")
	wantProblem(t, r, beField, "tls.key is not the key of the certificate in tls.crt", "fix: store the certificate and its own private key together")

	// Not a TLS Secret; tls.crt not PEM.
	if err := api(t, dir).Delete(context.Background(), "v1", "Secret", "certs", "gw-client"); err != nil {
		t.Fatal(err)
	}
	put("certs", "gw-client", "Opaque", map[string][]byte{"tls.crt": good})
	put("legacy", "legacy-client", "kubernetes.io/tls", map[string][]byte{"tls.crt": []byte("not a certificate"), "tls.key": goodKey})
	r = check(t, a)
	wantProblem(t, r, gwField, "Secret certs/gw-client (the client certificate the gateway presents to every TLS backend) is of type Opaque and has no tls.key", "fix: recreate it as a TLS Secret (kubectl -n certs create secret tls gw-client")
	wantProblem(t, r, beField, "tls.crt holds no PEM CERTIFICATE block", "fix: store the PEM client certificate under tls.crt")

	// Good ones pass; one ending in 10 days (inside the default 30-day window) is a warning; a
	// certificate without extended key usage may be used for anything, a client too.
	if err := api(t, dir).Delete(context.Background(), "v1", "Secret", "certs", "gw-client"); err != nil {
		t.Fatal(err)
	}
	soon, soonKey := clientPair(t, "legacy.client", now.Add(-time.Hour), now.AddDate(0, 0, 10))
	put("certs", "gw-client", "kubernetes.io/tls", map[string][]byte{"tls.crt": good, "tls.key": goodKey})
	put("legacy", "legacy-client", "kubernetes.io/tls", map[string][]byte{"tls.crt": soon, "tls.key": soonKey})
	r = check(t, a)
	if n := len(problems(r)); n != 0 {
		t.Errorf("good client certificates are refused: %q", problems(r))
	}
	if w := joined(r.Warnings); !strings.Contains(w, beField+": Secret legacy/legacy-client") || !strings.Contains(w, "inside the 30-day renewal window") || strings.Contains(w, gwField) {
		t.Errorf("want one renewal-window warning, for legacy-app's certificate only: %q", r.Warnings)
	}
}
