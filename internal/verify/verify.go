package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// Effective is the upstream TLS the translator actually configured for a backend (the same
// classification the plan derives from its objects).
type Effective = core.Effective

// The values of Effective, as the verifier reports them.
const (
	EffectiveSystem   = core.EffectiveSystem
	EffectiveCA       = core.EffectiveCA
	EffectiveOtherCA  = core.EffectiveOtherCA
	EffectiveInsecure = core.EffectiveInsecure
	EffectivePlain    = core.EffectivePlain
	EffectiveNone     = core.EffectiveNone
	EffectiveMixed    = core.EffectiveMixed
)

// Result is the verdict for one backend.
type Result struct {
	// Backend is the plan backend name; Mode its declared mode.
	Backend string
	Mode    spec.Mode
	// Expected is what the mode declares the translator must configure.
	Expected Effective
	// Planned is the posture the plan derived from its objects.
	Planned Effective
	// Effective is the upstream TLS derived from the translator output.
	Effective Effective
	// SNI is the server name the cluster sends ("-" when none).
	SNI string
	// ClientCertificate is the Secret (`namespace/name`) whose certificate the translator has
	// the gateway present, found by comparing the IR's client certificate bytes with the Secrets
	// sent; "none" when it presents none, `unknown(<IR name>)` when no Secret sent holds them.
	ClientCertificate string
	// Parameters are the TLS versions, cipher suites and ALPN protocols the xDS transport
	// sockets offer (tlsParams, alpnProtocols).
	Parameters envoy.Parameters
	// AutoSNI is true when the cluster sends each request's host as the SNI (autoSni).
	AutoSNI bool
	// Problems are the reasons for MISMATCH; empty means OK.
	Problems []string
}

// OK reports whether the effective configuration matches the plan.
func (r Result) OK() bool { return len(r.Problems) == 0 }

// String renders `NAME MODE EFFECTIVE SNI [tls=PARAMETERS] [client-cert=SECRET]
// OK|MISMATCH(reason; ...)`; SNI `request-host` when the cluster sends each request's host, the
// parameters only when they are not Envoy Gateway's defaults, the client certificate only when
// the gateway presents one.
func (r Result) String() string {
	verdict := "OK"
	if !r.OK() {
		verdict = "MISMATCH(" + strings.Join(r.Problems, "; ") + ")"
	}
	sni := r.SNI
	switch {
	case sni == "" && r.AutoSNI:
		sni = "request-host"
	case sni == "":
		sni = "-"
	}
	if r.Parameters != (envoy.Parameters{}) && r.Parameters != envoy.DefaultParameters() {
		sni += " tls=" + strings.ReplaceAll(r.Parameters.String(), " ", ",")
	}
	client := ""
	if r.ClientCertificate != "" && r.ClientCertificate != envoy.NoClientCertificate {
		client = " client-cert=" + r.ClientCertificate
	}
	return fmt.Sprintf("%s %s %s %s%s %s", r.Backend, r.Mode, r.Effective, sni, client, verdict)
}

// Report is the verdict for a whole plan.
type Report struct {
	// Results has one entry per plan backend, in plan order.
	Results []Result
	// Conditions lists every bad status condition (not Accepted/ResolvedRefs/Programmed=True,
	// or a negative condition such as Conflicted=True), whichever object it is on.
	Conditions []string
}

// OK reports whether every backend is OK and no condition is bad.
func (r *Report) OK() bool {
	for _, res := range r.Results {
		if !res.OK() {
			return false
		}
	}
	return len(r.Conditions) == 0
}

// Verify builds the translator input of p, translates it with the egctl binary at egctl and
// derives the report.
func Verify(ctx context.Context, egctl string, p *plan.Plan, now time.Time) (*Report, error) {
	in, err := BuildInput(p, now)
	if err != nil {
		return nil, fmt.Errorf("build translator input: %w", err)
	}
	out, err := Translate(ctx, egctl, in)
	if err != nil {
		return nil, err
	}
	return Derive(p, in, out)
}

