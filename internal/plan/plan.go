// Package plan turns the declarative description of one environment (spec.Args) into the exact
// set of Kubernetes objects, install steps and generated certificates that provision upstream
// TLS, with who waits for what. It is pure Go: no Pulumi calls, no I/O. Every rule of the
// product lives here and in its sub-packages (core: the shared core; envoy: the Envoy Gateway
// path; eks: the EKS path), so that `make render` (engine-free) and the Pulumi components
// (engine) cannot disagree: the components apply the plan and decide nothing.
package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/eks"
	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// Plan is everything one environment needs.
type Plan struct {
	// Args are the inputs with every default filled in.
	Args spec.Args
	// GatewayAPICRDs is the Gateway API CRD bundle this plan installs (install step
	// core.StepGatewayAPICRDs); nil when another tool owns the CRDs. The top-level component
	// owns it whichever paths are on, so switching the EKS path on or off never moves it.
	GatewayAPICRDs *core.CRDBundle
	// GatewayAPICRDsFormerParents are components that owned the CRD bundle in earlier versions
	// (the Envoy Gateway component); the wiring aliases the bundle to them so that upgrading
	// never replaces the CRDs.
	GatewayAPICRDsFormerParents []string
	// Namespaces are created before anything in them (never default or kube-*).
	Namespaces []core.Object
	// Envoy is the Envoy Gateway path.
	Envoy envoy.Path
	// EKS is the EKS path (AWS Load Balancer Controller NLB); nil when off.
	EKS *eks.Plan
	// Warnings are accepted but noteworthy choices (for example an allowed insecure backend in
	// production); the components log them.
	Warnings []string
	// Now is the clock the plan was built at (Options.Now): the posture's days left count
	// from it.
	Now time.Time `json:"-"`
}

// FormerParentEnvoyGateway names the Envoy Gateway component as a former parent of the CRDs.
const FormerParentEnvoyGateway = "envoyGateway"

// Options tune Build.
type Options struct {
	// Now is the time input certificates are checked against. Zero means time.Now().
	Now time.Time
}

// Build validates args and plans every object. On invalid input it returns a
// *core.ValidationError listing every problem, and no plan.
func Build(args spec.Args) (*Plan, error) { return BuildWith(args, Options{}) }

