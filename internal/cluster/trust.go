package cluster

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The local cluster's "public" CA, for the `system` mode on the wire.
//
// A `system` backend serves a certificate that chains to a CA in the gateway's system trust
// store: on a real cluster a platform issuer (cert-manager with ACME, a corporate PKI) writes it
// into the Secret the backend mounts. The local cluster has no such issuer and no CA any system
// store trusts, so it plays both parts, for its own processes only:
//
//   - the public CA is Dir/pki/public-ca.{crt,key}, made with the cluster and kept across
//     restarts;
//   - Envoy's system store: each proxy runs in a private mount namespace where the trust bundle
//     Dir/workloads/trust/ca-certificates.crt (this host's bundle followed by the public CA) is
//     bound over systemTrustPath. Nothing outside Dir changes: the host's file is read, never
//     written, and the bind mount disappears with the proxy;
//   - the issuer: a Secret that a Deployment run here mounts and that does not exist is issued by
//     the public CA when, and only when, a BackendTLSPolicy verifies the Deployment's Service
//     against the system store (wellKnownCACertificates: System). The certificate names the
//     policy's hostname and subjectAltNames, as a platform issuer would be asked to. The Secret
//     is written with field manager issuerManager and annotation issuedByAnnotation; it is the
//     cluster's, not the stack's, and the stack never sees it.
//
// A user who deploys `system` backends onto the local cluster therefore gets the whole path on
// the wire (Envoy verifies the backend's chain against its system store, and the SAN against
// the policy's hostname) without a public certificate.
const (
	publicCACert = "public-ca.crt"
	publicCAKey  = "public-ca.key"

	// systemTrustPath is the file Envoy Gateway's translator names for the system trust store
	// (wellKnownCACertificates: System) on Linux: cert.SystemCertPath of the pinned
	// github.com/envoyproxy/gateway, internal/utils/cert.
	systemTrustPath = "/etc/ssl/certs/ca-certificates.crt"

	issuerManager      = "upstream-tls-cluster-issuer"
	issuedByAnnotation = "upstream-tls.dev/issued-by"
)

