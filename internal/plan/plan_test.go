package plan_test

import (
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
	"testing"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// testCA is a real CA certificate generated once per test binary.
var testCA = func() *pki.Bundle {
	b, err := pki.Generate(pki.Request{CommonName: "test", DNSNames: []string{"test.apps.svc"}, WithCA: true}, time.Now())
	if err != nil {
		panic(err)
	}
	return b
}()

func backend(name string, mode spec.Mode) spec.BackendArgs {
	b := spec.BackendArgs{Name: name, Service: &spec.ServiceArgs{}, Deploy: &spec.DeployArgs{}, Route: &spec.RouteArgs{}, TLS: spec.TLSArgs{Mode: mode}}
	switch mode {
	case spec.ModeCA:
		b.TLS.CA = &spec.CAArgs{Generate: true}
	case spec.ModeSystem:
		b.Deploy.CertificateSecret = name + "-public-tls"
		b.TLS.Hostname = name + ".example.com"
	}
	return b
}

// existing is a backend on an existing Service with a valid CA source (mode ca) or host name
// (mode system).
func existing(name string, mode spec.Mode) spec.BackendArgs {
	b := spec.BackendArgs{Name: name, Service: &spec.ServiceArgs{Existing: true}, TLS: spec.TLSArgs{Mode: mode}}
	switch mode {
	case spec.ModeCA:
		b.TLS.CA = &spec.CAArgs{ConfigMap: name + "-ca"}
	case spec.ModeSystem:
		b.TLS.Hostname = name + ".example.com"
	}
	return b
}

// modeEffective is what each mode must produce.
var modeEffective = map[spec.Mode]core.Effective{spec.ModeSystem: core.EffectiveSystem, spec.ModeCA: core.EffectiveCA, spec.ModeInsecure: core.EffectiveInsecure}

// Test CAs that can never verify, made with real crypto.
var (
	expiredCA = mustCA(pki.Request{CommonName: "expired", DNSNames: []string{"x"}, WithCA: true, ValidFor: time.Hour}, time.Now().Add(-48*time.Hour))
	futureCA  = mustCA(pki.Request{CommonName: "future", DNSNames: []string{"x"}, WithCA: true}, time.Now().Add(48*time.Hour))
	// noSignCA and constrainedCA are made with the x509 package directly (pki only issues
	// well-formed CAs).
	noSignCA      = selfSignedCA(x509.KeyUsageDigitalSignature, nil)
	constrainedCA = selfSignedCA(x509.KeyUsageCertSign, []string{".corp.example"})
)

func mustCA(req pki.Request, now time.Time) *pki.Bundle {
	b, err := pki.Generate(req, now)
	if err != nil {
		panic(err)
	}
	return b
}

func selfSignedCA(usage x509.KeyUsage, permitted []string) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: usage, BasicConstraintsValid: true, IsCA: true,
		PermittedDNSDomains: permitted, PermittedDNSDomainsCritical: len(permitted) > 0,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func args(bs ...spec.BackendArgs) spec.Args {
	return spec.Args{EnvoyGateway: &spec.EnvoyGatewayArgs{}, Gateway: &spec.GatewayArgs{}, Backends: bs}
}

func TestBuildModes(t *testing.T) {
	for _, tc := range []struct {
		mode       spec.Mode
		verified   bool
		wantKinds  []string
		wantAbsent []string
	}{
		{spec.ModeSystem, true, []string{"Deployment", "Service", "BackendTLSPolicy", "HTTPRoute"}, []string{"Backend", "ConfigMap", "Secret"}},
		{spec.ModeCA, true, []string{"Secret", "Deployment", "Service", "ConfigMap", "BackendTLSPolicy", "HTTPRoute"}, []string{"Backend"}},
		{spec.ModeInsecure, false, []string{"Secret", "Deployment", "Service", "Backend", "HTTPRoute"}, []string{"BackendTLSPolicy", "ConfigMap"}},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			p, err := plan.Build(args(backend("api", tc.mode)))
			if err != nil {
				t.Fatal(err)
			}
			be := p.Envoy.Backends[0]
			if be.Verified() != tc.verified || be.Mode != tc.mode {
				t.Errorf("mode %s verified %v, want %s %v", be.Mode, be.Verified(), tc.mode, tc.verified)
			}
			kinds := map[string]bool{}
			for _, o := range be.Objects {
				kinds[o.Kind()] = true
			}
			for _, k := range tc.wantKinds {
				if !kinds[k] {
					t.Errorf("missing %s in %v", k, kinds)
				}
			}
			for _, k := range tc.wantAbsent {
				if kinds[k] {
					t.Errorf("unexpected %s", k)
				}
			}
			if got, want := p.Envoy.Install.EnableBackend, tc.mode == spec.ModeInsecure; got != want {
				t.Errorf("EnableBackend = %v, want %v", got, want)
			}
			want := "api.gateway.svc"
			if tc.mode == spec.ModeSystem {
				want = "api.example.com"
			}
			if be.Hostname != want {
				t.Errorf("hostname %q, want %s", be.Hostname, want)
			}
			if got := be.Posture.Effective; got != modeEffective[tc.mode] || be.Posture.SNI != want {
				t.Errorf("derived posture %+v, want %s with SNI %s", be.Posture, modeEffective[tc.mode], want)
			}
		})
	}
}

