package envoy

import (
	"fmt"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwapiv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// The client identity is the second TLS axis, independent of the mode: which certificate the
// gateway presents when it connects to a backend (mutual TLS to backends). This file is its one
// unit: validation, the objects that carry it, and its part of the posture.
//
// Envoy Gateway v1.9.1 (internal/gatewayapi/backendtlspolicy.go applyBackendTLSSetting) gives
// every TLS upstream of a Gateway the Gateway's client certificate
// (Gateway.spec.tls.backend.clientCertificateRef, validated in listener.go: a Secret, in another
// namespace only with a ReferenceGrant from the Gateway), and lets an Envoy Gateway Backend's own
// tls.clientCertificateRef (in the Backend's namespace) override it (mergeClientTLSConfigs). A
// Service has no such setting, so a per-backend certificate needs the Backend: mode insecure.

const (
	// NoClientCertificate is the posture's client certificate of a backend the gateway
	// presents none to.
	NoClientCertificate = "none"
	// GatewayClientCert names the generated certificate of gateway.backendClientCertificate.
	GatewayClientCert = "gateway-client"
	// ClientCAMountPath is where a workload with deploy.verifyClientCertificate finds the CA of
	// the client certificate (key ca.crt).
	ClientCAMountPath = "/run/secrets/client-ca"
)

// GatewayClientSecret names the Secret of a generated gateway client certificate, in the
// Gateway namespace.
func GatewayClientSecret(gw *spec.GatewayArgs) string { return gw.Name + "-client-tls" }

// backendClientCert and backendClientSecret name a backend's generated client certificate and
// its Secret (in the backend namespace).
func backendClientCert(b *spec.BackendArgs) string   { return "client-" + b.Name }
func backendClientSecret(b *spec.BackendArgs) string { return b.Name + "-client-tls" }

// clientCAConfigMap names the ConfigMap that holds the client CA a verifying workload trusts.
func clientCAConfigMap(b *spec.BackendArgs) string { return b.Name + "-client-ca" }

// validateClientIdentity checks gateway.backendClientCertificate, every backend's
// tls.clientCertificate and deploy.verifyClientCertificate.
func validateClientIdentity(p *core.Problems, a *spec.Args) {
	gw := a.Gateway
	if c := gw.BackendClientCertificate; c != nil {
		cp := field.NewPath("gateway", "backendClientCertificate")
		if validateClientSource(p, cp, c) && c.Secret != "" {
			ns, name := SecretRef(c.Secret, gw.Namespace)
			if strings.Count(c.Secret, "/") > 1 || len(validation.IsDNS1123Label(ns)) > 0 || !core.IsObjectName(name) {
				p.Add(cp.Child("secret"), fmt.Sprintf("%q is not a Secret name or namespace/name", c.Secret),
					"name an existing kubernetes.io/tls Secret: `name` in the Gateway namespace "+gw.Namespace+", or `namespace/name`")
			}
		}
	}
	for i := range a.Backends {
		b := &a.Backends[i]
		path := field.NewPath("backends").Index(i)
		if c := b.TLS.ClientCertificate; c != nil {
			cp := path.Child("tls", "clientCertificate")
			if b.TLS.Mode != spec.ModeInsecure {
				p.Add(cp, fmt.Sprintf("a per-backend client certificate needs mode insecure: Envoy Gateway %s takes one only from its Backend resource, and mode %s routes to the Service", DefaultEnvoyGatewayVersion, b.TLS.Mode),
					"remove tls.clientCertificate and set gateway.backendClientCertificate (presented to every TLS backend)")
			} else if validateClientSource(p, cp, c) && c.Secret != "" {
				if strings.Contains(c.Secret, "/") {
					p.Add(cp.Child("secret"), fmt.Sprintf("%q names a Secret in another namespace; Envoy Gateway reads a Backend's client certificate from the Backend's namespace %s only", c.Secret, b.Namespace),
						"copy the kubernetes.io/tls Secret into namespace "+b.Namespace+" and name it here")
				} else {
					p.ObjectName(cp.Child("secret"), c.Secret, "is not a valid Secret name", "name an existing kubernetes.io/tls Secret in the backend namespace")
				}
			}
		}
		if b.Service.Existing || !b.Deploy.VerifyClientCertificate {
			continue
		}
		vp := path.Child("deploy", "verifyClientCertificate")
		switch src, _ := clientSource(a, b); {
		case src == nil:
			p.Add(vp, fmt.Sprintf("is true, but the gateway presents no client certificate to backend %q, so every request would reach it without one", b.Name),
				"set gateway.backendClientCertificate.generate: true (or, in mode insecure, tls.clientCertificate.generate: true), or remove deploy.verifyClientCertificate")
		case !src.Generate:
			p.Add(vp, "is true, but the client certificate is an existing Secret whose CA the component does not know, so it cannot give the workload the CA to verify it with",
				"use a generated client certificate (generate: true), or remove deploy.verifyClientCertificate and give the workload the CA yourself")
		}
	}
}

// validateClientSource checks that exactly one source is set; it reports whether one is.
func validateClientSource(p *core.Problems, path *field.Path, c *spec.ClientCertificateArgs) bool {
	switch {
	case !c.Generate && c.Secret == "":
		p.Required(path, "no client certificate source is set", "set generate: true, or secret: the name of a kubernetes.io/tls Secret")
		return false
	case c.Generate && c.Secret != "":
		p.Add(path, "sets generate and secret at once", "keep one: generate: true, or the existing Secret")
		return false
	}
	return true
}

// SecretRef splits a Secret reference of the configuration, `namespace/name` (or `name`, in
// namespace def).
func SecretRef(s, def string) (ns, name string) {
	if i := strings.Index(s, "/"); i >= 0 {
		return s[:i], s[i+1:]
	}
	return def, s
}

// clientSource is the client certificate the gateway presents to backend b as configured, and
// whether it is the backend's own.
func clientSource(a *spec.Args, b *spec.BackendArgs) (*spec.ClientCertificateArgs, bool) {
	if b.TLS.ClientCertificate != nil && b.TLS.Mode == spec.ModeInsecure {
		return b.TLS.ClientCertificate, true
	}
	return a.Gateway.BackendClientCertificate, false
}

// ExpectedClientCertificate is the Secret (`namespace/name`) whose certificate the gateway must
// present to backend b as configured, or NoClientCertificate. DerivePostures holds the derived
// posture to it.
func ExpectedClientCertificate(a *spec.Args, b *spec.BackendArgs) string {
	src, own := clientSource(a, b)
	switch {
	case src == nil:
		return NoClientCertificate
	case own && src.Generate:
		return b.Namespace + "/" + backendClientSecret(b)
	case own:
		return b.Namespace + "/" + src.Secret
	case src.Generate:
		return a.Gateway.Namespace + "/" + GatewayClientSecret(a.Gateway)
	}
	ns, name := SecretRef(src.Secret, a.Gateway.Namespace)
	return ns + "/" + name
}

// planGatewayClientCertificate sets g's spec.tls.backend.clientCertificateRef and adds to gp
// what it needs: the generated certificate and its Secret, or, for a Secret in another
// namespace, the ReferenceGrant there. base is what the Gateway namespace's objects wait for,
// install what the ReferenceGrant (in a namespace the component does not create) waits for. It
// returns the keys the Gateway waits for.
func planGatewayClientCertificate(a *spec.Args, gp *GatewayPlan, g *gwapiv1.Gateway, base, install []string) []string {
	gw := a.Gateway
	c := gw.BackendClientCertificate
	if c == nil {
		return nil
	}
	path := field.NewPath("gateway", "backendClientCertificate").String()
	ref := gwapiv1.SecretObjectReference{}
	var keys []string
	if c.Generate {
		cert := core.Certificate{Name: GatewayClientCert, CommonName: gw.Name + "." + gw.Namespace, DNSNames: []string{gw.Name + "." + gw.Namespace}, WithCA: true, Usage: core.UsageClient, Field: path}
		gp.Certificates = append(gp.Certificates, cert)
		s := TLSSecret(GatewayClientSecret(gw), gw.Namespace, cert.Name, false)
		s.Field, s.DependsOn = path, append([]string(nil), base...)
		gp.Objects = append(gp.Objects, s)
		keys = append(keys, s.Key())
		ref.Name = gwapiv1.ObjectName(GatewayClientSecret(gw))
	} else {
		ns, name := SecretRef(c.Secret, gw.Namespace)
		ref.Name = gwapiv1.ObjectName(name)
		if ns != gw.Namespace {
			n := gwapiv1.Namespace(ns)
			ref.Namespace = &n
			to := gwapiv1.ObjectName(name)
			rg := core.Object{
				Resource: &gwapiv1b1.ReferenceGrant{
					TypeMeta:   core.TypeMeta(gwapiv1b1.GroupVersion, core.KindReferenceGrant),
					ObjectMeta: core.Meta(gw.Name+"-client-cert-from-"+gw.Namespace, ns, nil),
					Spec: gwapiv1b1.ReferenceGrantSpec{
						From: []gwapiv1b1.ReferenceGrantFrom{{Group: gwapiv1.GroupName, Kind: core.KindGateway, Namespace: gwapiv1.Namespace(gw.Namespace)}},
						To:   []gwapiv1b1.ReferenceGrantTo{{Group: "", Kind: core.KindSecret, Name: &to}},
					},
				},
				Field:     path,
				DependsOn: append([]string(nil), install...),
			}
			gp.Objects = append(gp.Objects, rg)
			keys = append(keys, rg.Key())
		}
	}
	g.Spec.TLS = &gwapiv1.GatewayTLSConfig{Backend: &gwapiv1.GatewayBackendTLS{ClientCertificateRef: &ref}}
	return keys
}

// planBackendClientCertificate plans an insecure backend's own client certificate: the
// generated certificate's Secret, and the Backend TLS setting tls that references the
// certificate. It returns the Secret (nil for an existing one) and the certificate to generate.
func planBackendClientCertificate(c *backendContext, tls *egv1a1.BackendTLSSettings) ([]core.Object, *core.Certificate) {
	b := c.backend
	src := b.TLS.ClientCertificate
	if src == nil {
		return nil, nil
	}
	name := src.Secret
	var objs []core.Object
	var cert *core.Certificate
	if src.Generate {
		cert = &core.Certificate{Name: backendClientCert(b), CommonName: b.Name + "." + b.Namespace + ".client", DNSNames: []string{b.Name + "." + b.Namespace + ".client"}, WithCA: true, Usage: core.UsageClient, Field: c.path.Child("tls", "clientCertificate").String()}
		name = backendClientSecret(b)
		objs = append(objs, TLSSecret(name, b.Namespace, cert.Name, false))
	}
	tls.BackendTLSConfig = &egv1a1.BackendTLSConfig{ClientCertificateRef: &gwapiv1.SecretObjectReference{Name: gwapiv1.ObjectName(name)}}
	return objs, cert
}

// clientCAObject is the ConfigMap holding the CA of the generated client certificate cert, for
// a workload that verifies the gateway's certificate.
func clientCAObject(b *spec.BackendArgs, cert string, labels map[string]string) core.Object {
	ref := core.CertRef(cert, core.FieldCACert)
	cm := &corev1.ConfigMap{
		TypeMeta:   core.TypeMeta(corev1.SchemeGroupVersion, core.KindConfigMap),
		ObjectMeta: core.Meta(clientCAConfigMap(b), b.Namespace, labels),
		Data:       map[string]string{core.CAKey: ref.String()},
	}
	return core.Object{Resource: cm, Computed: []core.Binding{core.Bind(ref, "data", core.CAKey)}}
}

// clientCACert names the generated certificate whose CA a verifying workload of b trusts.
func clientCACert(a *spec.Args, b *spec.BackendArgs) string {
	if _, own := clientSource(a, b); own {
		return backendClientCert(b)
	}
	return GatewayClientCert
}

// deriveClientCertificate is the client certificate (`namespace/name` of its Secret) the
// gateway presents on the route's backendRefs, from the planned objects: an Envoy Gateway
// Backend's own tls.clientCertificateRef, else the clientCertificateRef of the Gateway the route
// attaches to; NoClientCertificate when neither (or when the route has no planned Gateway).
func (x *Objects) deriveClientCertificate(route core.Resource) string {
	for _, ref := range RouteBackendRefs(route) {
		if ref.Kind == nil || string(*ref.Kind) != egv1a1.KindBackend {
			continue
		}
		ns := route.GetNamespace()
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if o, ok := x.named[namedKey{egv1a1.KindBackend, ns, string(ref.Name)}]; ok {
			be := o.Resource.(*egv1a1.Backend)
			if t := be.Spec.TLS; t != nil && t.BackendTLSConfig != nil && t.ClientCertificateRef != nil {
				return secretKey(t.ClientCertificateRef, be.Namespace)
			}
		}
	}
	for _, parent := range RouteParentRefs(route) {
		ns := route.GetNamespace()
		if parent.Namespace != nil {
			ns = string(*parent.Namespace)
		}
		if o, ok := x.named[namedKey{core.KindGateway, ns, string(parent.Name)}]; ok {
			g := o.Resource.(*gwapiv1.Gateway)
			if t := g.Spec.TLS; t != nil && t.Backend != nil && t.Backend.ClientCertificateRef != nil {
				return secretKey(t.Backend.ClientCertificateRef, g.Namespace)
			}
		}
	}
	return NoClientCertificate
}

func secretKey(ref *gwapiv1.SecretObjectReference, def string) string {
	ns := def
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	return ns + "/" + string(ref.Name)
}