// Derive compares the translator output out (for input in, built from p) with p. The effective
// TLS of a backend comes from the xDS cluster of its route (transport socket: TLS or not, SNI,
// validation context SDS secret: `system_ca_certificates` means the system trust store) and is
// cross-checked with the IR destination settings (useSystemTrustStore, caCertificate bytes,
// insecureSkipVerify), whose CA bytes are compared with the expected CA: the generated CA that
// issued the backend's serving certificate, else the CA ConfigMap the plan creates. A planned
// Backend must be Accepted=True. When in.EnableBackend is false every backend using a Backend is
// reported too (whether or not the egctl used honours BackendDisabledEnv), since Envoy Gateway
// then rejects routes to Backends.
func Derive(p *plan.Plan, in *Input, out *Output) (*Report, error) {
	clusters, err := out.Clusters()
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	bad := map[string][]string{} // "Kind/ns/name" -> bad conditions
	collect := func(kind string, rs []Resource) {
		for _, r := range rs {
			key := kind + "/" + r.Metadata.Namespace + "/" + r.Metadata.Name
			var conds []Condition
			conds = append(conds, r.Status.Conditions...)
			for _, pa := range r.Status.Parents {
				conds = append(conds, pa.Conditions...)
			}
			for _, a := range r.Status.Ancestors {
				conds = append(conds, a.Conditions...)
			}
			for _, l := range r.Status.Listeners {
				conds = append(conds, l.Conditions...)
			}
			for _, c := range conds {
				if isBad(c) {
					s := fmt.Sprintf("%s: %s=%s (%s): %s", key, c.Type, c.Status, c.Reason, c.Message)
					bad[key] = append(bad[key], s)
					rep.Conditions = append(rep.Conditions, s)
				}
			}
		}
	}
	if out.GatewayClass != nil {
		collect("GatewayClass", []Resource{*out.GatewayClass})
	}
	collect("Gateway", out.Gateways)
	collect("HTTPRoute", out.HTTPRoutes)
	collect("GRPCRoute", out.GRPCRoutes)
	collect("BackendTLSPolicy", out.BackendTLSPolicies)
	collect("Backend", out.Backends)
	var global []string // conditions on the GatewayClass and Gateways touch every backend
	for k, v := range bad {
		if strings.HasPrefix(k, "Gateway/") || strings.HasPrefix(k, "GatewayClass/") {
			global = append(global, v...)
		}
	}
	sort.Strings(global)

	for _, b := range p.Envoy.Backends {
		rep.Results = append(rep.Results, deriveBackend(b, in, out, clusters, bad, global))
	}
	if !in.EnableBackend {
		for _, res := range rep.Results {
			for _, pr := range res.Problems {
				if strings.HasPrefix(pr, backendDisabled) {
					rep.Conditions = append(rep.Conditions, res.Backend+": "+pr)
				}
			}
		}
	}
	return rep, nil
}

const backendDisabled = "Backend API disabled"

// isBad reports whether a condition says something is wrong: a positive condition (Accepted,
// ResolvedRefs, Programmed) that is not True, or a negative one (Conflicted,
// OverlappingTLSConfig, PartiallyInvalid) that is.
func isBad(c Condition) bool {
	switch c.Type {
	case string(gwapiv1.RouteConditionAccepted), string(gwapiv1.RouteConditionResolvedRefs), string(gwapiv1.GatewayConditionProgrammed):
		return c.Status != string(metaTrue)
	case string(gwapiv1.ListenerConditionConflicted), string(gwapiv1.ListenerConditionOverlappingTLSConfig), string(gwapiv1.RouteConditionPartiallyInvalid):
		return c.Status == string(metaTrue)
	}
	return false
}

const metaTrue = "True"

