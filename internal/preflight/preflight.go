// Package preflight is what the component reads from the target cluster before it registers
// anything, at preview as at update: the facts a plan cannot know from its arguments and that
// would otherwise surface only after apply, or never.
//
//   - A BackendTLSPolicy created outside this component that targets a Service port one of our
//     policies targets (by the same section name): Gateway API lets the oldest policy win, so
//     ours would be Conflicted and the backend verified (or not) by somebody else's rules.
//     Refused, naming both objects. (A policy on the whole Service loses to ours, which names
//     the port, and is left alone.)
//   - A CA ConfigMap (tls.ca.configMap) that exists without the key ca.crt: refused, naming the
//     keys it has. One that does not exist yet is a warning (another resource of the stack may
//     create it); the controller's verdict at apply decides then.
//   - Gateway API CRDs the component would install (envoyGateway.manageGatewayAPICRDs) that are
//     already present and owned by another tool: server-side apply would take them over, and a
//     destroy of this stack would delete them, and with them every Gateway API object in the
//     cluster. Refused with the fix, naming their version and channel.
//   - A client certificate the configuration names by its Secret
//     (gateway.backendClientCertificate.secret, a backend's tls.clientCertificate.secret) that
//     the gateway could not present or a verifying backend would refuse: not a TLS Secret, a
//     key that is not the certificate's, expired, not valid yet, or without the clientAuth
//     usage (certificates.go). Refused naming the Secret, the certificate and the fix; one
//     inside the renewal window is a warning.
//
// Reads need the access documented in the README (a read-only identity suffices). A cluster
// that cannot be reached, or a read the identity may not make, is a warning: the checks are
// skipped, the deployment is not blocked by them.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/kube"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// GatewayAPICRDs are the Gateway API CRDs the component's objects use; a foreign owner of any
// of them is a conflict when the component installs the bundle.
var GatewayAPICRDs = []string{
	"gatewayclasses.gateway.networking.k8s.io",
	"gateways.gateway.networking.k8s.io",
	"httproutes.gateway.networking.k8s.io",
	"grpcroutes.gateway.networking.k8s.io",
	"referencegrants.gateway.networking.k8s.io",
	"backendtlspolicies.gateway.networking.k8s.io",
}

// Annotations the Gateway API CRD bundle carries.
const (
	BundleVersionAnnotation = "gateway.networking.k8s.io/bundle-version"
	ChannelAnnotation       = "gateway.networking.k8s.io/channel"
)

// pulumiManager prefixes the field managers of the Pulumi Kubernetes provider
// ("pulumi-kubernetes-<id>"): an object with one was applied by a Pulumi stack.
const pulumiManager = "pulumi-kubernetes"

// Result is what the reads found: Err is a *core.ValidationError (each problem with its field
// and fix) or nil; Warnings are noteworthy facts that block nothing.
type Result struct {
	Err      error
	Warnings []string
}

// Open makes the client of the preflight arguments: nil (with a warning) when they name no
// readable kubeconfig.
func Open(a *spec.PreflightArgs) (*kube.Client, []string) {
	if a == nil || a.Kubeconfig == "" {
		return nil, nil
	}
	c, err := kube.FromKubeconfig(a.Kubeconfig, a.Context)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, []string{fmt.Sprintf("preflight: skipped, the kubeconfig %s does not exist yet", a.Kubeconfig)}
		}
		return nil, []string{fmt.Sprintf("preflight: skipped, %v", err)}
	}
	return c, nil
}

// Check reads, with c, what p's objects would meet in the cluster and returns the problems and
// warnings. It never writes.
func Check(ctx context.Context, c *kube.Client, p *plan.Plan) Result {
	var r Result
	var problems core.Problems
	skip := func(what string, err error) bool {
		switch {
		case err == nil:
			return false
		case kube.IsForbidden(err):
			r.Warnings = append(r.Warnings, fmt.Sprintf("preflight: %s skipped, the identity may not read it (%v); grant the reads listed in the README", what, err))
		case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, context.DeadlineExceeded):
			r.Warnings = append(r.Warnings, fmt.Sprintf("preflight: %s skipped, the cluster at %s does not answer", what, c.Server))
		default:
			r.Warnings = append(r.Warnings, fmt.Sprintf("preflight: %s skipped: %v", what, err))
		}
		return true
	}
	if p.GatewayAPICRDs != nil {
		if unreachable := crds(ctx, c, p, &problems, skip); unreachable {
			return r
		}
	}
	policies(ctx, c, p, &problems, skip)
	caConfigMaps(ctx, c, p, &problems, &r.Warnings, skip)
	clientCertificates(ctx, c, p, &problems, &r.Warnings, skip)
	r.Err = problems.Err()
	return r
}

