package plan_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/upstream-tls/upstream-tls/components/pki"
	"github.com/upstream-tls/upstream-tls/components/plan"
)

// testCA is a real CA certificate generated once per test binary.
var testCA = func() *pki.Bundle {
	b, err := pki.Generate(pki.Request{CommonName: "test", DNSNames: []string{"test.apps.svc"}, WithCA: true}, time.Now())
	if err != nil {
		panic(err)
	}
	return b
}()

func backend(name string, mode plan.Mode) plan.BackendArgs {
	b := plan.BackendArgs{Name: name, Service: &plan.ServiceArgs{}, Deploy: &plan.DeployArgs{}, Route: &plan.RouteArgs{}, TLS: plan.TLSArgs{Mode: mode}}
	switch mode {
	case plan.ModeCA:
		b.TLS.CA = &plan.CAArgs{Generate: true}
	case plan.ModeSystem:
		b.Deploy.CertificateSecret = name + "-public-tls"
	}
	return b
}

func args(bs ...plan.BackendArgs) plan.Args {
	return plan.Args{EnvoyGateway: &plan.EnvoyGatewayArgs{}, Gateway: &plan.GatewayArgs{}, Backends: bs}
}

func TestBuildModes(t *testing.T) {
	for _, tc := range []struct {
		mode       plan.Mode
		verified   bool
		wantKinds  []string
		wantAbsent []string
	}{
		{plan.ModeSystem, true, []string{"Deployment", "Service", "BackendTLSPolicy", "HTTPRoute"}, []string{"Backend", "ConfigMap", "Secret"}},
		{plan.ModeCA, true, []string{"Secret", "Deployment", "Service", "ConfigMap", "BackendTLSPolicy", "HTTPRoute"}, []string{"Backend"}},
		{plan.ModeInsecure, false, []string{"Secret", "Deployment", "Service", "Backend", "HTTPRoute"}, []string{"BackendTLSPolicy", "ConfigMap"}},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			p, err := plan.Build(args(backend("api", tc.mode)))
			if err != nil {
				t.Fatal(err)
			}
			be := p.Backends[0]
			if be.Verified != tc.verified || be.Mode != tc.mode {
				t.Errorf("mode %s verified %v, want %s %v", be.Mode, be.Verified, tc.mode, tc.verified)
			}
			kinds := map[string]bool{}
			for _, o := range be.Objects {
				kinds[o.GroupVersionKind().Kind] = true
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
			if got, want := p.Install.EnableBackend, tc.mode == plan.ModeInsecure; got != want {
				t.Errorf("EnableBackend = %v, want %v", got, want)
			}
			if be.Hostname != "api.gateway.svc" {
				t.Errorf("default hostname %q, want api.gateway.svc", be.Hostname)
			}
		})
	}
}

func TestEnableBackendExplicit(t *testing.T) {
	on := true
	a := args(backend("api", plan.ModeSystem))
	a.EnvoyGateway.EnableBackend = &on
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Install.EnableBackend {
		t.Error("enableBackend: true was ignored")
	}
}

func TestBuildDoesNotMutateInput(t *testing.T) {
	a := args(backend("api", plan.ModeCA))
	if _, err := plan.Build(a); err != nil {
		t.Fatal(err)
	}
	if a.Backends[0].Namespace != "" || a.Gateway.Name != "" || a.Backends[0].TLS.Hostname != "" {
		t.Errorf("Build wrote defaults into its input: %+v", a)
	}
}

