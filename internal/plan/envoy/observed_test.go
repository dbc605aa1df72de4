package envoy

import (
	"strings"
	"testing"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

func routeStatus(accepted, resolved, reason string) map[string]any {
	return map[string]any{"parents": []any{map[string]any{
		"parentRef": map[string]any{"name": "upstream-tls"},
		"conditions": []any{
			map[string]any{"type": "Accepted", "status": accepted, "reason": "Accepted"},
			map[string]any{"type": "ResolvedRefs", "status": resolved, "reason": reason},
		},
	}}}
}

// TestObservedPosture: the observation comes from the route's status only, and a backend the
// plan reaches over TLS whose route the controller rejected is a MISMATCH.
func TestObservedPosture(t *testing.T) {
	for _, tc := range []struct {
		status map[string]any
		state  string
	}{
		{routeStatus("True", "True", "ResolvedRefs"), "accepted"},
		{routeStatus("True", "False", "InvalidBackendTLS"), "rejected"},
		{map[string]any{}, "unobserved"},
		{nil, "unobserved"},
	} {
		if got := Observe(tc.status).State; got != tc.state {
			t.Errorf("Observe(%v) = %s, want %s", tc.status, got, tc.state)
		}
	}
	backends := []Backend{
		{Name: "internal-api", Mode: spec.ModeCA, Posture: Posture{Effective: core.EffectiveCA}},
		{Name: "legacy-app", Mode: spec.ModeInsecure, Posture: Posture{Effective: core.EffectiveInsecure}},
		{Name: "public-api", Mode: spec.ModeSystem, Posture: Posture{Effective: core.EffectiveSystem}},
	}
	table := ObservedPosture(backends, map[string]Observed{
		"internal-api": Observe(routeStatus("True", "False", "InvalidBackendTLS")),
		"legacy-app":   Observe(routeStatus("True", "True", "ResolvedRefs")),
	})
	lines := strings.Split(strings.TrimSpace(table), "\n")
	want := map[string][]string{
		"internal-api": {"yes", "MISMATCH", "ResolvedRefs=False(InvalidBackendTLS)"},
		"legacy-app":   {"NO", "accepted"},
		"public-api":   {"yes", "unobserved"},
	}
	for _, l := range lines[1:] {
		name := strings.Fields(l)[0]
		for _, w := range want[name] {
			if !strings.Contains(l, w) {
				t.Errorf("line %q lacks %q", l, w)
			}
		}
	}
}
