// Package spec is the configuration contract of upstream-tls: the arguments of the UpstreamTls
// component, which are also the stack configuration keys under the `upstream-tls:` namespace and
// the inputs of the multi-language schema. It holds types, their documentation and their
// constant defaults, and no behaviour: the plan (internal/plan) applies the defaults, validates
// and plans.
//
// Every field's doc comment is its contract; `make generate` copies the comments into the
// provider schema (zz_docs.go), so the Go API, the schema and every generated SDK read the same
// text. A `default:"…"` tag is the field's constant default: the plan applies exactly these tags
// (internal/plan/defaults.go), the schema publishes them, and a test holds the two together.
// Defaults that depend on other fields (a backend's namespace defaults to the Gateway's) are
// stated in the comment and applied by the plan.
package spec

// Environment names the kind of environment a stack describes. Production enables guardrails.
type Environment string

const (
	// EnvironmentDev is a developer environment; every mode is allowed.
	EnvironmentDev Environment = "dev"
	// EnvironmentStaging is a pre-production environment; every mode is allowed.
	EnvironmentStaging Environment = "staging"
	// EnvironmentProduction refuses backends whose certificate is not verified unless
	// Args.AllowInsecureBackends is true.
	EnvironmentProduction Environment = "production"
)

// Environments lists the valid environments.
var Environments = []Environment{EnvironmentDev, EnvironmentStaging, EnvironmentProduction}

// Mode is how the gateway secures and verifies its connection to one backend.
type Mode string

const (
	// ModeSystem verifies the backend against the gateway's system trust store
	// (BackendTLSPolicy with wellKnownCACertificates: System).
	ModeSystem Mode = "system"
	// ModeCA verifies the backend against a custom CA distributed as a ConfigMap key `ca.crt`
	// (BackendTLSPolicy with caCertificateRefs).
	ModeCA Mode = "ca"
	// ModeInsecure encrypts but does not verify: an Envoy Gateway Backend with
	// tls.insecureSkipVerify, for self-signed backends BackendTLSPolicy cannot skip.
	ModeInsecure Mode = "insecure"
)

// RouteKind is the kind of route from the Gateway to a backend.
type RouteKind string

const (
	// RouteKindHTTP is an HTTPRoute (gateway.networking.k8s.io/v1).
	RouteKindHTTP RouteKind = "HTTPRoute"
	// RouteKindGRPC is a GRPCRoute (gateway.networking.k8s.io/v1).
	RouteKindGRPC RouteKind = "GRPCRoute"
)

// Args describes one environment: the Envoy Gateway install, one Gateway and its TLS backends.
// The JSON names are the stack configuration keys under the `upstream-tls:` namespace.
type Args struct {
	// Environment is dev, staging or production. Production refuses `insecure` backends unless
	// allowInsecureBackends is true.
	Environment Environment `json:"environment,omitempty" pulumi:"environment,optional" default:"dev"`
	// AllowInsecureBackends permits `insecure` backends (and, on the EKS path, NLB TLS targets,
	// which the NLB never verifies) in a production environment. They are still reported as
	// unverified.
	AllowInsecureBackends bool `json:"allowInsecureBackends,omitempty" pulumi:"allowInsecureBackends,optional" default:"false"`
	// EnvoyGateway configures the Envoy Gateway installation and its GatewayClass.
	EnvoyGateway *EnvoyGatewayArgs `json:"envoyGateway,omitempty" pulumi:"envoyGateway,optional"`
	// Gateway is the Gateway the routes attach to.
	Gateway *GatewayArgs `json:"gateway,omitempty" pulumi:"gateway,optional"`
	// Backends are the TLS backends; each gets a route and its upstream TLS configuration.
	Backends []BackendArgs `json:"backends,omitempty" pulumi:"backends,optional"`
	// EKS is the AWS EKS path (AWS Load Balancer Controller NLB speaking TLS to the pods).
	// Off unless eks.enabled is true.
	EKS *EKSArgs `json:"eks,omitempty" pulumi:"eks,optional"`
	// Preflight names the cluster the component reads before it registers anything, at preview
	// as at update: a BackendTLSPolicy of another owner on a Service port one of ours targets,
	// a CA ConfigMap without ca.crt, Gateway API CRDs owned by another tool, or a client
	// certificate Secret that is expired, not valid yet, without the clientAuth usage or with a
	// key of another certificate are refused there, naming the objects. Unset: no reads.
	Preflight *PreflightArgs `json:"preflight,omitempty" pulumi:"preflight,optional"`
	// Certificates sets the lifecycle of every certificate the component generates (serving
	// certificates and their CAs, the listeners' and the control plane's). A `pulumi up` inside
	// a certificate's renewal window re-issues it in place: a leaf under its unchanged CA (only
	// the Secret changes), a CA by a rollover over three runs (the CA ConfigMap first carries
	// both CAs, then the serving certificate moves, then the old CA leaves). Unset: the
	// defaults below.
	Certificates *CertificatesArgs `json:"certificates,omitempty" pulumi:"certificates,optional"`
}

