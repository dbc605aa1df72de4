package envoy

import (
	"fmt"
	"slices"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// The TLS parameters of the upstream connection (tls.parameters: versions, cipher suites, ALPN)
// and where the SNI comes from (tls.sniFromRequestHost) are a third axis beside the trust (the
// mode) and the client identity. Envoy Gateway v1.9.1 takes per-backend parameters only from an
// Envoy Gateway Backend's tls settings (internal/gatewayapi/backendtlspolicy.go,
// processClientTLSSettings and mergeClientTLSConfigs; a BackendTLSPolicy has none, and
// EnvoyProxy.spec.backendTLS is ignored whenever Gateway.spec.tls.backend is set, which the
// gateway client certificate uses), so a backend with parameters is reached through a Backend:
// its insecure or external Backend already, else one the plan adds (viaBackend). Envoy Gateway
// defaults the versions to 1.2 to 1.3 when none is set (applyBackendTLSSetting).

// Default upstream TLS versions Envoy Gateway sets when the Backend sets none.
const (
	DefaultMinTLSVersion = "1.2"
	DefaultMaxTLSVersion = "1.3"
)

// tlsVersions are the versions Envoy accepts for an upstream connection, in order.
var tlsVersions = []spec.TLSVersion{"1.0", "1.1", "1.2", "1.3"}

// cipherSuites are the names Envoy Gateway documents for TLSSettings.ciphers (OpenSSL names,
// then the IANA aliases Envoy maps to them): api/v1alpha1/tls_types.go.
var cipherSuites = map[string]string{
	"ECDHE-ECDSA-AES128-GCM-SHA256": "", "ECDHE-RSA-AES128-GCM-SHA256": "", "ECDHE-ECDSA-AES256-GCM-SHA384": "",
	"ECDHE-RSA-AES256-GCM-SHA384": "", "ECDHE-ECDSA-CHACHA20-POLY1305": "", "ECDHE-RSA-CHACHA20-POLY1305": "",
	"ECDHE-ECDSA-AES128-SHA": "", "ECDHE-RSA-AES128-SHA": "", "AES128-GCM-SHA256": "", "AES128-SHA": "",
	"ECDHE-ECDSA-AES256-SHA": "", "ECDHE-RSA-AES256-SHA": "", "AES256-GCM-SHA384": "", "AES256-SHA": "",
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
	"TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
	"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
	"TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
}

// alpnProtocols are the ALPN protocols an upstream HTTP connection can offer.
var alpnProtocols = []string{"h2", "http/1.1", "http/1.0"}

// viaBackend reports whether the route reaches b through an Envoy Gateway Backend named after
// it: an external or insecure backend always, a verified in-cluster backend when it has TLS
// parameters (which only a Backend carries).
func viaBackend(b *spec.BackendArgs) bool {
	return b.External != nil || b.TLS.Mode == spec.ModeInsecure || b.TLS.Parameters != nil
}

// usesBackendAPI reports whether any backend is reached through an Envoy Gateway Backend, so
// that the install must turn Envoy Gateway's Backend API on.
func usesBackendAPI(a *spec.Args) bool {
	return slices.ContainsFunc(a.Backends, func(b spec.BackendArgs) bool { return viaBackend(&b) })
}

// ValidateSNIRaw checks tls.sniFromRequestHost as configured, before defaults give
// tls.hostname a value: the SNI is then the request's, so a hostname would be ignored.
func ValidateSNIRaw(p *core.Problems, path *field.Path, b *spec.BackendArgs) {
	if b.TLS.SNIFromRequestHost && b.TLS.Hostname != "" {
		p.Add(path.Child("tls", "hostname"), fmt.Sprintf("is %q, but tls.sniFromRequestHost sends the request's host as the SNI instead", b.TLS.Hostname),
			"remove tls.hostname, or remove tls.sniFromRequestHost to send tls.hostname")
	}
}

// validateTLSParameters checks tls.parameters and tls.sniFromRequestHost of the defaulted
// backend b (at path): known versions in order, a legacy minimum only where allowed, ciphers
// Envoy knows (and only where they apply), known ALPN protocols, each once.
func validateTLSParameters(p *core.Problems, a *spec.Args, path *field.Path, b *spec.BackendArgs) {
	tp := path.Child("tls")
	if b.TLS.SNIFromRequestHost && b.TLS.Mode != spec.ModeInsecure {
		p.Add(tp.Child("sniFromRequestHost"), fmt.Sprintf("is set, but mode %s verifies the backend's certificate for the name the gateway sends, which must be fixed (tls.hostname)", b.TLS.Mode),
			"remove tls.sniFromRequestHost, or use mode insecure for a self-signed backend that picks its certificate by the requested name")
	}
	t := b.TLS.Parameters
	if t == nil {
		return
	}
	pp := tp.Child("parameters")
	if len(b.TLS.Ports) > 0 && b.External == nil && modeUsesPolicy(b.TLS.Mode) {
		p.Add(tp.Child("ports"), "is set, but with tls.parameters the route reaches the backend through an Envoy Gateway Backend on route.port, verified by one BackendTLSPolicy on that Backend, not per Service port",
			"remove tls.ports and choose the port with route.port")
	}
	if t.MinVersion == "" && t.MaxVersion == "" && len(t.Ciphers) == 0 && len(t.ALPNProtocols) == 0 && !t.AllowLegacyTLS {
		p.Add(pp, "is empty", "remove tls.parameters to keep Envoy Gateway's defaults (TLS 1.2 to 1.3), or set minVersion, maxVersion, ciphers or alpnProtocols")
		return
	}
	versionIndex := func(name string, v spec.TLSVersion) int {
		if v == "" {
			return -1
		}
		i := slices.Index(tlsVersions, v)
		if i < 0 {
			p.AddType(pp.Child(name), field.ErrorTypeNotSupported, fmt.Sprintf("%q is not a TLS version Envoy accepts for an upstream connection", v), `use "1.0", "1.1", "1.2" or "1.3" (a string: quote it in YAML)`)
		}
		return i
	}
	lo, hi := versionIndex("minVersion", t.MinVersion), versionIndex("maxVersion", t.MaxVersion)
	effLo, effHi := lo, hi
	if effLo < 0 {
		effLo = slices.Index(tlsVersions, DefaultMinTLSVersion)
	}
	if effHi < 0 {
		effHi = slices.Index(tlsVersions, DefaultMaxTLSVersion)
	}
	if (lo >= 0 || t.MinVersion == "") && (hi >= 0 || t.MaxVersion == "") && effLo > effHi {
		what := fmt.Sprintf("maxVersion %s is below minVersion %s", tlsVersions[effHi], tlsVersions[effLo])
		if t.MinVersion == "" {
			what = fmt.Sprintf("maxVersion %s is below the default minVersion %s", tlsVersions[effHi], DefaultMinTLSVersion)
		}
		p.Add(pp.Child("maxVersion"), what, "raise maxVersion, or lower minVersion")
	}
	if lo >= 0 && lo < slices.Index(tlsVersions, "1.2") {
		if a.Environment == spec.EnvironmentProduction && !t.AllowLegacyTLS {
			p.Add(pp.Child("minVersion"), fmt.Sprintf("TLS %s is deprecated (RFC 8996) and refused in a production environment: a downgrade to it exposes the connection to attacks TLS 1.2 fixed", t.MinVersion),
				"use minVersion 1.2 (the default), or, for a backend that cannot be upgraded, set tls.parameters.allowLegacyTLS: true")
		}
	} else if t.AllowLegacyTLS {
		p.Add(pp.Child("allowLegacyTLS"), "is set, but minVersion is not below 1.2, so there is nothing to allow", "remove allowLegacyTLS")
	}
	if len(t.Ciphers) > 0 && effLo == slices.Index(tlsVersions, "1.3") {
		p.Add(pp.Child("ciphers"), "are set, but minVersion is 1.3, whose cipher suites are not configurable (Envoy Gateway refuses the Backend)", "remove ciphers, or lower minVersion to 1.2")
	}
	seen := map[string]bool{}
	for i, c := range t.Ciphers {
		cp := pp.Child("ciphers").Index(i)
		canonical, known := cipherSuites[c]
		if !known {
			p.AddType(cp, field.ErrorTypeNotSupported, fmt.Sprintf("%q is not a cipher suite Envoy Gateway supports for upstream TLS", c), "use one of "+strings.Join(cipherNames(), ", ")+" (or its IANA name, such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)")
			continue
		}
		if canonical == "" {
			canonical = c
		}
		if seen[canonical] {
			p.Duplicate(cp, fmt.Sprintf("%q is listed twice (an IANA alias names the same suite as its OpenSSL name)", c), "list each cipher suite once")
		}
		seen[canonical] = true
	}
	seen = map[string]bool{}
	for i, proto := range t.ALPNProtocols {
		ap := pp.Child("alpnProtocols").Index(i)
		switch {
		case !slices.Contains(alpnProtocols, proto):
			p.AddType(ap, field.ErrorTypeNotSupported, fmt.Sprintf("%q is not an ALPN protocol an upstream HTTP connection offers", proto), "use h2, http/1.1 or http/1.0")
		case seen[proto]:
			p.Duplicate(ap, fmt.Sprintf("%q is listed twice", proto), "list each protocol once")
		}
		seen[proto] = true
	}
	if b.Route.Kind == spec.RouteKindGRPC && len(t.ALPNProtocols) > 0 && !slices.Contains(t.ALPNProtocols, "h2") {
		p.Add(pp.Child("alpnProtocols"), fmt.Sprintf("%v leaves out h2, but a GRPCRoute's backend speaks gRPC over HTTP/2", t.ALPNProtocols), "add h2, or remove alpnProtocols")
	}
}

func cipherNames() []string {
	var out []string
	for c, alias := range cipherSuites {
		if alias == "" {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// backendTLSConfig is the Backend tls setting carrying b's parameters (nil without them).
func backendTLSConfig(b *spec.BackendArgs) *egv1a1.BackendTLSConfig {
	t := b.TLS.Parameters
	if t == nil {
		return nil
	}
	var s egv1a1.TLSSettings
	if t.MinVersion != "" {
		v := egv1a1.TLSVersion(t.MinVersion)
		s.MinVersion = &v
	}
	if t.MaxVersion != "" {
		v := egv1a1.TLSVersion(t.MaxVersion)
		s.MaxVersion = &v
	}
	s.Ciphers = append([]string(nil), t.Ciphers...)
	for _, proto := range t.ALPNProtocols {
		s.ALPNProtocols = append(s.ALPNProtocols, egv1a1.ALPNProtocol(proto))
	}
	return &egv1a1.BackendTLSConfig{TLSSettings: s}
}

// withTLSParameters adds b's parameters to a Backend's tls settings (creating them): tls may
// be nil (a Backend whose trust comes from a BackendTLSPolicy on it).
func withTLSParameters(b *spec.BackendArgs, tls *egv1a1.BackendTLSSettings) *egv1a1.BackendTLSSettings {
	cfg := backendTLSConfig(b)
	if cfg == nil {
		return tls
	}
	if tls == nil {
		tls = &egv1a1.BackendTLSSettings{}
	}
	if tls.BackendTLSConfig == nil {
		tls.BackendTLSConfig = cfg
	} else {
		tls.BackendTLSConfig.TLSSettings = cfg.TLSSettings
	}
	return tls
}

// Parameters is what the gateway offers in its upstream TLS handshake, as derived from the
// planned objects (derivePosture): the versions (Envoy Gateway's 1.2 to 1.3 when the Backend
// sets none), the cipher suites and the ALPN protocols ("" each: Envoy's defaults).
type Parameters struct {
	MinVersion, MaxVersion string
	// Ciphers and ALPN are comma-separated, in order; "" keeps Envoy's defaults.
	Ciphers, ALPN string
}

// String renders the parameters for the posture table: `1.2-1.3`, `1.3`, then
// ` ciphers:N` and ` alpn:h2,http/1.1` when set.
func (t Parameters) String() string {
	if t.MinVersion == "" && t.MaxVersion == "" {
		return "-"
	}
	s := t.MinVersion + "-" + t.MaxVersion
	if t.MinVersion == t.MaxVersion {
		s = t.MinVersion
	}
	if t.Ciphers != "" {
		s += fmt.Sprintf(" ciphers:%d", strings.Count(t.Ciphers, ",")+1)
	}
	if t.ALPN != "" {
		s += " alpn:" + t.ALPN
	}
	return s
}

// DefaultParameters are what Envoy Gateway offers when nothing sets the parameters.
func DefaultParameters() Parameters {
	return Parameters{MinVersion: DefaultMinTLSVersion, MaxVersion: DefaultMaxTLSVersion}
}

// deriveParameters reads the parameters of a Backend's tls settings (nil: the defaults).
func deriveParameters(t *egv1a1.BackendTLSSettings) Parameters {
	out := DefaultParameters()
	if t == nil || t.BackendTLSConfig == nil {
		return out
	}
	s := t.BackendTLSConfig.TLSSettings
	if s.MinVersion != nil {
		out.MinVersion = string(*s.MinVersion)
	}
	if s.MaxVersion != nil {
		out.MaxVersion = string(*s.MaxVersion)
	}
	out.Ciphers = strings.Join(s.Ciphers, ",")
	var alpn []string
	for _, proto := range s.ALPNProtocols {
		alpn = append(alpn, string(proto))
	}
	out.ALPN = strings.Join(alpn, ",")
	return out
}

// ExpectedParameters are the parameters the configuration asks for backend b; DerivePostures
// holds the derived posture to them.
func ExpectedParameters(b *spec.BackendArgs) Parameters {
	var tls *egv1a1.BackendTLSSettings
	if cfg := backendTLSConfig(b); cfg != nil {
		tls = &egv1a1.BackendTLSSettings{BackendTLSConfig: cfg}
	}
	return deriveParameters(tls)
}
