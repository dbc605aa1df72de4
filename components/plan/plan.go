package plan

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Pinned versions and defaults. The README's support matrix lists them.
const (
	// DefaultEnvoyGatewayVersion is the gateway-helm / gateway-crds-helm chart version installed.
	DefaultEnvoyGatewayVersion = "v1.9.1"
	// DefaultGatewayAPIVersion is the Gateway API (standard channel) CRD bundle installed.
	DefaultGatewayAPIVersion = "v1.6.3"
	// DefaultChartRepository hosts the Envoy Gateway charts.
	DefaultChartRepository = "oci://docker.io/envoyproxy"
	// DefaultEnvoyGatewayNamespace is where the controller runs.
	DefaultEnvoyGatewayNamespace = "envoy-gateway-system"
	// DefaultGatewayClassName is the GatewayClass created for Envoy Gateway.
	DefaultGatewayClassName = "envoy-gateway"
	// EnvoyGatewayControllerName is the controllerName Envoy Gateway reconciles.
	EnvoyGatewayControllerName = "gateway.envoyproxy.io/gatewayclass-controller"
	// DefaultGatewayName and DefaultGatewayNamespace name the Gateway.
	DefaultGatewayName      = "upstream-tls"
	DefaultGatewayNamespace = "gateway"
	// DefaultBackendImage is the Gateway API conformance echo server; it serves HTTPS on 8443
	// with the certificate named by TLS_SERVER_CERT / TLS_SERVER_PRIVKEY.
	DefaultBackendImage = "gcr.io/k8s-staging-gateway-api/echo-basic:v20240412-v1.0.0-394-g40c666fd"
	// DefaultTargetPort is where DefaultBackendImage serves HTTPS.
	DefaultTargetPort = 8443
	// ClusterDomain is the DNS suffix of Service FQDNs used by Envoy Gateway Backends.
	ClusterDomain = "cluster.local"
	// ComponentLabel marks every object the component creates.
	ComponentLabel = "app.kubernetes.io/managed-by"
	// ComponentLabelValue is the value of ComponentLabel.
	ComponentLabelValue = "upstream-tls"
)

// GatewayAPIStandardInstallURL is the upstream release asset holding the standard-channel CRDs.
func GatewayAPIStandardInstallURL(version string) string {
	return "https://github.com/kubernetes-sigs/gateway-api/releases/download/" + version + "/standard-install.yaml"
}

// Plan is everything one environment needs, in dependency order within each part.
type Plan struct {
	// Args are the inputs with every default filled in.
	Args Args
	// Install is the Envoy Gateway installation and GatewayClass.
	Install Install
	// Namespaces are created before anything else in them (never default or kube-*).
	Namespaces []Object
	// Gateway is the Gateway and its listener certificates.
	Gateway GatewayPlan
	// Backends are the per-backend objects, in input order.
	Backends []Backend
	// EKS is the EKS path (AWS Load Balancer Controller NLB); nil when off.
	EKS *EKSPlan
	// Warnings are accepted but noteworthy choices (for example an allowed insecure backend in
	// production); the components log them.
	Warnings []string
}

// Install is the Envoy Gateway installation.
type Install struct {
	// Enabled is false when the controller is installed by someone else.
	Enabled bool
	// Namespace of the controller.
	Namespace string
	// GatewayAPICRDs is the CRD bundle the component owns; nil when managed elsewhere.
	GatewayAPICRDs *CRDBundle
	// Releases are the Helm releases, in install order: Envoy Gateway CRDs, then the controller.
	Releases []HelmRelease
	// EnableBackend is true when Envoy Gateway's Backend API is on.
	EnableBackend bool
	// GatewayClass is the Envoy Gateway GatewayClass.
	GatewayClass Object
}

// CRDBundle is a set of CRDs installed from one source.
type CRDBundle struct {
	// Version of the bundle.
	Version string `json:"version"`
	// Sources are URLs of multi-document YAML files or local directories of CRD files.
	Sources []string `json:"sources"`
}

// HelmRelease is one Helm chart installation.
type HelmRelease struct {
	// Name of the release.
	Name string `json:"name"`
	// Chart is the chart name, or the local chart directory when Path is set.
	Chart string `json:"chart"`
	// Repository is the chart repository (for example an oci:// URL); empty for local charts.
	Repository string `json:"repository,omitempty"`
	// Path is the local chart directory, when installing offline.
	Path string `json:"path,omitempty"`
	// Version of the chart.
	Version string `json:"version"`
	// Namespace of the release.
	Namespace string `json:"namespace"`
	// Values override the chart's defaults. String values may be Computed placeholders.
	Values map[string]any `json:"values,omitempty"`
	// SkipCRDs leaves out the chart's crds/ directory (the CRDs are installed separately, by
	// one owner, before the chart).
	SkipCRDs bool `json:"skipCrds,omitempty"`
}

// GatewayPlan holds the Gateway and the certificates of its HTTPS listeners.
type GatewayPlan struct {
	// Certificates to generate for listeners without certificateSecret.
	Certificates []Certificate
	// Objects are the listener certificate Secrets, then the Gateway.
	Objects []Object
}