func TestProductionAllowInsecureWarns(t *testing.T) {
	a := args(backend("legacy", plan.ModeInsecure))
	a.Environment = plan.EnvironmentProduction
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
		mutate    func(a *plan.Args)
		field     string
		inMessage string
	}{
		{"insecure in production", func(a *plan.Args) {
			a.Environment = plan.EnvironmentProduction
			a.Backends[0].TLS = plan.TLSArgs{Mode: plan.ModeInsecure}
		}, "backends[0].tls.mode", "refused in a production environment"},
		{"unknown environment", func(a *plan.Args) { a.Environment = "prod" }, "environment", `unknown environment "prod"`},
		{"unknown mode", func(a *plan.Args) { a.Backends[0].TLS.Mode = "skip" }, "backends[0].tls.mode", `unknown TLS mode "skip"`},
		{"missing mode", func(a *plan.Args) { a.Backends[0].TLS = plan.TLSArgs{} }, "backends[0].tls.mode", "has no TLS mode"},
		{"malformed PEM", func(a *plan.Args) { a.Backends[0].TLS.CA = &plan.CAArgs{PEM: "not a certificate"} }, "backends[0].tls.ca.pem", "is not PEM"},
		{"truncated PEM", func(a *plan.Args) {
			a.Backends[0].TLS.CA = &plan.CAArgs{PEM: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
		}, "backends[0].tls.ca.pem", "not a valid X.509 certificate"},
		{"non-CA PEM", func(a *plan.Args) {
			a.Backends[0].TLS.CA = &plan.CAArgs{PEM: leaf.CertPEM}
			a.Backends[0].Deploy.CertificateSecret = "x"
		}, "backends[0].tls.ca.pem", "is not a CA"},
		{"private key in PEM", func(a *plan.Args) {
			a.Backends[0].TLS.CA = &plan.CAArgs{PEM: testCA.CACertPEM + leaf.KeyPEM}
			a.Backends[0].Deploy.CertificateSecret = "x"
		}, "backends[0].tls.ca.pem", "never put private keys"},
		{"two CA sources", func(a *plan.Args) {
			a.Backends[0].TLS.CA = &plan.CAArgs{PEM: testCA.CACertPEM, ConfigMap: "ca"}
		}, "backends[0].tls.ca", "sets pem and configMap at once"},
		{"no CA source", func(a *plan.Args) { a.Backends[0].TLS.CA = &plan.CAArgs{} }, "backends[0].tls.ca", "no CA source"},
		{"ca mode without ca", func(a *plan.Args) { a.Backends[0].TLS.CA = nil }, "backends[0].tls.ca", "mode ca needs a CA"},
		{"wildcard hostname", func(a *plan.Args) { a.Backends[0].TLS.Hostname = "*.example.com" }, "backends[0].tls.hostname", "wildcard"},
		{"IP hostname", func(a *plan.Args) { a.Backends[0].TLS.Hostname = "10.0.0.1" }, "backends[0].tls.hostname", "IP address"},
		{"upper-case hostname", func(a *plan.Args) { a.Backends[0].TLS.Hostname = "API.example.com" }, "backends[0].tls.hostname", `"api.example.com"`},
		{"duplicate backend", func(a *plan.Args) { a.Backends = append(a.Backends, a.Backends[0]) }, "backends[1].name", "already used by backends[0]"},
		{"tls port does not exist", func(a *plan.Args) { a.Backends[0].TLS.Ports = []string{"grpc"} }, "backends[0].tls.ports[0]", `no port named "grpc"`},
		{"route port does not exist", func(a *plan.Args) { a.Backends[0].Route.Port = "web" }, "backends[0].route.port", `no port named "web"`},
		{"insecure on GRPCRoute", func(a *plan.Args) {
			a.Backends[0].TLS = plan.TLSArgs{Mode: plan.ModeInsecure}
			a.Backends[0].Route.Kind = "GRPCRoute"
		}, "backends[0].route.kind", "HTTPRoute and TLSRoute only"},
		{"unknown route kind", func(a *plan.Args) { a.Backends[0].Route.Kind = "Ingress" }, "backends[0].route.kind", "unknown route kind"},
		{"listener bad protocol", func(a *plan.Args) {
			a.Gateway.Listeners = []plan.ListenerArgs{{Name: "tcp", Protocol: "TCP", Port: 9000}}
		}, "gateway.listeners[0].protocol", `unsupported protocol "TCP"`},
		{"listener bad port", func(a *plan.Args) {
			a.Gateway.Listeners = []plan.ListenerArgs{{Name: "http", Protocol: "HTTP", Port: 70000}}
		}, "gateway.listeners[0].port", "out of range"},
		{"listener bad name", func(a *plan.Args) {
			a.Gateway.Listeners = []plan.ListenerArgs{{Name: "Web_1", Protocol: "HTTP", Port: 80}}
		}, "gateway.listeners[0].name", "not a DNS label"},
		{"listener duplicate name", func(a *plan.Args) {
			a.Gateway.Listeners = []plan.ListenerArgs{{Name: "web", Protocol: "HTTP", Port: 80}, {Name: "web", Protocol: "HTTPS", Port: 443}}
		}, "gateway.listeners[1].name", "used twice"},
		{"listener protocol clash", func(a *plan.Args) {
			a.Gateway.Listeners = []plan.ListenerArgs{{Name: "a", Protocol: "HTTP", Port: 8080}, {Name: "b", Protocol: "HTTPS", Port: 8080}}
		}, "gateway.listeners[1].port", "Conflicted"},
		{"HTTP listener with certificate", func(a *plan.Args) {
			a.Gateway.Listeners = []plan.ListenerArgs{{Name: "web", Protocol: "HTTP", Port: 80, CertificateSecret: "tls"}}
		}, "gateway.listeners[0].certificateSecret", "plain HTTP"},
		{"route to missing listener", func(a *plan.Args) { a.Backends[0].Route.Listener = "grpc" }, "backends[0].route.listener", `no listener "grpc"`},
		{"system with generated cert", func(a *plan.Args) {
			a.Backends[0].TLS = plan.TLSArgs{Mode: plan.ModeSystem}
		}, "backends[0].deploy.certificateSecret", "no public CA issued"},
		{"generated CA for existing service", func(a *plan.Args) { a.Backends[0].Service.Existing = true }, "backends[0].tls.ca.generate", "service.existing is true"},
		{"enableBackend false with insecure", func(a *plan.Args) {
			a.Backends[0].TLS = plan.TLSArgs{Mode: plan.ModeInsecure}
			a.EnvoyGateway.EnableBackend = &off
		}, "envoyGateway.enableBackend", "Backend is disabled"},
		{"too many SANs", func(a *plan.Args) {
			a.Backends[0].TLS.SubjectAltNames = []string{"a", "b", "c", "d", "e", "f"}
		}, "backends[0].tls.subjectAltNames", "at most 5"},
		{"bad backend name", func(a *plan.Args) { a.Backends[0].Name = "My API" }, "backends[0].name", "not a DNS label"},
		{"no backends", func(a *plan.Args) { a.Backends = nil }, "backends", "no backends"},
		{"unnamed port", func(a *plan.Args) { a.Backends[0].Service.Ports = []plan.PortArgs{{Port: 443}} }, "backends[0].service.ports[0].name", "port name is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := args(backend("api", plan.ModeCA))
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

// requireProblem fails t unless err is a *plan.ValidationError with a problem on field whose
// problem or fix mentions inMessage, and which has a fix.
func requireProblem(t *testing.T, err error, field, inMessage string) {
	t.Helper()
	var verr *plan.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("error %T is not a *plan.ValidationError: %v", err, err)
	}
	var found *plan.FieldError
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

func TestComputedRoundTrip(t *testing.T) {
	s := plan.Computed("backend-api", plan.FieldCACert)
	cert, field, ok := plan.ParseComputed(s)
	if !ok || cert != "backend-api" || field != plan.FieldCACert {
		t.Errorf("ParseComputed(%q) = %q %q %v", s, cert, field, ok)
	}
	for _, s := range []string{"", "plain", "<<computed:certificate/x>>", "<<computed:certificate/x/>>"} {
		if _, _, ok := plan.ParseComputed(s); ok {
			t.Errorf("ParseComputed(%q) accepted a non-placeholder", s)
		}
	}
}
