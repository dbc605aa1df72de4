package plan

import (
	"fmt"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwapiv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/upstream-tls/upstream-tls/components/pki"
)

// Build validates args and plans every object. On invalid input it returns a
// *ValidationError listing every problem and no plan.
func Build(args Args) (*Plan, error) {
	a := WithDefaults(args)
	if err := validate(&a); err != nil {
		return nil, err
	}
	p := &Plan{Args: a}
	p.Install = planInstall(&a)
	p.Namespaces = planNamespaces(&a)
	p.Gateway = planGateway(&a)
	for i := range a.Backends {
		be, err := planBackend(&a, &a.Backends[i])
		if err != nil {
			return nil, fmt.Errorf("backend %q: %w", a.Backends[i].Name, err)
		}
		p.Backends = append(p.Backends, be)
		if be.Mode == ModeInsecure && a.Environment == EnvironmentProduction {
			p.Warnings = append(p.Warnings, fmt.Sprintf("backend %q is insecure in a production environment (allowed by allowInsecureBackends): the gateway encrypts but does not verify it", be.Name))
		}
	}
	eks, err := planEKS(&a)
	if err != nil {
		return nil, fmt.Errorf("eks: %w", err)
	}
	p.EKS = eks
	if eks != nil && !*a.EnvoyGateway.ManageGatewayAPICRDs {
		p.Warnings = append(p.Warnings, "eks: the Gateway API CRDs are managed elsewhere (envoyGateway.manageGatewayAPICRDs: false): the AWS Load Balancer Controller "+
			DefaultLBCChartVersion+" needs the Gateway API v1.6 (or newer) standard-channel CRDs (TLSRoute and TCPRoute v1) installed before it starts, or it disables its NLB gateway controller")
	}
	if eks != nil {
		for _, t := range eks.Targets {
			if t.TargetGroupProtocol == "TLS" && a.Environment == EnvironmentProduction {
				p.Warnings = append(p.Warnings, fmt.Sprintf("NLB target %q: the NLB does not validate the pods' certificates in a production environment (allowed by allowInsecureBackends)", t.Name))
			}
		}
	}
	if p.Install.EnableBackend && !p.Install.Enabled && hasInsecure(&a) {
		p.Warnings = append(p.Warnings, "envoyGateway.install is false: make sure the existing Envoy Gateway sets extensionApis.enableBackend: true, or the insecure backends' routes fail")
	}
	return p, nil
}

func hasInsecure(a *Args) bool {
	for _, b := range a.Backends {
		if b.TLS.Mode == ModeInsecure {
			return true
		}
	}
	return false
}

func labels(extra map[string]string) map[string]string {
	l := map[string]string{ComponentLabel: ComponentLabelValue}
	for k, v := range extra {
		l[k] = v
	}
	return l
}

func meta(name, namespace string, extra map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels(extra)}
}

func planInstall(a *Args) Install {
	eg := a.EnvoyGateway
	in := Install{
		Enabled:       *eg.Install,
		Namespace:     eg.Namespace,
		EnableBackend: hasInsecure(a) || (eg.EnableBackend != nil && *eg.EnableBackend),
	}
	if *eg.ManageGatewayAPICRDs {
		in.GatewayAPICRDs = &CRDBundle{Version: DefaultGatewayAPIVersion, Sources: []string{eg.GatewayAPICRDs}}
	}
	if in.Enabled {
		release := func(name string, values map[string]any) HelmRelease {
			r := HelmRelease{Name: name, Chart: name, Version: eg.Version, Namespace: eg.Namespace, Values: values}
			if eg.ChartDir != "" {
				r.Path = eg.ChartDir + "/" + name
			} else {
				r.Repository = eg.ChartRepository
			}
			return r
		}
		extensionAPIs := map[string]any{}
		if in.EnableBackend {
			extensionAPIs["enableBackend"] = true
		}
		in.Releases = []HelmRelease{
			// Envoy Gateway's own CRDs; the Gateway API CRDs have a single owner (see GatewayAPICRDs).
			release("gateway-crds-helm", map[string]any{
				"crds": map[string]any{
					"gatewayAPI":   map[string]any{"enabled": false},
					"envoyGateway": map[string]any{"enabled": true},
				},
			}),
			release("gateway-helm", map[string]any{
				"crds": map[string]any{"enabled": false},
				"config": map[string]any{
					"envoyGateway": map[string]any{"extensionApis": extensionAPIs},
				},
			}),
		}
	}
	in.GatewayClass = &gwapiv1.GatewayClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwapiv1.GroupVersion.String(), Kind: "GatewayClass"},
		ObjectMeta: meta(eg.GatewayClassName, "", nil),
		Spec:       gwapiv1.GatewayClassSpec{ControllerName: EnvoyGatewayControllerName},
	}
	return in
}

