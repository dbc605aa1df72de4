package envoy

import (
	"fmt"
	"sort"
	"strings"
)

// Observed is what Envoy Gateway reported about a backend's route for the Gateway, read from
// the route's live status as the Kubernetes provider returned it after apply (after the
// verdict wait of awaitVerdict). Nothing here is planned: it is an observation.
type Observed struct {
	// State is "accepted" (Accepted and ResolvedRefs true), "rejected" (either false) or
	// "unobserved" (no status: render mode, a preview, or a controller that never answered).
	State string
	// Conditions are the route's conditions for the Gateway, "Type=Status(Reason)", sorted.
	Conditions []string
}

// Observe reads a route's status (status.parents) for the first parent (the Gateway).
func Observe(status map[string]any) Observed {
	parents, _ := status["parents"].([]any)
	if len(parents) == 0 {
		return Observed{State: "unobserved"}
	}
	p, _ := parents[0].(map[string]any)
	conds, _ := p["conditions"].([]any)
	o := Observed{State: "unobserved"}
	got := map[string]string{}
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		typ, _ := cm["type"].(string)
		st, _ := cm["status"].(string)
		reason, _ := cm["reason"].(string)
		got[typ] = st
		o.Conditions = append(o.Conditions, fmt.Sprintf("%s=%s(%s)", typ, st, reason))
	}
	sort.Strings(o.Conditions)
	switch {
	case got["Accepted"] == "True" && got["ResolvedRefs"] == "True":
		o.State = "accepted"
	case got["Accepted"] == "False" || got["ResolvedRefs"] == "False":
		o.State = "rejected"
	}
	return o
}

// Map is o as a component output value.
func (o Observed) Map() map[string]any {
	conds := make([]any, len(o.Conditions))
	for i, c := range o.Conditions {
		conds[i] = c
	}
	return map[string]any{"state": o.State, "conditions": conds}
}

// ObservedPosture renders one line per backend: what the plan derived (VERIFIED) next to what
// the controller reported for its route (OBSERVED), and MISMATCH where they disagree: a
// backend the plan reaches over TLS whose route the controller rejected. observed is by
// backend name.
func ObservedPosture(backends []Backend, observed map[string]Observed) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-24s %-9s %-9s %-11s %s\n", "BACKEND", "MODE", "VERIFIED", "OBSERVED", "ROUTE CONDITIONS (Envoy Gateway)")
	for _, be := range backends {
		verified := "yes"
		if !be.Verified() {
			verified = "NO"
		}
		o := observed[be.Name]
		state := o.State
		if state == "" {
			state = "unobserved"
		}
		if state == "rejected" && be.Posture.Effective.Encrypted() {
			state = "MISMATCH"
		}
		fmt.Fprintf(&b, "%-24s %-9s %-9s %-11s %s\n", be.Name, be.Mode, verified, state, strings.Join(o.Conditions, " "))
	}
	return b.String()
}
