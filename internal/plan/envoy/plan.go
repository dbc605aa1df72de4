package envoy

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// Deps are the install facts the composed plan hands the Envoy Gateway path.
type Deps struct {
	// Namespaces are the namespaces the plan creates: an object in one waits for it.
	Namespaces map[string]bool
	// GatewayAPICRDs is true when the plan installs the Gateway API CRDs
	// (core.StepGatewayAPICRDs).
	GatewayAPICRDs bool
	// Before are install steps everything of this path waits for: on EKS, the AWS Load Balancer
	// Controller, whose Service webhook must serve before any Service (the Envoy Gateway chart's
	// included) is created.
	Before []string
}

// Path is the planned Envoy Gateway path.
type Path struct {
	Install  Install
	Gateway  GatewayPlan
	Backends []Backend
}

// Plan plans the validated, defaulted arguments of the Envoy Gateway path.
func Plan(a *spec.Args, deps Deps) Path {
	in := planInstall(a, deps)
	// What the Gateway and the backends wait for: the CRDs of their kinds and the controller
	// that reconciles them (and, on EKS, the AWS Load Balancer Controller). Each install step
	// waits for the ones before it, so the last one stands for all.
	install := installed(in, deps)

	out := Path{Install: in, Gateway: planGateway(a, deps, install, in.GatewayClass.Key()), Backends: make([]Backend, len(a.Backends))}
	// Each backend is planned from the arguments alone (planBackend reads a and deps, never
	// writes them, and builds only its own objects), so large plans use every core; the result
	// is the same, in configuration order, however the work is split.
	core.Parallel(len(a.Backends), func(i int) {
		out.Backends[i] = planBackend(a, field.NewPath("backends").Index(i), &a.Backends[i], deps, install)
	})
	return out
}

// Objects lists the path's objects in apply order: the control plane's Secrets, the
// GatewayClass, the Gateway's, then each backend's.
func (p *Path) Objects() []core.Object {
	n := len(p.Install.Objects) + 1 + len(p.Gateway.Objects)
	for _, b := range p.Backends {
		n += len(b.Objects)
	}
	out := append(append(make([]core.Object, 0, n), p.Install.Objects...), p.Install.GatewayClass)
	out = append(out, p.Gateway.Objects...)
	for _, b := range p.Backends {
		out = append(out, b.Objects...)
	}
	return out
}

// DerivePostures sets every backend's Posture from objects (every object of the plan) and
// returns a problem for each backend whose posture is not what its mode declares: a planning
// mistake the validation did not catch is refused, never reported as verified.
func (p *Path) DerivePostures(a *spec.Args, objects []core.Object, problems *core.Problems) {
	type servicePort struct {
		ns, svc string
		port    int32
	}
	named := map[servicePort]string{}
	for _, b := range a.Backends {
		for _, sp := range b.Service.Ports {
			k := servicePort{b.Namespace, b.Service.Name, int32(sp.Port)}
			if _, seen := named[k]; !seen { // (the first backend's, as a search in order finds it)
				named[k] = sp.Name
			}
		}
	}
	ports := func(ns, svc string, port int32) (string, bool) {
		name, ok := named[servicePort{ns, svc, port}]
		return name, ok
	}
	index := IndexObjects(objects)
	// Derivation only reads the index and the service ports (built above, never written
	// after), and writes its own backend's posture: large plans derive on every core.
	core.Parallel(len(p.Backends), func(i int) {
		be := &p.Backends[i]
		var route core.Resource
		for _, o := range be.Objects {
			if IsRoute(o.Resource) {
				route = o.Resource
			}
		}
		if route == nil {
			be.Posture = Posture{Effective: core.EffectiveNone, Via: "no route is planned", ClientCertificate: NoClientCertificate}
		} else {
			be.Posture = index.Derive(route, ports)
		}
	})
	for i := range p.Backends {
		be := &p.Backends[i]
		if want := ExpectedClientCertificate(a, &a.Backends[i]); be.Posture.Effective.Encrypted() && be.Posture.ClientCertificate != want {
			problems.Add(field.NewPath("backends").Index(i), fmt.Sprintf("backend %q would be presented the client certificate %s (derived from the planned objects), but the configuration asks for %s",
				be.Name, be.Posture.ClientCertificate, want), "report this configuration as a bug of upstream-tls")
		}
		be.ClientCertificate = be.Posture.ClientCertificate
		if want := ExpectedParameters(&a.Backends[i]); be.Posture.Effective.Encrypted() && be.Posture.Parameters != want {
			problems.Add(field.NewPath("backends").Index(i), fmt.Sprintf("backend %q would be reached with TLS parameters %s (derived from the planned objects), but the configuration asks for %s",
				be.Name, be.Posture.Parameters, want), "report this configuration as a bug of upstream-tls")
		}
		m := modes[be.Mode]
		if be.Posture.Effective != m.Expected() || (be.Posture.Effective.Encrypted() && be.Posture.SNI != be.Hostname) {
			problems.Add(field.NewPath("backends").Index(i), fmt.Sprintf("backend %q in mode %s would be reached as %s with SNI %q (%s), not %s with SNI %q",
				be.Name, be.Mode, be.Posture.Effective, be.Posture.SNI, be.Posture.Via, m.Expected(), be.Hostname),
				"report this configuration as a bug of upstream-tls; meanwhile give the backend its own Service port")
		}
	}
}