// Backend is everything planned for one backend.
type Backend struct {
	// Name of the backend.
	Name string
	// Mode of its upstream TLS.
	Mode Mode
	// Verified is true when the gateway verifies the backend's certificate.
	Verified bool
	// Hostname is the SNI (and verified name unless SubjectAltNames is set).
	Hostname string
	// Namespace and Service locate the backend Service.
	Namespace string
	Service   string
	// Certificates to generate (serving certificate, and its CA in mode ca).
	Certificates []Certificate
	// Objects in apply order.
	Objects []Object
}

// Certificate asks for a generated certificate bundle; objects refer to its fields through
// Computed placeholders.
type Certificate struct {
	// Name is unique within the plan, for example `backend-internal-api`.
	Name string `json:"name"`
	// CommonName of the leaf.
	CommonName string `json:"commonName"`
	// DNSNames of the leaf; the first is the verified hostname.
	DNSNames []string `json:"dnsNames"`
	// WithCA issues the leaf from a generated CA; otherwise it is self-signed.
	WithCA bool `json:"withCA"`
}

// Certificate fields that objects can reference with Computed.
const (
	FieldCACert = "caCert"
	FieldCert   = "cert"
	FieldKey    = "key"
)

const computedPrefix = "<<computed:certificate/"

// Computed returns the placeholder that stands, in planned objects, for a value the engine
// computes: field FieldCACert, FieldCert or FieldKey of the generated certificate named cert.
// Renders show it as is; the components replace it with the certificate's output.
func Computed(cert, field string) string {
	return computedPrefix + cert + "/" + field + ">>"
}

// ParseComputed reports whether s is a Computed placeholder and which certificate and field it
// names.
func ParseComputed(s string) (cert, field string, ok bool) {
	if !strings.HasPrefix(s, computedPrefix) || !strings.HasSuffix(s, ">>") {
		return "", "", false
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(s, computedPrefix), ">>")
	i := strings.LastIndex(inner, "/")
	if i <= 0 || i == len(inner)-1 {
		return "", "", false
	}
	return inner[:i], inner[i+1:], true
}

// Object is one Kubernetes object: an upstream typed API struct (Gateway API, Envoy Gateway or
// Kubernetes core) with its apiVersion and kind set.
type Object interface {
	GetName() string
	GetNamespace() string
	GroupVersionKind() schema.GroupVersionKind
}

// ObjectKey renders an object's identity as `kind/namespace/name` (or `kind/name`).
func ObjectKey(o Object) string {
	if o.GetNamespace() == "" {
		return o.GroupVersionKind().Kind + "/" + o.GetName()
	}
	return fmt.Sprintf("%s/%s/%s", o.GroupVersionKind().Kind, o.GetNamespace(), o.GetName())
}

// AllObjects lists every planned object in apply order: the Envoy Gateway path, then the EKS path.
func (p *Plan) AllObjects() []Object {
	return append(p.EnvoyGatewayObjects(), p.EKSObjects()...)
}

// EnvoyGatewayObjects lists the namespaces and the objects of the Envoy Gateway path, in apply
// order: what Envoy Gateway's translator sees.
func (p *Plan) EnvoyGatewayObjects() []Object {
	var out []Object
	out = append(out, p.Namespaces...)
	if p.Install.GatewayClass != nil {
		out = append(out, p.Install.GatewayClass)
	}
	out = append(out, p.Gateway.Objects...)
	for _, b := range p.Backends {
		out = append(out, b.Objects...)
	}
	return out
}

// EKSObjects lists the objects of the EKS path (GatewayClass, LoadBalancerConfiguration,
// Gateway, then each target's objects); none when the path is off.
func (p *Plan) EKSObjects() []Object {
	if p.EKS == nil {
		return nil
	}
	out := []Object{p.EKS.GatewayClass}
	out = append(out, p.EKS.Objects...)
	for _, t := range p.EKS.Targets {
		out = append(out, t.Objects...)
	}
	return out
}

// AllCertificates lists every certificate to generate.
func (p *Plan) AllCertificates() []Certificate {
	out := append([]Certificate(nil), p.Gateway.Certificates...)
	for _, b := range p.Backends {
		out = append(out, b.Certificates...)
	}
	if p.EKS != nil {
		out = append(out, p.EKS.Certificates...)
	}
	return out
}

// Posture renders one line per backend: name, mode, whether the gateway verifies it, hostname.
func (p *Plan) Posture() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-24s %-9s %-9s %s\n", "BACKEND", "MODE", "VERIFIED", "HOSTNAME (SNI)")
	for _, be := range p.Backends {
		verified := "yes"
		if !be.Verified {
			verified = "NO"
		}
		fmt.Fprintf(&b, "%-24s %-9s %-9s %s\n", be.Name, be.Mode, verified, be.Hostname)
	}
	if p.EKS != nil {
		fmt.Fprintf(&b, "\n%-24s %-20s %-8s %-13s %s\n", "NLB TARGET", "LISTENER", "TO PODS", "NLB VERIFIES", "SERVICE")
		for _, t := range p.EKS.Targets {
			fmt.Fprintf(&b, "%-24s %-20s %-8s %-13s %s\n", t.Name, t.Listener+"/"+t.ListenerProtocol, t.TargetGroupProtocol, "NO", t.Namespace+"/"+t.Service)
		}
	}
	return b.String()
}
