package plan

import "slices"

// WithDefaults returns a deep copy of a with every unset field given its documented default.
// It never fails; validation happens afterwards on the defaulted copy.
func WithDefaults(a Args) Args {
	out := a
	if out.Environment == "" {
		out.Environment = EnvironmentDev
	}

	out.EnvoyGateway = clone(a.EnvoyGateway)
	eg := out.EnvoyGateway
	eg.Install = boolPtr(eg.Install, true)
	eg.ManageGatewayAPICRDs = boolPtr(eg.ManageGatewayAPICRDs, true)
	if eg.EnableBackend != nil {
		v := *eg.EnableBackend
		eg.EnableBackend = &v
	}
	setDefault(&eg.Namespace, DefaultEnvoyGatewayNamespace)
	setDefault(&eg.Version, DefaultEnvoyGatewayVersion)
	setDefault(&eg.ChartRepository, DefaultChartRepository)
	setDefault(&eg.GatewayAPICRDs, GatewayAPIStandardInstallURL(DefaultGatewayAPIVersion))
	setDefault(&eg.GatewayClassName, DefaultGatewayClassName)

	out.Gateway = clone(a.Gateway)
	gw := out.Gateway
	setDefault(&gw.Name, DefaultGatewayName)
	setDefault(&gw.Namespace, DefaultGatewayNamespace)
	if gw.Listeners == nil {
		gw.Listeners = []ListenerArgs{
			{Name: "http", Protocol: "HTTP", Port: 80},
			{Name: "https", Protocol: "HTTPS", Port: 443},
		}
	} else {
		gw.Listeners = slices.Clone(gw.Listeners)
	}

	out.Backends = slices.Clone(a.Backends)
	for i := range out.Backends {
		b := &out.Backends[i]
		b.Service = clone(b.Service)
		b.Deploy = clone(b.Deploy)
		b.Route = clone(b.Route)
		setDefault(&b.Namespace, gw.Namespace)
		setDefault(&b.Service.Name, b.Name)
		if len(b.Service.Ports) == 0 {
			b.Service.Ports = []PortArgs{{Name: "https", Port: 443}}
		} else {
			b.Service.Ports = slices.Clone(b.Service.Ports)
		}
		for j := range b.Service.Ports {
			if b.Service.Ports[j].TargetPort == 0 {
				b.Service.Ports[j].TargetPort = DefaultTargetPort
			}
		}
		if !b.Service.Existing {
			setDefault(&b.Deploy.Image, DefaultBackendImage)
			if b.Deploy.Replicas == 0 {
				b.Deploy.Replicas = 1
			}
		}
		setDefault(&b.Route.Kind, "HTTPRoute")
		setDefault(&b.Route.PathPrefix, "/")
		b.Route.Hostnames = slices.Clone(b.Route.Hostnames)
		if b.Route.Port == "" && len(b.Service.Ports) > 0 {
			b.Route.Port = b.Service.Ports[0].Name
		}
		setDefault(&b.TLS.Hostname, b.Service.Name+"."+b.Namespace+".svc")
		b.TLS.SubjectAltNames = slices.Clone(b.TLS.SubjectAltNames)
		b.TLS.Ports = slices.Clone(b.TLS.Ports)
		if b.TLS.CA != nil {
			ca := *b.TLS.CA
			b.TLS.CA = &ca
		}
	}
	out.EKS = eksDefaults(a.EKS, gw)
	return out
}

// eksDefaults returns a deep copy of e with its defaults; the EKS path is off when e is nil.
func eksDefaults(e *EKSArgs, gw *GatewayArgs) *EKSArgs {
	out := clone(e)
	out.Identity = clone(out.Identity)
	setDefault(&out.Identity.Mode, IdentityPodIdentity)
	if out.ClusterName != "" && out.Identity.Mode != IdentityExisting {
		setDefault(&out.Identity.RoleName, out.ClusterName+"-aws-load-balancer-controller")
	}
	out.Controller = clone(out.Controller)
	c := out.Controller
	c.Install = boolPtr(c.Install, true)
	c.ManageCRDs = boolPtr(c.ManageCRDs, true)
	setDefault(&c.Namespace, DefaultLBCNamespace)
	setDefault(&c.ServiceAccount, DefaultLBCServiceAccount)
	setDefault(&c.Version, DefaultLBCChartVersion)
	setDefault(&c.ChartRepository, DefaultLBCChartRepository)
	if len(c.CRDs) == 0 {
		c.CRDs = LBCCRDsURLs(c.Version)
	} else {
		c.CRDs = slices.Clone(c.CRDs)
	}
	out.Gateway = clone(out.Gateway)
	g := out.Gateway
	setDefault(&g.Name, DefaultNLBGatewayName)
	setDefault(&g.Namespace, gw.Namespace)
	setDefault(&g.GatewayClassName, DefaultNLBGatewayClassName)
	setDefault(&g.Scheme, DefaultNLBScheme)
	g.SourceRanges = slices.Clone(g.SourceRanges)
	if g.Listeners == nil {
		g.Listeners = []NLBListenerArgs{{Name: "tls", Protocol: "TLS", Port: 443}}
	} else {
		g.Listeners = slices.Clone(g.Listeners)
	}
	for i := range g.Listeners {
		l := &g.Listeners[i]
		setDefault(&l.Protocol, "TLS")
		if l.Protocol == "TLS" {
			setDefault(&l.SSLPolicy, DefaultNLBSSLPolicy)
		}
		l.AdditionalCertificateARNs = slices.Clone(l.AdditionalCertificateARNs)
	}
	out.Targets = slices.Clone(out.Targets)
	for i := range out.Targets {
		t := &out.Targets[i]
		if t.Service != nil {
			svc := *t.Service
			setDefault(&svc.Namespace, g.Namespace)
			t.Service = &svc
		}
		if t.Listener == "" && len(g.Listeners) > 0 {
			t.Listener = g.Listeners[0].Name
		}
		t.Hostnames = slices.Clone(t.Hostnames)
		t.TargetGroup = clone(t.TargetGroup)
		tg := t.TargetGroup
		setDefault(&tg.Protocol, "TLS")
		setDefault(&tg.TargetType, "ip")
		tg.HealthCheck = clone(tg.HealthCheck)
		hc := tg.HealthCheck
		setDefault(&hc.Protocol, "TCP")
		setDefault(&hc.Port, "traffic-port")
		if hc.Protocol == "HTTP" || hc.Protocol == "HTTPS" {
			setDefault(&hc.Path, "/")
		}
	}
	return out
}

// clone returns a copy of *p, or a new zero value when p is nil.
func clone[T any](p *T) *T {
	var v T
	if p != nil {
		v = *p
	}
	return &v
}

func setDefault(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

func boolPtr(p *bool, def bool) *bool {
	v := def
	if p != nil {
		v = *p
	}
	return &v
}