// BuildWith is Build with options.
func BuildWith(args spec.Args, opts Options) (*Plan, error) {
	var problems core.Problems
	a := validated(&problems, args, opts)
	if err := problems.Err(); err != nil {
		return nil, err
	}
	p, err := planned(&problems, a, true)
	if err != nil {
		return nil, err
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	p.Warnings = warnings(p)
	p.Now = opts.Now
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	return p, nil
}

// BuildUnchecked plans args like Build but refuses nothing: it returns the plan (with every
// backend's derived posture) together with every problem Build would have refused it for. It
// exists for the tests that compare the derived posture with Envoy Gateway's translator on
// configurations the validation refuses too (tests/verify), and that register such plans
// (components/upstreamtls); nothing may apply such a plan. Only the Envoy Gateway path is
// planned; backends of a mode or route kind no unit knows, or without ports, are left out.
func BuildUnchecked(args spec.Args, opts Options) (*Plan, error) {
	var problems core.Problems
	a := validated(&problems, args, opts)
	a.EKS = nil
	a.Backends = slices.DeleteFunc(a.Backends, func(b spec.BackendArgs) bool {
		_, mode := envoy.ModeOf(b.TLS.Mode)
		return !mode || !envoy.KnownRouteKind(b.Route.Kind) || len(b.Service.Ports) == 0
	})
	p, err := planned(&problems, a, false)
	if err != nil {
		return nil, err
	}
	return p, problems.Err()
}

// validated returns args with their defaults, every problem of them recorded in problems.
func validated(problems *core.Problems, args spec.Args, opts Options) spec.Args {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	validateRaw(problems, &args)
	validateLifecycle(problems, &args)
	a := WithDefaults(args)
	envoy.Validate(problems, &a, envoy.Context{Now: now})
	eks.Validate(problems, &a)
	if problems.Len() > 0 { // (the derivations matter only to problems)
		problems.DropDerived(derivedFields(args))
	}
	return a
}

// derivedFields lists the backend fields args leaves unset that WithDefaults derives from
// other fields, so that a bad name is reported once, on the field the user wrote, and not again
// on every name made from it.
func derivedFields(args spec.Args) []core.Derived {
	var out []core.Derived
	for i, b := range args.Backends {
		bp := field.NewPath("backends").Index(i)
		if b.Namespace == "" {
			out = append(out, core.Derived{Field: bp.Child("namespace").String(), From: []string{"gateway.namespace"}})
		}
		if b.Service == nil || b.Service.Name == "" {
			out = append(out, core.Derived{Field: bp.Child("service", "name").String(), From: []string{bp.Child("name").String()}})
		}
		if b.TLS.SNIFromRequestHost {
			// (no tls.hostname: the SNI is each request's host)
		} else if b.TLS.Hostname == "" && b.External != nil {
			out = append(out, core.Derived{Field: bp.Child("tls", "hostname").String(), From: []string{bp.Child("external", "hostname").String()}})
		} else if b.TLS.Hostname == "" {
			out = append(out, core.Derived{Field: bp.Child("tls", "hostname").String(),
				From: []string{bp.Child("service", "name").String(), bp.Child("namespace").String()}})
		}
	}
	return out
}

// planned plans defaulted args (validated, or, for BuildUnchecked, not) and records in problems
// what only the planned objects show: names with two owners, and backends whose derived
// posture is not what their mode declares. formerOwners records where earlier versions kept
// the CRD bundle (for aliases).
func planned(problems *core.Problems, a spec.Args, formerOwners bool) (*Plan, error) {
	p := &Plan{Args: a}
	if *a.EnvoyGateway.ManageGatewayAPICRDs {
		p.GatewayAPICRDs = core.CRDBundleRetained(envoy.DefaultGatewayAPIVersion, a.EnvoyGateway.GatewayAPICRDs)
		if formerOwners {
			p.GatewayAPICRDsFormerParents = []string{FormerParentEnvoyGateway}
		}
	}
	p.Namespaces = planNamespaces(&p.Args)
	created := map[string]bool{}
	for _, ns := range p.Namespaces {
		created[ns.Name()] = true
	}
	ep, err := eks.Build(&p.Args, eks.Deps{Namespaces: created, GatewayAPICRDs: p.GatewayAPICRDs != nil})
	if err != nil {
		return nil, fmt.Errorf("eks: %w", err)
	}
	p.EKS = ep
	var before []string
	if ep != nil && ep.Release != nil {
		// The controller's Service webhook (failurePolicy Fail) rejects every Service until the
		// controller serves: everything that creates Services waits for it.
		before = []string{core.StepLBC}
	}
	p.Envoy = envoy.Plan(&p.Args, envoy.Deps{Namespaces: created, GatewayAPICRDs: p.GatewayAPICRDs != nil, Before: before})

	// Every name has one owner, and every backend is reached as its mode says.
	reg := core.NewRegistry()
	reg.Create(p.AllObjects()...)
	envoy.Uses(&p.Args, reg)
	eks.Uses(&p.Args, reg)
	reg.Check(problems)
	p.Envoy.DerivePostures(&p.Args, p.Envoy.Objects(), problems)
	applyLifecycle(p)
	return p, nil
}

// validateRaw checks what only the configuration as given shows (before defaults fill it).
func validateRaw(p *core.Problems, a *spec.Args) {
	for i, b := range a.Backends {
		path := field.NewPath("backends").Index(i)
		envoy.ValidateSNIRaw(p, path, &b)
		if b.External != nil {
			envoy.ValidateExternalRaw(p, path, &b)
			continue
		}
		if b.Service != nil && b.Service.Existing && b.Deploy != nil && *b.Deploy != (spec.DeployArgs{}) {
			p.Add(path.Child("deploy"), "is set, but service.existing is true, so nothing is deployed", "remove deploy, or set service.existing: false")
		}
	}
}

func warnings(p *Plan) []string {
	a := &p.Args
	var out []string
	for _, be := range p.Envoy.Backends {
		if be.Mode == spec.ModeInsecure && a.Environment == spec.EnvironmentProduction {
			out = append(out, fmt.Sprintf("backend %q is insecure in a production environment (allowed by allowInsecureBackends): the gateway encrypts but does not verify it", be.Name))
		}
	}
	if p.EKS != nil && p.GatewayAPICRDs == nil {
		out = append(out, "eks: the Gateway API CRDs are managed elsewhere (envoyGateway.manageGatewayAPICRDs: false): the AWS Load Balancer Controller "+
			eks.DefaultLBCChartVersion+" needs the Gateway API v1.6 (or newer) standard-channel CRDs (TLSRoute and TCPRoute v1) installed before it starts, or it disables its NLB gateway controller")
	}
	if p.EKS != nil {
		for _, t := range p.EKS.Targets {
			if t.TargetGroupProtocol == core.ProtocolTLS && a.Environment == spec.EnvironmentProduction {
				out = append(out, fmt.Sprintf("NLB target %q: the NLB does not validate the pods' certificates in a production environment (allowed by allowInsecureBackends)", t.Name))
			}
		}
	}
	if p.Envoy.Install.EnableBackend && !p.Envoy.Install.Enabled && slices.ContainsFunc(p.Envoy.Backends, func(b envoy.Backend) bool { return b.Mode == spec.ModeInsecure }) {
		out = append(out, "envoyGateway.install is false: make sure the existing Envoy Gateway sets extensionApis.enableBackend: true, or the insecure backends' routes fail")
	}
	return out
}

// planNamespaces creates the namespaces of the controllers this component installs (Helm
// releases do not create them), of the Gateways and of deployed backends, once each, never the
// cluster's own namespaces.
func planNamespaces(a *spec.Args) []core.Object {
	var out []core.Object
	seen := map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true}
	add := func(ns string, path *field.Path) {
		if seen[ns] {
			return
		}
		seen[ns] = true
		out = append(out, core.Object{
			Resource: &corev1.Namespace{
				TypeMeta:   core.TypeMeta(corev1.SchemeGroupVersion, core.KindNamespace),
				ObjectMeta: core.Meta(ns, "", nil),
			},
			Field: path.String(),
		})
	}
	// The controllers' namespaces first: Helm releases do not create them.
	if *a.EnvoyGateway.Install {
		add(a.EnvoyGateway.Namespace, field.NewPath("envoyGateway", "namespace"))
	}
	if eks.Enabled(a) && *a.EKS.Controller.Install {
		add(a.EKS.Controller.Namespace, field.NewPath("eks", "controller", "namespace"))
	}
	add(a.Gateway.Namespace, field.NewPath("gateway", "namespace"))
	for i, b := range a.Backends {
		// An external backend's Backend and policy live in its namespace.
		if !b.Service.Existing || b.External != nil {
			add(b.Namespace, field.NewPath("backends").Index(i).Child("namespace"))
		}
	}
	if eks.Enabled(a) {
		add(a.EKS.Gateway.Namespace, field.NewPath("eks", "gateway", "namespace"))
	}
	return out
}