// CertificatesArgs is the lifecycle of the generated certificates. A change applies from the
// next issue on; it re-issues nothing by itself.
type CertificatesArgs struct {
	// ValidityDays is how long each generated leaf certificate is valid, in days; a leaf never
	// outlives its CA.
	ValidityDays int `json:"validityDays,omitempty" pulumi:"validityDays,optional" default:"365"`
	// CAValidityDays is how long each generated CA is valid, in days; at least validityDays and
	// more than twice renewBeforeDays.
	CAValidityDays int `json:"caValidityDays,omitempty" pulumi:"caValidityDays,optional" default:"1825"`
	// RenewBeforeDays: a `pulumi up` this many days or fewer before a leaf ends re-issues it;
	// a CA ending within twice this starts its rollover. Less than validityDays.
	RenewBeforeDays int `json:"renewBeforeDays,omitempty" pulumi:"renewBeforeDays,optional" default:"30"`
}

// PreflightArgs locates the cluster of the preflight reads. The reads need get and list on
// BackendTLSPolicies and ConfigMaps in the backends' namespaces and get on the Gateway API
// CRDs; a cluster that does not answer, or a read the identity may not make, is a warning.
type PreflightArgs struct {
	// Kubeconfig is the path of a kubeconfig file for the cluster the stack deploys to (the one
	// the Kubernetes provider uses; a read-only identity suffices). Empty: no reads.
	Kubeconfig string `json:"kubeconfig,omitempty" pulumi:"kubeconfig,optional"`
	// Context is the kubeconfig context to use; empty: the file's current-context.
	Context string `json:"context,omitempty" pulumi:"context,optional"`
}

