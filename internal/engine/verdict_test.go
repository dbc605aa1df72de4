package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// TestVerdictWaits: a route whose wait timed out is named with what the wait was and its fix;
// other failures (another kind, another message) add nothing.
func TestVerdictWaits(t *testing.T) {
	diag := func(urn, msg string) events.EngineEvent {
		return events.EngineEvent{EngineEvent: apitype.EngineEvent{DiagnosticEvent: &apitype.DiagnosticEvent{URN: urn, Message: msg, Severity: "error"}}}
	}
	const prefix = "urn:pulumi:dev::upstream-tls::upstream-tls:index:UpstreamTls$upstream-tls:index:TLSBackend$"
	timedOut := `1 error occurred: * resource "x" was successfully created, but the Kubernetes API server reported that it ` + verdictTimedOut
	var v verdictWaits
	ch, done := make(chan events.EngineEvent), make(chan struct{})
	go v.watch(ch, done)
	ch <- diag(prefix+"kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::httproute-gateway-orders", timedOut)
	ch <- diag(prefix+"kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::httproute-gateway-orders", timedOut)
	ch <- diag(prefix+"kubernetes:apps/v1:Deployment::orders", timedOut)
	ch <- diag(prefix+"kubernetes:gateway.networking.k8s.io/v1:GRPCRoute::grpcroute-gateway-rpc", "Forbidden")
	ch <- events.EngineEvent{}
	close(ch)
	<-done
	got := v.explain()
	for _, want := range []string{"no verdict from Envoy Gateway on HTTPRoute httproute-gateway-orders within envoyGateway.verdictTimeoutSeconds", "Accepted=True and ResolvedRefs=True", "fix: check that the controller runs"} {
		if !strings.Contains(got, want) {
			t.Errorf("explain() = %q, want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "orders,") || strings.Contains(got, "Deployment") || strings.Contains(got, "rpc") {
		t.Errorf("explain() names more than the route that timed out: %q", got)
	}
	if (&verdictWaits{}).explain() != "" {
		t.Error("explain() without a timed-out route is not empty")
	}

	base := errors.New("failed to run update: exit status 255\ncode: 255\nstdout: the whole output again\nstderr: \n")
	err := engineFailed("up", base, got)
	if msg := err.Error(); strings.Contains(msg, "the whole output again") || !strings.HasPrefix(msg, "pulumi up failed (failed to run update: exit status 255)") || !strings.Contains(msg, "\n"+got) {
		t.Errorf("RunError = %q", msg)
	}
	if !errors.Is(err, base) || engineFailed("up", nil, got) != nil {
		t.Error("RunError does not wrap the engine's error, or a nil error became one")
	}
}
