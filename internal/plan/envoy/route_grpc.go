package envoy

import (
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// grpcRoute is a GRPCRoute with one rule matching every service and method, to the backend.
// It reaches a Service (modes system and ca) or an Envoy Gateway Backend (mode insecure): Envoy
// Gateway's translator routes GRPCRoute backendRefs to Backends like HTTPRoute ones (proven by
// the translator tier, tests/verify).
type grpcRoute struct{}

func init() { registerRoute(grpcRoute{}) }

func (grpcRoute) Kind() spec.RouteKind { return spec.RouteKindGRPC }

func (grpcRoute) Validate(p *core.Problems, path *field.Path, b *spec.BackendArgs) {
	if b.Route.PathPrefix != "/" {
		p.Add(path.Child("pathPrefix"), "a GRPCRoute matches gRPC services and methods, not path prefixes", "remove route.pathPrefix or use route.kind HTTPRoute")
	}
}

func (grpcRoute) Route(a *spec.Args, b *spec.BackendArgs, ref gwapiv1.BackendObjectReference, appLabels map[string]string) core.Resource {
	common, hostnames := routeCommon(a, b)
	return &gwapiv1.GRPCRoute{
		TypeMeta:   core.TypeMeta(gwapiv1.GroupVersion, core.KindGRPCRoute),
		ObjectMeta: core.Meta(b.Name, a.Gateway.Namespace, appLabels),
		Spec: gwapiv1.GRPCRouteSpec{
			CommonRouteSpec: common,
			Hostnames:       hostnames,
			Rules:           []gwapiv1.GRPCRouteRule{{BackendRefs: []gwapiv1.GRPCBackendRef{{BackendRef: gwapiv1.BackendRef{BackendObjectReference: ref}}}}},
		},
	}
}

func (grpcRoute) BackendRefs(r core.Resource) []gwapiv1.BackendObjectReference {
	route, ok := r.(*gwapiv1.GRPCRoute)
	if !ok {
		return nil
	}
	out := []gwapiv1.BackendObjectReference{}
	for _, rule := range route.Spec.Rules {
		for _, ref := range rule.BackendRefs {
			out = append(out, ref.BackendObjectReference)
		}
	}
	return out
}

func (grpcRoute) ParentRefs(r core.Resource) []gwapiv1.ParentReference {
	route, ok := r.(*gwapiv1.GRPCRoute)
	if !ok {
		return nil
	}
	return append([]gwapiv1.ParentReference{}, route.Spec.ParentRefs...)
}