// EnvoyGatewayArgs configures the Envoy Gateway install (Helm) and the GatewayClass.
type EnvoyGatewayArgs struct {
	// Install deploys the Envoy Gateway controller with Helm. When false the controller is
	// assumed to be installed already (the Backend API must then be enabled by whoever installed
	// it if any backend is `insecure`).
	Install *bool `json:"install,omitempty" pulumi:"install,optional" default:"true"`
	// Namespace of the controller.
	Namespace string `json:"namespace,omitempty" pulumi:"namespace,optional" default:"envoy-gateway-system"`
	// Version of the gateway-helm and gateway-crds-helm charts.
	Version string `json:"version,omitempty" pulumi:"version,optional" default:"v1.9.1"`
	// ChartRepository is where the charts come from when chartDir is empty.
	ChartRepository string `json:"chartRepository,omitempty" pulumi:"chartRepository,optional" default:"oci://docker.io/envoyproxy"`
	// ChartDir is a local directory holding the gateway-helm and gateway-crds-helm chart
	// directories, for offline installs and renders. Takes precedence over chartRepository.
	ChartDir string `json:"chartDir,omitempty" pulumi:"chartDir,optional"`
	// ManageGatewayAPICRDs installs the Gateway API standard-channel CRDs (this component owns
	// them). Set false when another tool owns them; they must then be v1.6 or newer.
	ManageGatewayAPICRDs *bool `json:"manageGatewayAPICRDs,omitempty" pulumi:"manageGatewayAPICRDs,optional" default:"true"`
	// GatewayAPICRDs is the source of the Gateway API CRDs: a URL of standard-install.yaml or a
	// local directory of CRD files.
	GatewayAPICRDs string `json:"gatewayAPICRDs,omitempty" pulumi:"gatewayAPICRDs,optional" default:"https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.3/standard-install.yaml"`
	// EnableBackend turns on Envoy Gateway's Backend API. It is turned on automatically when a
	// backend is `insecure`; set true to enable it anyway. Setting false while an `insecure`
	// backend exists is an error.
	EnableBackend *bool `json:"enableBackend,omitempty" pulumi:"enableBackend,optional"`
	// GatewayClassName is the GatewayClass created for Envoy Gateway.
	GatewayClassName string `json:"gatewayClassName,omitempty" pulumi:"gatewayClassName,optional" default:"envoy-gateway"`
	// VerdictTimeoutSeconds is how long `pulumi up` waits for Envoy Gateway to accept each
	// backend's route for the Gateway (Accepted and ResolvedRefs; a rejected BackendTLSPolicy or
	// Backend makes ResolvedRefs false) before it fails on that route, from 10 to 3600. Render
	// mode and previews do not wait.
	VerdictTimeoutSeconds int `json:"verdictTimeoutSeconds,omitempty" pulumi:"verdictTimeoutSeconds,optional" default:"300"`
}

// GatewayArgs describes the Gateway.
type GatewayArgs struct {
	// Name of the Gateway.
	Name string `json:"name,omitempty" pulumi:"name,optional" default:"upstream-tls"`
	// Namespace of the Gateway and of the routes.
	Namespace string `json:"namespace,omitempty" pulumi:"namespace,optional" default:"gateway"`
	// Listeners of the Gateway. Default: `http` on port 80 and `https` on port 443 with a
	// generated certificate. At most 64.
	Listeners []ListenerArgs `json:"listeners,omitempty" pulumi:"listeners,optional"`
	// BackendClientCertificate is the client certificate the gateway presents to every TLS
	// backend (mutual TLS to backends, Gateway.spec.tls.backend.clientCertificateRef): generated
	// (client key usage, with its own CA) or an existing kubernetes.io/tls Secret. A backend's
	// own tls.clientCertificate overrides it. Unset: the gateway presents none.
	BackendClientCertificate *ClientCertificateArgs `json:"backendClientCertificate,omitempty" pulumi:"backendClientCertificate,optional"`
}

// ClientCertificateArgs is where a client certificate the gateway presents comes from. Exactly
// one field is set.
type ClientCertificateArgs struct {
	// Generate creates the certificate (key usage client auth) and a CA that issues it; a
	// deployed backend with deploy.verifyClientCertificate trusts that CA.
	Generate bool `json:"generate,omitempty" pulumi:"generate,optional"`
	// Secret names an existing kubernetes.io/tls Secret (tls.crt and tls.key) holding the
	// certificate and its key. For gateway.backendClientCertificate: `name` in the Gateway
	// namespace, or `namespace/name`, and the component then creates the ReferenceGrant in that
	// namespace that lets the Gateway use it. For a backend's tls.clientCertificate: a Secret in
	// the backend namespace. With preflight, the Secret is read before anything is registered
	// and refused when expired, not valid yet, without the clientAuth usage, or when its key is
	// not the certificate's.
	Secret string `json:"secret,omitempty" pulumi:"secret,optional"`
}