// crds refuses Gateway API CRDs owned by another tool. It reports whether the cluster was
// unreachable (then nothing else is worth asking).
func crds(ctx context.Context, c *kube.Client, p *plan.Plan, problems *core.Problems, skip func(string, error) bool) bool {
	path := field.NewPath("envoyGateway", "manageGatewayAPICRDs")
	for _, name := range GatewayAPICRDs {
		var crd apiextensionsv1.CustomResourceDefinition
		err := c.Get(ctx, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+name, &crd)
		if kube.IsNotFound(err) {
			continue
		}
		if skip("the Gateway API CRDs check", err) {
			return errors.Is(err, syscall.ECONNREFUSED)
		}
		if pulumiManaged(crd.ManagedFields) {
			continue
		}
		version, channel := crd.Annotations[BundleVersionAnnotation], crd.Annotations[ChannelAnnotation]
		owner := owners(crd.Labels, crd.ManagedFields)
		problems.Add(path, fmt.Sprintf("CRD %s is already installed (bundle %s, channel %s) by %s; this component would install Gateway API %s (standard) over it and take it over from its owner (destroy then leaves it in place)",
			name, orUnknown(version), orUnknown(channel), owner, p.GatewayAPICRDs.Version),
			"set envoyGateway.manageGatewayAPICRDs to false to use the installed CRDs (they must serve gateway.networking.k8s.io/v1 BackendTLSPolicy), or remove the other owner's CRDs first")
		return false // one message names the conflict; the fix is the same for every CRD
	}
	return false
}

// policies refuses BackendTLSPolicies of other owners that target a Service port ours target.
func policies(ctx context.Context, c *kube.Client, p *plan.Plan, problems *core.Problems, skip func(string, error) bool) {
	ours := map[string]bool{}
	for _, be := range p.Envoy.Backends {
		for _, o := range be.Objects {
			if _, ok := o.Resource.(*gwapiv1.BackendTLSPolicy); ok {
				ours[o.Namespace()+"/"+o.Name()] = true
			}
		}
	}
	listed := map[string][]gwapiv1.BackendTLSPolicy{}
	for i, be := range p.Args.Backends {
		var planned []*gwapiv1.BackendTLSPolicy
		for _, pb := range p.Envoy.Backends {
			if pb.Name != be.Name {
				continue
			}
			for _, o := range pb.Objects {
				if btp, ok := o.Resource.(*gwapiv1.BackendTLSPolicy); ok {
					planned = append(planned, btp)
				}
			}
		}
		if len(planned) == 0 {
			continue
		}
		existing, ok := listed[be.Namespace]
		if !ok {
			var l gwapiv1.BackendTLSPolicyList
			err := c.Get(ctx, "/apis/gateway.networking.k8s.io/v1/namespaces/"+be.Namespace+"/backendtlspolicies", &l)
			if kube.IsNotFound(err) { // the CRD is not installed yet: nothing can conflict
				listed[be.Namespace] = nil
				continue
			}
			if skip("the BackendTLSPolicy conflict check in namespace "+be.Namespace, err) {
				listed[be.Namespace] = nil
				continue
			}
			existing = l.Items
			listed[be.Namespace] = existing
		}
		for _, mine := range planned {
			for _, other := range existing {
				if ours[other.Namespace+"/"+other.Name] {
					continue
				}
				if port, clash := sameTarget(mine, &other); clash {
					owner := owners(other.Labels, other.ManagedFields)
					fix := fmt.Sprintf("delete BackendTLSPolicy %s/%s, or leave this Service's TLS to it: remove the backend from this component or point it at another Service", other.Namespace, other.Name)
					if other.Labels[core.ComponentLabel] == core.ComponentLabelValue {
						fix += "; it was made by upstream-tls: another stack's, or this stack's from before the backend was renamed (then rename in two updates: remove the backend, then add it under its new name)"
					}
					problems.Add(field.NewPath("backends").Index(i).Child("tls"),
						fmt.Sprintf("BackendTLSPolicy %s/%s (%s) already targets Service %s/%s %s, which this backend's BackendTLSPolicy %s/%s targets; the older policy wins, so this backend would be verified by the other policy's rules, and ours reported Conflicted",
							other.Namespace, other.Name, owner, other.Namespace, mine.Spec.TargetRefs[0].Name, port, mine.Namespace, mine.Name), fix)
				}
			}
		}
	}
}