// planNamespaces creates the namespaces of the controllers this component installs (Helm
// releases do not create them), of the Gateways and of deployed backends, once each, never the
// cluster's own namespaces.
func planNamespaces(a *Args) []Object {
	var out []Object
	seen := map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true}
	add := func(ns string) {
		if seen[ns] {
			return
		}
		seen[ns] = true
		out = append(out, &corev1.Namespace{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: meta(ns, "", nil),
		})
	}
	// The controllers' namespaces first: Helm releases do not create them.
	if *a.EnvoyGateway.Install {
		add(a.EnvoyGateway.Namespace)
	}
	if a.EKS != nil && a.EKS.Enabled && *a.EKS.Controller.Install {
		add(a.EKS.Controller.Namespace)
	}
	add(a.Gateway.Namespace)
	for _, b := range a.Backends {
		if !b.Service.Existing {
			add(b.Namespace)
		}
	}
	if a.EKS != nil && a.EKS.Enabled {
		add(a.EKS.Gateway.Namespace)
	}
	return out
}

func listenerCertName(l ListenerArgs) string { return "listener-" + l.Name }

func planGateway(a *Args) GatewayPlan {
	gw := a.Gateway
	var gp GatewayPlan
	g := &gwapiv1.Gateway{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwapiv1.GroupVersion.String(), Kind: "Gateway"},
		ObjectMeta: meta(gw.Name, gw.Namespace, nil),
		Spec:       gwapiv1.GatewaySpec{GatewayClassName: gwapiv1.ObjectName(a.EnvoyGateway.GatewayClassName)},
	}
	same := gwapiv1.NamespacesFromSame
	for _, l := range gw.Listeners {
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
		if l.Protocol == "HTTPS" {
			secret := l.CertificateSecret
			if secret == "" {
				secret = gw.Name + "-" + l.Name + "-tls"
				cert := Certificate{Name: listenerCertName(l), CommonName: listenerHost(l, gw), DNSNames: []string{listenerHost(l, gw)}}
				gp.Certificates = append(gp.Certificates, cert)
				gp.Objects = append(gp.Objects, tlsSecret(secret, gw.Namespace, cert.Name, false))
			}
			mode := gwapiv1.TLSModeTerminate
			gl.TLS = &gwapiv1.ListenerTLSConfig{
				Mode:            &mode,
				CertificateRefs: []gwapiv1.SecretObjectReference{{Name: gwapiv1.ObjectName(secret)}},
			}
		}
		g.Spec.Listeners = append(g.Spec.Listeners, gl)
	}
	gp.Objects = append(gp.Objects, g)
	return gp
}

// listenerHost is the DNS name of a generated listener certificate.
func listenerHost(l ListenerArgs, gw *GatewayArgs) string {
	if l.Hostname != "" {
		return l.Hostname
	}
	return gw.Name + "." + gw.Namespace + ".svc"
}

// tlsSecret is a kubernetes.io/tls Secret whose data comes from generated certificate cert.
func tlsSecret(name, namespace, cert string, withCA bool) *corev1.Secret {
	s := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: meta(name, namespace, nil),
		Type:       corev1.SecretTypeTLS,
		StringData: map[string]string{
			corev1.TLSCertKey:       Computed(cert, FieldCert),
			corev1.TLSPrivateKeyKey: Computed(cert, FieldKey),
		},
	}
	if withCA {
		s.StringData["ca.crt"] = Computed(cert, FieldCACert)
	}
	return s
}