// ensurePublicCA creates the public CA under the PKI directory dir unless it exists (clusters
// made before it existed get it on their next start).
func ensurePublicCA(dir string) error {
	if exists(filepath.Join(dir, publicCACert)) && exists(filepath.Join(dir, publicCAKey)) {
		return nil
	}
	_, _, certPEM, keyPEM, err := newCA("upstream-tls local public CA (trusted by the local cluster's Envoy only)", time.Now().Add(-5*time.Minute).UTC())
	if err != nil {
		return fmt.Errorf("cluster PKI: public CA: %w", err)
	}
	// The key first: the certificate's presence means "done".
	if err := os.WriteFile(filepath.Join(dir, publicCAKey), keyPEM, 0o600); err != nil {
		return fmt.Errorf("cluster PKI: public CA: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, publicCACert), certPEM, 0o600); err != nil {
		return fmt.Errorf("cluster PKI: public CA: %w", err)
	}
	return nil
}

// loadPublicCA reads the public CA of the cluster directory dir.
func loadPublicCA(dir string) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, "pki", publicCACert))
	if err != nil {
		return nil, nil, fmt.Errorf("public CA: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "pki", publicCAKey))
	if err != nil {
		return nil, nil, fmt.Errorf("public CA: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("public CA: not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("public CA: %w", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("public CA: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("public CA: the key cannot sign")
	}
	return cert, signer, nil
}

// trustBundle writes Dir/workloads/trust/ca-certificates.crt, this host's system bundle (when
// it has one) followed by the public CA, and returns its path.
func (h *egHost) trustBundle() (string, error) {
	public, err := os.ReadFile(filepath.Join(h.dir, "pki", publicCACert))
	if err != nil {
		return "", fmt.Errorf("trust bundle: %w", err)
	}
	host, err := os.ReadFile(systemTrustPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("trust bundle: %w", err)
	}
	if len(host) > 0 && !bytes.HasSuffix(host, []byte("\n")) {
		host = append(host, '\n')
	}
	dir := filepath.Join(h.workloadsHome(), "trust")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("trust bundle: %w", err)
	}
	path := filepath.Join(dir, "ca-certificates.crt")
	if err := os.WriteFile(path, append(host, public...), 0o644); err != nil {
		return "", fmt.Errorf("trust bundle: %w", err)
	}
	return path, nil
}

// systemTrustWrapper is the command line that runs a proxy with bundle as its system store: a
// private mount namespace (unshare) where bundle is bound over systemTrustPath, then exec of
// the proxy (same PID, so signals and ours() reach Envoy itself). It returns nil and the reason
// where this host cannot do that (not root, no unshare or mount, no file at systemTrustPath to
// bind over); the proxy then runs with the host's own store, and `system` backends fail
// verification on the wire, which `make verify LIVE=1` reports.
var systemTrustWrapper = func(bundle string) ([]string, string) {
	if os.Geteuid() != 0 {
		return nil, "the cluster host does not run as root, so it cannot give Envoy a private system trust store (unshare --mount)"
	}
	if _, err := os.Stat(systemTrustPath); err != nil {
		return nil, fmt.Sprintf("this host has no %s to bind the local trust bundle over", systemTrustPath)
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, "unshare (util-linux) is not on PATH"
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		return nil, "sh is not on PATH"
	}
	// $0 is the bundle, "$@" the proxy's command line.
	script := `mount --bind "$0" ` + systemTrustPath + ` && exec "$@"`
	return []string{unshare, "--mount", "--propagation", "private", sh, "-c", script, bundle}, ""
}

// issueMissing issues, from the public CA, each Secret volume of Deployment d that does not exist
// and that a BackendTLSPolicy verifying d's Service against the system store asks for (see the
// package comment above). It reports what it issued; a Secret it has no policy for is left
// missing (the pod waits, as a kubelet's would).
func (h *egHost) issueMissing(ctx context.Context, d *appsv1.Deployment) ([]string, error) {
	ns := d.Namespace
	objs, err := h.passObjects(ctx, ns)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret == nil {
			continue
		}
		if _, ok := objs.secrets[v.Secret.SecretName]; !ok {
			missing = append(missing, v.Secret.SecretName)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	names, err := h.systemHostnames(ctx, d)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	ca, key, err := loadPublicCA(h.dir)
	if err != nil {
		return nil, err
	}
	var issued []string
	for _, name := range missing {
		certPEM, keyPEM, err := issueLeaf(leaf{cn: names[0], dns: names, usage: x509.ExtKeyUsageServerAuth}, ca, key, time.Now().Add(-5*time.Minute).UTC())
		if err != nil {
			return issued, fmt.Errorf("issue %s/%s: %w", ns, name, err)
		}
		secret := corev1.Secret{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: map[string]string{
				issuedByAnnotation: "the local cluster's public CA, for " + strings.Join(names, ", ") + " (Deployment " + d.Name + ")",
			}},
			Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM},
		}
		var out corev1.Secret
		if err := h.postJSON(ctx, "/api/v1/namespaces/"+ns+"/secrets?fieldManager="+issuerManager, &secret, &out); err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.code == 409 {
				continue // someone created it meanwhile: theirs wins
			}
			return issued, fmt.Errorf("issue %s/%s: %w", ns, name, err)
		}
		h.logf("issued Secret %s/%s from the local public CA for %s (a BackendTLSPolicy verifies Deployment %s against the system store)", ns, name, strings.Join(names, ", "), d.Name)
		issued = append(issued, ns+"/"+name)
	}
	return issued, nil
}

// systemHostnames are the host names that BackendTLSPolicies with wellKnownCACertificates:
// System verify on the Services selecting d's pods: each policy's validation.hostname and its
// Hostname subjectAltNames, sorted, without repeats, the first policy's hostname first.
func (h *egHost) systemHostnames(ctx context.Context, d *appsv1.Deployment) ([]string, error) {
	ns := d.Namespace
	var services corev1.ServiceList
	if err := h.getJSON(ctx, "/api/v1/namespaces/"+ns+"/services", &services); err != nil {
		return nil, err
	}
	selecting := map[string]bool{}
	podLabels := labels.Set(d.Spec.Template.Labels)
	for _, s := range services.Items {
		if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) {
			selecting[s.Name] = true
		}
	}
	if len(selecting) == 0 {
		return nil, nil
	}
	var policies struct {
		Items []struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
			Spec     struct {
				TargetRefs []struct {
					Group string `json:"group"`
					Kind  string `json:"kind"`
					Name  string `json:"name"`
				} `json:"targetRefs"`
				Validation struct {
					Hostname                string `json:"hostname"`
					WellKnownCACertificates string `json:"wellKnownCACertificates"`
					SubjectAltNames         []struct {
						Type     string `json:"type"`
						Hostname string `json:"hostname"`
					} `json:"subjectAltNames"`
				} `json:"validation"`
			} `json:"spec"`
		} `json:"items"`
	}
	if err := h.getJSON(ctx, "/apis/gateway.networking.k8s.io/v1/namespaces/"+url.PathEscape(ns)+"/backendtlspolicies", &policies); err != nil {
		if isNotFound(err) {
			return nil, nil // (no Gateway API CRDs yet)
		}
		return nil, err
	}
	sort.Slice(policies.Items, func(i, j int) bool { return policies.Items[i].Metadata.Name < policies.Items[j].Metadata.Name })
	var first string
	seen := map[string]bool{}
	for _, p := range policies.Items {
		v := p.Spec.Validation
		if v.WellKnownCACertificates != "System" || v.Hostname == "" {
			continue
		}
		targets := false
		for _, t := range p.Spec.TargetRefs {
			if t.Group == "" && t.Kind == "Service" && selecting[t.Name] {
				targets = true
			}
		}
		if !targets {
			continue
		}
		if first == "" {
			first = v.Hostname
		}
		seen[v.Hostname] = true
		for _, san := range v.SubjectAltNames {
			if san.Type == "Hostname" && san.Hostname != "" {
				seen[san.Hostname] = true
			}
		}
	}
	if first == "" {
		return nil, nil
	}
	names := []string{first}
	delete(seen, first)
	rest := make([]string, 0, len(seen))
	for n := range seen {
		rest = append(rest, n)
	}
	sort.Strings(rest)
	return append(names, rest...), nil
}