// sameTarget reports whether b competes with a for a Service port, and which: both name the
// same section, or neither names one. A policy naming the port wins over one without
// (Gateway API, as Envoy Gateway and envoy.Derive follow it), so those do not compete.
func sameTarget(a, b *gwapiv1.BackendTLSPolicy) (string, bool) {
	for _, ta := range a.Spec.TargetRefs {
		for _, tb := range b.Spec.TargetRefs {
			if ta.Group != tb.Group || ta.Kind != tb.Kind || ta.Name != tb.Name {
				continue
			}
			switch {
			case ta.SectionName == nil && tb.SectionName == nil:
				return "(every port)", true
			case ta.SectionName != nil && tb.SectionName != nil && *ta.SectionName == *tb.SectionName:
				return "port " + string(*ta.SectionName), true
			}
		}
	}
	return "", false
}

// caConfigMaps refuses an existing CA ConfigMap without ca.crt; a missing one is a warning.
func caConfigMaps(ctx context.Context, c *kube.Client, p *plan.Plan, problems *core.Problems, warnings *[]string, skip func(string, error) bool) {
	for i, be := range p.Args.Backends {
		if be.TLS.Mode != spec.ModeCA || be.TLS.CA == nil || be.TLS.CA.ConfigMap == "" {
			continue
		}
		name := be.TLS.CA.ConfigMap
		var cm corev1.ConfigMap
		err := c.Get(ctx, "/api/v1/namespaces/"+be.Namespace+"/configmaps/"+name, &cm)
		if kube.IsNotFound(err) {
			*warnings = append(*warnings, fmt.Sprintf("backends[%d].tls.ca.configMap: ConfigMap %s/%s does not exist yet; Envoy Gateway rejects the backend's route until it exists with the CA bundle under ca.crt", i, be.Namespace, name))
			continue
		}
		if skip("the CA ConfigMap check of backend "+be.Name, err) {
			continue
		}
		if _, ok := cm.Data[CAKey]; ok {
			continue
		}
		var keys []string
		for k := range cm.Data {
			keys = append(keys, k)
		}
		for k := range cm.BinaryData {
			keys = append(keys, k+" (binary)")
		}
		sort.Strings(keys)
		has := "no keys"
		if len(keys) > 0 {
			has = "the keys " + strings.Join(keys, ", ")
		}
		problems.Add(field.NewPath("backends").Index(i).Child("tls", "ca", "configMap"),
			fmt.Sprintf("ConfigMap %s/%s has %s but no %s, the key BackendTLSPolicy reads the CA bundle from", be.Namespace, name, has, CAKey),
			fmt.Sprintf("store the PEM CA bundle under %s (kubectl -n %s create configmap %s --from-file=%s=ca.pem), or use tls.ca.pem or tls.ca.generate", CAKey, be.Namespace, name, CAKey))
	}
}

// CAKey is the ConfigMap key BackendTLSPolicy's caCertificateRefs read.
const CAKey = "ca.crt"

func pulumiManaged(mf []metav1.ManagedFieldsEntry) bool {
	return slices.ContainsFunc(mf, func(m metav1.ManagedFieldsEntry) bool { return strings.HasPrefix(m.Manager, pulumiManager) })
}

// owners names who manages an object: its managed-by label and the field managers of its
// spec and metadata (status writers are controllers reporting on it).
func owners(labels map[string]string, mf []metav1.ManagedFieldsEntry) string {
	var names []string
	if l := labels["app.kubernetes.io/managed-by"]; l != "" {
		names = append(names, "managed-by "+l)
	}
	seen := map[string]bool{}
	for _, m := range mf {
		if m.Subresource == "status" { // a controller reporting on it, not an owner
			continue
		}
		if !seen[m.Manager] {
			seen[m.Manager] = true
			names = append(names, "field manager "+m.Manager)
		}
	}
	if len(names) == 0 {
		return "another owner"
	}
	return strings.Join(names, ", ")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