func deriveBackend(b envoy.Backend, in *Input, out *Output, clusters []xdsCluster, bad map[string][]string, global []string) Result {
	mode, _ := envoy.ModeOf(b.Mode)
	res := Result{Backend: b.Name, Mode: b.Mode, Expected: mode.Expected(), Planned: b.Posture.Effective, Effective: EffectiveNone}
	problems := append([]string(nil), global...)
	var routeKind, routeNS, routeName string
	var expectedCA []byte
	caPlanned := false
	caSeen := map[string]bool{} // CA ConfigMaps already counted (several ports share one)
	for _, o := range b.Objects {
		key := o.Key()
		switch t := o.Resource.(type) {
		case *gwapiv1.HTTPRoute, *gwapiv1.GRPCRoute:
			routeKind, routeNS, routeName = o.Kind(), o.Namespace(), o.Name()
			problems = append(problems, bad[key]...)
			if !hasStatus(routes(out, routeKind), routeNS, routeName) {
				problems = append(problems, key+": not in translator output")
			}
		case *gwapiv1.BackendTLSPolicy:
			problems = append(problems, bad[key]...)
			// Envoy Gateway reports a policy only through the routes that use its port; a
			// policy on a port no route sends traffic to legitimately has no status.
			if routed := routedPorts(b); routed != nil && !routed[policySection(t)] {
				continue
			}
			if !hasStatus(out.BackendTLSPolicies, t.Namespace, t.Name) {
				problems = append(problems, key+": no ancestor status (the policy attaches to nothing)")
			}
			for _, ref := range t.Spec.Validation.CACertificateRefs {
				cmKey := core.Key(string(ref.Kind), t.Namespace, string(ref.Name))
				if cm := in.Objects[cmKey]; cm != nil && !caSeen[cmKey] {
					caSeen[cmKey] = true
					caPlanned = true
					data, _ := cm["data"].(map[string]any)
					s, _ := data[core.CAKey].(string)
					if ref.Kind == core.KindSecret { // (Secret data is base64, as the API server keeps it)
						b, _ := base64.StdEncoding.DecodeString(s)
						s = string(b)
					}
					expectedCA = append(expectedCA, s...)
				}
			}
		case *egv1a1.Backend:
			problems = append(problems, bad[key]...)
			if !in.EnableBackend {
				problems = append(problems, backendDisabled+": Envoy Gateway rejects the route's backendRef to "+key)
			}
			if !accepted(out.Backends, t.Namespace, t.Name) {
				problems = append(problems, key+": not Accepted=True")
			}
		}
	}

	// The CA that signed a generated serving certificate is the one the gateway must trust,
	// whatever the ConfigMap says (a generated client certificate's CA is the backend's to
	// trust, not the gateway's).
	for _, c := range b.Certificates {
		if bundle := in.Bundles[c.Name]; c.WithCA && c.Usage != core.UsageClient && bundle != nil {
			expectedCA, caPlanned = []byte(bundle.CACertPEM), true
		}
	}

	disabled := false
	for _, pr := range problems {
		disabled = disabled || strings.HasPrefix(pr, backendDisabled)
	}
	if routeName != "" && !disabled {
		prefix := strings.ToLower(routeKind) + "/" + routeNS + "/" + routeName + "/rule/"
		var xEff []Effective
		snis := map[string]bool{}
		xClient := map[bool]bool{} // whether each xDS socket presents a client certificate
		xParams := map[envoy.Parameters]bool{}
		xAutoSNI := map[bool]bool{} // whether each TLS cluster sends the request's host as SNI
		for _, c := range clusters {
			if !strings.HasPrefix(c.Name, prefix) {
				continue
			}
			for _, s := range clusterSockets(c) {
				e, sni := socketEffective(s)
				xEff = append(xEff, e)
				snis[sni] = true
				if e != EffectivePlain {
					xClient[s.TypedConfig.CommonTLSContext != nil && len(s.TypedConfig.CommonTLSContext.TLSCertificateSdsSecretConfigs) > 0] = true
					xParams[socketParameters(s)] = true
					xAutoSNI[c.autoSNI()] = true
				}
			}
		}
		switch {
		case len(xParams) > 1:
			problems = append(problems, fmt.Sprintf("the backend's xDS sockets offer different TLS parameters: %v", sortedParams(xParams)))
		case len(xParams) == 1:
			for p := range xParams {
				res.Parameters = p
			}
			if res.Parameters != b.Posture.Parameters {
				problems = append(problems, fmt.Sprintf("TLS parameters %s, the plan's posture says %s", describeParams(res.Parameters), describeParams(b.Posture.Parameters)))
			}
		}
		res.AutoSNI = len(xAutoSNI) == 1 && xAutoSNI[true]
		if b.Hostname == "" && len(xAutoSNI) > 0 && !res.AutoSNI {
			problems = append(problems, "the plan sends each request's host as the SNI, but the xDS cluster sends none (no autoSni)")
		}
		var iEff []Effective
		iClient := map[string]bool{}
		for _, s := range irSettings(out, prefix) {
			iEff = append(iEff, settingEffective(s, expectedCA, caPlanned))
			if s.TLS != nil {
				iClient[clientSecret(s, in)] = true
			}
		}
		res.ClientCertificate = envoy.NoClientCertificate
		switch {
		case len(iClient) > 1:
			problems = append(problems, fmt.Sprintf("the backend's destinations present different client certificates: %v", sortedKeys(iClient)))
		case len(iClient) == 1:
			res.ClientCertificate = sortedKeys(iClient)[0]
		}
		if len(xClient) > 1 || (len(xClient) == 1 && xClient[true] != (res.ClientCertificate != envoy.NoClientCertificate)) {
			problems = append(problems, fmt.Sprintf("translator views disagree on the client certificate: xDS sockets presenting one %v, IR %s", sortedBools(xClient), res.ClientCertificate))
		}
		if res.ClientCertificate != b.Posture.ClientCertificate && b.Posture.ClientCertificate != "" {
			problems = append(problems, fmt.Sprintf("client certificate %s, the plan's posture says %s", res.ClientCertificate, b.Posture.ClientCertificate))
		}
		if b.VerifiesClientCertificate {
			problems = append(problems, clientVerifies(b, in, irSettings(out, prefix))...)
		}
		res.Effective = combine(xEff, iEff)
		var names []string
		for n := range snis {
			names = append(names, n)
		}
		sort.Strings(names)
		res.SNI = strings.Join(names, ",")
		if res.Effective == EffectiveMixed {
			problems = append(problems, fmt.Sprintf("translator views disagree: xDS %v, IR %v", xEff, iEff))
		}
	}

	switch {
	case res.Effective == EffectivePlain:
		problems = append(problems, "plain text to the backend")
	case res.Effective == EffectiveNone && !disabled:
		problems = append(problems, "no upstream cluster for the backend")
	case res.Effective != EffectiveMixed && res.Effective != EffectiveNone && res.Effective != res.Expected:
		problems = append(problems, fmt.Sprintf("effective %s, mode %s expects %s", res.Effective, b.Mode, res.Expected))
	}
	if res.Effective != res.Planned && res.Effective != EffectiveMixed && !disabled {
		problems = append(problems, fmt.Sprintf("effective %s, the plan's posture says %s", res.Effective, res.Planned))
	}
	if res.Effective != EffectiveNone && res.Effective != EffectivePlain && res.SNI != b.Hostname {
		problems = append(problems, fmt.Sprintf("SNI %q, plan hostname %q", res.SNI, b.Hostname))
	}
	res.Problems = dedupe(problems)
	return res
}