// planInstall plans the Envoy Gateway releases (unless installed elsewhere) and the
// GatewayClass.
func planInstall(a *spec.Args, deps Deps) Install {
	eg := a.EnvoyGateway
	in := Install{
		Enabled:       *eg.Install,
		Namespace:     eg.Namespace,
		EnableBackend: usesBackendAPI(a) || (eg.EnableBackend != nil && *eg.EnableBackend),
	}
	if in.Enabled {
		release := func(name, step string, values map[string]any, after []string) Release {
			r := Release{HelmRelease: core.HelmRelease{Name: name, Chart: name, Version: eg.Version, Namespace: eg.Namespace, Values: values}, Step: step}
			if eg.ChartDir != "" {
				r.Path = eg.ChartDir + "/" + name
			} else {
				r.Repository = eg.ChartRepository
			}
			r.DependsOn = append(r.DependsOn, after...)
			if deps.Namespaces[eg.Namespace] {
				r.DependsOn = append(r.DependsOn, core.Key(core.KindNamespace, "", eg.Namespace))
			}
			if deps.GatewayAPICRDs {
				r.DependsOn = append(r.DependsOn, core.StepGatewayAPICRDs)
			}
			r.DependsOn = append(r.DependsOn, deps.Before...)
			return r
		}
		// The control plane's certificates (see ControlPlaneSecret): Secrets the chart's pods
		// mount, so the controller release waits for them.
		in.Certificates = []core.Certificate{
			{Name: ControlPlaneServerCert, CommonName: "envoy-gateway", DNSNames: serviceNames("envoy-gateway", eg.Namespace), WithCA: true, Field: "envoyGateway.install"},
			{Name: ControlPlaneProxyCert, CommonName: "envoy", DNSNames: []string{"*." + eg.Namespace}, WithCA: true, Usage: core.UsageClient, Field: "envoyGateway.install"},
		}
		var secretKeys []string
		for _, s := range []struct{ name, leaf, peer string }{
			{ControlPlaneSecret, ControlPlaneServerCert, ControlPlaneProxyCert},
			{ProxySecret, ControlPlaneProxyCert, ControlPlaneServerCert},
		} {
			o := controlPlaneSecret(s.name, eg.Namespace, s.leaf, s.peer)
			o.Field = "envoyGateway.install"
			if deps.Namespaces[eg.Namespace] {
				o.DependsOn = []string{core.Key(core.KindNamespace, "", eg.Namespace)}
			}
			in.Objects = append(in.Objects, o)
			secretKeys = append(secretKeys, o.Key())
		}
		extensionAPIs := map[string]any{}
		if in.EnableBackend {
			extensionAPIs["enableBackend"] = true
		}
		crdRelease := release("gateway-crds-helm", core.StepEnvoyGatewayCRDs, map[string]any{
			"crds": map[string]any{
				"gatewayAPI":   map[string]any{"enabled": false},
				"envoyGateway": map[string]any{"enabled": true},
			},
		}, nil)
		crdRelease.RetainOnDelete = true
		in.Releases = []Release{
			// Envoy Gateway's own CRDs; the Gateway API CRDs have a single owner (the plan's).
			// The release renders CRDs only, retained on delete like every CRD bundle.
			crdRelease,
			release("gateway-helm", core.StepEnvoyGateway, map[string]any{
				"crds": map[string]any{"enabled": false},
				"config": map[string]any{
					"envoyGateway": map[string]any{"extensionApis": extensionAPIs},
				},
			}, append([]string{core.StepEnvoyGatewayCRDs}, secretKeys...)),
		}
	}
	in.GatewayClass = core.Object{
		Resource: &gwapiv1.GatewayClass{
			TypeMeta:   core.TypeMeta(gwapiv1.GroupVersion, core.KindGatewayClass),
			ObjectMeta: core.Meta(eg.GatewayClassName, "", nil),
			Spec:       gwapiv1.GatewayClassSpec{ControllerName: ControllerName},
		},
		Field:     "envoyGateway.gatewayClassName",
		DependsOn: installed(in, deps),
	}
	return in
}

