package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/cluster"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// Wire is what one request through the Gateway to a backend showed on the wire: what the
// backend's echo server saw (whether the request reached it over TLS, the SNI, the client
// certificate Envoy presented) or what Envoy answered instead, held against the backend's
// posture.
type Wire struct {
	Backend string
	Mode    spec.Mode
	// URL is the request sent (to Envoy's listener on this host, with the route's hostname as
	// SNI and Host).
	URL string
	// Status is the HTTP status Envoy returned; 0 when no response came.
	Status int
	// Echoed is true when the answer is the backend's echo server's (its JSON), false when
	// Envoy answered itself (an upstream error) or something else did.
	Echoed bool
	// TLS is the TLS version the backend saw ("" for plain text); SNI the server name it
	// received; ClientCert the subject of the certificate Envoy presented ("" for none).
	TLS, SNI, ClientCert string
	// Detail is Envoy's own answer when the echo server did not answer (its first line).
	Detail string
	// PlainToTLSPort is true when Envoy reached the backend's TLS port in plain text: the
	// backend's TLS server refused the request as a plain-text one (tls=plain-to-tls).
	PlainToTLSPort bool
	// Problems are the differences from the posture; none is OK.
	Problems []string
}

// OK reports whether the wire agrees with the posture.
func (w Wire) OK() bool { return len(w.Problems) == 0 }