func routes(out *Output, kind string) []Resource {
	if kind == "GRPCRoute" {
		return out.GRPCRoutes
	}
	return out.HTTPRoutes
}

// hasStatus reports whether rs holds ns/name with at least one condition.
func hasStatus(rs []Resource, ns, name string) bool {
	for _, r := range rs {
		if r.Metadata.Namespace != ns || r.Metadata.Name != name {
			continue
		}
		n := len(r.Status.Conditions)
		for _, p := range r.Status.Parents {
			n += len(p.Conditions)
		}
		for _, a := range r.Status.Ancestors {
			n += len(a.Conditions)
		}
		return n > 0
	}
	return false
}

// accepted reports whether rs holds ns/name with condition Accepted=True.
func accepted(rs []Resource, ns, name string) bool {
	for _, r := range rs {
		if r.Metadata.Namespace == ns && r.Metadata.Name == name {
			for _, c := range r.Status.Conditions {
				if c.Type == "Accepted" && c.Status == "True" {
					return true
				}
			}
		}
	}
	return false
}

// clusterSockets returns the transport sockets a cluster's endpoints use: the matched sockets
// when there are transport socket matches (the default socket then only serves endpoints that
// match none, and EG generates none), else the cluster's own socket (nil means plain text).
func clusterSockets(c xdsCluster) []*xdsSocket {
	if len(c.TransportSocketMatches) == 0 {
		return []*xdsSocket{c.TransportSocket}
	}
	var out []*xdsSocket
	for _, m := range c.TransportSocketMatches {
		out = append(out, m.TransportSocket)
	}
	return out
}

// socketEffective classifies one xDS transport socket. The xDS does not carry CA bytes (they
// are in an SDS secret), so any SDS validation secret other than the system one is EffectiveCA
// here; settingEffective compares the bytes.
func socketEffective(s *xdsSocket) (Effective, string) {
	if s == nil || s.Name != "envoy.transport_sockets.tls" {
		return EffectivePlain, ""
	}
	sni := s.TypedConfig.SNI
	ctx := s.TypedConfig.CommonTLSContext
	if ctx == nil {
		return EffectiveInsecure, sni
	}
	name := ""
	switch {
	case ctx.CombinedValidationContext != nil && ctx.CombinedValidationContext.ValidationContextSdsSecretConfig != nil:
		name = ctx.CombinedValidationContext.ValidationContextSdsSecretConfig.Name
	case ctx.ValidationContextSdsSecretConfig != nil:
		name = ctx.ValidationContextSdsSecretConfig.Name
	case ctx.ValidationContext != nil && ctx.ValidationContext.TrustedCA != nil:
		if strings.HasPrefix(ctx.ValidationContext.TrustedCA.Filename, "/etc/ssl/") {
			return EffectiveSystem, sni
		}
		return EffectiveCA, sni
	default:
		return EffectiveInsecure, sni
	}
	if name == "system_ca_certificates" {
		return EffectiveSystem, sni
	}
	return EffectiveCA, sni
}

