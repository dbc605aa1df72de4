// Package kube is the product's small Kubernetes API client. It reads a kubeconfig (client
// certificates, bearer tokens, token files and exec credential plugins such as `aws eks
// get-token`), finds a kind's resource by discovery, and makes the few calls the product and its
// tests need: get, list, create, delete and server-side apply, the last also as a dry run, which
// the API server answers with its full validation (OpenAPI schemas, CEL rules, admission
// policies) and persists nothing. It stands on net/http and the apimachinery types; it is not
// client-go, whose module graph the product does not carry.
package kube

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Client talks to one API server as one identity. It is safe for concurrent use.
type Client struct {
	// Server is the API server's URL.
	Server string
	http   *http.Client
	token  func(ctx context.Context) (string, error)

	mu        sync.Mutex
	discovery map[string][]metav1.APIResource // by apiVersion
}

// StatusError is a refusal by the API server: the HTTP code and its Status reason and message.
type StatusError struct {
	Code    int
	Reason  string
	Message string
	Method  string
	Path    string
}

func (e *StatusError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("%s %s: HTTP %d %s", e.Method, e.Path, e.Code, e.Reason)
}

// IsNotFound reports whether err is the API server's 404.
func IsNotFound(err error) bool { return codeOf(err) == http.StatusNotFound }

// IsConflict reports whether err is the API server's 409 (AlreadyExists or Conflict).
func IsConflict(err error) bool { return codeOf(err) == http.StatusConflict }

// IsForbidden reports whether err is the API server's 403: the identity may not do this.
func IsForbidden(err error) bool { return codeOf(err) == http.StatusForbidden }