// AllObjects lists every planned object in apply order: the namespaces, the Envoy Gateway
// path, then the EKS path.
func (p *Plan) AllObjects() []core.Object {
	envoy, eks := p.Envoy.Objects(), p.EKSObjects()
	out := append(make([]core.Object, 0, len(p.Namespaces)+len(envoy)+len(eks)), p.Namespaces...)
	out = append(out, envoy...)
	return append(out, eks...)
}

// EnvoyGatewayObjects lists the namespaces and the objects of the Envoy Gateway path, in apply
// order: what Envoy Gateway's translator sees.
func (p *Plan) EnvoyGatewayObjects() []core.Object {
	return append(append([]core.Object(nil), p.Namespaces...), p.Envoy.Objects()...)
}

// EKSObjects lists the objects of the EKS path; none when the path is off.
func (p *Plan) EKSObjects() []core.Object {
	if p.EKS == nil {
		return nil
	}
	return p.EKS.AllObjects()
}

// AllCertificates lists every certificate to generate.
func (p *Plan) AllCertificates() []core.Certificate {
	out := append(append([]core.Certificate(nil), p.Envoy.Install.Certificates...), p.Envoy.Gateway.Certificates...)
	for _, b := range p.Envoy.Backends {
		out = append(out, b.Certificates...)
	}
	if p.EKS != nil {
		out = append(out, p.EKS.Certificates...)
	}
	return out
}

// Posture renders one line per backend: name, mode, whether the gateway verifies it (derived
// from the planned objects), hostname, the TLS versions (with the cipher suites' count and the
// ALPN protocols when set; derived from the planned objects), the client certificate the gateway presents (the Secret,
// derived from the planned objects; "(verified)" when the deployed workload verifies it), and
// the days left on its certificates (Expiry, as planned); then, on EKS, one line per NLB target.
func (p *Plan) Posture() string { return p.PostureAt(nil) }

