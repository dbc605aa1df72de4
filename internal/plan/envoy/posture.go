package envoy

import (
	"fmt"
	"strings"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
)

// Posture is what the gateway does when it reaches one backend, as derived from the planned
// objects: the route's backendRefs, followed to the BackendTLSPolicy that covers the Service
// port they use, or to the Envoy Gateway Backend they name.
type Posture struct {
	// Effective is the upstream TLS the backend gets.
	Effective core.Effective
	// SNI is the server name the gateway sends ("" for plain text).
	SNI string
	// Via is the object that carries the TLS settings (`BackendTLSPolicy/ns/name`,
	// `Backend/ns/name`), or what is missing.
	Via string
	// ClientCertificate is the Secret (`namespace/name`) of the certificate the gateway
	// presents (deriveClientCertificate), or NoClientCertificate; always none in plain text.
	ClientCertificate string
	// Parameters are the TLS versions, cipher suites and ALPN protocols the gateway offers
	// (the Backend's tls settings, else Envoy Gateway's defaults); zero in plain text.
	Parameters Parameters
}

// ServicePorts resolves a Service port number to its name, for Services the plan does not
// create (existing Services, whose ports the configuration lists).
type ServicePorts func(namespace, service string, port int32) (name string, ok bool)

// Derive computes the posture of the backend reached by route, from every planned object (all
// backends' objects: a policy planned for one backend applies to another backend's route on the
// same Service port) and, for Services the plan does not create, ports.
//
// It follows what Envoy Gateway does (internal/gatewayapi/backendtlspolicy.go): a
// BackendTLSPolicy applies to a route's backendRef when it targets the referenced Service (or
// Backend) in the Service's namespace and, when it names a section, the port the backendRef
// uses; a policy with the port's sectionName wins over one without; two that tie conflict.
func Derive(route core.Resource, objects []core.Object, ports ServicePorts) Posture {
	return IndexObjects(objects).Derive(route, ports)
}

// Objects indexes objects by what the posture derivation looks up, so that deriving every
// backend's posture from every planned object costs one pass over them instead of one per
// backend: Services, Envoy Gateway Backends and Gateways by namespace and name (the first of
// each, in the objects' order), BackendTLSPolicies by each target they name (in order).
type Objects struct {
	named    map[namedKey]core.Object
	policies map[targetKey][]policyTarget
}

type namedKey struct{ kind, ns, name string }

type targetKey struct{ ns, group, kind, name string }

// policyTarget is one targetRef of a BackendTLSPolicy.
type policyTarget struct {
	o       core.Object
	section *gwapiv1.SectionName
}

// IndexObjects indexes objects (Objects).
func IndexObjects(objects []core.Object) *Objects {
	x := &Objects{named: map[namedKey]core.Object{}, policies: map[targetKey][]policyTarget{}}
	for _, o := range objects {
		var k namedKey
		switch r := o.Resource.(type) {
		case *corev1.Service:
			k = namedKey{core.KindService, r.Namespace, r.Name}
		case *egv1a1.Backend:
			k = namedKey{egv1a1.KindBackend, r.Namespace, r.Name}
		case *gwapiv1.Gateway:
			k = namedKey{core.KindGateway, r.Namespace, r.Name}
		case *gwapiv1.BackendTLSPolicy:
			for _, t := range r.Spec.TargetRefs {
				tk := targetKey{r.Namespace, string(t.Group), string(t.Kind), string(t.Name)}
				x.policies[tk] = append(x.policies[tk], policyTarget{o, t.SectionName})
			}
			continue
		default:
			continue
		}
		if _, seen := x.named[k]; !seen {
			x.named[k] = o
		}
	}
	return x
}

// Derive is the package's Derive over the indexed objects.
func (x *Objects) Derive(route core.Resource, ports ServicePorts) Posture {
	refs := RouteBackendRefs(route)
	if len(refs) == 0 {
		return Posture{Effective: core.EffectiveNone, Via: "the route has no backendRefs", ClientCertificate: NoClientCertificate}
	}
	var out *Posture
	for _, ref := range refs {
		p := x.deriveRef(route.GetNamespace(), ref, ports)
		switch {
		case out == nil:
			out = &p
		case *out != p:
			return Posture{Effective: core.EffectiveMixed, Via: fmt.Sprintf("the route's backendRefs disagree: %s and %s", out.Via, p.Via), ClientCertificate: NoClientCertificate}
		}
	}
	out.ClientCertificate = NoClientCertificate
	if out.Effective.Encrypted() {
		out.ClientCertificate = x.deriveClientCertificate(route)
	} else {
		out.Parameters = Parameters{}
	}
	return *out
}