// irSettings returns the IR destination settings of the routes whose destination name starts
// with prefix, once per destination.
func irSettings(out *Output, prefix string) []irSetting {
	seen := map[string]bool{}
	var res []irSetting
	for _, gw := range out.XdsIR {
		for _, l := range gw.HTTP {
			for _, r := range l.Routes {
				d := r.Destination
				if d == nil || !strings.HasPrefix(d.Name, prefix) || seen[d.Name] {
					continue
				}
				seen[d.Name] = true
				res = append(res, d.Settings...)
			}
		}
	}
	return res
}

// settingEffective classifies one IR destination setting; a CA is EffectiveCA only when its
// certificates equal expectedCA (when the plan creates the CA ConfigMap, caPlanned).
func settingEffective(s irSetting, expectedCA []byte, caPlanned bool) Effective {
	t := s.TLS
	switch {
	case t == nil:
		return EffectivePlain
	case t.InsecureSkipVerify:
		return EffectiveInsecure
	case t.UseSystemTrustStore:
		return EffectiveSystem
	case t.CACertificate != nil:
		if caPlanned && !sameCerts(t.CACertificate.Certificate, expectedCA) {
			return EffectiveOtherCA
		}
		return EffectiveCA
	}
	return EffectiveInsecure
}

// sameCerts reports whether two PEM texts hold the same non-empty set of certificates.
func sameCerts(a, b []byte) bool {
	da, db := ders(a), ders(b)
	if len(da) == 0 || len(da) != len(db) {
		return false
	}
	sort.Strings(da)
	sort.Strings(db)
	for i := range da {
		if da[i] != db[i] {
			return false
		}
	}
	return true
}

func ders(p []byte) []string {
	var out []string
	for {
		var blk *pem.Block
		blk, p = pem.Decode(bytes.TrimSpace(p))
		if blk == nil {
			return out
		}
		if blk.Type == "CERTIFICATE" {
			out = append(out, string(blk.Bytes))
		}
	}
}

// combine merges the xDS and IR classifications: a single agreed value, EffectiveOtherCA when
// xDS says CA and IR finds other CA bytes, EffectiveNone when neither has anything, else mixed.
func combine(xds, ir []Effective) Effective {
	set := map[Effective]bool{}
	for _, e := range xds {
		set[e] = true
	}
	for _, e := range ir {
		if e == EffectiveOtherCA && set[EffectiveCA] {
			delete(set, EffectiveCA)
		}
		set[e] = true
	}
	if len(xds) == 0 && len(ir) == 0 {
		return EffectiveNone
	}
	if len(xds) == 0 || len(ir) == 0 || len(set) != 1 {
		return EffectiveMixed
	}
	for e := range set {
		return e
	}
	return EffectiveNone
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// routedPorts returns the names of the backend Service ports its route sends traffic to, or nil
// when they cannot be told from the planned objects (an existing Service).
func routedPorts(b envoy.Backend) map[string]bool {
	var svc *corev1.Service
	var ports []int32
	for _, o := range b.Objects {
		switch t := o.Resource.(type) {
		case *corev1.Service:
			svc = t
		case *gwapiv1.HTTPRoute:
			for _, r := range t.Spec.Rules {
				for _, ref := range r.BackendRefs {
					if ref.Port != nil {
						ports = append(ports, int32(*ref.Port))
					}
				}
			}
		case *gwapiv1.GRPCRoute:
			for _, r := range t.Spec.Rules {
				for _, ref := range r.BackendRefs {
					if ref.Port != nil {
						ports = append(ports, int32(*ref.Port))
					}
				}
			}
		}
	}
	if svc == nil {
		return nil
	}
	names := map[string]bool{}
	for _, sp := range svc.Spec.Ports {
		for _, p := range ports {
			if sp.Port == p {
				names[sp.Name] = true
			}
		}
	}
	return names
}

// policySection is the Service port name a policy targets ("" for the whole Service).
func policySection(btp *gwapiv1.BackendTLSPolicy) string {
	for _, ref := range btp.Spec.TargetRefs {
		if ref.SectionName != nil {
			return string(*ref.SectionName)
		}
	}
	return ""
}

// clientVerifies checks that a workload verifying client certificates (its client CA
// ConfigMap, as sent) accepts every client certificate the translator has the gateway present.
func clientVerifies(b envoy.Backend, in *Input, settings []irSetting) []string {
	var caPEM string
	for _, o := range b.Objects {
		if o.Kind() == core.KindConfigMap && strings.HasSuffix(o.Name(), "-client-ca") {
			data, _ := in.Objects[o.Key()]["data"].(map[string]any)
			caPEM, _ = data[core.CAKey].(string)
		}
	}
	pool := x509.NewCertPool()
	if caPEM == "" || !pool.AppendCertsFromPEM([]byte(caPEM)) {
		return []string{"the workload verifies client certificates, but its client CA ConfigMap holds no CA"}
	}
	var problems []string
	for _, s := range settings {
		if s.TLS == nil || len(s.TLS.ClientCertificates) == 0 {
			problems = append(problems, "the workload verifies client certificates, but the gateway presents none")
			continue
		}
		blk, _ := pem.Decode(s.TLS.ClientCertificates[0].Certificate)
		if blk == nil {
			problems = append(problems, "the client certificate the gateway presents is not PEM")
			continue
		}
		leaf, err := x509.ParseCertificate(blk.Bytes)
		if err == nil {
			_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CurrentTime: leaf.NotBefore.Add(time.Minute)})
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("the workload's client CA does not verify the client certificate the gateway presents: %v", err))
		}
	}
	return problems
}

