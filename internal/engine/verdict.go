package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// verdictTimedOut is the Kubernetes provider's message when an object's pulumi.com/waitFor
// conditions did not hold within its pulumi.com/timeoutSeconds.
const verdictTimedOut = "failed to fully initialize or become live: timed out waiting for the condition"

// verdictWaits collects, from the engine's events of one update, the routes whose wait for
// Envoy Gateway's verdict timed out (see internal/plan/envoy/verdict.go), so that a failed up
// says what the wait was and what to check, beside the provider's generic message.
type verdictWaits struct {
	routes map[string]bool // "HTTPRoute name"
}

// watch reads the engine's events until ch is closed.
func (v *verdictWaits) watch(ch <-chan events.EngineEvent, done chan<- struct{}) {
	defer close(done)
	for e := range ch {
		d := e.DiagnosticEvent
		if d == nil || d.URN == "" || !strings.Contains(d.Message, verdictTimedOut) {
			continue
		}
		urn := resource.URN(d.URN)
		if !urn.IsValid() {
			continue
		}
		typ := string(urn.Type())
		kind := typ[strings.LastIndex(typ, ":")+1:]
		if kind != "HTTPRoute" && kind != "GRPCRoute" {
			continue
		}
		if v.routes == nil {
			v.routes = map[string]bool{}
		}
		v.routes[kind+" "+urn.Name()] = true
	}
}

// explain returns what a failed up tells the user about the routes that got no verdict, or "".
func (v *verdictWaits) explain() string {
	if len(v.routes) == 0 {
		return ""
	}
	var names []string
	for r := range v.routes {
		names = append(names, r)
	}
	sort.Strings(names)
	return fmt.Sprintf("up: no verdict from Envoy Gateway on %s within envoyGateway.verdictTimeoutSeconds (default 300): "+
		"the up waited for the route's status.parents[0] conditions Accepted=True and ResolvedRefs=True, which the Envoy Gateway controller writes; "+
		"fix: check that the controller runs (the local cluster: make cluster; elsewhere: kubectl -n envoy-gateway-system get pods), "+
		"and if it runs, read the reason it gave in the route's status (kubectl get <route> -o yaml, or make verify STACK=<stack>), then run make up again",
		strings.Join(names, ", "))
}