// PostureAt is Posture with the generated certificates' real ends, by certificate name (the
// CertificateBundles' notAfter); a certificate not in ends counts as freshly issued.
func (p *Plan) PostureAt(ends map[string]time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-24s %-9s %-9s %-40s %-26s %-44s %s\n", "BACKEND", "MODE", "VERIFIED", "HOSTNAME (SNI)", "TLS", "CLIENT CERT", "CERTIFICATES")
	for _, be := range p.Envoy.Backends {
		verified := "yes"
		switch e := be.Posture.Effective; {
		case e.Verified():
		case e == core.EffectiveInsecure:
			verified = "NO"
		default:
			verified = "NO:" + string(e)
		}
		client := be.ClientCertificate
		if client != envoy.NoClientCertificate && be.VerifiesClientCertificate {
			client += " (verified)"
		}
		host := be.Hostname
		if host == "" && be.Posture.Effective.Encrypted() {
			host = "(the request's host)"
		}
		fmt.Fprintf(&b, "%-24s %-9s %-9s %-40s %-26s %-44s %s\n", be.Name, be.Mode, verified, host, be.Posture.Parameters, client, p.expiry(be, ends))
	}
	if p.EKS != nil {
		fmt.Fprintf(&b, "\n%-24s %-20s %-8s %-13s %s\n", "NLB TARGET", "LISTENER", "TO PODS", "NLB VERIFIES", "SERVICE")
		for _, t := range p.EKS.Targets {
			fmt.Fprintf(&b, "%-24s %-20s %-8s %-13s %s\n", t.Name, t.Listener+"/"+t.ListenerProtocol, t.TargetGroupProtocol, "NO", t.Namespace+"/"+t.Service)
		}
	}
	return b.String()
}

// expiry is the CERTIFICATES column of a backend: the days left on the first of its
// certificates (and of the generated client certificate the gateway presents to it) to end,
// whose they are (generated: renewed by `pulumi up` when renewBeforeDays
// or fewer are left; a supplied CA: nobody renews it), or "-" when no certificate of the backend
// is the component's to read (a system backend's, a CA in a ConfigMap).
func (p *Plan) expiry(be envoy.Backend, ends map[string]time.Time) string {
	l := lifetimes(&p.Args)
	validity, renewBefore := l.ValidityDays, l.RenewBeforeDays
	var first time.Time
	what := ""
	certs := append([]core.Certificate(nil), be.Certificates...)
	// The generated client certificate the gateway presents to the backend is the backend's
	// concern too: mTLS to it fails when that certificate ends.
	if gw := p.Args.Gateway; be.ClientCertificate == gw.Namespace+"/"+envoy.GatewayClientSecret(gw) {
		for _, c := range p.Envoy.Gateway.Certificates {
			if c.Name == envoy.GatewayClientCert {
				certs = append(certs, c)
			}
		}
	}
	for _, c := range certs {
		end, ok := ends[c.Name]
		if !ok {
			end = p.Now.Add(time.Duration(validity) * 24 * time.Hour)
		}
		if first.IsZero() || end.Before(first) {
			first, what = end, fmt.Sprintf("generated, renews at %dd", renewBefore)
		}
	}
	for _, a := range p.Args.Backends {
		if a.Name != be.Name || a.TLS.CA == nil || a.TLS.CA.PEM == "" {
			continue
		}
		if certs, _, err := pki.ParseCABundle(a.TLS.CA.PEM); err == nil {
			for _, c := range certs {
				if first.IsZero() || c.NotAfter.Before(first) {
					first, what = c.NotAfter, "supplied CA: renew it yourself"
				}
			}
		}
	}
	if first.IsZero() {
		return "-"
	}
	d := int(first.Sub(p.Now).Hours() / 24)
	if d < 0 {
		return fmt.Sprintf("EXPIRED %dd ago (%s)", -d, what)
	}
	return fmt.Sprintf("%dd (%s)", d, what)
}

// Order is every install step and object with what it waits for, by key: the install order as a
// planned fact (rendered into install.yaml and the golden files; the wiring applies it).
func (p *Plan) Order() map[string][]string {
	out := map[string][]string{}
	if p.GatewayAPICRDs != nil {
		out[core.StepGatewayAPICRDs] = []string{}
	}
	for _, r := range p.Envoy.Install.Releases {
		out[r.Step] = nonNil(r.DependsOn)
	}
	if e := p.EKS; e != nil {
		if e.IAM.Create {
			out[core.StepLBCIdentity] = []string{}
		}
		if e.CRDs != nil {
			var deps []string
			if p.GatewayAPICRDs != nil {
				deps = append(deps, core.StepGatewayAPICRDs)
			}
			out[core.StepLBCCRDs] = nonNil(deps)
		}
		if e.Release != nil {
			out[core.StepLBC] = nonNil(e.ReleaseDependsOn)
		}
	}
	for _, o := range p.AllObjects() {
		out[o.Key()] = nonNil(o.DependsOn)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
