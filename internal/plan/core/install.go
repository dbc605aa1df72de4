package core

// Usage is what a generated certificate is for (its extended key usage).
type Usage string

const (
	// UsageServer is a TLS server certificate (serverAuth): backends and listeners.
	UsageServer Usage = "server"
	// UsageClient is a TLS client certificate (clientAuth): what a gateway presents to a
	// backend that verifies its clients.
	UsageClient Usage = "client"
)

// Certificate asks for a generated certificate bundle; objects refer to its fields with
// CertRef(Name, field) bindings.
type Certificate struct {
	// Name is unique within the plan, for example `backend-internal-api`; it is also the
	// CertificateBundle's resource name.
	Name string `json:"name"`
	// CommonName of the leaf.
	CommonName string `json:"commonName"`
	// DNSNames of the leaf; the first is the verified hostname.
	DNSNames []string `json:"dnsNames"`
	// WithCA issues the leaf from a generated CA; otherwise it is self-signed.
	WithCA bool `json:"withCA"`
	// Usage is the leaf's key usage; empty means UsageServer (what every certificate planned
	// before client certificates existed is, so their inputs stay unchanged).
	Usage Usage `json:"usage,omitempty"`
	// ValidityDays, CAValidityDays and RenewBeforeDays are the lifecycle (spec.CertificatesArgs)
	// where it differs from the defaults (pki.Default*Days); 0 means the default, so the inputs of
	// bundles planned before lifecycles existed stay unchanged.
	ValidityDays    int `json:"validityDays,omitempty"`
	CAValidityDays  int `json:"caValidityDays,omitempty"`
	RenewBeforeDays int `json:"renewBeforeDays,omitempty"`
	// Field is the configuration path that asks for the certificate.
	Field string `json:"-"`
}

// CRDBundle is a set of CRDs installed from one source.
type CRDBundle struct {
	// Version of the bundle.
	Version string `json:"version"`
	// Sources are URLs of multi-document YAML files or local directories of CRD files.
	Sources []string `json:"sources"`
	// RetainOnDelete leaves the CRDs in the cluster when the stack stops managing them
	// (pulumi destroy, or an update that no longer installs them): they leave the state only.
	// Deleting a CRD deletes every object of its kinds in the cluster, other stacks' included,
	// so the plan sets it on every bundle (CRDBundleRetained); a later install adopts them.
	RetainOnDelete bool `json:"retainOnDelete,omitempty"`
}

// CRDBundleRetained is the bundle of CRDs of the given version from sources, as the plan
// installs every bundle: retained on delete (CRDBundle.RetainOnDelete), as Helm leaves a
// chart's CRDs in place on uninstall.
func CRDBundleRetained(version string, sources ...string) *CRDBundle {
	return &CRDBundle{Version: version, Sources: sources, RetainOnDelete: true}
}

// HelmRelease is one Helm chart installation.
type HelmRelease struct {
	// Name of the release.
	Name string `json:"name"`
	// Chart is the chart name.
	Chart string `json:"chart"`
	// Repository is the chart repository (an oci:// or https:// URL); empty for local charts.
	Repository string `json:"repository,omitempty"`
	// Path is the local chart directory, when installing offline.
	Path string `json:"path,omitempty"`
	// Version of the chart.
	Version string `json:"version"`
	// Namespace of the release.
	Namespace string `json:"namespace"`
	// Values override the chart's defaults. Values only the engine knows are display text here
	// and listed in Computed.
	Values map[string]any `json:"values,omitempty"`
	// Computed are the bindings of engine-computed values into Values.
	Computed []Binding `json:"-"`
	// SkipCRDs leaves out the chart's crds/ directory (the CRDs are installed separately, by
	// one owner, before the chart).
	SkipCRDs bool `json:"skipCrds,omitempty"`
	// RetainOnDelete leaves every object of the release in the cluster when the stack stops
	// managing it (CRDBundle.RetainOnDelete): set on releases that install only CRDs.
	RetainOnDelete bool `json:"retainOnDelete,omitempty"`
}

// Install step keys: the things objects wait for that are not planned objects. An object's
// DependsOn holds these beside object keys.
const (
	// StepGatewayAPICRDs installs the Gateway API standard-channel CRDs.
	StepGatewayAPICRDs = "install/gateway-api-crds"
	// StepEnvoyGatewayCRDs installs Envoy Gateway's own CRDs (gateway-crds-helm).
	StepEnvoyGatewayCRDs = "install/gateway-crds-helm"
	// StepEnvoyGateway installs the Envoy Gateway controller (gateway-helm).
	StepEnvoyGateway = "install/gateway-helm"
	// StepLBCIdentity grants the AWS Load Balancer Controller its IAM role.
	StepLBCIdentity = "install/lbc-iam"
	// StepLBCCRDs installs the AWS Load Balancer Controller's CRDs.
	StepLBCCRDs = "install/lbc-crds"
	// StepLBC installs the AWS Load Balancer Controller.
	StepLBC = "install/aws-load-balancer-controller"
)
