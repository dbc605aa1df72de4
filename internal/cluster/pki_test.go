package cluster

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPKI checks what the processes rely on: the API server's certificate verifies for the
// addresses clients use, the admin is in system:masters, the controller manager has its RBAC
// identity, keys are private, and a second call keeps the PKI (a restarted cluster keeps its
// identity).
func TestPKI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if err := ensurePKI(dir); err != nil {
		t.Fatal(err)
	}
	ca := readCert(t, filepath.Join(dir, caCert))
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	server := readCert(t, filepath.Join(dir, apiserverCert))
	for _, name := range []string{"127.0.0.1", "localhost", "kubernetes.default.svc", "10.96.0.1"} {
		if _, err := server.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("API server certificate for %s: %v", name, err)
		}
	}
	admin := readCert(t, filepath.Join(dir, adminCert))
	if !slices.Contains(admin.Subject.Organization, "system:masters") {
		t.Errorf("admin groups %v, want system:masters", admin.Subject.Organization)
	}
	kcm := readCert(t, filepath.Join(dir, kcmCert))
	if kcm.Subject.CommonName != "system:kube-controller-manager" {
		t.Errorf("controller manager user %q", kcm.Subject.CommonName)
	}
	for _, c := range []*x509.Certificate{admin, kcm} {
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("client certificate %s: %v", c.Subject.CommonName, err)
		}
	}
	for _, k := range []string{caKey, apiserverKey, adminKey, kcmKey, saKey} {
		fi, err := os.Stat(filepath.Join(dir, k))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", k, fi.Mode().Perm())
		}
	}
	if err := ensurePKI(dir); err != nil {
		t.Fatal(err)
	}
	if again := readCert(t, filepath.Join(dir, caCert)); !again.Equal(ca) {
		t.Error("a second ensurePKI replaced the CA")
	}
}

func TestFreePortSkipsTaken(t *testing.T) {
	a, err := freePort(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := freePort(a, map[string]int{"x": a})
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("freePort returned port %d, which another use has taken", a)
	}
	if c, err := freePort(a, nil); err != nil || c != a {
		t.Errorf("freePort(%d) = %d, %v; want the recorded port while it is free", a, c, err)
	}
}