// serviceNames are the in-cluster DNS names of a Service, as certgen gives them.
func serviceNames(svc, ns string) []string {
	return []string{svc, svc + "." + ns, svc + "." + ns + ".svc", svc + "." + ns + ".svc." + ClusterDomain}
}

// controlPlaneSecret is a kubernetes.io/tls Secret with the leaf of certificate leaf and, as
// ca.crt, the CA of certificate peer (what this side verifies the other with).
func controlPlaneSecret(name, namespace, leaf, peer string) core.Object {
	s := &corev1.Secret{
		TypeMeta:   core.TypeMeta(corev1.SchemeGroupVersion, core.KindSecret),
		ObjectMeta: core.Meta(name, namespace, nil),
		Type:       corev1.SecretTypeTLS,
		StringData: map[string]string{},
	}
	o := core.Object{Resource: s}
	for _, f := range []struct{ key, cert, field string }{
		{corev1.TLSCertKey, leaf, core.FieldCert},
		{corev1.TLSPrivateKeyKey, leaf, core.FieldKey},
		{core.CAKey, peer, core.FieldCACert},
	} {
		ref := core.CertRef(f.cert, f.field)
		s.StringData[f.key] = ref.String()
		o.Computed = append(o.Computed, core.Bind(ref, "stringData", f.key))
	}
	return o
}

// installed is the install steps an object of the path waits for: the last Envoy Gateway
// release (which waits for the CRDs), else the Gateway API CRDs, and deps.Before.
func installed(in Install, deps Deps) []string {
	var out []string
	switch {
	case len(in.Releases) > 0:
		out = append(out, in.Releases[len(in.Releases)-1].Step)
	case deps.GatewayAPICRDs:
		out = append(out, core.StepGatewayAPICRDs)
	}
	return append(out, deps.Before...)
}

func listenerCertName(l spec.ListenerArgs) string { return "listener-" + l.Name }

