package testutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// BadInput is one invalid configuration: a mutation of a valid base configuration, and the
// field and text of the problem the plan must report. The plan's table tests run every entry;
// the engine tier runs them through `make render`'s reader and a real `pulumi preview` and
// requires the same verdict and message.
type BadInput struct {
	Name      string
	Mutate    func(a *spec.Args)
	Field     string
	InMessage string
}

// BadInputs are the invalid configurations of the Envoy Gateway path; each mutates
// BaseArgs(Backend("api", spec.ModeCA)).
func BadInputs() []BadInput {
	off := false
	leaf := mustCA(pki.Request{CommonName: "leaf", DNSNames: []string{"leaf"}}, time.Now())
	return []BadInput{
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
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: TestCA.CACertPEM + leaf.KeyPEM}
			a.Backends[0].Deploy.CertificateSecret = "x"
		}, "backends[0].tls.ca.pem", "never put private keys"},
		{"two CA sources", func(a *spec.Args) {
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: TestCA.CACertPEM, ConfigMap: "ca"}
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
			a.Backends = []spec.BackendArgs{Existing("a", spec.ModeCA), Existing("b", spec.ModeSystem)}
			a.Backends[1].Service.Name = "a"
		}, "backends[1].service.name", `already gets a BackendTLSPolicy from backends[0] ("a")`},
		{"two deployed backends on one Service", func(a *spec.Args) {
			b := Backend("b", spec.ModeCA)
			b.Service.Name = "api"
			a.Backends = append(a.Backends, b)
		}, "backends[1].service.name", "already gets a BackendTLSPolicy"},
		{"system with the in-cluster default hostname", func(a *spec.Args) {
			a.Backends[0] = Existing("api", spec.ModeSystem)
			a.Backends[0].TLS.Hostname = ""
		}, "backends[0].tls.hostname", "no public CA certifies"},
		{"system with an explicit in-cluster hostname in production", func(a *spec.Args) {
			a.Environment = spec.EnvironmentProduction
			a.Backends[0] = Existing("api", spec.ModeSystem)
			a.Backends[0].TLS.Hostname = "api.apps.svc.cluster.local"
		}, "backends[0].tls.hostname", "allowInClusterHostname"},
		{"in-cluster opt-out outside system", func(a *spec.Args) { a.Backends[0].TLS.AllowInClusterHostname = true }, "backends[0].tls.allowInClusterHostname", "only applies to mode system"},
		{"expired CA", func(a *spec.Args) {
			a.Backends[0] = Existing("api", spec.ModeCA)
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: ExpiredCA.CACertPEM}
		}, "backends[0].tls.ca.pem", "expired on"},
		{"CA Secret in another namespace", func(a *spec.Args) {
			a.Backends[0] = Existing("api", spec.ModeCA)
			a.Backends[0].TLS.CA = &spec.CAArgs{Secret: "security/corp-root-ca"}
		}, "backends[0].tls.ca.secret", "names a Secret in another namespace"},
		{"renewal window as long as the validity", func(a *spec.Args) {
			a.Certificates = &spec.CertificatesArgs{ValidityDays: 30, RenewBeforeDays: 30}
		}, "certificates.renewBeforeDays", "is not less than validityDays 30"},
		{"CA shorter than its leaves", func(a *spec.Args) {
			a.Certificates = &spec.CertificatesArgs{CAValidityDays: 100}
		}, "certificates.caValidityDays", "a leaf never outlives its CA"},
		{"not yet valid CA", func(a *spec.Args) {
			a.Backends[0] = Existing("api", spec.ModeCA)
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: FutureCA.CACertPEM}
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
		{"several CA sources", func(a *spec.Args) { a.Backends[0].TLS.CA = &spec.CAArgs{PEM: TestCA.CACertPEM, Generate: true} },
			"backends[0].tls.ca", "up to 8 caCertificateRefs"},

		// Issue 10: a container port name must be an IANA service name.
		{"port name all digits", func(a *spec.Args) { a.Backends[0].Service.Ports = []spec.PortArgs{{Name: "8443", Port: 443}} }, "backends[0].service.ports[0].name", "at least one letter"},
		{"port name with --", func(a *spec.Args) { a.Backends[0].Service.Ports = []spec.PortArgs{{Name: "a--b", Port: 443}} }, "backends[0].service.ports[0].name", "IANA service name"},
		{"port name too long", func(a *spec.Args) {
			a.Backends[0].Service.Ports = []spec.PortArgs{{Name: "https-backend-port", Port: 443}}
		}, "backends[0].service.ports[0].name", "at most 15"},

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
		{"verdict timeout out of range", func(a *spec.Args) { a.EnvoyGateway = &spec.EnvoyGatewayArgs{VerdictTimeoutSeconds: 5} }, "envoyGateway.verdictTimeoutSeconds", "outside 10 to 3600"},
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
			a.Backends[0] = Existing("api", spec.ModeCA)
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: NoSignCA}
		}, "backends[0].tls.ca.pem", "keyCertSign"},
		{"CA whose name constraints exclude the hostname", func(a *spec.Args) {
			a.Backends[0] = Existing("api", spec.ModeCA)
			a.Backends[0].TLS.Hostname = "api.example.org"
			a.Backends[0].TLS.CA = &spec.CAArgs{PEM: ConstrainedCA}
		}, "backends[0].tls.ca.pem", "name constraints"},
		{"deploy for an existing Service", func(a *spec.Args) {
			a.Backends[0] = Existing("api", spec.ModeCA)
			a.Backends[0].Deploy = &spec.DeployArgs{Replicas: 2}
		}, "backends[0].deploy", "service.existing is true"},
	}
}