func (x *Objects) deriveRef(routeNS string, ref gwapiv1.BackendObjectReference, ports ServicePorts) Posture {
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	group, kind := "", core.KindService
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	name := string(ref.Name)
	switch {
	case group == "" && kind == core.KindService:
		if ref.Port == nil {
			return Posture{Effective: core.EffectiveNone, Via: fmt.Sprintf("the backendRef to Service %s/%s has no port", ns, name)}
		}
		section, ok := x.servicePortName(ns, name, int32(*ref.Port), ports)
		if !ok {
			return Posture{Effective: core.EffectiveNone, Via: fmt.Sprintf("Service %s/%s has no port %d", ns, name, *ref.Port)}
		}
		p := x.policyPosture(ns, "", core.KindService, name, section, fmt.Sprintf("Service %s/%s port %q", ns, name, section))
		p.Parameters = DefaultParameters()
		return p
	case group == egv1a1.GroupName && kind == egv1a1.KindBackend:
		if o, ok := x.named[namedKey{egv1a1.KindBackend, ns, name}]; ok {
			b := o.Resource.(*egv1a1.Backend)
			via := o.Key()
			if t := b.Spec.TLS; t != nil {
				sni := ""
				if t.SNI != nil {
					sni = string(*t.SNI)
				}
				params := deriveParameters(t)
				if t.InsecureSkipVerify != nil && *t.InsecureSkipVerify {
					return Posture{Effective: core.EffectiveInsecure, SNI: sni, Via: via, Parameters: params}
				}
				switch {
				case t.WellKnownCACertificates != nil && *t.WellKnownCACertificates == gwapiv1.WellKnownCACertificatesSystem:
					return Posture{Effective: core.EffectiveSystem, SNI: sni, Via: via, Parameters: params}
				case len(t.CACertificateRefs) > 0:
					return Posture{Effective: core.EffectiveCA, SNI: sni, Via: via, Parameters: params}
				}
			}
			// Without trust settings of its own, a Backend is reached as a BackendTLSPolicy on it
			// says (with the parameters of its tls settings), or in plain text.
			p := x.policyPosture(ns, egv1a1.GroupName, egv1a1.KindBackend, name, "", "Backend "+ns+"/"+name)
			p.Parameters = deriveParameters(b.Spec.TLS)
			return p
		}
		return Posture{Effective: core.EffectiveNone, Via: fmt.Sprintf("Backend %s/%s is not planned", ns, name)}
	}
	return Posture{Effective: core.EffectiveNone, Via: fmt.Sprintf("unsupported backendRef kind %s.%s", kind, group)}
}

// servicePortName finds the name of port number port of Service ns/name: from the planned
// Service when the plan creates it, else from ports.
func (x *Objects) servicePortName(ns, name string, port int32, ports ServicePorts) (string, bool) {
	if o, ok := x.named[namedKey{core.KindService, ns, name}]; ok {
		svc := o.Resource.(*corev1.Service)
		for _, sp := range svc.Spec.Ports {
			if sp.Port == port {
				return sp.Name, true
			}
		}
		return "", false
	}
	if ports == nil {
		return "", false
	}
	return ports(ns, name, port)
}

// policyPosture is the posture a BackendTLSPolicy targeting group/kind ns/name (section) gives.
func (x *Objects) policyPosture(ns, group, kind, name, section, what string) Posture {
	var exact, whole []core.Object
	for _, t := range x.policies[targetKey{ns, group, kind, name}] {
		switch {
		case t.section == nil:
			whole = append(whole, t.o)
		case section != "" && string(*t.section) == section:
			exact = append(exact, t.o)
		}
	}
	candidates := exact
	if len(candidates) == 0 {
		candidates = whole
	}
	switch len(candidates) {
	case 0:
		return Posture{Effective: core.EffectivePlain, Via: "no BackendTLSPolicy covers " + what}
	case 1:
	default:
		return Posture{Effective: core.EffectiveConflict, Via: fmt.Sprintf("%s is targeted by %s", what, strings.Join(core.Keys(candidates), " and "))}
	}
	btp := candidates[0].Resource.(*gwapiv1.BackendTLSPolicy)
	v := btp.Spec.Validation
	p := Posture{SNI: string(v.Hostname), Via: candidates[0].Key()}
	switch {
	case len(v.CACertificateRefs) > 0:
		p.Effective = core.EffectiveCA
	case v.WellKnownCACertificates != nil && *v.WellKnownCACertificates == gwapiv1.WellKnownCACertificatesSystem:
		p.Effective = core.EffectiveSystem
	default:
		p.Effective = core.EffectiveNone
		p.Via += " has no CA"
	}
	return p
}