// ListenerArgs describes one Gateway listener.
type ListenerArgs struct {
	// Name is the listener (section) name: a DNS label.
	Name string `json:"name" pulumi:"name"`
	// Protocol is HTTP or HTTPS.
	Protocol string `json:"protocol" pulumi:"protocol"`
	// Port is 1-65535. Envoy Gateway maps ports below 1024 to 10000 + port inside the proxy.
	Port int `json:"port" pulumi:"port"`
	// Hostname restricts the listener to a host name (a leading `*.` is allowed). Optional.
	Hostname string `json:"hostname,omitempty" pulumi:"hostname,optional"`
	// CertificateSecret names an existing kubernetes.io/tls Secret in the Gateway namespace that
	// an HTTPS listener serves. When empty, an HTTPS listener's certificate is generated.
	CertificateSecret string `json:"certificateSecret,omitempty" pulumi:"certificateSecret,optional"`
}

// BackendArgs describes one backend reached through the gateway over TLS.
type BackendArgs struct {
	// Name identifies the backend: unique, a DNS label of at most 40 characters. It names the
	// objects created for the backend.
	Name string `json:"name" pulumi:"name"`
	// Namespace of the backend's Service. Default: the Gateway namespace. When it differs, a
	// ReferenceGrant lets the route in the Gateway namespace reach it.
	Namespace string `json:"namespace,omitempty" pulumi:"namespace,optional"`
	// Service is the Kubernetes Service that serves TLS.
	Service *ServiceArgs `json:"service,omitempty" pulumi:"service,optional"`
	// Deploy describes the workload to deploy behind the Service. Not allowed for existing
	// Services.
	Deploy *DeployArgs `json:"deploy,omitempty" pulumi:"deploy,optional"`
	// External is a backend outside the cluster, reached by host name and port through an
	// Envoy Gateway Backend with an FQDN endpoint (the Backend API is turned on). Not together
	// with service or deploy. tls.hostname (the SNI and the verified name) defaults to its
	// hostname; modes system and ca verify it with a BackendTLSPolicy targeting the Backend.
	External *ExternalArgs `json:"external,omitempty" pulumi:"external,optional"`
	// Route is how the gateway routes to the backend.
	Route *RouteArgs `json:"route,omitempty" pulumi:"route,optional"`
	// TLS is the upstream TLS configuration.
	TLS TLSArgs `json:"tls" pulumi:"tls"`
}

// ExternalArgs locates a backend outside the cluster.
type ExternalArgs struct {
	// Hostname is the DNS name Envoy resolves and connects to: lowercase, no wildcard, no IP
	// address.
	Hostname string `json:"hostname" pulumi:"hostname"`
	// Port is the TLS port, 1-65535.
	Port int `json:"port,omitempty" pulumi:"port,optional" default:"443"`
}

// ServiceArgs names the backend Service and its ports.
type ServiceArgs struct {
	// Name of the Service. Default: the backend name.
	Name string `json:"name,omitempty" pulumi:"name,optional"`
	// Existing references a Service that already exists instead of deploying one.
	Existing bool `json:"existing,omitempty" pulumi:"existing,optional" default:"false"`
	// Ports of the Service. Every port must be named (BackendTLSPolicy targets a port by name).
	// Default: one port `https` 443 → 8443.
	Ports []PortArgs `json:"ports,omitempty" pulumi:"ports,optional"`
}

// PortArgs is one Service port.
type PortArgs struct {
	// Name of the port: the BackendTLSPolicy sectionName. For deployed backends it also names
	// the container port, so it must be an IANA service name (at most 15 lowercase letters,
	// digits and '-', at least one letter, no `--`).
	Name string `json:"name" pulumi:"name"`
	// Port number of the Service.
	Port int `json:"port" pulumi:"port"`
	// TargetPort on the pod, where the default image serves TLS.
	TargetPort int `json:"targetPort,omitempty" pulumi:"targetPort,optional" default:"8443"`
}

