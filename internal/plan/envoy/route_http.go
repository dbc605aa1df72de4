package envoy

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// httpRoute is an HTTPRoute with one rule: a PathPrefix match on route.pathPrefix, to the
// backend.
type httpRoute struct{}

func init() { registerRoute(httpRoute{}) }

func (httpRoute) Kind() spec.RouteKind { return spec.RouteKindHTTP }

// pathCharsRE is Gateway API's character rule for Exact and PathPrefix path values.
var pathCharsRE = regexp.MustCompile(`^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$`)

// pathRules are Gateway API's rules for PathPrefix values, as the HTTPRoute CRD states them in
// CEL (sigs.k8s.io/gateway-api v1.6.3 apis/v1/httproute_types.go, HTTPPathMatch), with their
// messages.
var pathRules = []struct {
	bad     func(string) bool
	message string
}{
	{func(v string) bool { return !strings.HasPrefix(v, "/") }, "must be an absolute path and start with '/'"},
	{func(v string) bool { return strings.Contains(v, "//") }, "must not contain '//'"},
	{func(v string) bool { return strings.Contains(v, "/./") }, "must not contain '/./'"},
	{func(v string) bool { return strings.Contains(v, "/../") }, "must not contain '/../'"},
	{func(v string) bool { return strings.Contains(v, "%2f") || strings.Contains(v, "%2F") }, "must not contain '%2f' or '%2F'"},
	{func(v string) bool { return strings.Contains(v, "#") }, "must not contain '#'"},
	{func(v string) bool { return strings.HasSuffix(v, "/..") }, "must not end with '/..'"},
	{func(v string) bool { return strings.HasSuffix(v, "/.") }, "must not end with '/.'"},
	{func(v string) bool { return !pathCharsRE.MatchString(v) }, "must only contain valid characters (letters, digits, -/._~!$&'()*+,;=:@ and %-escapes)"},
}

// PathPrefixProblem returns why v is not a valid HTTPRoute PathPrefix value, or "".
func PathPrefixProblem(v string) string {
	if len(v) > MaxPathLength {
		return fmt.Sprintf("is %d characters long; Gateway API allows at most %d", len(v), MaxPathLength)
	}
	for _, r := range pathRules {
		if r.bad(v) {
			return r.message
		}
	}
	return ""
}

func (httpRoute) Validate(p *core.Problems, path *field.Path, b *spec.BackendArgs) {
	v := b.Route.PathPrefix
	if problem := PathPrefixProblem(v); problem != "" {
		if !strings.HasPrefix(v, "/") {
			p.Add(path.Child("pathPrefix"), fmt.Sprintf("%q does not start with '/'", v), "use an absolute path such as /api")
			return
		}
		p.Add(path.Child("pathPrefix"), fmt.Sprintf("%q %s (Gateway API's rule for HTTPRoute paths)", v, problem), "use a clean absolute path such as /api/v1")
	}
}

func (httpRoute) Route(a *spec.Args, b *spec.BackendArgs, ref gwapiv1.BackendObjectReference, appLabels map[string]string) core.Resource {
	common, hostnames := routeCommon(a, b)
	pathType := gwapiv1.PathMatchPathPrefix
	path := b.Route.PathPrefix
	return &gwapiv1.HTTPRoute{
		TypeMeta:   core.TypeMeta(gwapiv1.GroupVersion, core.KindHTTPRoute),
		ObjectMeta: core.Meta(b.Name, a.Gateway.Namespace, appLabels),
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

func (httpRoute) BackendRefs(r core.Resource) []gwapiv1.BackendObjectReference {
	route, ok := r.(*gwapiv1.HTTPRoute)
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

func (httpRoute) ParentRefs(r core.Resource) []gwapiv1.ParentReference {
	route, ok := r.(*gwapiv1.HTTPRoute)
	if !ok {
		return nil
	}
	return append([]gwapiv1.ParentReference{}, route.Spec.ParentRefs...)
}