func TestEnableBackendExplicit(t *testing.T) {
	on := true
	a := args(backend("api", spec.ModeSystem))
	a.EnvoyGateway.EnableBackend = &on
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Envoy.Install.EnableBackend {
		t.Error("enableBackend: true was ignored")
	}
}

func TestBuildDoesNotMutateInput(t *testing.T) {
	a := args(backend("api", spec.ModeCA))
	if _, err := plan.Build(a); err != nil {
		t.Fatal(err)
	}
	if a.Backends[0].Namespace != "" || a.Gateway.Name != "" || a.Backends[0].TLS.Hostname != "" {
		t.Errorf("Build wrote defaults into its input: %+v", a)
	}
}

func TestProductionAllowInsecureWarns(t *testing.T) {
	a := args(backend("legacy", spec.ModeInsecure))
	a.Environment = spec.EnvironmentProduction
	a.AllowInsecureBackends = true
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "legacy") {
		t.Errorf("warnings = %q, want one about legacy", p.Warnings)
	}
}

// TestBadInput: every invalid configuration fails with the field and the fix, and plans nothing.
func TestBadInput(t *testing.T) {
	off := false
	leaf, err := pki.Generate(pki.Request{CommonName: "leaf", DNSNames: []string{"leaf"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		mutate    func(a *spec.Args)
		field     string
		inMessage string
	}{
		{"insecure in production", func(a *spec.Args) {
			a.Environment = spec.EnvironmentProduction
			a.Backends[0].TLS = spec.TLSArgs{Mode: spec.ModeInsecure}
		}, "backends[0].tls.mode", "refused in a production environment"},
		{"unknown environment", func(a *spec.Args) { a.Environment = "prod" }, "environment", `unknown environment "prod"`},
		{"unknown mode", func(a *spec.Args) { a.Backends[0].TLS.Mode = "skip" }, "backends[0].tls.mode", `unknown TLS mode "skip"`},
		{"missing mode", func(a *spec.Args) { a.Backends[0].TLS = spec.TLSArgs{} }, "backends[0].tls.mode", "has no TLS mode"},
		{"malformed PEM", func(a *spec.Args) { a.Backends[0].TLS.CA = &spec.CAArgs{PEM: "not a certificate"} }, "backends[0].tls.ca.pem", "is not PEM"},
		{"truncated PEM", func(a *spec.Args) {
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
		}, "backends[0].tls.ca.pem", "not a valid X.509 certificate"},
		{"non-CA PEM", func(a *spec.Args) {
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: leaf.CertPEM}
			a.Backends[0].Deploy.CertificateSecret = "x"
		}, "backends[0].tls.ca.pem", "is not a CA"},
		{"private key in PEM", func(a *spec.Args) {
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: testCA.CACertPEM + leaf.KeyPEM}
			a.Backends[0].Deploy.CertificateSecret = "x"
		}, "backends[0].tls.ca.pem", "never put private keys"},
		{"two CA sources", func(a *spec.Args) {
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: testCA.CACertPEM, ConfigMap: "ca"}
		}, "backends[0].tls.ca", "sets pem and configMap at once"},
		{"no CA source", func(a *spec.Args) { a.Backends[0].TLS.CA = &spec.CAArgs{} }, "backends[0].tls.ca", "no CA source"},
		{"ca mode without ca", func(a *spec.Args) { a.Backends[0].TLS.CA = nil }, "backends[0].tls.ca", "mode ca needs a CA"},
		{"wildcard hostname", func(a *spec.Args) { a.Backends[0].TLS.Hostname = "*.example.com" }, "backends[0].tls.hostname", "wildcard"},
		{"IP hostname", func(a *spec.Args) { a.Backends[0].TLS.Hostname = "10.0.0.1" }, "backends[0].tls.hostname", "IP address"},
		{"upper-case hostname", func(a *spec.Args) { a.Backends[0].TLS.Hostname = "API.example.com" }, "backends[0].tls.hostname", `"api.example.com"`},
		{"duplicate backend", func(a *spec.Args) { a.Backends = append(a.Backends, a.Backends[0]) }, "backends[1].name", "already used by backends[0]"},
		{"tls port does not exist", func(a *spec.Args) { a.Backends[0].TLS.Ports = []string{"grpc"} }, "backends[0].tls.ports[0]", `no port named "grpc"`},
		{"route port does not exist", func(a *spec.Args) { a.Backends[0].Route.Port = "web" }, "backends[0].route.port", `no port named "web"`},
		{"unknown route kind", func(a *spec.Args) { a.Backends[0].Route.Kind = "Ingress" }, "backends[0].route.kind", "unknown route kind"},
		{"listener bad protocol", func(a *spec.Args) {
			a.Gateway.Listeners = []spec.ListenerArgs{{Name: "tcp", Protocol: "TCP", Port: 9000}}
		}, "gateway.listeners[0].protocol", `unsupported protocol "TCP"`},
		{"listener bad port", func(a *spec.Args) {
			a.Gateway.Listeners = []spec.ListenerArgs{{Name: "http", Protocol: "HTTP", Port: 70000}}
		}, "gateway.listeners[0].port", "out of range"},
		{"listener bad name", func(a *spec.Args) {
			a.Gateway.Listeners = []spec.ListenerArgs{{Name: "Web_1", Protocol: "HTTP", Port: 80}}
		}, "gateway.listeners[0].name", "not a DNS label"},
		{"listener duplicate name", func(a *spec.Args) {
			a.Gateway.Listeners = []spec.ListenerArgs{{Name: "web", Protocol: "HTTP", Port: 80}, {Name: "web", Protocol: "HTTPS", Port: 443}}
		}, "gateway.listeners[1].name", "used twice"},
		{"listener protocol clash", func(a *spec.Args) {
			a.Gateway.Listeners = []spec.ListenerArgs{{Name: "a", Protocol: "HTTP", Port: 8080}, {Name: "b", Protocol: "HTTPS", Port: 8080}}
		}, "gateway.listeners[1].port", "Conflicted"},
		{"HTTP listener with certificate", func(a *spec.Args) {
			a.Gateway.Listeners = []spec.ListenerArgs{{Name: "web", Protocol: "HTTP", Port: 80, CertificateSecret: "tls"}}
		}, "gateway.listeners[0].certificateSecret", "plain HTTP"},
		{"route to missing listener", func(a *spec.Args) { a.Backends[0].Route.Listener = "grpc" }, "backends[0].route.listener", `no listener "grpc"`},
		{"system with generated cert", func(a *spec.Args) {
			a.Backends[0].TLS = spec.TLSArgs{Mode: spec.ModeSystem}
		}, "backends[0].deploy.certificateSecret", "no public CA issued"},
		{"generated CA for existing service", func(a *spec.Args) { a.Backends[0].Service.Existing = true }, "backends[0].tls.ca.generate", "service.existing is true"},
		{"enableBackend false with insecure", func(a *spec.Args) {
			a.Backends[0].TLS = spec.TLSArgs{Mode: spec.ModeInsecure}
			a.EnvoyGateway.EnableBackend = &off
		}, "envoyGateway.enableBackend", "Backend is disabled"},
		{"too many SANs", func(a *spec.Args) {
			a.Backends[0].TLS.SubjectAltNames = []string{"a", "b", "c", "d", "e", "f"}
		}, "backends[0].tls.subjectAltNames", "at most 5"},
		{"bad backend name", func(a *spec.Args) { a.Backends[0].Name = "My API" }, "backends[0].name", "not a DNS label"},
		{"no backends", func(a *spec.Args) { a.Backends = nil }, "backends", "no backends"},
		{"unnamed port", func(a *spec.Args) { a.Backends[0].Service.Ports = []spec.PortArgs{{Port: 443}} }, "backends[0].service.ports[0].name", "port name is required"},

		// Issue 9: the posture never lies.
		{"route port outside tls.ports", func(a *spec.Args) {
			a.Backends[0].Service.Ports = []spec.PortArgs{{Name: "https", Port: 443}, {Name: "http", Port: 80}}
			a.Backends[0].TLS.Ports = []string{"https"}
			a.Backends[0].Route.Port = "http"
		}, "backends[0].route.port", "plain text"},
		{"default route port outside tls.ports", func(a *spec.Args) {
			a.Backends[0].Service.Ports = []spec.PortArgs{{Name: "http", Port: 80}, {Name: "https", Port: 443}}
			a.Backends[0].TLS.Ports = []string{"https"}
		}, "backends[0].route.port", `port "http", which is not in tls.ports`},
		{"two backends on one existing Service port", func(a *spec.Args) {
			a.Backends = []spec.BackendArgs{existing("a", spec.ModeCA), existing("b", spec.ModeSystem)}
			a.Backends[1].Service.Name = "a"
		}, "backends[1].service.name", `already gets a BackendTLSPolicy from backends[0] ("a")`},
		{"two deployed backends on one Service", func(a *spec.Args) {
			b := backend("b", spec.ModeCA)
			b.Service.Name = "api"
			a.Backends = append(a.Backends, b)
		}, "backends[1].service.name", "already gets a BackendTLSPolicy"},
		{"system with the in-cluster default hostname", func(a *spec.Args) {
			a.Backends[0] = existing("api", spec.ModeSystem)
			a.Backends[0].TLS.Hostname = ""
		}, "backends[0].tls.hostname", "no public CA certifies"},
		{"system with an explicit in-cluster hostname in production", func(a *spec.Args) {
			a.Environment = spec.EnvironmentProduction
			a.Backends[0] = existing("api", spec.ModeSystem)
			a.Backends[0].TLS.Hostname = "api.apps.svc.cluster.local"
		}, "backends[0].tls.hostname", "allowInClusterHostname"},
		{"in-cluster opt-out outside system", func(a *spec.Args) { a.Backends[0].TLS.AllowInClusterHostname = true }, "backends[0].tls.allowInClusterHostname", "only applies to mode system"},
		{"expired CA", func(a *spec.Args) {
			a.Backends[0] = existing("api", spec.ModeCA)
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: expiredCA.CACertPEM}
		}, "backends[0].tls.ca.pem", "expired on"},
		{"not yet valid CA", func(a *spec.Args) {
			a.Backends[0] = existing("api", spec.ModeCA)
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: futureCA.CACertPEM}
		}, "backends[0].tls.ca.pem", "is not valid before"},
		{"route hostname outside the listener's", func(a *spec.Args) {
			a.Gateway.Listeners = []spec.ListenerArgs{{Name: "https", Protocol: "HTTPS", Port: 443, Hostname: "*.example.com"}}
			a.Backends[0].Route.Hostnames = []string{"api.example.org"}
		}, "backends[0].route.hostnames[0]", "would never attach"},
		{"route hostname outside the named listener's", func(a *spec.Args) {
			a.Gateway.Listeners = []spec.ListenerArgs{{Name: "a", Protocol: "HTTPS", Port: 443, Hostname: "a.example.com"}, {Name: "b", Protocol: "HTTPS", Port: 443, Hostname: "b.example.com"}}
			a.Backends[0].Route.Listener = "a"
			a.Backends[0].Route.Hostnames = []string{"b.example.com"}
		}, "backends[0].route.hostnames[0]", `listener "a" (a.example.com)`},
		{"several CA sources", func(a *spec.Args) { a.Backends[0].TLS.CA = &spec.CAArgs{PEM: testCA.CACertPEM, Generate: true} },
			"backends[0].tls.ca", "up to 8 caCertificateRefs"},

		// Issue 10: a container port name must be an IANA service name.
		{"port name all digits", func(a *spec.Args) { a.Backends[0].Service.Ports = []spec.PortArgs{{Name: "8443", Port: 443}} }, "backends[0].service.ports[0].name", "at least one letter"},
		{"port name with --", func(a *spec.Args) { a.Backends[0].Service.Ports = []spec.PortArgs{{Name: "a--b", Port: 443}} }, "backends[0].service.ports[0].name", "IANA service name"},
		{"port name too long", func(a *spec.Args) { a.Backends[0].Service.Ports = []spec.PortArgs{{Name: "https-backend-port", Port: 443}} }, "backends[0].service.ports[0].name", "at most 15"},

		// Issue 11: refused at preview.
		{"port listed twice in tls.ports", func(a *spec.Args) { a.Backends[0].TLS.Ports = []string{"https", "https"} }, "backends[0].tls.ports[1]", "listed twice"},
		{"two Service ports with one number", func(a *spec.Args) {
			a.Backends[0].Service.Ports = []spec.PortArgs{{Name: "https", Port: 443}, {Name: "alt", Port: 443}}
		}, "backends[0].service.ports[1].port", "already Service port"},
		{"replicas beyond int32", func(a *spec.Args) { a.Backends[0].Deploy.Replicas = 1 << 31 }, "backends[0].deploy.replicas", "out of range"},
		{"negative replicas", func(a *spec.Args) { a.Backends[0].Deploy.Replicas = -1 }, "backends[0].deploy.replicas", "out of range"},
		{"image with spaces", func(a *spec.Args) { a.Backends[0].Deploy.Image = "registry.example.com/app:1 " }, "backends[0].deploy.image", "white space"},
		{"image with upper-case repository", func(a *spec.Args) { a.Backends[0].Deploy.Image = "registry.example.com/Team/App:1" }, "backends[0].deploy.image", "not a valid image reference"},
		{"image with a bad tag", func(a *spec.Args) { a.Backends[0].Deploy.Image = "app:-bad" }, "backends[0].deploy.image", "not a valid image reference"},
		{"path prefix with //", func(a *spec.Args) { a.Backends[0].Route.PathPrefix = "/api//v1" }, "backends[0].route.pathPrefix", "must not contain '//'"},
		{"path prefix with #", func(a *spec.Args) { a.Backends[0].Route.PathPrefix = "/api#x" }, "backends[0].route.pathPrefix", "must not contain '#'"},
		{"path prefix too long", func(a *spec.Args) { a.Backends[0].Route.PathPrefix = "/" + strings.Repeat("a", 1024) }, "backends[0].route.pathPrefix", "at most 1024"},
		{"path prefix with a space", func(a *spec.Args) { a.Backends[0].Route.PathPrefix = "/a b" }, "backends[0].route.pathPrefix", "valid characters"},
		{"too many route hostnames", func(a *spec.Args) {
			for i := range 17 {
				a.Backends[0].Route.Hostnames = append(a.Backends[0].Route.Hostnames, fmt.Sprintf("h%d.example.com", i))
			}
		}, "backends[0].route.hostnames", "at most 16"},
		{"too many listeners", func(a *spec.Args) {
			a.Gateway.Listeners = nil
			for i := range 65 {
				a.Gateway.Listeners = append(a.Gateway.Listeners, spec.ListenerArgs{Name: fmt.Sprintf("l%d", i), Protocol: "HTTP", Port: 8000 + i})
			}
		}, "gateway.listeners", "at most 64"},
		{"chart version Helm cannot resolve", func(a *spec.Args) { a.EnvoyGateway = &spec.EnvoyGatewayArgs{Version: "v1.9"} }, "envoyGateway.version", "not a chart version"},
		{"listeners meeting on one proxy port", func(a *spec.Args) {
			a.Gateway.Listeners = []spec.ListenerArgs{{Name: "http", Protocol: "HTTP", Port: 80}, {Name: "alt", Protocol: "HTTP", Port: 10080}}
		}, "gateway.listeners[1].port", `both end on port 10080`},
		{"listener on the proxy's admin port", func(a *spec.Args) {
			a.Gateway.Listeners = []spec.ListenerArgs{{Name: "http", Protocol: "HTTP", Port: 19000}}
		}, "gateway.listeners[0].port", "admin"},
		{"listener on the proxy's readiness port", func(a *spec.Args) {
			a.Gateway.Listeners = []spec.ListenerArgs{{Name: "http", Protocol: "HTTP", Port: 9003}, {Name: "ready", Protocol: "HTTP", Port: 19003}}
		}, "gateway.listeners[1].port", "readiness"},
		{"CA without certificate signing", func(a *spec.Args) {
			a.Backends[0] = existing("api", spec.ModeCA)
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: noSignCA}
		}, "backends[0].tls.ca.pem", "keyCertSign"},
		{"CA whose name constraints exclude the hostname", func(a *spec.Args) {
			a.Backends[0] = existing("api", spec.ModeCA)
			a.Backends[0].TLS.Hostname = "api.example.org"
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: constrainedCA}
		}, "backends[0].tls.ca.pem", "name constraints"},
		{"deploy for an existing Service", func(a *spec.Args) {
			a.Backends[0] = existing("api", spec.ModeCA)
			a.Backends[0].Deploy = &spec.DeployArgs{Replicas: 2}
		}, "backends[0].deploy", "service.existing is true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := args(backend("api", spec.ModeCA))
			tc.mutate(&a)
			p, err := plan.Build(a)
			if err == nil {
				t.Fatalf("Build succeeded, want an error on %s", tc.field)
			}
			if p != nil {
				t.Error("a plan was returned with the error")
			}
			requireProblem(t, err, tc.field, tc.inMessage)
			if !strings.Contains(err.Error(), tc.field+": ") {
				t.Errorf("message does not name the field: %v", err)
			}
		})
	}
}

// requireProblem fails t unless err is a *core.ValidationError with a problem on field whose
// problem or fix mentions inMessage, and which has a fix.
func requireProblem(t *testing.T, err error, field, inMessage string) {
	t.Helper()
	var verr *core.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error %T is not a *core.ValidationError: %v", err, err)
	}
	var found *core.FieldError
	for _, fe := range verr.Problems {
		if fe.Field == field {
			found = fe
		}
	}
	if found == nil {
		t.Fatalf("no problem on field %s; got:\n%v", field, err)
	}
	if !strings.Contains(found.Problem+" "+found.Fix, inMessage) {
		t.Errorf("problem %q (fix %q) does not mention %q", found.Problem, found.Fix, inMessage)
	}
	if found.Fix == "" {
		t.Errorf("problem on %s has no fix", field)
	}
}