// DeployArgs describes the workload deployed for a backend (when service.existing is false).
type DeployArgs struct {
	// Image serves TLS with the certificate mounted at /run/secrets/certs (tls.crt, tls.key),
	// configured through TLS_SERVER_CERT / TLS_SERVER_PRIVKEY. Default: Gateway API's echo
	// server (echo-basic).
	Image string `json:"image,omitempty" pulumi:"image,optional" default:"gcr.io/k8s-staging-gateway-api/echo-basic:v20240412-v1.0.0-394-g40c666fd"`
	// Replicas of the Deployment.
	Replicas int `json:"replicas,omitempty" pulumi:"replicas,optional" default:"1"`
	// CertificateSecret names an existing kubernetes.io/tls Secret the workload serves. When
	// empty, the serving certificate is generated (signed by the generated CA in mode `ca`,
	// self-signed in mode `insecure`). Mode `system` needs a publicly trusted certificate, so it
	// requires this field for deployed backends.
	CertificateSecret string `json:"certificateSecret,omitempty" pulumi:"certificateSecret,optional"`
	// VerifyClientCertificate makes the workload verify the client certificate the gateway
	// presents: the CA of the generated client certificate (tls.clientCertificate, else
	// gateway.backendClientCertificate, which must be generated) is mounted at
	// /run/secrets/client-ca/ca.crt and named by TLS_CLIENT_CACERTS. The default image refuses a
	// certificate that CA did not issue.
	VerifyClientCertificate bool `json:"verifyClientCertificate,omitempty" pulumi:"verifyClientCertificate,optional" default:"false"`
}

// RouteArgs describes the route from the Gateway to the backend.
type RouteArgs struct {
	// Kind is HTTPRoute or GRPCRoute.
	Kind RouteKind `json:"kind,omitempty" pulumi:"kind,optional" default:"HTTPRoute"`
	// Hostnames the route matches, each covered by the listener's hostname. At most 16.
	// Optional.
	Hostnames []string `json:"hostnames,omitempty" pulumi:"hostnames,optional"`
	// PathPrefix an HTTPRoute matches: an absolute path of at most 1024 characters.
	PathPrefix string `json:"pathPrefix,omitempty" pulumi:"pathPrefix,optional" default:"/"`
	// Listener is the Gateway listener the route attaches to. Default: every listener.
	Listener string `json:"listener,omitempty" pulumi:"listener,optional"`
	// Port is the name of the Service port the route sends traffic to; it must speak TLS (be
	// one of tls.ports). Default: the first port.
	Port string `json:"port,omitempty" pulumi:"port,optional"`
}

// TLSArgs is the upstream TLS configuration of one backend.
type TLSArgs struct {
	// Mode is system, ca or insecure. Required.
	Mode Mode `json:"mode" pulumi:"mode"`
	// Hostname is the SNI the gateway sends and, unless subjectAltNames is set, the name it
	// verifies. Lowercase, no wildcard, no IP. Default <service>.<namespace>.svc (mode system
	// needs a public name: set it).
	Hostname string `json:"hostname,omitempty" pulumi:"hostname,optional"`
	// SubjectAltNames, when set, are the names verified instead of hostname (which then only
	// sets SNI). At most 5. Each is a host name (`*.` allowed) or a URI with a scheme
	// (spiffe://…).
	SubjectAltNames []string `json:"subjectAltNames,omitempty" pulumi:"subjectAltNames,optional"`
	// Ports lists the Service port names that speak TLS and get a policy. Default: every port.
	Ports []string `json:"ports,omitempty" pulumi:"ports,optional"`
	// CA is the trust anchor for mode `ca`; exactly one source must be set.
	CA *CAArgs `json:"ca,omitempty" pulumi:"ca,optional"`
	// AllowInClusterHostname lets mode system verify an in-cluster name (`*.svc`,
	// `*.cluster.local`), which no public CA certifies: set it only when the gateway's system
	// trust store holds the private CA that issued the backend's certificate.
	AllowInClusterHostname bool `json:"allowInClusterHostname,omitempty" pulumi:"allowInClusterHostname,optional" default:"false"`
	// ClientCertificate is the client certificate the gateway presents to this backend instead
	// of gateway.backendClientCertificate; the Secret must be in the backend namespace. Only
	// mode insecure: Envoy Gateway v1.9 takes a per-backend client certificate only from its
	// Backend resource, and modes system and ca route to the Service.
	ClientCertificate *ClientCertificateArgs `json:"clientCertificate,omitempty" pulumi:"clientCertificate,optional"`
	// Parameters constrain the upstream TLS handshake (versions, cipher suites, ALPN). When
	// set on a backend in mode system or ca inside the cluster, the route reaches it through an
	// Envoy Gateway Backend (FQDN: the Service's cluster DNS name on the route's port) carrying
	// them, verified by one BackendTLSPolicy `<backend>` on that Backend (Envoy Gateway v1.9
	// takes per-backend TLS parameters only from a Backend); tls.ports then does not apply.
	Parameters *TLSParametersArgs `json:"parameters,omitempty" pulumi:"parameters,optional"`
	// SNIFromRequestHost sends no fixed SNI: Envoy takes the server name from each request's
	// Host (:authority), for self-signed backends that pick their certificate by the requested
	// name. Only mode insecure (a verifying mode checks the name it sends), and not together with
	// tls.hostname.
	SNIFromRequestHost bool `json:"sniFromRequestHost,omitempty" pulumi:"sniFromRequestHost,optional" default:"false"`
}