func planBackend(a *Args, b *BackendArgs) (Backend, error) {
	gw := a.Gateway
	be := Backend{
		Name:      b.Name,
		Mode:      b.TLS.Mode,
		Verified:  b.TLS.Mode != ModeInsecure,
		Hostname:  b.TLS.Hostname,
		Namespace: b.Namespace,
		Service:   b.Service.Name,
	}
	appLabels := map[string]string{"app.kubernetes.io/name": b.Name}
	certName := "backend-" + b.Name
	servingSecret := b.Deploy.CertificateSecret

	// The deployed workload: serving certificate, Deployment.
	if !b.Service.Existing {
		if servingSecret == "" {
			withCA := b.TLS.Mode == ModeCA && b.TLS.CA.Generate
			cert := Certificate{Name: certName, CommonName: b.TLS.Hostname, DNSNames: certDNSNames(b), WithCA: withCA}
			be.Certificates = append(be.Certificates, cert)
			servingSecret = b.Name + "-tls"
			be.Objects = append(be.Objects, tlsSecret(servingSecret, b.Namespace, cert.Name, withCA))
		}
		be.Objects = append(be.Objects, deployment(b, servingSecret, appLabels))
	}

	// The Service.
	if !b.Service.Existing {
		svc := &corev1.Service{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: meta(b.Service.Name, b.Namespace, appLabels),
			Spec:       corev1.ServiceSpec{Selector: appLabels},
		}
		for _, port := range b.Service.Ports {
			svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{
				Name:       port.Name,
				Protocol:   corev1.ProtocolTCP,
				Port:       int32(port.Port),
				TargetPort: intstr.FromInt32(int32(port.TargetPort)),
			})
		}
		be.Objects = append(be.Objects, svc)
	}

	// Upstream TLS.
	var backendRef gwapiv1.BackendObjectReference
	routePort := servicePort(b, b.Route.Port)
	switch b.TLS.Mode {
	case ModeSystem, ModeCA:
		validation := gwapiv1.BackendTLSPolicyValidation{Hostname: gwapiv1.PreciseHostname(b.TLS.Hostname)}
		for _, san := range b.TLS.SubjectAltNames {
			validation.SubjectAltNames = append(validation.SubjectAltNames, subjectAltName(san))
		}
		if b.TLS.Mode == ModeSystem {
			system := gwapiv1.WellKnownCACertificatesSystem
			validation.WellKnownCACertificates = &system
		} else {
			cmName, cm, err := caConfigMap(b, certName)
			if err != nil {
				return Backend{}, err
			}
			if cm != nil {
				be.Objects = append(be.Objects, cm)
			}
			validation.CACertificateRefs = []gwapiv1.LocalObjectReference{{Group: "", Kind: "ConfigMap", Name: gwapiv1.ObjectName(cmName)}}
		}
		for _, port := range tlsPorts(b) {
			section := gwapiv1.SectionName(port.Name)
			be.Objects = append(be.Objects, &gwapiv1.BackendTLSPolicy{
				TypeMeta:   metav1.TypeMeta{APIVersion: gwapiv1.GroupVersion.String(), Kind: "BackendTLSPolicy"},
				ObjectMeta: meta(b.Name+"-"+port.Name, b.Namespace, appLabels),
				Spec: gwapiv1.BackendTLSPolicySpec{
					TargetRefs: []gwapiv1.LocalPolicyTargetReferenceWithSectionName{{
						LocalPolicyTargetReference: gwapiv1.LocalPolicyTargetReference{Group: "", Kind: "Service", Name: gwapiv1.ObjectName(b.Service.Name)},
						SectionName:                &section,
					}},
					Validation: *validation.DeepCopy(),
				},
			})
		}
		port := gwapiv1.PortNumber(routePort.Port)
		backendRef = gwapiv1.BackendObjectReference{Name: gwapiv1.ObjectName(b.Service.Name), Port: &port}
	case ModeInsecure:
		skip := true
		sni := gwapiv1.PreciseHostname(b.TLS.Hostname)
		be.Objects = append(be.Objects, &egv1a1.Backend{
			TypeMeta:   metav1.TypeMeta{APIVersion: egv1a1.GroupVersion.String(), Kind: egv1a1.KindBackend},
			ObjectMeta: meta(b.Name, b.Namespace, appLabels),
			Spec: egv1a1.BackendSpec{
				Endpoints: []egv1a1.BackendEndpoint{{FQDN: &egv1a1.FQDNEndpoint{
					Hostname: b.Service.Name + "." + b.Namespace + ".svc." + ClusterDomain,
					Port:     int32(routePort.Port),
				}}},
				TLS: &egv1a1.BackendTLSSettings{InsecureSkipVerify: &skip, SNI: &sni},
			},
		})
		group := gwapiv1.Group(egv1a1.GroupName)
		kind := gwapiv1.Kind(egv1a1.KindBackend)
		backendRef = gwapiv1.BackendObjectReference{Group: &group, Kind: &kind, Name: gwapiv1.ObjectName(b.Name)}
	}

	// Cross-namespace access from the route in the Gateway namespace.
	if b.Namespace != gw.Namespace {
		ns := gwapiv1.Namespace(b.Namespace)
		backendRef.Namespace = &ns
		toGroup, toKind := gwapiv1.Group(""), gwapiv1.Kind("Service")
		if backendRef.Kind != nil {
			toGroup, toKind = *backendRef.Group, *backendRef.Kind
		}
		name := backendRef.Name
		be.Objects = append(be.Objects, &gwapiv1b1.ReferenceGrant{
			TypeMeta:   metav1.TypeMeta{APIVersion: gwapiv1b1.GroupVersion.String(), Kind: "ReferenceGrant"},
			ObjectMeta: meta(b.Name+"-from-"+gw.Namespace, b.Namespace, appLabels),
			Spec: gwapiv1b1.ReferenceGrantSpec{
				From: []gwapiv1b1.ReferenceGrantFrom{{Group: gwapiv1.GroupName, Kind: gwapiv1.Kind(b.Route.Kind), Namespace: gwapiv1.Namespace(gw.Namespace)}},
				To:   []gwapiv1b1.ReferenceGrantTo{{Group: toGroup, Kind: toKind, Name: &name}},
			},
		})
	}

	be.Objects = append(be.Objects, route(a, b, backendRef, appLabels))
	return be, nil
}

