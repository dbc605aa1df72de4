package preflight

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/kube"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
)

// Change is one backend whose upstream TLS the update changes: the posture derived from the
// objects live in the cluster now (the route, and the BackendTLSPolicies, Envoy Gateway
// Backends and Services it leads to, read back and followed by envoy.Derive exactly as the plan
// follows its own objects) next to the planned one. New is true for a backend whose route does
// not exist yet.
type Change struct {
	Backend string
	New     bool
	Live    envoy.Posture
	Planned envoy.Posture
}

// Downgrade reports whether the change makes the backend less protected: verified to not
// verified, or encrypted to plain text.
func (c Change) Downgrade() bool {
	if c.New {
		return false
	}
	return (c.Live.Effective.Verified() && !c.Planned.Effective.Verified()) ||
		(c.Live.Effective.Encrypted() && !c.Planned.Effective.Encrypted())
}

// String is the change in plain words, for a pull request's preview:
// "legacy-app: verified yes → NO (upstream TLS ca → insecure, via Backend/legacy/legacy-app)".
func (c Change) String() string {
	yn := func(p envoy.Posture) string {
		if p.Effective.Verified() {
			return "yes"
		}
		return "NO"
	}
	if c.New {
		return fmt.Sprintf("%s: new backend, verified %s (upstream TLS %s, via %s)", c.Backend, yn(c.Planned), c.Planned.Effective, c.Planned.Via)
	}
	return fmt.Sprintf("%s: verified %s → %s (upstream TLS %s → %s, via %s)", c.Backend, yn(c.Live), yn(c.Planned), c.Live.Effective, c.Planned.Effective, c.Planned.Via)
}

// PostureChanges reads, with c, each planned backend's live route and what it leads to, derives
// the live posture and returns the backends whose posture the plan changes (Effective or SNI
// differ), in plan order. It never writes.
func PostureChanges(ctx context.Context, c *kube.Client, p *plan.Plan) ([]Change, error) {
	live := &liveObjects{c: c, lists: map[string][]core.Object{}}
	var out []Change
	for _, be := range p.Envoy.Backends {
		var route core.Object
		for _, o := range be.Objects {
			if envoy.IsRoute(o.Resource) {
				route = o
			}
		}
		if route.Resource == nil {
			continue
		}
		liveRoute, err := live.get(ctx, route.Resource)
		if kube.IsNotFound(err) || errors.Is(err, kube.ErrNoKind) {
			out = append(out, Change{Backend: be.Name, New: true, Planned: be.Posture})
			continue
		}
		if err != nil {
			return nil, err
		}
		objects, err := live.around(ctx, liveRoute)
		if err != nil {
			return nil, err
		}
		now := envoy.Derive(liveRoute, objects, nil)
		if now.Effective != be.Posture.Effective || now.SNI != be.Posture.SNI {
			out = append(out, Change{Backend: be.Name, Live: now, Planned: be.Posture})
		}
	}
	return out, nil
}

// liveObjects reads objects back into the plan's own types, caching lists by namespace.
type liveObjects struct {
	c     *kube.Client
	lists map[string][]core.Object
}

// get reads the live counterpart of planned into a new value of planned's type.
func (l *liveObjects) get(ctx context.Context, planned core.Resource) (core.Resource, error) {
	gvk := planned.GroupVersionKind()
	r, err := l.c.Resource(ctx, gvk.GroupVersion().String(), gvk.Kind)
	if err != nil {
		return nil, err
	}
	v := reflect.New(reflect.TypeOf(planned).Elem()).Interface()
	if err := l.c.Get(ctx, r.Path(planned.GetNamespace(), planned.GetName()), v); err != nil {
		return nil, err
	}
	return v.(core.Resource), nil
}

// around lists what route's backendRefs can lead to: Services, BackendTLSPolicies and Envoy
// Gateway Backends in each referenced namespace.
func (l *liveObjects) around(ctx context.Context, route core.Resource) ([]core.Object, error) {
	var objects []core.Object
	seen := map[string]bool{}
	for _, ref := range envoy.RouteBackendRefs(route) {
		ns := route.GetNamespace()
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if seen[ns] {
			continue
		}
		seen[ns] = true
		got, err := l.list(ctx, ns)
		if err != nil {
			return nil, err
		}
		objects = append(objects, got...)
	}
	return objects, nil
}

func (l *liveObjects) list(ctx context.Context, ns string) ([]core.Object, error) {
	if got, ok := l.lists[ns]; ok {
		return got, nil
	}
	var objects []core.Object
	var services corev1.ServiceList
	if err := l.c.Get(ctx, "/api/v1/namespaces/"+ns+"/services", &services); err != nil {
		return nil, err
	}
	for i := range services.Items {
		s := &services.Items[i]
		s.APIVersion, s.Kind = "v1", core.KindService
		objects = append(objects, core.Object{Resource: s})
	}
	var policies gwapiv1.BackendTLSPolicyList
	if err := l.c.Get(ctx, "/apis/gateway.networking.k8s.io/v1/namespaces/"+ns+"/backendtlspolicies", &policies); err != nil && !kube.IsNotFound(err) {
		return nil, err
	}
	for i := range policies.Items {
		b := &policies.Items[i]
		b.APIVersion, b.Kind = gwapiv1.GroupVersion.String(), "BackendTLSPolicy"
		objects = append(objects, core.Object{Resource: b})
	}
	var backends egv1a1.BackendList
	if err := l.c.Get(ctx, "/apis/gateway.envoyproxy.io/v1alpha1/namespaces/"+ns+"/backends", &backends); err != nil && !kube.IsNotFound(err) {
		return nil, err
	}
	for i := range backends.Items {
		b := &backends.Items[i]
		b.APIVersion, b.Kind = egv1a1.GroupVersion.String(), egv1a1.KindBackend
		objects = append(objects, core.Object{Resource: b})
	}
	l.lists[ns] = objects
	return objects, nil
}