// TLSVersion is an upstream TLS protocol version: 1.0, 1.1, 1.2 or 1.3.
type TLSVersion string

// TLSParametersArgs are the TLS parameters of the connections the gateway opens to a backend,
// as Envoy Gateway passes them to Envoy (Backend tls settings). Unset fields keep Envoy
// Gateway's defaults: TLS 1.2 to 1.3, Envoy's default cipher suites, and ALPN chosen by the
// route's protocol.
type TLSParametersArgs struct {
	// MinVersion is the lowest TLS version offered: 1.0, 1.1, 1.2 or 1.3. Default 1.2. Below
	// 1.2 is refused in a production environment unless allowLegacyTLS is set.
	MinVersion TLSVersion `json:"minVersion,omitempty" pulumi:"minVersion,optional"`
	// MaxVersion is the highest TLS version offered, at least minVersion. Default 1.3.
	MaxVersion TLSVersion `json:"maxVersion,omitempty" pulumi:"maxVersion,optional"`
	// Ciphers are the cipher suites offered for TLS 1.2 and below, in order, by Envoy's
	// (OpenSSL) names or their IANA aliases (ECDHE-RSA-AES128-GCM-SHA256 or
	// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256). Not with minVersion 1.3, where they do not apply.
	Ciphers []string `json:"ciphers,omitempty" pulumi:"ciphers,optional"`
	// ALPNProtocols are the application protocols offered, in order: h2, http/1.1, http/1.0.
	// Default: chosen by the route (h2 for a GRPCRoute).
	ALPNProtocols []string `json:"alpnProtocols,omitempty" pulumi:"alpnProtocols,optional"`
	// AllowLegacyTLS accepts minVersion 1.0 or 1.1 in a production environment, for a backend
	// that cannot be upgraded.
	AllowLegacyTLS bool `json:"allowLegacyTLS,omitempty" pulumi:"allowLegacyTLS,optional" default:"false"`
}

// CAArgs is where the custom CA of mode `ca` comes from. Exactly one field is set.
type CAArgs struct {
	// PEM holds one or more CA certificates (PEM). Parsed and checked at preview time: each must
	// be a CA, may sign certificates, be valid now, and permit tls.hostname.
	PEM string `json:"pem,omitempty" pulumi:"pem,optional"`
	// ConfigMap names an existing ConfigMap in the backend namespace whose key `ca.crt` holds
	// the CA.
	ConfigMap string `json:"configMap,omitempty" pulumi:"configMap,optional"`
	// Secret names an existing Secret in the backend namespace whose key `ca.crt` (else
	// `tls.crt`) holds the CA: for a CA that a certificate manager writes into a Secret (a
	// cert-manager CA Issuer's Secret). Only the certificate is read, never the key.
	Secret string `json:"secret,omitempty" pulumi:"secret,optional"`
	// Generate creates a CA and, for deployed backends, a serving certificate it signs.
	Generate bool `json:"generate,omitempty" pulumi:"generate,optional"`
}
