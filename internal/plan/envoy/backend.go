package envoy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/distribution/reference"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwapiv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// uriSchemeRE is a URI with a scheme, as BackendTLSPolicy's URI subjectAltNames require.
var uriSchemeRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$`)

// validateBackend checks one defaulted backend: its Service and ports, its workload, its route
// (through the route kind's unit) and its TLS (through the mode's unit).
func validateBackend(p *core.Problems, a *spec.Args, path *field.Path, b *spec.BackendArgs, listeners map[string]spec.ListenerArgs, ctx Context) {
	ports := validatePorts(p, path, b)
	portNames := func() string {
		var n []string
		for _, port := range b.Service.Ports {
			n = append(n, port.Name)
		}
		return strings.Join(n, ", ")
	}

	// Route.
	rp := path.Child("route")
	kind, ok := routeKinds[b.Route.Kind]
	switch {
	case ok:
		kind.Validate(p, rp, b)
	case b.Route.Kind == core.KindTLSRoute || b.Route.Kind == core.KindTCPRoute || b.Route.Kind == "UDPRoute":
		p.Add(rp.Child("kind"), fmt.Sprintf("route kind %s is not supported by this component yet", b.Route.Kind), "use HTTPRoute or GRPCRoute")
	default:
		p.Add(rp.Child("kind"), fmt.Sprintf("unknown route kind %q", b.Route.Kind), "use HTTPRoute or GRPCRoute")
	}
	if len(b.Route.Hostnames) > MaxRouteHostnames {
		p.Add(rp.Child("hostnames"), fmt.Sprintf("has %d host names; a route allows at most %d", len(b.Route.Hostnames), MaxRouteHostnames), "keep at most 16, or split the backend's routes")
	}
	var attach []spec.ListenerArgs
	if b.Route.Listener != "" {
		if l, ok := listeners[b.Route.Listener]; ok {
			attach = []spec.ListenerArgs{l}
		} else {
			p.Add(rp.Child("listener"), fmt.Sprintf("the Gateway has no listener %q", b.Route.Listener), "use one of the names under gateway.listeners")
		}
	} else {
		for _, l := range a.Gateway.Listeners {
			attach = append(attach, l)
		}
	}
	seenHost := map[string]bool{}
	for k, h := range b.Route.Hostnames {
		hp := rp.Child("hostnames").Index(k)
		if !p.Hostname(hp, h, "route") {
			continue
		}
		if seenHost[h] {
			p.Duplicate(hp, fmt.Sprintf("host name %q is listed twice", h), "list every host name once")
		}
		seenHost[h] = true
		if len(attach) > 0 && !slices.ContainsFunc(attach, func(l spec.ListenerArgs) bool { return core.HostnameCovers(l.Hostname, h) }) {
			p.Add(hp, fmt.Sprintf("%q is not under the host name of %s, so the route would never attach", h, describeListeners(attach)),
				"use a host name the listener's hostname covers, or change the listener's hostname (or route.listener)")
		}
	}
	if b.Route.Port != "" {
		if _, ok := ports[b.Route.Port]; !ok {
			p.Add(rp.Child("port"), fmt.Sprintf("Service %q has no port named %q (ports: %s)", b.Service.Name, b.Route.Port, portNames()), "name one of the Service's ports")
		} else if len(b.TLS.Ports) > 0 && !slices.Contains(b.TLS.Ports, b.Route.Port) && modeUsesPolicy(b.TLS.Mode) {
			p.Add(rp.Child("port"), fmt.Sprintf("the route sends traffic to port %q, which is not in tls.ports (%s): no BackendTLSPolicy covers it, so the gateway would speak plain text to the backend", b.Route.Port, strings.Join(b.TLS.Ports, ", ")),
				fmt.Sprintf("add %q to tls.ports, or set route.port to one of tls.ports", b.Route.Port))
		}
	}

	// Deploy.
	dp := path.Child("deploy")
	if !b.Service.Existing {
		p.Int32(dp.Child("replicas"), b.Deploy.Replicas, 0, "replicas")
		validateImage(p, dp.Child("image"), b.Deploy.Image, ctx.images)
		p.ObjectName(dp.Child("certificateSecret"), b.Deploy.CertificateSecret, "is not a valid Secret name", "name an existing kubernetes.io/tls Secret in the backend namespace")
	}

	// TLS.
	t := &b.TLS
	tp := path.Child("tls")
	if !t.SNIFromRequestHost {
		p.PreciseHostname(tp.Child("hostname"), t.Hostname)
	}
	if len(t.SubjectAltNames) > 5 {
		p.Add(tp.Child("subjectAltNames"), fmt.Sprintf("has %d entries; BackendTLSPolicy allows at most 5", len(t.SubjectAltNames)), "keep the 5 names the backend certificate must match")
	}
	for k, san := range t.SubjectAltNames {
		sp := tp.Child("subjectAltNames").Index(k)
		if isURI(san) {
			if !uriSchemeRE.MatchString(san) || len(san) > 253 {
				p.Add(sp, fmt.Sprintf("%q is not a valid URI", san), "use a URI with a scheme, such as spiffe://cluster.local/ns/apps/sa/api")
			}
		} else if !core.IsHostname(san) {
			p.Add(sp, fmt.Sprintf("%q is neither a lowercase DNS name nor a URI", san), "use a DNS name (\"*.\" allowed) or a URI with a scheme")
		}
	}
	seenPort := map[string]bool{}
	for k, name := range t.Ports {
		pp := tp.Child("ports").Index(k)
		if _, ok := ports[name]; !ok {
			p.Add(pp, fmt.Sprintf("Service %q has no port named %q (ports: %s)", b.Service.Name, name, portNames()), "name one of the Service's ports in tls.ports")
		} else if seenPort[name] {
			p.Duplicate(pp, fmt.Sprintf("port %q is listed twice", name), "list every TLS port once")
		}
		seenPort[name] = true
	}
	validateTLSParameters(p, a, path, b)
	m, ok := modes[t.Mode]
	switch {
	case ok:
		m.Validate(p, a, path, b, ctx)
	case t.Mode == "":
		p.Required(tp.Child("mode"), fmt.Sprintf("backend %q has no TLS mode", b.Name), "set tls.mode to system, ca or insecure")
	default:
		p.Add(tp.Child("mode"), fmt.Sprintf("unknown TLS mode %q", t.Mode), "use system, ca or insecure")
	}
}

func describeListeners(ls []spec.ListenerArgs) string {
	var parts []string
	for _, l := range ls {
		h := l.Hostname
		if h == "" {
			h = "(any)"
		}
		parts = append(parts, fmt.Sprintf("listener %q (%s)", l.Name, h))
	}
	return strings.Join(parts, ", ")
}

// validatePorts checks the Service's ports and returns the valid ones by name.
func validatePorts(p *core.Problems, path *field.Path, b *spec.BackendArgs) map[string]spec.PortArgs {
	ports := map[string]spec.PortArgs{}
	numbers := map[int]string{}
	sp := path.Child("service", "ports")
	if len(b.Service.Ports) == 0 {
		p.Required(sp, "the Service has no ports", "list at least one named port, for example {name: https, port: 443}")
	}
	for j, port := range b.Service.Ports {
		pp := sp.Index(j)
		var named bool
		if b.Service.Existing {
			named = p.DNSLabel(pp.Child("name"), port.Name, "port name")
		} else {
			// The Service port name is also the Deployment's container port name.
			named = p.PortName(pp.Child("name"), port.Name)
		}
		if named {
			if _, dup := ports[port.Name]; dup {
				p.Duplicate(pp.Child("name"), fmt.Sprintf("port name %q is used twice", port.Name), "give every Service port a unique name")
			}
			ports[port.Name] = port
		}
		if p.PortNumber(pp.Child("port"), port.Port, fmt.Sprintf("port %d", port.Port)) {
			if prev, dup := numbers[port.Port]; dup {
				p.Duplicate(pp.Child("port"), fmt.Sprintf("port %d is already Service port %q", port.Port, prev), "give every Service port its own number")
			}
			numbers[port.Port] = port.Name
		}
		p.PortNumber(pp.Child("targetPort"), port.TargetPort, fmt.Sprintf("targetPort %d", port.TargetPort))
	}
	return ports
}

// validateImage checks a container image reference with the grammar of the distribution
// project (what container runtimes parse). parsed, when not nil, remembers each reference's
// verdict across the backends of one configuration (most share an image).
func validateImage(p *core.Problems, path *field.Path, image string, parsed map[string]error) {
	if strings.TrimSpace(image) != image || image == "" {
		p.Add(path, fmt.Sprintf("%q has leading or trailing white space, or is empty", image), "write the image reference without spaces, such as registry.example.com/team/app:1.2.3")
		return
	}
	err, seen := parsed[image]
	if !seen {
		_, err = reference.ParseNormalizedNamed(image)
		if parsed != nil {
			parsed[image] = err
		}
	}
	if err != nil {
		p.Add(path, fmt.Sprintf("%q is not a valid image reference: %v", image, err),
			"use [registry/]repository[:tag][@digest] with a lowercase repository, such as registry.example.com/team/app:1.2.3")
	}
}

// planBackend plans one validated, defaulted backend.
func planBackend(a *spec.Args, path *field.Path, b *spec.BackendArgs, deps Deps, install []string) Backend {
	gw := a.Gateway
	m := modes[b.TLS.Mode]
	be := Backend{
		Name:              b.Name,
		Mode:              b.TLS.Mode,
		Hostname:          b.TLS.Hostname,
		ClientCertificate: NoClientCertificate,
		Namespace:         b.Namespace,
		Service:           b.Service.Name,
		// Only a workload the component deploys can be told to verify.
		VerifiesClientCertificate: !b.Service.Existing && b.Deploy.VerifyClientCertificate,
	}
	c := &backendContext{args: a, backend: b, path: path, certName: "backend-" + b.Name, appLabels: map[string]string{core.AppLabel: b.Name}}
	// Every object of the backend waits for its namespace (when the component creates it) and
	// for what installs its kinds and controllers; besides that only for what it really uses.
	c.base = append([]string(nil), install...)
	if deps.Namespaces[b.Namespace] {
		c.base = append(c.base, core.Key(core.KindNamespace, "", b.Namespace))
	}
	fieldPath := path.String()
	add := func(o core.Object) core.Object {
		o.Field = fieldPath
		o.DependsOn = append(append([]string(nil), c.base...), o.DependsOn...)
		be.Objects = append(be.Objects, o)
		return o
	}

	// The deployed workload: serving certificate, Deployment, Service.
	if !b.Service.Existing {
		servingSecret := b.Deploy.CertificateSecret
		var secretKey []string
		if servingSecret == "" {
			withCA := m.GeneratedServingCA(b)
			cert := core.Certificate{Name: c.certName, CommonName: certDNSNames(b)[0], DNSNames: certDNSNames(b), WithCA: withCA, Field: path.Child("tls").String()}
			be.Certificates = append(be.Certificates, cert)
			servingSecret = b.Name + "-tls"
			s := add(TLSSecret(servingSecret, b.Namespace, cert.Name, withCA))
			secretKey = []string{s.Key()}
		}
		clientCA := ""
		if be.VerifiesClientCertificate {
			cm := add(clientCAObject(b, clientCACert(a, b), c.appLabels))
			clientCA = cm.Name()
			secretKey = append(secretKey, cm.Key())
		}
		add(core.Object{Resource: deployment(b, servingSecret, clientCA, c.appLabels), DependsOn: secretKey})
		add(core.Object{Resource: service(b, c.appLabels)})
	}

	// Upstream TLS: the mode's objects and the reference the route uses.
	objs, ref := m.Plan(c)
	be.Certificates = append(be.Certificates, c.certificates...)
	var refKeys []string
	for _, o := range objs {
		refKeys = append(refKeys, add(o).Key())
	}

	// Cross-namespace access from the route in the Gateway namespace.
	if b.Namespace != gw.Namespace {
		ns := gwapiv1.Namespace(b.Namespace)
		ref.Namespace = &ns
		toGroup, toKind := gwapiv1.Group(""), gwapiv1.Kind(core.KindService)
		if ref.Kind != nil {
			toGroup, toKind = *ref.Group, *ref.Kind
		}
		name := ref.Name
		rg := add(core.Object{Resource: &gwapiv1b1.ReferenceGrant{
			TypeMeta:   core.TypeMeta(gwapiv1b1.GroupVersion, core.KindReferenceGrant),
			ObjectMeta: core.Meta(b.Name+"-from-"+gw.Namespace, b.Namespace, c.appLabels),
			Spec: gwapiv1b1.ReferenceGrantSpec{
				From: []gwapiv1b1.ReferenceGrantFrom{{Group: gwapiv1.GroupName, Kind: gwapiv1.Kind(b.Route.Kind), Namespace: gwapiv1.Namespace(gw.Namespace)}},
				To:   []gwapiv1b1.ReferenceGrantTo{{Group: toGroup, Kind: toKind, Name: &name}},
			},
		}})
		refKeys = append(refKeys, rg.Key())
	}

	// The route lives in the Gateway namespace; it waits for what it references (so that its
	// ResolvedRefs is True from the start) and for the Gateway it attaches to.
	route := core.Object{
		Resource:  routeKinds[b.Route.Kind].Route(a, b, ref, c.appLabels),
		Field:     fieldPath,
		DependsOn: append(append(append([]string(nil), install...), routeNamespace(deps, gw.Namespace)...), append([]string{core.Key(core.KindGateway, gw.Namespace, gw.Name)}, refKeys...)...),
	}
	be.Objects = append(be.Objects, route)
	for _, o := range be.Objects {
		awaitVerdict(o.Resource, a.EnvoyGateway.VerdictTimeoutSeconds)
	}
	return be
}

func routeNamespace(deps Deps, ns string) []string {
	if deps.Namespaces[ns] {
		return []string{core.Key(core.KindNamespace, "", ns)}
	}
	return nil
}

// backendContext is what a mode's Plan needs.
type backendContext struct {
	args      *spec.Args
	backend   *spec.BackendArgs
	path      *field.Path
	certName  string
	appLabels map[string]string
	base      []string
	// certificates are the generated certificates the mode's Plan adds (a per-backend client
	// certificate).
	certificates []core.Certificate
}

// TLSSecret is a kubernetes.io/tls Secret whose data comes from the generated certificate cert
// (with its CA under ca.crt when withCA).
func TLSSecret(name, namespace, cert string, withCA bool) core.Object {
	s := &corev1.Secret{
		TypeMeta:   core.TypeMeta(corev1.SchemeGroupVersion, core.KindSecret),
		ObjectMeta: core.Meta(name, namespace, nil),
		Type:       corev1.SecretTypeTLS,
		StringData: map[string]string{},
	}
	o := core.Object{Resource: s}
	set := func(key, field string) {
		ref := core.CertRef(cert, field)
		s.StringData[key] = ref.String()
		o.Computed = append(o.Computed, core.Bind(ref, "stringData", key))
	}
	set(corev1.TLSCertKey, core.FieldCert)
	set(corev1.TLSPrivateKeyKey, core.FieldKey)
	if withCA {
		set(core.CAKey, core.FieldCACert)
	}
	return o
}

// certDNSNames are the DNS SANs of a generated serving certificate: the policy hostname, the
// host-name subjectAltNames, and the Service's in-cluster names.
func certDNSNames(b *spec.BackendArgs) []string {
	var names []string // (no tls.hostname with tls.sniFromRequestHost)
	add := func(n string) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if b.TLS.Hostname != "" {
		add(b.TLS.Hostname)
	}
	for _, san := range b.TLS.SubjectAltNames {
		if !isURI(san) {
			add(san)
		}
	}
	add(b.Service.Name + "." + b.Namespace + ".svc")
	add(b.Service.Name + "." + b.Namespace + ".svc." + ClusterDomain)
	return names
}

func isURI(san string) bool { return strings.Contains(san, "://") }

func subjectAltName(san string) gwapiv1.SubjectAltName {
	if isURI(san) {
		return gwapiv1.SubjectAltName{Type: gwapiv1.URISubjectAltNameType, URI: gwapiv1.AbsoluteURI(san)}
	}
	return gwapiv1.SubjectAltName{Type: gwapiv1.HostnameSubjectAltNameType, Hostname: gwapiv1.Hostname(san)}
}

// servicePort returns the port named name (validation guarantees it exists).
func servicePort(b *spec.BackendArgs, name string) spec.PortArgs {
	for _, p := range b.Service.Ports {
		if p.Name == name {
			return p
		}
	}
	return b.Service.Ports[0]
}

// tlsPorts are the ports that get a BackendTLSPolicy.
func tlsPorts(b *spec.BackendArgs) []spec.PortArgs {
	if len(b.TLS.Ports) == 0 {
		return b.Service.Ports
	}
	var out []spec.PortArgs
	for _, name := range b.TLS.Ports {
		out = append(out, servicePort(b, name))
	}
	return out
}

func service(b *spec.BackendArgs, appLabels map[string]string) *corev1.Service {
	svc := &corev1.Service{
		TypeMeta:   core.TypeMeta(corev1.SchemeGroupVersion, core.KindService),
		ObjectMeta: core.Meta(b.Service.Name, b.Namespace, appLabels),
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
	return svc
}

// deployment is the backend's workload serving the certificate in Secret secret; with clientCA
// (a ConfigMap name) it also verifies the client certificates it is presented against that CA.
func deployment(b *spec.BackendArgs, secret, clientCA string, appLabels map[string]string) *appsv1.Deployment {
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
	volumes := []corev1.Volume{{Name: "certs", VolumeSource: corev1.VolumeSource{
		Secret: &corev1.SecretVolumeSource{SecretName: secret},
	}}}
	if clientCA != "" {
		c.Env = append(c.Env, corev1.EnvVar{Name: "TLS_CLIENT_CACERTS", Value: ClientCAMountPath + "/" + core.CAKey})
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "client-ca", MountPath: ClientCAMountPath, ReadOnly: true})
		volumes = append(volumes, corev1.Volume{Name: "client-ca", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: clientCA}},
		}})
	}
	seen := map[int]bool{}
	for _, p := range b.Service.Ports {
		if !seen[p.TargetPort] {
			seen[p.TargetPort] = true
			c.Ports = append(c.Ports, corev1.ContainerPort{Name: p.Name, ContainerPort: int32(p.TargetPort), Protocol: corev1.ProtocolTCP})
		}
	}
	return &appsv1.Deployment{
		TypeMeta:   core.TypeMeta(appsv1.SchemeGroupVersion, core.KindDeployment),
		ObjectMeta: core.Meta(b.Name, b.Namespace, appLabels),
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: appLabels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: core.Labels(appLabels)},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{c},
					Volumes:    volumes,
				},
			},
		},
	}
}
