package kube

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/pki"
)

// server is a TLS server that records the Authorization header and answers a Status 404 for
// /missing, a 503 twice then 200 for /flaky, and {} otherwise.
func server(t *testing.T, auth *string) (*httptest.Server, string) {
	t.Helper()
	flaky := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*auth = r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"configmaps \"x\" not found","reason":"NotFound","code":404}`)
		case "/flaky":
			if flaky++; flaky <= 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			fmt.Fprint(w, `{}`)
		default:
			fmt.Fprint(w, `{}`)
		}
	}))
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return srv, base64.StdEncoding.EncodeToString(ca)
}

func writeKubeconfig(t *testing.T, dir, server, ca, user string) string {
	t.Helper()
	p := filepath.Join(dir, "kubeconfig")
	body := fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: main
contexts:
- name: main
  context: {cluster: c, user: u}
- name: other
  context: {cluster: nowhere, user: u}
clusters:
- name: c
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: u
  user:
%s
`, server, ca, user)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCredentials: a bearer token, a token file relative to the kubeconfig, and an exec plugin
// each authenticate the requests; the server is verified with the kubeconfig's CA.
func TestCredentials(t *testing.T) {
	var auth string
	srv, ca := server(t, &auth)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	plugin := filepath.Join(dir, "plugin.sh")
	if err := os.WriteFile(plugin, []byte("#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"from-'$1'-'$GREETING'\"}}'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ user, want string }{
		{"    token: inline", "Bearer inline"},
		{"    tokenFile: token", "Bearer from-file"},
		{"    exec:\n      command: " + plugin + "\n      args: [plugin]\n      env: [{name: GREETING, value: hi}]", "Bearer from-plugin-hi"},
	} {
		c, err := FromKubeconfig(writeKubeconfig(t, dir, srv.URL, ca, tc.user), "")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Get(context.Background(), "/api/v1", nil); err != nil {
			t.Fatalf("%s: %v", tc.user, err)
		}
		if auth != tc.want {
			t.Errorf("%s: Authorization %q, want %q", tc.user, auth, tc.want)
		}
	}
}

// TestErrors: the API server's Status is the error's message and kind; 503 is retried; a
// context the kubeconfig lacks and a server the CA does not vouch for are refused.
func TestErrors(t *testing.T) {
	var auth string
	srv, ca := server(t, &auth)
	dir := t.TempDir()
	kc := writeKubeconfig(t, dir, srv.URL, ca, "    token: t")
	c, err := FromKubeconfig(kc, "")
	if err != nil {
		t.Fatal(err)
	}
	err = c.Get(context.Background(), "/missing", nil)
	if !IsNotFound(err) || err.Error() != `configmaps "x" not found` {
		t.Errorf("404: %v (not found: %v)", err, IsNotFound(err))
	}
	if err := c.Get(context.Background(), "/flaky", nil); err != nil {
		t.Errorf("503 twice then 200: %v", err)
	}
	if _, err := FromKubeconfig(kc, "absent"); err == nil || !strings.Contains(err.Error(), `no context "absent"`) {
		t.Errorf("absent context: %v", err)
	}
	if _, err := FromKubeconfig(kc, "other"); err == nil || !strings.Contains(err.Error(), `no cluster "nowhere"`) {
		t.Errorf("context naming a missing cluster: %v", err)
	}
	foreign, err := pki.Generate(pki.Request{CommonName: "someone-else.example", DNSNames: []string{"someone-else.example"}, WithCA: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err = FromKubeconfig(writeKubeconfig(t, dir, srv.URL, base64.StdEncoding.EncodeToString([]byte(foreign.CACertPEM)), "    token: t"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Get(context.Background(), "/api/v1", nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a server the CA does not vouch for: %v", err)
	}
}

func TestSplitDocuments(t *testing.T) {
	docs := SplitDocuments([]byte("# header\n---\na: 1\n--- # second\nb: 2\n---\n# only a comment\n---\nc: 3\n"))
	if len(docs) != 3 || !strings.Contains(string(docs[0]), "a: 1") || !strings.Contains(string(docs[2]), "c: 3") {
		t.Errorf("got %d documents: %q", len(docs), docs)
	}
}
