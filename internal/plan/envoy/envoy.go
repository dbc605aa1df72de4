// Package envoy is the Envoy Gateway path of the plan: the Envoy Gateway install, the Gateway
// and its listeners, and every TLS backend with its route and its upstream TLS.
//
// A TLS mode is one unit (mode_system.go, mode_ca.go, mode_insecure.go, registered in modes):
// it validates its fields, plans the objects that carry its trust, and declares the effective
// upstream TLS it must produce. A route kind is one unit too (route_http.go, route_grpc.go).
// The posture of every backend is derived from the planned objects (posture.go), never from the
// declared mode, and the plan refuses any backend whose derived posture is not what its mode
// declares.
package envoy

import (
	"time"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// Pinned versions and fixed names of the Envoy Gateway path. The README's support matrix lists
// the versions; tools/versions.env pins the same ones for the toolchain.
const (
	// DefaultEnvoyGatewayVersion is the gateway-helm / gateway-crds-helm chart version installed.
	DefaultEnvoyGatewayVersion = "v1.9.1"
	// DefaultGatewayAPIVersion is the Gateway API (standard channel) CRD bundle installed.
	DefaultGatewayAPIVersion = "v1.6.3"
	// ControllerName is the controllerName Envoy Gateway reconciles.
	ControllerName = "gateway.envoyproxy.io/gatewayclass-controller"
	// DefaultTargetPort is where the default backend image serves HTTPS.
	DefaultTargetPort = 8443
	// ClusterDomain is the DNS suffix of Service FQDNs used by Envoy Gateway Backends.
	ClusterDomain = "cluster.local"
	// MaxBackendNameLength keeps derived object names (`<backend>-<port>`) within Kubernetes
	// limits.
	MaxBackendNameLength = 40
	// MaxRouteHostnames is Gateway API's limit on a route's hostnames.
	MaxRouteHostnames = 16
	// MaxListeners is Gateway API's limit on a Gateway's listeners.
	MaxListeners = 64
	// MaxPathLength is Gateway API's limit on an HTTPRoute path match value.
	MaxPathLength = 1024
)

// GatewayAPIStandardInstallURL is the upstream release asset holding the standard-channel CRDs.
func GatewayAPIStandardInstallURL(version string) string {
	return "https://github.com/kubernetes-sigs/gateway-api/releases/download/" + version + "/standard-install.yaml"
}

// Install is the Envoy Gateway installation.
type Install struct {
	// Enabled is false when the controller is installed by someone else.
	Enabled bool
	// Namespace of the controller.
	Namespace string
	// Releases are the Helm releases, in install order: Envoy Gateway CRDs, then the controller.
	// Each is keyed by its install step (core.StepEnvoyGatewayCRDs, core.StepEnvoyGateway).
	Releases []Release
	// EnableBackend is true when Envoy Gateway's Backend API is on.
	EnableBackend bool
	// Certificates are the control plane's generated certificates (ControlPlaneServerCert,
	// ControlPlaneProxyCert) when the controller is installed.
	Certificates []core.Certificate
	// Objects are the control plane's certificate Secrets (ControlPlaneSecret, ProxySecret), which
	// the chart's pods mount and its certgen hook would have created.
	Objects []core.Object
	// GatewayClass is the Envoy Gateway GatewayClass.
	GatewayClass core.Object
}

// The control plane's certificates. The gateway-helm chart creates them with a certgen Job that
// is a Helm pre-install hook, and Pulumi's helm.v4.Chart renders no hooks (DisableHooks), so
// without these Secrets the controller pod would wait forever for its `certs` volume and no
// proxy could fetch its xDS configuration. The plan therefore generates them as certgen would:
// the controller's serving certificate for its in-cluster Service names and the proxies' client
// certificate for `*.<namespace>`. Each leaf has its own generated CA, and each Secret's ca.crt
// is the CA of the other side: the controller verifies proxies' client certificates, proxies
// verify the controller (xDS, Wasm cache), which is the mutual TLS certgen's single CA gives.
const (
	// ControlPlaneSecret is the Secret the controller Deployment mounts at /certs.
	ControlPlaneSecret = "envoy-gateway"
	// ProxySecret is the Secret every Envoy proxy Deployment mounts for xDS.
	ProxySecret = "envoy"
	// ControlPlaneServerCert names the controller's serving certificate.
	ControlPlaneServerCert = "envoy-gateway-control-plane"
	// ControlPlaneProxyCert names the proxies' client certificate.
	ControlPlaneProxyCert = "envoy-gateway-proxy"
)

// Release is a Helm release and the install step it is.
type Release struct {
	core.HelmRelease
	// Step is the release's install step key.
	Step string `json:"step"`
	// DependsOn are the keys the release waits for.
	DependsOn []string `json:"dependsOn,omitempty"`
}

// GatewayPlan holds the Gateway and the certificates of its HTTPS listeners.
type GatewayPlan struct {
	// Certificates to generate for listeners without certificateSecret.
	Certificates []core.Certificate
	// Objects are the listener certificate Secrets, then the Gateway.
	Objects []core.Object
}

// Backend is everything planned for one backend.
type Backend struct {
	// Name of the backend.
	Name string
	// Mode of its upstream TLS, as configured.
	Mode spec.Mode
	// Posture is what the gateway does when it reaches the backend, derived from the planned
	// objects (Derive).
	Posture Posture
	// Hostname is the SNI (and verified name unless SubjectAltNames is set).
	Hostname string
	// ClientCertificate is the Secret (`namespace/name`) whose certificate the gateway presents
	// to the backend, derived from the planned objects (the posture's), or NoClientCertificate.
	ClientCertificate string
	// VerifiesClientCertificate is true when the deployed workload verifies that certificate
	// (deploy.verifyClientCertificate).
	VerifiesClientCertificate bool
	// Namespace and Service locate the backend Service.
	Namespace string
	Service   string
	// Certificates to generate (serving certificate, and its CA in mode ca).
	Certificates []core.Certificate
	// Objects, each with its dependencies.
	Objects []core.Object
}

// Verified reports whether the gateway authenticates the backend, by its derived posture.
func (b Backend) Verified() bool { return b.Posture.Effective.Verified() }

// Context is what validation and planning of the Envoy Gateway path need besides the
// arguments.
type Context struct {
	// Now is the time certificates given as input are checked against.
	Now time.Time
	// images remembers the verdict on each container image reference (Validate makes it).
	images map[string]error
}