// certDNSNames are the DNS SANs of a generated serving certificate: the policy hostname, the
// host-name subjectAltNames, and the Service's in-cluster names.
func certDNSNames(b *BackendArgs) []string {
	names := []string{b.TLS.Hostname}
	add := func(n string) {
		for _, have := range names {
			if have == n {
				return
			}
		}
		names = append(names, n)
	}
	for _, san := range b.TLS.SubjectAltNames {
		if _, isURI := sanKind(san); !isURI {
			add(san)
		}
	}
	add(b.Service.Name + "." + b.Namespace + ".svc")
	add(b.Service.Name + "." + b.Namespace + ".svc." + ClusterDomain)
	return names
}

func sanKind(san string) (gwapiv1.SubjectAltNameType, bool) {
	for i := 0; i+2 < len(san); i++ {
		if san[i:i+3] == "://" {
			return gwapiv1.URISubjectAltNameType, true
		}
	}
	return gwapiv1.HostnameSubjectAltNameType, false
}

func subjectAltName(san string) gwapiv1.SubjectAltName {
	typ, isURI := sanKind(san)
	if isURI {
		return gwapiv1.SubjectAltName{Type: typ, URI: gwapiv1.AbsoluteURI(san)}
	}
	return gwapiv1.SubjectAltName{Type: typ, Hostname: gwapiv1.Hostname(san)}
}

// caConfigMap returns the name of the ConfigMap holding the CA and, when the component creates
// it, the ConfigMap itself.
func caConfigMap(b *BackendArgs, certName string) (string, *corev1.ConfigMap, error) {
	ca := b.TLS.CA
	if ca.ConfigMap != "" {
		return ca.ConfigMap, nil, nil
	}
	data := Computed(certName, FieldCACert)
	if ca.PEM != "" {
		_, normalised, err := pki.ParseCABundle(ca.PEM)
		if err != nil {
			return "", nil, fmt.Errorf("tls.ca.pem: %w", err)
		}
		data = normalised
	}
	name := b.Name + "-ca"
	return name, &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta(name, b.Namespace, map[string]string{"app.kubernetes.io/name": b.Name}),
		Data:       map[string]string{"ca.crt": data},
	}, nil
}

