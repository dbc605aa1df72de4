package envoy

import (
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
)

// Waiting for the truth: each backend's route carries pulumi.com/waitFor, so the Kubernetes
// provider reports it created or updated only once Envoy Gateway has accepted it for the Gateway
// (status.parents[0]: Accepted and ResolvedRefs).
//
// The wait is on the route, not on the BackendTLSPolicy or the Backend, because of how the
// controller works: it writes a policy's status.ancestors (and a Backend's status) only for the
// Gateways a route reaches its target through, and the route is created after its policy or
// Backend (a route before its policy would send plain text meanwhile). Waiting on the policy
// itself would never end. A rejected policy still stops `pulumi up` here: the route's
// ResolvedRefs turns False with reason InvalidBackendTLS (a CA ConfigMap without ca.crt, for
// example), and a missing or rejected Backend gives ResolvedRefs False too. `pulumi up` then
// fails on that route after envoyGateway.verdictTimeoutSeconds. The expressions wait for the
// conditions' reasons (Gateway API requires reason Accepted and ResolvedRefs when they are
// True), so that while it waits the provider's progress line names the controller's reason:
// `(found "InvalidBackendTLS")`. Render mode and previews do not wait. The waits are on condition status only:
// after an update whose previous status already said True, the provider may see the old
// verdict (the per-condition observedGeneration is not compared).
func awaitVerdict(r core.Resource, timeoutSeconds int) {
	var meta *metav1.ObjectMeta
	switch o := r.(type) {
	case *gwapiv1.HTTPRoute:
		meta = &o.ObjectMeta
	case *gwapiv1.GRPCRoute:
		meta = &o.ObjectMeta
	default:
		return
	}
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations[core.WaitForAnnotation] = routeVerdict
	meta.Annotations[core.TimeoutAnnotation] = strconv.Itoa(timeoutSeconds)
}

// routeVerdict is the pulumi.com/waitFor value of every route: the reasons of its first
// parent's Accepted and ResolvedRefs conditions, as a JSON list of jsonpath expressions (the
// golden files show it).
const routeVerdict = `["jsonpath={.status.parents[0].conditions[?(@.type==\"Accepted\")].reason}=Accepted",` +
	`"jsonpath={.status.parents[0].conditions[?(@.type==\"ResolvedRefs\")].reason}=ResolvedRefs"]`