// planGateway plans the Gateway and the generated certificates of its HTTPS listeners.
func planGateway(a *spec.Args, deps Deps, install []string, classKey string) GatewayPlan {
	gw := a.Gateway
	var gp GatewayPlan
	base := append([]string(nil), install...)
	if deps.Namespaces[gw.Namespace] {
		base = append(base, core.Key(core.KindNamespace, "", gw.Namespace))
	}
	g := &gwapiv1.Gateway{
		TypeMeta:   core.TypeMeta(gwapiv1.GroupVersion, core.KindGateway),
		ObjectMeta: core.Meta(gw.Name, gw.Namespace, nil),
		Spec:       gwapiv1.GatewaySpec{GatewayClassName: gwapiv1.ObjectName(a.EnvoyGateway.GatewayClassName)},
	}
	gwDeps := append(slices.Clone(base), classKey)
	same := gwapiv1.NamespacesFromSame
	for i, l := range gw.Listeners {
		gl := gwapiv1.Listener{
			Name:     gwapiv1.SectionName(l.Name),
			Protocol: gwapiv1.ProtocolType(l.Protocol),
			Port:     gwapiv1.PortNumber(l.Port),
			// Routes live in the Gateway namespace; backends elsewhere are reached through
			// ReferenceGrants, so no other namespace may attach routes.
			AllowedRoutes: &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{From: &same}},
		}
		if l.Hostname != "" {
			h := gwapiv1.Hostname(l.Hostname)
			gl.Hostname = &h
		}
		if l.Protocol == core.ProtocolHTTPS {
			secret := l.CertificateSecret
			if secret == "" {
				secret = gw.Name + "-" + l.Name + "-tls"
				lp := field.NewPath("gateway", "listeners").Index(i)
				host := listenerHost(l, gw)
				cert := core.Certificate{Name: listenerCertName(l), CommonName: host, DNSNames: []string{host}, Field: lp.String()}
				gp.Certificates = append(gp.Certificates, cert)
				s := TLSSecret(secret, gw.Namespace, cert.Name, false)
				s.Field = lp.String()
				s.DependsOn = slices.Clone(base)
				gp.Objects = append(gp.Objects, s)
				gwDeps = append(gwDeps, s.Key())
			}
			mode := gwapiv1.TLSModeTerminate
			gl.TLS = &gwapiv1.ListenerTLSConfig{
				Mode:            &mode,
				CertificateRefs: []gwapiv1.SecretObjectReference{{Name: gwapiv1.ObjectName(secret)}},
			}
		}
		g.Spec.Listeners = append(g.Spec.Listeners, gl)
	}
	gwDeps = append(gwDeps, planGatewayClientCertificate(a, &gp, g, base, install)...)
	gp.Objects = append(gp.Objects, core.Object{Resource: g, Field: "gateway", DependsOn: gwDeps})
	return gp
}

// listenerHost is the DNS name of a generated listener certificate.
func listenerHost(l spec.ListenerArgs, gw *spec.GatewayArgs) string {
	if l.Hostname != "" {
		return l.Hostname
	}
	return gw.Name + "." + gw.Namespace + ".svc"
}

// Uses lists the existing objects the path's configuration names (the user's), for the
// registry: listener certificate Secrets, serving Secrets, CA ConfigMaps and Secrets, existing
// Services.
func Uses(a *spec.Args, r *core.Registry) {
	gw := a.Gateway
	if c := gw.BackendClientCertificate; c != nil && c.Secret != "" {
		ns, name := SecretRef(c.Secret, gw.Namespace)
		r.Use(core.KindSecret, ns, name, field.NewPath("gateway", "backendClientCertificate", "secret"))
	}
	for i, l := range gw.Listeners {
		if l.Protocol == core.ProtocolHTTPS && l.CertificateSecret != "" {
			r.Use(core.KindSecret, gw.Namespace, l.CertificateSecret, field.NewPath("gateway", "listeners").Index(i).Child("certificateSecret"))
		}
	}
	for i, b := range a.Backends {
		path := field.NewPath("backends").Index(i)
		if b.External != nil {
			// No Service: the component's Backend reaches it.
		} else if b.Service.Existing {
			r.Use(core.KindService, b.Namespace, b.Service.Name, path.Child("service", "name"))
		} else if b.Deploy.CertificateSecret != "" {
			r.Use(core.KindSecret, b.Namespace, b.Deploy.CertificateSecret, path.Child("deploy", "certificateSecret"))
		}
		if c := b.TLS.ClientCertificate; c != nil && c.Secret != "" && b.TLS.Mode == spec.ModeInsecure && !strings.Contains(c.Secret, "/") {
			r.Use(core.KindSecret, b.Namespace, c.Secret, path.Child("tls", "clientCertificate", "secret"))
		}
		if b.TLS.Mode == spec.ModeCA && b.TLS.CA != nil && b.TLS.CA.ConfigMap != "" {
			r.Use(core.KindConfigMap, b.Namespace, b.TLS.CA.ConfigMap, path.Child("tls", "ca", "configMap"))
		}
		if b.TLS.Mode == spec.ModeCA && b.TLS.CA != nil && b.TLS.CA.Secret != "" && !strings.Contains(b.TLS.CA.Secret, "/") {
			r.Use(core.KindSecret, b.Namespace, b.TLS.CA.Secret, path.Child("tls", "ca", "secret"))
		}
	}
}
