package engine

import (
	"errors"
	"strings"
	"testing"
)

// failedUp is the end of the engine's progress output of an up whose route got no verdict (the
// layout of the engine's "Diagnostics:" section; TestClusterFaults makes a real one), with a
// Deployment that timed out too, a GRPCRoute that failed otherwise, and a progress line that
// repeats the message outside the section.
const failedUp = " +  kubernetes:gateway.networking.k8s.io/v1:HTTPRoute httproute-gateway-orders **creating failed** error: 1 error occurred: " + verdictTimedOut + "\n" +
	"Diagnostics:\n" +
	"  \x1b[38;5;12mkubernetes:gateway.networking.k8s.io/v1:HTTPRoute (httproute-gateway-orders):\x1b[0m\n" +
	"    error: 1 error occurred:\n" +
	"    \t* resource \"gateway/orders\" was successfully created, but the Kubernetes API server reported that it " + verdictTimedOut + "\n" +
	"\n" +
	"  kubernetes:apps/v1:Deployment (deployment-apps-orders):\n" +
	"    error: 1 error occurred: the Kubernetes API server reported that it " + verdictTimedOut + "\n" +
	"\n" +
	"  kubernetes:gateway.networking.k8s.io/v1:GRPCRoute (grpcroute-gateway-rpc):\n" +
	"    error: Forbidden\n" +
	"\n" +
	"  pulumi:pulumi:Stack (upstream-tls-dev):\n" +
	"    error: update failed\n" +
	"\n" +
	"Resources:\n" +
	"    + 3 created\n"

// TestVerdictWaits: a route whose wait timed out is named with what the wait was and its fix,
// whatever pieces the output arrives in; other failures (another kind, another message) and a
// progress line outside the diagnostics add nothing.
func TestVerdictWaits(t *testing.T) {
	var v verdictWaits
	var seen strings.Builder
	w := v.Writer(&seen)
	for rest := failedUp; rest != ""; { // (in pieces of 7 bytes: lines split across writes)
		n := min(7, len(rest))
		if _, err := w.Write([]byte(rest[:n])); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if seen.String() != failedUp {
		t.Error("the writer did not pass the output through unchanged")
	}
	got := v.explain()
	for _, want := range []string{"no verdict from Envoy Gateway on HTTPRoute httproute-gateway-orders within envoyGateway.verdictTimeoutSeconds", "Accepted=True and ResolvedRefs=True", "fix: check that the controller runs"} {
		if !strings.Contains(got, want) {
			t.Errorf("explain() = %q, want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "orders,") || strings.Contains(got, "Deployment") || strings.Contains(got, "rpc") {
		t.Errorf("explain() names more than the route that timed out: %q", got)
	}
	var none verdictWaits
	_, _ = none.Writer(&strings.Builder{}).Write([]byte(strings.SplitAfter(failedUp, "Diagnostics:\n")[0]))
	if none.explain() != "" {
		t.Errorf("a progress line outside the diagnostics counted: %q", none.explain())
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
