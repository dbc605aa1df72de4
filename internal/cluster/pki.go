package cluster

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pkiValidity is the validity of the local cluster's certificates. The cluster is a developer
// and test environment; ten years keeps a long-lived dev cluster from expiring under a user.
const pkiValidity = 10 * 365 * 24 * time.Hour

// The files of the cluster's PKI, relative to Dir/pki. Keys are written 0600.
const (
	caCert        = "ca.crt"
	caKey         = "ca.key"
	apiserverCert = "apiserver.crt"
	apiserverKey  = "apiserver.key"
	adminCert     = "admin.crt"
	adminKey      = "admin.key"
	kcmCert       = "kube-controller-manager.crt"
	kcmKey        = "kube-controller-manager.key"
	saKey         = "service-account.key"
	saPub         = "service-account.pub"
)

// leaf describes one certificate the cluster CA issues.
type leaf struct {
	cert, key string
	cn        string
	orgs      []string
	usage     x509.ExtKeyUsage
	dns       []string
	ips       []net.IP
}

// ensurePKI creates the cluster's CA, the API server's serving certificate, the client
// certificates of the admin (group system:masters) and of kube-controller-manager, and the
// service-account signing key, unless they exist. An existing PKI is reused as is, so a
// restarted cluster keeps its identity and every kubeconfig written before stays valid.
func ensurePKI(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cluster PKI: %w", err)
	}
	if exists(filepath.Join(dir, caCert)) && exists(filepath.Join(dir, saPub)) && exists(filepath.Join(dir, kcmKey)) {
		return nil
	}
	now := time.Now().Add(-5 * time.Minute).UTC()
	ca, caPriv, caPEM, caKeyPEM, err := newCA("upstream-tls local cluster CA", now)
	if err != nil {
		return fmt.Errorf("cluster PKI: %w", err)
	}
	leaves := []leaf{
		{cert: apiserverCert, key: apiserverKey, cn: "kube-apiserver", usage: x509.ExtKeyUsageServerAuth,
			dns: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			ips: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")}},
		{cert: adminCert, key: adminKey, cn: "upstream-tls-admin", orgs: []string{"system:masters"}, usage: x509.ExtKeyUsageClientAuth},
		{cert: kcmCert, key: kcmKey, cn: "system:kube-controller-manager", usage: x509.ExtKeyUsageClientAuth},
	}
	files := map[string][]byte{caCert: caPEM, caKey: caKeyPEM}
	for _, l := range leaves {
		certPEM, keyPEM, err := issueLeaf(l, ca, caPriv, now)
		if err != nil {
			return fmt.Errorf("cluster PKI: %w", err)
		}
		files[l.cert], files[l.key] = certPEM, keyPEM
	}
	sa, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("cluster PKI: service-account key: %w", err)
	}
	saDER, err := x509.MarshalPKCS8PrivateKey(sa)
	if err != nil {
		return fmt.Errorf("cluster PKI: service-account key: %w", err)
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		return fmt.Errorf("cluster PKI: service-account public key: %w", err)
	}
	files[saKey] = pemBlock("PRIVATE KEY", saDER)
	files[saPub] = pemBlock("PUBLIC KEY", saPubDER)
	// The service-account public key is written last: ensurePKI treats its presence as "done".
	for _, name := range []string{caCert, caKey, apiserverCert, apiserverKey, adminCert, adminKey, kcmCert, kcmKey, saKey, saPub} {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o600); err != nil {
			return fmt.Errorf("cluster PKI: %w", err)
		}
	}
	return nil
}

// newCA makes a self-signed P-256 CA named cn, valid from notBefore for pkiValidity.
func newCA(cn string, notBefore time.Time) (*x509.Certificate, *ecdsa.PrivateKey, []byte, []byte, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("%s key: %w", cn, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serialNumber(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(pkiValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("sign %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("parse %s: %w", cn, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("%s key: %w", cn, err)
	}
	return cert, priv, pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
}

// issueLeaf signs a fresh P-256 key's certificate for l with the CA, valid from notBefore for
// pkiValidity; it returns the certificate and the PKCS#8 key in PEM.
func issueLeaf(l leaf, ca *x509.Certificate, caPriv crypto.Signer, notBefore time.Time) (certPEM, keyPEM []byte, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("%s key: %w", l.cn, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serialNumber(),
		Subject:               pkix.Name{CommonName: l.cn, Organization: l.orgs},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(pkiValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{l.usage},
		BasicConstraintsValid: true,
		DNSNames:              l.dns,
		IPAddresses:           l.ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &priv.PublicKey, caPriv)
	if err != nil {
		return nil, nil, fmt.Errorf("sign %s: %w", l.cn, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("%s key: %w", l.cn, err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", keyDER), nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func serialNumber() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return n
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}