func (w Wire) String() string {
	verdict := "OK"
	if !w.OK() {
		verdict = "MISMATCH(" + strings.Join(w.Problems, "; ") + ")"
	}
	tlsv, sni, cc := orNone(w.TLS, "plain"), orNone(w.SNI, "none"), orNone(w.ClientCert, "none")
	if !w.Echoed {
		tlsv, sni, cc = "-", "-", "-"
	}
	if w.PlainToTLSPort {
		tlsv = "plain-to-tls"
	}
	line := fmt.Sprintf("wire: %-16s %-8s status=%d tls=%s sni=%s client-cert=%s %s", w.Backend, w.Mode, w.Status, tlsv, sni, cc, verdict)
	if w.Detail != "" {
		line += " envoy: " + w.Detail
	}
	return line
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

// echoReply is the part of Gateway API's echo server's JSON answer read here.
type echoReply struct {
	Service string `json:"service"`
	Pod     string `json:"pod"`
	TLS     *struct {
		Version          string   `json:"version"`
		ServerName       string   `json:"serverName"`
		PeerCertificates []string `json:"peerCertificates"`
	} `json:"tls"`
}

// Live sends one GET of the route's path prefix through the local cluster in dir's Envoy proxy to every backend's route
// of plan p (to 127.0.0.1 at the listener's container port, where the cluster's host runs the
// proxy: see cluster.Workload) and holds what comes back against each backend's posture:
//
//   - a backend reached over TLS (system, ca, insecure) answers through Envoy (200, from its
//     echo server), which saw TLS with the posture's SNI;
//   - a backend reached in plain text answers and saw no TLS;
//   - a workload that verifies client certificates (deploy.verifyClientCertificate) received
//     the one the gateway presents (a server sees one only when it asks for it).
//
// The downstream hop (client to Envoy) is not what is checked: its certificate is not
// verified here.
func Live(ctx context.Context, p *plan.Plan, dir string) ([]Wire, error) {
	ws, err := cluster.ReadWorkloads(dir)
	if err != nil {
		return nil, fmt.Errorf("the local cluster's workloads (make cluster runs them): %w", err)
	}
	admin := 0
	for _, w := range ws.Workloads {
		if w.Kind == "proxy" && w.State == "running" {
			admin = w.Ports["admin"]
		}
	}
	if admin == 0 {
		return nil, fmt.Errorf("no Envoy proxy runs on the local cluster in %s (the controller creates it for the Gateway; see %s/workloads/status.json and %s/logs)", dir, dir, dir)
	}
	listeners := map[string]spec.ListenerArgs{}
	for _, l := range p.Args.Gateway.Listeners {
		listeners[l.Name] = l
	}
	routes := map[string]*spec.RouteArgs{}
	for i := range p.Args.Backends {
		routes[p.Args.Backends[i].Name] = p.Args.Backends[i].Route
	}
	var out []Wire
	for _, be := range p.Envoy.Backends {
		r := routes[be.Name]
		if r == nil {
			continue
		}
		w := Wire{Backend: be.Name, Mode: be.Mode}
		l, ok := listeners[r.Listener]
		if !ok && r.Listener == "" && len(p.Args.Gateway.Listeners) > 0 {
			l, ok = p.Args.Gateway.Listeners[0], true
		}
		if !ok {
			w.Problems = append(w.Problems, fmt.Sprintf("route listener %q is not a listener of the Gateway", r.Listener))
			out = append(out, w)
			continue
		}
		host := "live.invalid"
		if len(r.Hostnames) > 0 {
			host = strings.Replace(r.Hostnames[0], "*", "live", 1)
		}
		prefix := routeClusters(be)
		before := envoyCounters(ctx, admin, prefix)
		w.request(ctx, host, r.PathPrefix, l)
		if !w.Echoed {
			w.explain(envoyCounters(ctx, admin, prefix), before)
		}
		w.judge(be)
		out = append(out, w)
	}
	return out, nil
}

// request sends the request and reads the answer into w.
func (w *Wire) request(ctx context.Context, host, path string, l spec.ListenerArgs) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(envoy.ContainerPort(l.Port)))
	scheme := "http"
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
		},
		DisableKeepAlives: true,
	}
	if strings.EqualFold(l.Protocol, "HTTPS") {
		scheme = "https"
		tr.TLSClientConfig = &tls.Config{ServerName: strings.TrimSuffix(host, "."), InsecureSkipVerify: true} //nolint:gosec // the downstream hop is not what is verified
	}
	w.URL = fmt.Sprintf("%s://%s%s (via %s)", scheme, host, path, addr)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+host+path, nil)
	if err != nil {
		w.Detail = err.Error()
		return
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		w.Detail = "no answer: " + err.Error()
		return
	}
	defer resp.Body.Close()
	w.Status = resp.StatusCode
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var e echoReply
	if json.Unmarshal(body, &e) == nil && e.Pod != "" {
		w.Echoed = true
		if e.TLS != nil {
			w.TLS, w.SNI = e.TLS.Version, e.TLS.ServerName
			if len(e.TLS.PeerCertificates) > 0 {
				w.ClientCert = subject(e.TLS.PeerCertificates[0])
			}
		}
		return
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	w.Detail = first
	if strings.Contains(first, plainToTLS) {
		// Go's TLS server (the echo server's HTTPS port) answers a plain-text request so.
		w.PlainToTLSPort = true
		w.Detail = fmt.Sprintf("Envoy sent plain text to the backend's TLS port (the backend answered %q)", first)
	}
}

// plainToTLS is what a Go HTTPS server, as the echo server, answers a plain-text request with
// (net/http, "Client sent an HTTP request to an HTTPS server.").
const plainToTLS = "Client sent an HTTP request to an HTTPS server"

// subject is the subject of the PEM certificate pem, or what is wrong with it.
func subject(p string) string {
	b, _ := pem.Decode([]byte(p))
	if b == nil {
		return "unreadable"
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return "unreadable"
	}
	return c.Subject.String()
}

