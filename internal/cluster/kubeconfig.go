package cluster

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
)

// writeKubeconfigs writes the admin kubeconfig (Kubeconfig(dir)) and kube-controller-manager's
// for the API server at server. The credentials are embedded, so a kubeconfig can be copied.
// They are rewritten on every start because the API server's port may change.
func writeKubeconfigs(dir, server string) error {
	for _, kc := range []struct{ path, user, cert, key string }{
		{Kubeconfig(dir), "upstream-tls-admin", adminCert, adminKey},
		{filepath.Join(dir, "kube-controller-manager.kubeconfig"), "system:kube-controller-manager", kcmCert, kcmKey},
	} {
		b, err := kubeconfig(dir, server, kc.user, kc.cert, kc.key)
		if err != nil {
			return err
		}
		tmp := kc.path + ".tmp"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			return fmt.Errorf("cluster: kubeconfig: %w", err)
		}
		if err := os.Rename(tmp, kc.path); err != nil {
			return fmt.Errorf("cluster: kubeconfig: %w", err)
		}
	}
	return nil
}

func kubeconfig(dir, server, user, certFile, keyFile string) ([]byte, error) {
	read := func(f string) (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, "pki", f))
		if err != nil {
			return "", fmt.Errorf("cluster: kubeconfig: %w", err)
		}
		return base64.StdEncoding.EncodeToString(b), nil
	}
	ca, err := read(caCert)
	if err != nil {
		return nil, err
	}
	cert, err := read(certFile)
	if err != nil {
		return nil, err
	}
	key, err := read(keyFile)
	if err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: upstream-tls-local
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: upstream-tls-local
  context:
    cluster: upstream-tls-local
    user: %s
current-context: upstream-tls-local
`, server, ca, user, cert, key, user), nil
}