func servicePort(b *BackendArgs, name string) PortArgs {
	for _, p := range b.Service.Ports {
		if p.Name == name {
			return p
		}
	}
	return b.Service.Ports[0]
}

func tlsPorts(b *BackendArgs) []PortArgs {
	if len(b.TLS.Ports) == 0 {
		return b.Service.Ports
	}
	var out []PortArgs
	for _, name := range b.TLS.Ports {
		out = append(out, servicePort(b, name))
	}
	return out
}

func deployment(b *BackendArgs, secret string, appLabels map[string]string) *appsv1.Deployment {
	replicas := int32(b.Deploy.Replicas)
	noEscalation := false
	const certDir = "/run/secrets/certs"
	c := corev1.Container{
		Name:  "backend",
		Image: b.Deploy.Image,
		Env: []corev1.EnvVar{
			{Name: "TLS_SERVER_CERT", Value: certDir + "/" + corev1.TLSCertKey},
			{Name: "TLS_SERVER_PRIVKEY", Value: certDir + "/" + corev1.TLSPrivateKeyKey},
			{Name: "HTTPS_PORT", Value: fmt.Sprint(tlsPorts(b)[0].TargetPort)},
			{Name: "SERVICE_NAME", Value: b.Service.Name},
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
		},
		VolumeMounts: []corev1.VolumeMount{{Name: "certs", MountPath: certDir, ReadOnly: true}},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: &noEscalation,
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
	seen := map[int]bool{}
	for _, p := range b.Service.Ports {
		if !seen[p.TargetPort] {
			seen[p.TargetPort] = true
			c.Ports = append(c.Ports, corev1.ContainerPort{Name: p.Name, ContainerPort: int32(p.TargetPort), Protocol: corev1.ProtocolTCP})
		}
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(b.Name, b.Namespace, appLabels),
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: appLabels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(appLabels)},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{c},
					Volumes: []corev1.Volume{{Name: "certs", VolumeSource: corev1.VolumeSource{
						Secret: &corev1.SecretVolumeSource{SecretName: secret},
					}}},
				},
			},
		},
	}
}

func route(a *Args, b *BackendArgs, ref gwapiv1.BackendObjectReference, appLabels map[string]string) Object {
	gw := a.Gateway
	parent := gwapiv1.ParentReference{Name: gwapiv1.ObjectName(gw.Name)}
	if b.Route.Listener != "" {
		s := gwapiv1.SectionName(b.Route.Listener)
		parent.SectionName = &s
	}
	var hostnames []gwapiv1.Hostname
	for _, h := range b.Route.Hostnames {
		hostnames = append(hostnames, gwapiv1.Hostname(h))
	}
	om := meta(b.Name, gw.Namespace, appLabels)
	common := gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{parent}}
	if b.Route.Kind == "GRPCRoute" {
		return &gwapiv1.GRPCRoute{
			TypeMeta:   metav1.TypeMeta{APIVersion: gwapiv1.GroupVersion.String(), Kind: "GRPCRoute"},
			ObjectMeta: om,
			Spec: gwapiv1.GRPCRouteSpec{
				CommonRouteSpec: common,
				Hostnames:       hostnames,
				Rules:           []gwapiv1.GRPCRouteRule{{BackendRefs: []gwapiv1.GRPCBackendRef{{BackendRef: gwapiv1.BackendRef{BackendObjectReference: ref}}}}},
			},
		}
	}
	pathType := gwapiv1.PathMatchPathPrefix
	path := b.Route.PathPrefix
	return &gwapiv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwapiv1.GroupVersion.String(), Kind: "HTTPRoute"},
		ObjectMeta: om,
		Spec: gwapiv1.HTTPRouteSpec{
			CommonRouteSpec: common,
			Hostnames:       hostnames,
			Rules: []gwapiv1.HTTPRouteRule{{
				Matches:     []gwapiv1.HTTPRouteMatch{{Path: &gwapiv1.HTTPPathMatch{Type: &pathType, Value: &path}}},
				BackendRefs: []gwapiv1.HTTPBackendRef{{BackendRef: gwapiv1.BackendRef{BackendObjectReference: ref}}},
			}},
		},
	}
}