// judge holds the wire against the backend's posture.
func (w *Wire) judge(be envoy.Backend) {
	eff := be.Posture.Effective
	if w.PlainToTLSPort {
		if eff.Encrypted() {
			w.Problems = append(w.Problems, "the posture says "+string(eff)+" but Envoy reached the backend in plain text")
		} else {
			w.Problems = append(w.Problems, "Envoy sends plain text to a port that serves TLS")
		}
		return
	}
	if !w.Echoed {
		why := "the backend's echo server did not answer"
		if w.Status != 0 {
			why += fmt.Sprintf(" (Envoy answered %d)", w.Status)
		}
		w.Problems = append(w.Problems, why)
		return
	}
	if w.Status != http.StatusOK {
		w.Problems = append(w.Problems, fmt.Sprintf("status %d", w.Status))
	}
	switch {
	case eff.Encrypted() && w.TLS == "":
		w.Problems = append(w.Problems, "the posture says "+string(eff)+" but the backend was reached in plain text")
	case !eff.Encrypted() && eff != core.EffectiveMixed && w.TLS != "":
		w.Problems = append(w.Problems, "the posture says plain text but the backend saw "+w.TLS)
	}
	if eff.Encrypted() && be.Posture.SNI != "" && w.TLS != "" && w.SNI != be.Posture.SNI {
		w.Problems = append(w.Problems, fmt.Sprintf("SNI %q, the posture says %q", w.SNI, be.Posture.SNI))
	}
	// A TLS server sees a client certificate only when it asks for one: a workload that
	// verifies client certificates does.
	if be.VerifiesClientCertificate && be.ClientCertificate != envoy.NoClientCertificate && w.TLS != "" && w.ClientCert == "" {
		w.Problems = append(w.Problems, "no client certificate reached the backend, the posture says "+be.ClientCertificate)
	}
}

// routeClusters is the stats prefix of the Envoy clusters Envoy Gateway makes for the
// backend's route (`httproute/<namespace>/<name>/rule/<n>`), or "" when the plan has no route.
func routeClusters(be envoy.Backend) string {
	for _, o := range be.Objects {
		switch kind := o.Resource.GroupVersionKind().Kind; kind {
		case "HTTPRoute", "GRPCRoute":
			return "cluster." + strings.ToLower(kind) + "/" + o.Resource.GetNamespace() + "/" + o.Resource.GetName() + "/rule/"
		}
	}
	return ""
}

// upstreamCounters are the Envoy cluster counters that say why an upstream connection failed,
// and what each means.
var upstreamCounters = []struct{ name, means string }{
	{"ssl.fail_verify_error", "Envoy refused the backend's certificate: it does not chain to the CA it verifies with"},
	{"ssl.fail_verify_san", "Envoy refused the backend's certificate: it does not name the verified hostname"},
	{"ssl.fail_verify_no_cert", "the backend presented no certificate"},
	{"ssl.connection_error", "the TLS handshake with the backend failed"},
	{"upstream_cx_connect_fail", "Envoy could not connect to the backend"},
	{"upstream_cx_none_healthy", "no endpoint of the backend is ready (no pod of it runs)"},
}

// envoyCounters reads the upstreamCounters of the clusters under prefix from the proxy's
// admin listener on port, summed over the clusters; nil when they cannot be read.
func envoyCounters(ctx context.Context, port int, prefix string) map[string]int {
	if prefix == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/stats?usedonly&filter=%s", port, "^"+regexpQuote(prefix)), nil)
	if err != nil {
		return nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	out := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			continue
		}
		for _, c := range upstreamCounters {
			if strings.HasSuffix(name, "."+c.name) {
				out[c.name] += n
			}
		}
	}
	return out
}

func regexpQuote(s string) string {
	r := strings.NewReplacer(".", `\.`, "/", "/")
	return r.Replace(s)
}

// explain adds to Detail what Envoy's counters say of the failed request: the first of
// upstreamCounters that grew.
func (w *Wire) explain(after, before map[string]int) {
	for _, c := range upstreamCounters {
		if after[c.name] > before[c.name] {
			why := c.means + " (" + c.name + ")"
			if w.Detail == "" {
				w.Detail = why
			} else {
				w.Detail += "; " + why
			}
			return
		}
	}
}
