package envoy

import (
	"strings"
	"testing"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// planned plans one valid backend the way the real plan does.
func planned(t *testing.T, b spec.BackendArgs) (Backend, *spec.Args) {
	t.Helper()
	a := &spec.Args{
		EnvoyGateway: &spec.EnvoyGatewayArgs{GatewayClassName: "eg", Namespace: "eg", Version: "v1.9.1"},
		Gateway:      &spec.GatewayArgs{Name: "gw", Namespace: "gw", Listeners: []spec.ListenerArgs{{Name: "http", Protocol: "HTTP", Port: 80}}},
		Backends:     []spec.BackendArgs{b},
	}
	on := true
	a.EnvoyGateway.Install = &on
	p := Plan(a, Deps{})
	return p.Backends[0], a
}

func ca(name string) spec.BackendArgs {
	return spec.BackendArgs{
		Name: name, Namespace: "apps",
		Service: &spec.ServiceArgs{Name: name, Existing: true, Ports: []spec.PortArgs{{Name: "https", Port: 443, TargetPort: 8443}, {Name: "http", Port: 80, TargetPort: 8080}}},
		Deploy:  &spec.DeployArgs{},
		Route:   &spec.RouteArgs{Kind: spec.RouteKindHTTP, PathPrefix: "/", Port: "https"},
		TLS:     spec.TLSArgs{Mode: spec.ModeCA, Hostname: name + ".apps.svc", CA: &spec.CAArgs{ConfigMap: "corp-ca"}},
	}
}

func route(b Backend) core.Resource {
	for _, o := range b.Objects {
		if IsRoute(o.Resource) {
			return o.Resource
		}
	}
	return nil
}

// TestDeriveFollowsTheObjects: the posture comes from what the route's backendRef reaches, so
// planning mistakes the validation might miss show up as plain text or conflict, never as a
// verified backend. Each case edits the planned objects the way such a mistake would.
func TestDeriveFollowsTheObjects(t *testing.T) {
	b, a := planned(t, ca("api"))
	ports := func(ns, svc string, port int32) (string, bool) {
		for _, p := range a.Backends[0].Service.Ports {
			if int32(p.Port) == port {
				return p.Name, true
			}
		}
		return "", false
	}
	if got := Derive(route(b), b.Objects, ports); got.Effective != core.EffectiveCA || got.SNI != "api.apps.svc" {
		t.Fatalf("planned ca backend derives %+v", got)
	}

	// The route sends traffic to the plain port: no policy covers it.
	b2, _ := planned(t, func() spec.BackendArgs {
		x := ca("api")
		x.TLS.Ports = []string{"https"}
		x.Route.Port = "http"
		return x
	}())
	if got := Derive(route(b2), b2.Objects, ports); got.Effective != core.EffectivePlain || !strings.Contains(got.Via, `port "http"`) {
		t.Errorf("route to an uncovered port derives %+v, want plaintext", got)
	}

	// A second backend's policy on the same port: conflict.
	other, _ := planned(t, func() spec.BackendArgs { x := ca("other"); x.Service.Name = "api"; return x }())
	all := append(append([]core.Object(nil), b.Objects...), other.Objects...)
	if got := Derive(route(b), all, ports); got.Effective != core.EffectiveConflict {
		t.Errorf("two policies on one port derive %+v, want conflict", got)
	}

	// No policy at all: plain text.
	var noPolicy []core.Object
	for _, o := range b.Objects {
		if o.Kind() != core.KindBackendTLSPolicy {
			noPolicy = append(noPolicy, o)
		}
	}
	if got := Derive(route(b), noPolicy, ports); got.Effective != core.EffectivePlain {
		t.Errorf("no policy derives %+v, want plaintext", got)
	}
}

// TestEveryModeIsAUnit: every registered mode declares what it must produce, and the plan of a
// backend in that mode derives exactly that.
func TestEveryModeIsAUnit(t *testing.T) {
	want := map[spec.Mode]core.Effective{spec.ModeSystem: core.EffectiveSystem, spec.ModeCA: core.EffectiveCA, spec.ModeInsecure: core.EffectiveInsecure}
	if len(Modes()) != len(want) {
		t.Fatalf("modes = %v", Modes())
	}
	for _, name := range Modes() {
		m, _ := ModeOf(name)
		if m.Expected() != want[name] {
			t.Errorf("mode %s expects %s", name, m.Expected())
		}
		b := ca("api")
		b.TLS.Mode = name
		if name != spec.ModeCA {
			b.TLS.CA = nil
		}
		pb, a := planned(t, b)
		got := Derive(route(pb), pb.Objects, func(ns, svc string, port int32) (string, bool) {
			for _, p := range a.Backends[0].Service.Ports {
				if int32(p.Port) == port {
					return p.Name, true
				}
			}
			return "", false
		})
		if got.Effective != m.Expected() {
			t.Errorf("mode %s derives %+v, declares %s", name, got, m.Expected())
		}
	}
}

// TestContainerPort follows Envoy Gateway's port shift.
func TestContainerPort(t *testing.T) {
	for in, want := range map[int]int{80: 10080, 443: 10443, 1023: 11023, 1024: 1024, 8443: 8443} {
		if got := ContainerPort(in); got != want {
			t.Errorf("ContainerPort(%d) = %d, want %d", in, got, want)
		}
	}
}