func codeOf(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// kubeconfig is the part of a kubeconfig file this client understands.
type kubeconfig struct {
	CurrentContext string `json:"current-context"`
	Contexts       []struct {
		Name    string `json:"name"`
		Context struct {
			Cluster string `json:"cluster"`
			User    string `json:"user"`
		} `json:"context"`
	} `json:"contexts"`
	Clusters []struct {
		Name    string `json:"name"`
		Cluster struct {
			Server                   string `json:"server"`
			CertificateAuthority     string `json:"certificate-authority"`
			CertificateAuthorityData string `json:"certificate-authority-data"`
			InsecureSkipTLSVerify    bool   `json:"insecure-skip-tls-verify"`
			TLSServerName            string `json:"tls-server-name"`
		} `json:"cluster"`
	} `json:"clusters"`
	Users []struct {
		Name string `json:"name"`
		User struct {
			ClientCertificate     string `json:"client-certificate"`
			ClientCertificateData string `json:"client-certificate-data"`
			ClientKey             string `json:"client-key"`
			ClientKeyData         string `json:"client-key-data"`
			Token                 string `json:"token"`
			TokenFile             string `json:"tokenFile"`
			Exec                  *struct {
				Command string   `json:"command"`
				Args    []string `json:"args"`
				Env     []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"env"`
			} `json:"exec"`
		} `json:"user"`
	} `json:"users"`
}

// FromKubeconfig makes a client from the kubeconfig file at path and its context kctx (empty:
// the file's current-context). Relative file references in the kubeconfig are resolved against
// the file's directory, as kubectl does.
func FromKubeconfig(path, kctx string) (*Client, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	var kc kubeconfig
	if err := yaml.Unmarshal(b, &kc); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	base := filepath.Dir(path)
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	if kctx == "" {
		kctx = kc.CurrentContext
	}
	var clusterName, userName string
	found := false
	for _, c := range kc.Contexts {
		if c.Name == kctx {
			clusterName, userName, found = c.Context.Cluster, c.Context.User, true
		}
	}
	if !found {
		return nil, fmt.Errorf("kubeconfig %s: no context %q", path, kctx)
	}
	c := &Client{discovery: map[string][]metav1.APIResource{}}
	tlsc := &tls.Config{MinVersion: tls.VersionTLS12}
	found = false
	for _, cl := range kc.Clusters {
		if cl.Name != clusterName {
			continue
		}
		found = true
		c.Server = strings.TrimRight(cl.Cluster.Server, "/")
		tlsc.InsecureSkipVerify = cl.Cluster.InsecureSkipTLSVerify
		tlsc.ServerName = cl.Cluster.TLSServerName
		ca, err := data(cl.Cluster.CertificateAuthorityData, rel(cl.Cluster.CertificateAuthority))
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: cluster %q CA: %w", path, clusterName, err)
		}
		if ca != nil {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(ca) {
				return nil, fmt.Errorf("kubeconfig %s: cluster %q: the CA holds no PEM certificate", path, clusterName)
			}
			tlsc.RootCAs = pool
		}
	}
	if !found || c.Server == "" {
		return nil, fmt.Errorf("kubeconfig %s: no cluster %q with a server", path, clusterName)
	}
	for _, u := range kc.Users {
		if u.Name != userName {
			continue
		}
		cert, err := data(u.User.ClientCertificateData, rel(u.User.ClientCertificate))
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: user %q certificate: %w", path, userName, err)
		}
		key, err := data(u.User.ClientKeyData, rel(u.User.ClientKey))
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: user %q key: %w", path, userName, err)
		}
		if cert != nil && key != nil {
			pair, err := tls.X509KeyPair(cert, key)
			if err != nil {
				return nil, fmt.Errorf("kubeconfig %s: user %q: %w", path, userName, err)
			}
			tlsc.Certificates = []tls.Certificate{pair}
		}
		switch user := u.User; {
		case user.Token != "":
			c.token = func(context.Context) (string, error) { return user.Token, nil }
		case user.TokenFile != "":
			f := rel(user.TokenFile)
			c.token = func(context.Context) (string, error) {
				b, err := os.ReadFile(f)
				return strings.TrimSpace(string(b)), err
			}
		case user.Exec != nil:
			c.token = execToken(user.Exec.Command, user.Exec.Args, func() []string {
				env := os.Environ()
				for _, e := range user.Exec.Env {
					env = append(env, e.Name+"="+e.Value)
				}
				return env
			}())
		}
	}
	c.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsc}}
	return c, nil
}

// data is inline base64 data, else the file's bytes, else nil.
func data(inline, file string) ([]byte, error) {
	if inline != "" {
		return base64.StdEncoding.DecodeString(inline)
	}
	if file != "" {
		return os.ReadFile(file)
	}
	return nil, nil
}

// execToken runs a client.authentication.k8s.io exec plugin and caches its token until its
// expirationTimestamp (or for a minute when it gives none).
func execToken(command string, args, env []string) func(context.Context) (string, error) {
	var mu sync.Mutex
	var token string
	var until time.Time
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if token != "" && time.Now().Before(until) {
			return token, nil
		}
		cmd := exec.CommandContext(ctx, command, args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("kubeconfig exec plugin %s: %w: %s", command, err, strings.TrimSpace(stderr.String()))
		}
		var cred struct {
			Status struct {
				Token               string    `json:"token"`
				ExpirationTimestamp time.Time `json:"expirationTimestamp"`
			} `json:"status"`
		}
		if err := json.Unmarshal(out, &cred); err != nil || cred.Status.Token == "" {
			return "", fmt.Errorf("kubeconfig exec plugin %s: no status.token in its ExecCredential", command)
		}
		token, until = cred.Status.Token, time.Now().Add(time.Minute)
		if !cred.Status.ExpirationTimestamp.IsZero() {
			until = cred.Status.ExpirationTimestamp.Add(-10 * time.Second)
		}
		return token, nil
	}
}

// Do sends one request to path (which carries its query) with body of contentType (empty: no
// body) and decodes a 2xx answer into out (nil: discarded). Any other answer is a *StatusError
// carrying the API server's message.
func (c *Client) Do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.Server+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != nil {
		tok, err := c.token(ctx)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		se := &StatusError{Code: resp.StatusCode, Method: method, Path: path}
		var st metav1.Status
		if json.Unmarshal(b, &st) == nil && st.Kind == "Status" {
			se.Reason, se.Message = string(st.Reason), st.Message
		} else {
			se.Reason = strings.TrimSpace(string(b))
		}
		return se
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// Get reads path into out. A read the API server cannot serve yet (503, as while a new CRD's
// storage initialises, or 429) is retried for a few seconds.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := c.Do(ctx, http.MethodGet, path, "", nil, out)
		if code := codeOf(err); (code != http.StatusServiceUnavailable && code != http.StatusTooManyRequests) || attempt == 6 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// Resource is where objects of one kind live.
type Resource struct {
	// APIVersion is group/version ("v1" for the core group).
	APIVersion string
	// Name is the plural resource name ("backendtlspolicies").
	Name string
	// Namespaced is whether objects of the kind live in a namespace.
	Namespaced bool
}

// Path is the URL path of the object ns/name of r (name empty: the collection; ns empty for a
// namespaced kind: the collection across namespaces).
func (r Resource) Path(ns, name string) string {
	p := "/apis/" + r.APIVersion
	if !strings.Contains(r.APIVersion, "/") {
		p = "/api/" + r.APIVersion
	}
	if r.Namespaced && ns != "" {
		p += "/namespaces/" + url.PathEscape(ns)
	}
	p += "/" + r.Name
	if name != "" {
		p += "/" + url.PathEscape(name)
	}
	return p
}

// ErrNoKind is returned by Resource when the API server serves no such kind (its CRD is not
// installed or not yet established).
var ErrNoKind = errors.New("the API server serves no such kind")

// Resource finds apiVersion/kind by discovery (cached; asked again on a miss, since a CRD may
// have been established since).
func (c *Client) Resource(ctx context.Context, apiVersion, kind string) (Resource, error) {
	for attempt := 0; attempt < 2; attempt++ {
		c.mu.Lock()
		list, ok := c.discovery[apiVersion]
		c.mu.Unlock()
		if !ok || attempt == 1 {
			var l metav1.APIResourceList
			path := "/apis/" + apiVersion
			if !strings.Contains(apiVersion, "/") {
				path = "/api/" + apiVersion
			}
			if err := c.Get(ctx, path, &l); err != nil && !IsNotFound(err) {
				return Resource{}, fmt.Errorf("discovery of %s: %w", apiVersion, err)
			}
			list = l.APIResources
			c.mu.Lock()
			c.discovery[apiVersion] = list
			c.mu.Unlock()
		}
		for _, r := range list {
			if r.Kind == kind && !strings.Contains(r.Name, "/") {
				return Resource{APIVersion: apiVersion, Name: r.Name, Namespaced: r.Namespaced}, nil
			}
		}
	}
	return Resource{}, fmt.Errorf("%s %s: %w", apiVersion, kind, ErrNoKind)
}

// Object is the identity of a manifest: what Apply and Create need to address it.
type Object struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace,omitempty"`
	} `json:"metadata"`
}

// Identify reads the identity of a YAML or JSON manifest.
func Identify(manifest []byte) (Object, error) {
	var o Object
	if err := yaml.Unmarshal(manifest, &o); err != nil {
		return o, fmt.Errorf("manifest: %w", err)
	}
	if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
		return o, fmt.Errorf("manifest without apiVersion, kind or metadata.name")
	}
	return o, nil
}

// String is "Kind ns/name" (or "Kind name" for a cluster-scoped object).
func (o Object) String() string {
	if o.Metadata.Namespace == "" {
		return o.Kind + " " + o.Metadata.Name
	}
	return o.Kind + " " + o.Metadata.Namespace + "/" + o.Metadata.Name
}

// ApplyOptions are the parameters of a server-side apply.
type ApplyOptions struct {
	// FieldManager owns the applied fields (required by the API server).
	FieldManager string
	// DryRun asks the API server to validate and admit the object as if it were applied, and to
	// persist nothing.
	DryRun bool
}

// Apply server-side applies one YAML or JSON manifest (forcing conflicts) and returns the
// object's identity. A namespaced object without a namespace goes to "default".
func (c *Client) Apply(ctx context.Context, manifest []byte, opts ApplyOptions) (Object, error) {
	o, err := Identify(manifest)
	if err != nil {
		return o, err
	}
	r, err := c.Resource(ctx, o.APIVersion, o.Kind)
	if err != nil {
		return o, err
	}
	ns := o.Metadata.Namespace
	if r.Namespaced && ns == "" {
		ns = "default"
	}
	q := url.Values{"fieldManager": {opts.FieldManager}, "force": {"true"}}
	if opts.DryRun {
		q.Set("dryRun", "All")
	}
	err = c.Do(ctx, http.MethodPatch, r.Path(ns, o.Metadata.Name)+"?"+q.Encode(), "application/apply-patch+yaml", manifest, nil)
	if err != nil {
		return o, fmt.Errorf("%s: %w", o, err)
	}
	return o, nil
}

// Delete deletes the object ns/name of kind apiVersion/kind; a missing object is not an error.
func (c *Client) Delete(ctx context.Context, apiVersion, kind, ns, name string) error {
	r, err := c.Resource(ctx, apiVersion, kind)
	if err != nil {
		return err
	}
	if err := c.Do(ctx, http.MethodDelete, r.Path(ns, name), "", nil, nil); err != nil && !IsNotFound(err) {
		return fmt.Errorf("delete %s %s/%s: %w", kind, ns, name, err)
	}
	return nil
}

// EnsureNamespace creates namespace ns unless it exists.
func (c *Client) EnsureNamespace(ctx context.Context, ns string) error {
	body, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}})
	if err := c.Do(ctx, http.MethodPost, "/api/v1/namespaces", "application/json", body, nil); err != nil && !IsConflict(err) {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	return nil
}