// EKSBadInputs are the invalid configurations of the EKS path; each mutates EKSBaseArgs().
func EKSBadInputs() []BadInput {
	return []BadInput{
		{"TCP listener in front of a TLS target group", func(a *spec.Args) { a.EKS.Targets[0].Listener = "pass" },
			"eks.targets[0].targetGroup.protocol", "IncompatibleProtocols"},
		{"TLS listener without certificate ARN", func(a *spec.Args) { a.EKS.Gateway.Listeners[0].CertificateARN = "" },
			"eks.gateway.listeners[0].certificateArn", "has no certificate"},
		{"TLS health check", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{HealthCheck: &spec.HealthCheckArgs{Protocol: "TLS"}}
		}, "eks.targets[0].targetGroup.healthCheck.protocol", "not a health-check protocol"},
		{"two TargetGroupConfigurations for one Service", func(a *spec.Args) {
			a.EKS.Targets = append(a.EKS.Targets, spec.NLBTargetArgs{Service: &spec.NLBServiceArgs{Name: "api", Namespace: "apps", Port: 443}, Listener: "pass", TargetGroup: &spec.TargetGroupArgs{Protocol: "TCP"}})
		}, "eks.targets[1]", "one TargetGroupConfiguration per Service"},
		{"TargetGroupConfiguration in another namespace", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{Namespace: "gateway"}
		}, "eks.targets[0].targetGroup.namespace", `set it to "apps"`},
		{"malformed certificate ARN", func(a *spec.Args) { a.EKS.Gateway.Listeners[0].CertificateARN = "arn:aws:acm:eu-west-1:1111:cert/x" },
			"eks.gateway.listeners[0].certificateArn", "is not an ACM certificate ARN"},
		{"ARN of another service", func(a *spec.Args) {
			a.EKS.Gateway.Listeners[0].CertificateARN = "arn:aws:iam::111122223333:server-certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
		}, "eks.gateway.listeners[0].certificateArn", "is not an ACM certificate ARN"},
		{"EKS without cluster name", func(a *spec.Args) { a.EKS.ClusterName = "" }, "eks.clusterName", "is required"},
		{"malformed additional certificate ARN", func(a *spec.Args) { a.EKS.Gateway.Listeners[0].AdditionalCertificateARNs = []string{"x"} },
			"eks.gateway.listeners[0].additionalCertificateArns[0]", "not an ACM certificate ARN"},
		{"TCP target group behind a TLS listener", func(a *spec.Args) { a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{Protocol: "TCP"} },
			"eks.targets[0].targetGroup.protocol", "plaintext"},
		{"UDP target group", func(a *spec.Args) { a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{Protocol: "UDP"} },
			"eks.targets[0].targetGroup.protocol", "unsupported target group protocol"},
		{"HTTPS listener", func(a *spec.Args) { a.EKS.Gateway.Listeners[0].Protocol = "HTTPS" },
			"eks.gateway.listeners[0].protocol", "use TLS"},
		{"certificate on a TCP listener", func(a *spec.Args) { a.EKS.Gateway.Listeners[1].CertificateARN = TestCertARN },
			"eks.gateway.listeners[1].certificateArn", "passes TLS through"},
		{"two listeners on one port", func(a *spec.Args) { a.EKS.Gateway.Listeners[1].Port = 443 },
			"eks.gateway.listeners[1].port", "one listener per port"},
		{"two targets on one listener", func(a *spec.Args) {
			a.EKS.Targets = append(a.EKS.Targets, spec.NLBTargetArgs{Service: &spec.NLBServiceArgs{Name: "other", Port: 443}})
		}, "eks.targets[1].listener", "no SNI routing"},
		{"unknown listener", func(a *spec.Args) { a.EKS.Targets[0].Listener = "https" }, "eks.targets[0].listener", `no listener "https"`},
		{"unknown backend", func(a *spec.Args) { a.EKS.Targets[0].Backend = "web" }, "eks.targets[0].backend", `no backend named "web"`},
		{"backend and service", func(a *spec.Args) { a.EKS.Targets[0].Service = &spec.NLBServiceArgs{Name: "api", Port: 443} },
			"eks.targets[0]", "sets both backend and service"},
		{"no target", func(a *spec.Args) { a.EKS.Targets = nil }, "eks.targets", "forward nowhere"},
		{"TLS route without hostname", func(a *spec.Args) { a.EKS.Gateway.Listeners[0].Hostname = "" },
			"eks.targets[0].hostnames", "needs at least one hostname"},
		{"route hostname outside the listener's", func(a *spec.Args) { a.EKS.Targets[0].Hostnames = []string{"web.example.com"} },
			"eks.targets[0].hostnames[0]", "would not attach"},
		{"hostname on TCP listener", func(a *spec.Args) { a.EKS.Gateway.Listeners[1].Hostname = "x.example.com" },
			"eks.gateway.listeners[1].hostname", "TCP"},
		{"path on TCP health check", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{HealthCheck: &spec.HealthCheckArgs{Path: "/healthz"}}
		}, "eks.targets[0].targetGroup.healthCheck.path", "HTTPS"},
		{"health check port", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{HealthCheck: &spec.HealthCheckArgs{Port: "https"}}
		}, "eks.targets[0].targetGroup.healthCheck.port", "traffic-port"},
		{"health check interval", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{HealthCheck: &spec.HealthCheckArgs{IntervalSeconds: 1}}
		}, "eks.targets[0].targetGroup.healthCheck.intervalSeconds", "5-300"},
		{"irsa without OIDC provider", func(a *spec.Args) { a.EKS.Identity = &spec.EKSIdentityArgs{Mode: spec.IdentityIRSA} },
			"eks.identity.oidcProviderArn", "needs the cluster's IAM OIDC provider"},
		{"malformed OIDC provider", func(a *spec.Args) {
			a.EKS.Identity = &spec.EKSIdentityArgs{Mode: spec.IdentityIRSA, OIDCProviderARN: "oidc.eks.eu-west-1.amazonaws.com/id/X"}
		}, "eks.identity.oidcProviderArn", "not an IAM OIDC provider ARN"},
		{"unknown identity mode", func(a *spec.Args) { a.EKS.Identity = &spec.EKSIdentityArgs{Mode: "keys"} }, "eks.identity.mode", "podIdentity, irsa or existing"},
		{"roleArn with a created role", func(a *spec.Args) {
			a.EKS.Identity = &spec.EKSIdentityArgs{RoleARN: "arn:aws:iam::111122223333:role/x"}
		}, "eks.identity.roleArn", "identity.mode: existing"},
		{"malformed roleArn", func(a *spec.Args) {
			a.EKS.Identity = &spec.EKSIdentityArgs{Mode: spec.IdentityExisting, RoleARN: "platform-lbc"}
		}, "eks.identity.roleArn", "not an IAM role ARN"},
		{"malformed policy ARN", func(a *spec.Args) {
			a.EKS.Identity = &spec.EKSIdentityArgs{PolicyARN: "AWSLoadBalancerControllerIAMPolicy"}
		},
			"eks.identity.policyArn", "not an IAM policy ARN"},
		{"role name too long", func(a *spec.Args) { a.EKS.ClusterName = strings.Repeat("c", 40) }, "eks.identity.roleName", "at most 64"},
		{"unknown scheme", func(a *spec.Args) { a.EKS.Gateway.Scheme = "public" }, "eks.gateway.scheme", "internet-facing"},
		// Issue 11: AWS rules.
		{"ACM certificate of another region", func(a *spec.Args) { a.EKS.Region = "us-east-1" }, "eks.gateway.listeners[0].certificateArn", "an NLB serves only certificates of its own region"},
		{"ACM certificate of another partition", func(a *spec.Args) { a.EKS.Region = "cn-north-1" }, "eks.gateway.listeners[0].certificateArn", "partition aws"},
		{"IPv6 source range", func(a *spec.Args) { a.EKS.Gateway.SourceRanges = []string{"2001:db8::/32"} }, "eks.gateway.sourceRanges[0]", "IPv4 NLB"},
		{"health check timeout not below interval", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{HealthCheck: &spec.HealthCheckArgs{IntervalSeconds: 10, TimeoutSeconds: 10}}
		}, "eks.targets[0].targetGroup.healthCheck.timeoutSeconds", "shorter than its interval"},
		{"plain HTTP health check on the TLS traffic port", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{HealthCheck: &spec.HealthCheckArgs{Protocol: "HTTP"}}
		}, "eks.targets[0].targetGroup.healthCheck.protocol", "speaks only TLS"},
		{"instance targets behind the deployed ClusterIP Service", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{TargetType: "instance"}
		}, "eks.targets[0].targetGroup.targetType", "NodePort"},
		{"OIDC provider of another region", func(a *spec.Args) {
			a.EKS.Region = "eu-west-1"
			a.EKS.Identity = &spec.EKSIdentityArgs{Mode: spec.IdentityIRSA, OIDCProviderARN: "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"}
		}, "eks.identity.oidcProviderArn", "cluster in us-east-1"},
		{"malformed source range", func(a *spec.Args) { a.EKS.Gateway.SourceRanges = []string{"10.0.0.0"} }, "eks.gateway.sourceRanges[0]", "not a CIDR"},
		{"malformed region", func(a *spec.Args) { a.EKS.Region = "Ireland" }, "eks.region", "not an AWS region"},
		{"malformed VPC", func(a *spec.Args) { a.EKS.VPCID = "vpc-1" }, "eks.vpcId", "not a VPC ID"},
		{"chart version with v", func(a *spec.Args) { a.EKS.Controller = &spec.LBCArgs{Version: "v3.5.0"} }, "eks.controller.version", "no leading v"},
		{"GatewayClass clash", func(a *spec.Args) { a.EKS.Gateway.GatewayClassName = "envoy-gateway" }, "eks.gateway.gatewayClassName", "already the Envoy Gateway"},
		{"Gateway clash", func(a *spec.Args) {
			a.EKS.Gateway.Name = "upstream-tls"
			a.EKS.Gateway.Namespace = "gateway"
		},
			"eks.gateway.name", "already the Envoy Gateway Gateway"},
		{"unverified NLB hop in production", func(a *spec.Args) { a.Environment = spec.EnvironmentProduction },
			"eks.targets[0].targetGroup.protocol", "allowInsecureBackends"},
	}
}

