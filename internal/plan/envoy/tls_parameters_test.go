package envoy

import (
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// TestParametersFollowTheObjects: the TLS parameters the posture reports come from the planned
// Envoy Gateway Backend, not from the configuration. A ca backend with parameters is reached
// through a Backend (not the Service) verified by a policy on it; editing the Backend's
// minVersion changes the posture and the plan refuses the backend; a backend without
// parameters keeps the Service route and Envoy Gateway's defaults.
func TestParametersFollowTheObjects(t *testing.T) {
	tuned := ca("api")
	tuned.TLS.Parameters = &spec.TLSParametersArgs{MinVersion: "1.3", ALPNProtocols: []string{"http/1.1"}}
	p, a, objects := plannedPath(t, tuned, ca("plain"))
	var problems core.Problems
	p.DerivePostures(a, objects, &problems)
	if problems.Len() != 0 {
		t.Fatalf("valid plan refused: %v", problems.Err())
	}
	want := Parameters{MinVersion: "1.3", MaxVersion: "1.3", ALPN: "http/1.1"}
	if got := p.Backends[0].Posture; got.Parameters != want || got.Effective != core.EffectiveCA || !strings.HasPrefix(got.Via, "BackendTLSPolicy/apps/api") {
		t.Errorf("backend with parameters: posture %+v, want ca via the policy on its Backend with %+v", got, want)
	}
	for _, ref := range RouteBackendRefs(route(p.Backends[0])) {
		if ref.Kind == nil || string(*ref.Kind) != egv1a1.KindBackend {
			t.Errorf("the route reaches the backend with parameters through %+v, not its Backend", ref)
		}
	}
	if got := p.Backends[1].Posture.Parameters; got != DefaultParameters() {
		t.Errorf("backend without parameters: %+v, want Envoy Gateway's defaults", got)
	}

	// The Backend's minVersion is lowered after planning (a planning mistake).
	for _, o := range objects {
		if be, ok := o.Resource.(*egv1a1.Backend); ok && be.Name == "api" {
			v := egv1a1.TLSVersion("1.0")
			be.Spec.TLS.MinVersion = &v
		}
	}
	problems = core.Problems{}
	p.DerivePostures(a, objects, &problems)
	if got := p.Backends[0].Posture.Parameters.MinVersion; got != "1.0" {
		t.Errorf("after the edit the posture's minVersion is %q, want the object's 1.0", got)
	}
	if err := problems.Err(); err == nil || !strings.Contains(err.Error(), `backend "api" would be reached with TLS parameters 1.0-1.3 alpn:http/1.1`) {
		t.Errorf("the plan did not refuse the mismatch: %v", err)
	}

	// Without the policy on the Backend the backend is plain text, with no parameters.
	var kept []core.Object
	for _, o := range objects {
		if btp, ok := o.Resource.(*gwapiv1.BackendTLSPolicy); !ok || btp.Name != "api" {
			kept = append(kept, o)
		}
	}
	if got := Derive(route(p.Backends[0]), kept, nil); got.Effective.Encrypted() || got.Parameters != (Parameters{}) {
		t.Errorf("plain-text backend derives %+v", got)
	}
}

// TestSNIFromRequestHost: an insecure backend with sniFromRequestHost gets a Backend without
// a fixed SNI (Envoy Gateway then sets auto SNI from the request's host), its generated
// certificate still names the Service, and the posture's SNI is empty.
func TestSNIFromRequestHost(t *testing.T) {
	nas := ca("nas")
	nas.Service.Existing = false
	nas.TLS = spec.TLSArgs{Mode: spec.ModeInsecure, SNIFromRequestHost: true}
	p, a, objects := plannedPath(t, nas)
	var problems core.Problems
	p.DerivePostures(a, objects, &problems)
	if problems.Len() != 0 {
		t.Fatalf("valid plan refused: %v", problems.Err())
	}
	if got := p.Backends[0].Posture; got.SNI != "" || got.Effective != core.EffectiveInsecure {
		t.Errorf("posture %+v, want insecure with no fixed SNI", got)
	}
	for _, o := range objects {
		if be, ok := o.Resource.(*egv1a1.Backend); ok && be.Spec.TLS.SNI != nil {
			t.Errorf("the Backend sends SNI %q", *be.Spec.TLS.SNI)
		}
	}
	if c := p.Backends[0].Certificates; len(c) != 1 || c[0].CommonName != "nas.apps.svc" || c[0].DNSNames[0] != "nas.apps.svc" {
		t.Errorf("generated certificate %+v, want it named after the Service", c)
	}
}