// clientSecret is the sent Secret (`namespace/name`) whose tls.crt holds the client
// certificate of IR setting s, "none" when it has none, `unknown(<IR name>)` when no Secret
// sent holds those certificates.
func clientSecret(s irSetting, in *Input) string {
	if len(s.TLS.ClientCertificates) == 0 {
		return envoy.NoClientCertificate
	}
	c := s.TLS.ClientCertificates[0]
	keys := make([]string, 0, len(in.Objects))
	for k := range in.Objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m := in.Objects[k]
		if m["kind"] != core.KindSecret {
			continue
		}
		data, _ := m["data"].(map[string]any)
		enc, _ := data[corev1.TLSCertKey].(string)
		crt, err := base64.StdEncoding.DecodeString(enc)
		if err == nil && sameCerts(crt, c.Certificate) {
			meta, _ := m["metadata"].(map[string]any)
			return fmt.Sprintf("%v/%v", meta["namespace"], meta["name"])
		}
	}
	return "unknown(" + c.Name + ")"
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedBools(m map[bool]bool) []bool {
	var out []bool
	for _, v := range []bool{false, true} {
		if m[v] {
			out = append(out, v)
		}
	}
	return out
}

// socketParameters reads the TLS parameters of an xDS transport socket: tlsParams' versions
// (TLSv1_2 is 1.2; unset or TLS_AUTO is "auto"), its cipher suites and the ALPN protocols.
func socketParameters(s *xdsSocket) envoy.Parameters {
	version := func(v string) string {
		if rest, ok := strings.CutPrefix(v, "TLSv"); ok {
			return strings.ReplaceAll(rest, "_", ".")
		}
		return "auto"
	}
	ctx := s.TypedConfig.CommonTLSContext
	if ctx == nil {
		return envoy.Parameters{MinVersion: "auto", MaxVersion: "auto"}
	}
	var p envoy.Parameters
	if t := ctx.TLSParams; t != nil {
		p = envoy.Parameters{MinVersion: version(t.Min), MaxVersion: version(t.Max), Ciphers: strings.Join(t.Ciphers, ",")}
	} else {
		p = envoy.Parameters{MinVersion: "auto", MaxVersion: "auto"}
	}
	p.ALPN = strings.Join(ctx.AlpnProtocols, ",")
	return p
}

// describeParams renders parameters in full (the cipher suites by name) for a MISMATCH.
func describeParams(p envoy.Parameters) string {
	s := p.MinVersion + "-" + p.MaxVersion
	if p.Ciphers != "" {
		s += " ciphers=" + p.Ciphers
	}
	if p.ALPN != "" {
		s += " alpn=" + p.ALPN
	}
	return s
}

func sortedParams(m map[envoy.Parameters]bool) []string {
	var out []string
	for p := range m {
		out = append(out, describeParams(p))
	}
	sort.Strings(out)
	return out
}
