package envoy

import (
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// RouteKind is one kind of route from the Gateway to a backend. Each lives in its own file
// (route_<kind>.go) and is registered in routeKinds; adding a route kind is one new file and
// one entry.
type RouteKind interface {
	// Kind is the route.kind value (the object's kind).
	Kind() spec.RouteKind
	// Validate checks the route fields the kind constrains (at path, `backends[i].route`).
	Validate(p *core.Problems, path *field.Path, b *spec.BackendArgs)
	// Route builds the route in the Gateway namespace, attached to the Gateway (and listener),
	// sending everything to ref.
	Route(a *spec.Args, b *spec.BackendArgs, ref gwapiv1.BackendObjectReference, appLabels map[string]string) core.Resource
	// BackendRefs returns what a route of this kind sends traffic to (the posture follows
	// them); nil when r is not of this kind.
	BackendRefs(r core.Resource) []gwapiv1.BackendObjectReference
	// ParentRefs returns the Gateways (and listeners) a route of this kind attaches to (the
	// client certificate of the posture comes from them); nil when r is not of this kind.
	ParentRefs(r core.Resource) []gwapiv1.ParentReference
}

// routeKinds registers every route kind by its route.kind value.
var routeKinds = map[spec.RouteKind]RouteKind{}

func registerRoute(k RouteKind) { routeKinds[k.Kind()] = k }

// routeCommon is the part every route kind shares: the parent reference to the Gateway (and
// the listener, when the backend names one) and the host names.
func routeCommon(a *spec.Args, b *spec.BackendArgs) (gwapiv1.CommonRouteSpec, []gwapiv1.Hostname) {
	parent := gwapiv1.ParentReference{Name: gwapiv1.ObjectName(a.Gateway.Name)}
	if b.Route.Listener != "" {
		s := gwapiv1.SectionName(b.Route.Listener)
		parent.SectionName = &s
	}
	var hostnames []gwapiv1.Hostname
	for _, h := range b.Route.Hostnames {
		hostnames = append(hostnames, gwapiv1.Hostname(h))
	}
	return gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{parent}}, hostnames
}

// RouteBackendRefs returns the backendRefs of any planned route, or nil when r is not a route.
func RouteBackendRefs(r core.Resource) []gwapiv1.BackendObjectReference {
	for _, k := range routeKinds {
		if refs := k.BackendRefs(r); refs != nil {
			return refs
		}
	}
	return nil
}

// RouteParentRefs returns the parentRefs of any planned route, or nil when r is not a route.
func RouteParentRefs(r core.Resource) []gwapiv1.ParentReference {
	for _, k := range routeKinds {
		if refs := k.ParentRefs(r); refs != nil {
			return refs
		}
	}
	return nil
}

// IsRoute reports whether r is a route of a registered kind.
func IsRoute(r core.Resource) bool {
	gvk := r.GroupVersionKind()
	_, ok := routeKinds[spec.RouteKind(gvk.Kind)]
	return ok && gvk.Group == gwapiv1.GroupName
}

// KnownRouteKind reports whether a route kind unit is registered for k.
func KnownRouteKind(k spec.RouteKind) bool {
	_, ok := routeKinds[k]
	return ok
}