// TestCA is a real CA certificate generated once per test binary.
var TestCA = func() *pki.Bundle {
	b, err := pki.Generate(pki.Request{CommonName: "test", DNSNames: []string{"test.apps.svc"}, WithCA: true}, time.Now())
	if err != nil {
		panic(err)
	}
	return b
}()

// Backend is a deployed backend named name in mode, with what the mode needs to be valid.
func Backend(name string, mode spec.Mode) spec.BackendArgs {
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

// Existing is a backend on an existing Service with a valid CA source (mode ca) or host name
// (mode system).
func Existing(name string, mode spec.Mode) spec.BackendArgs {
	b := spec.BackendArgs{Name: name, Service: &spec.ServiceArgs{Existing: true}, TLS: spec.TLSArgs{Mode: mode}}
	switch mode {
	case spec.ModeCA:
		b.TLS.CA = &spec.CAArgs{ConfigMap: name + "-ca"}
	case spec.ModeSystem:
		b.TLS.Hostname = name + ".example.com"
	}
	return b
}

// Test CAs that can never verify, made with real crypto.
var (
	ExpiredCA = mustCA(pki.Request{CommonName: "expired", DNSNames: []string{"x"}, WithCA: true, ValidFor: time.Hour, CAValidFor: time.Hour}, time.Now().Add(-48*time.Hour))
	FutureCA  = mustCA(pki.Request{CommonName: "future", DNSNames: []string{"x"}, WithCA: true}, time.Now().Add(48*time.Hour))
	// NoSignCA and ConstrainedCA are made with the x509 package directly (pki only issues
	// well-formed CAs).
	NoSignCA      = selfSignedCA(x509.KeyUsageDigitalSignature, nil)
	ConstrainedCA = selfSignedCA(x509.KeyUsageCertSign, []string{".corp.example"})
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

// BaseArgs is a configuration of the given backends, every section present.
func BaseArgs(bs ...spec.BackendArgs) spec.Args {
	return spec.Args{EnvoyGateway: &spec.EnvoyGatewayArgs{}, Gateway: &spec.GatewayArgs{}, Backends: bs}
}

// TestCertARN is an ACM certificate ARN of eu-west-1.
const TestCertARN = "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"

// EKSBaseArgs is a valid environment with the EKS path on: one backend behind a TLS listener.
func EKSBaseArgs() spec.Args {
	a := BaseArgs(Backend("api", spec.ModeCA))
	a.Backends[0].Namespace = "apps"
	a.Backends[0].TLS.CA = &spec.CAArgs{Generate: true}
	a.EKS = &spec.EKSArgs{
		Enabled:     true,
		ClusterName: "dev-cluster",
		Gateway: &spec.NLBGatewayArgs{Listeners: []spec.NLBListenerArgs{
			{Name: "tls", Port: 443, Hostname: "api.example.com", CertificateARN: TestCertARN},
			{Name: "pass", Protocol: "TCP", Port: 8443},
		}},
		Targets: []spec.NLBTargetArgs{{Backend: "api"}},
	}
	return a
}
