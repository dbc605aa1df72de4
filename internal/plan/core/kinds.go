package core

import (
	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Kinds of the objects the plan creates or references. Envoy Gateway exports its kinds
// (api/v1alpha1); Gateway API and Kubernetes core do not, so they are named here once.
const (
	KindNamespace        = "Namespace"
	KindSecret           = "Secret"
	KindConfigMap        = "ConfigMap"
	KindService          = "Service"
	KindDeployment       = "Deployment"
	KindGatewayClass     = "GatewayClass"
	KindGateway          = "Gateway"
	KindHTTPRoute        = "HTTPRoute"
	KindGRPCRoute        = "GRPCRoute"
	KindTLSRoute         = "TLSRoute"
	KindTCPRoute         = "TCPRoute"
	KindBackendTLSPolicy = "BackendTLSPolicy"
	KindReferenceGrant   = "ReferenceGrant"
	KindBackend          = egv1a1.KindBackend
)

// Protocols of Gateway listeners, as Gateway API exports them.
const (
	ProtocolHTTP  = string(gwapiv1.HTTPProtocolType)
	ProtocolHTTPS = string(gwapiv1.HTTPSProtocolType)
	ProtocolTLS   = string(gwapiv1.TLSProtocolType)
	ProtocolTCP   = string(gwapiv1.TCPProtocolType)
)

// Well-known data keys.
const (
	// CAKey is the ConfigMap (and Secret) key BackendTLSPolicy reads a CA from.
	CAKey = "ca.crt"
)

// Annotations of the Pulumi Kubernetes provider the plan sets.
const (
	// WaitForAnnotation makes the provider wait for conditions on the live object
	// (`jsonpath=` expressions, a JSON list for several).
	WaitForAnnotation = "pulumi.com/waitFor"
	// TimeoutAnnotation bounds that wait, in seconds.
	TimeoutAnnotation = "pulumi.com/timeoutSeconds"
)
