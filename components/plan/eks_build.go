package plan

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwapiv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/upstream-tls/upstream-tls/components/lbcapi"
	"github.com/upstream-tls/upstream-tls/components/lbciam"
)

// planEKS plans the EKS path of validated, defaulted args; nil when it is off.
func planEKS(a *Args) (*EKSPlan, error) {
	e := a.EKS
	if e == nil || !e.Enabled {
		return nil, nil
	}
	c := e.Controller
	ep := &EKSPlan{ClusterName: e.ClusterName}

	iam, err := planIAM(e)
	if err != nil {
		return nil, err
	}
	ep.IAM = iam

	if *c.ManageCRDs {
		ep.CRDs = &CRDBundle{Version: c.Version, Sources: c.CRDs}
	}
	if *c.Install {
		webhookSvc := "aws-load-balancer-webhook-service"
		cert := Certificate{
			Name:       LBCWebhookCertificate,
			CommonName: webhookSvc + "." + c.Namespace + ".svc",
			DNSNames: []string{
				webhookSvc + "." + c.Namespace + ".svc",
				webhookSvc + "." + c.Namespace,
				webhookSvc + "." + c.Namespace + ".svc." + ClusterDomain,
			},
			WithCA: true,
		}
		ep.Certificates = append(ep.Certificates, cert)
		sa := map[string]any{"create": true, "name": c.ServiceAccount}
		switch {
		case iam.Mode == IdentityIRSA:
			sa["annotations"] = map[string]any{RoleARNAnnotation: ComputedRoleARN}
		case iam.Mode == IdentityExisting && iam.RoleARN != "":
			sa["annotations"] = map[string]any{RoleARNAnnotation: iam.RoleARN}
		}
		values := map[string]any{
			"clusterName":    e.ClusterName,
			"serviceAccount": sa,
			// The NLB gateway controller: on explicitly, so that a missing CRD fails loudly
			// instead of the controller silently skipping Gateway API.
			"controllerConfig": map[string]any{"featureGates": map[string]any{"NLBGatewayAPI": true}},
			// A stable webhook certificate: the chart's genCA would issue a new one on every
			// render, and every preview would show a diff.
			"webhookTLS": map[string]any{
				"caCert": Computed(cert.Name, FieldCACert),
				"cert":   Computed(cert.Name, FieldCert),
				"key":    Computed(cert.Name, FieldKey),
			},
		}
		if e.Region != "" {
			values["region"] = e.Region
		}
		if e.VPCID != "" {
			values["vpcId"] = e.VPCID
		}
		r := HelmRelease{Name: LBCChartName, Chart: LBCChartName, Version: c.Version, Namespace: c.Namespace, Values: values, SkipCRDs: true}
		if c.ChartDir != "" {
			r.Path = strings.TrimSuffix(c.ChartDir, "/") + "/" + LBCChartName
		} else {
			r.Repository = c.ChartRepository
		}
		ep.Release = &r
	}

	g := e.Gateway
	ep.GatewayClass = &gwapiv1.GatewayClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwapiv1.GroupVersion.String(), Kind: "GatewayClass"},
		ObjectMeta: meta(g.GatewayClassName, "", nil),
		Spec:       gwapiv1.GatewayClassSpec{ControllerName: NLBControllerName},
	}

	lbc := &lbcapi.LoadBalancerConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: lbcapi.GroupVersion.String(), Kind: lbcapi.KindLoadBalancerConfiguration},
		ObjectMeta: meta(g.Name, g.Namespace, nil),
		Spec:       lbcapi.LoadBalancerConfigurationSpec{Scheme: g.Scheme, SourceRanges: g.SourceRanges},
	}
	gwMeta := meta(g.Name, g.Namespace, nil)
	// The Kubernetes provider waits until LBC reports the NLB's DNS name, so that the
	// component's gatewayAddress output is set when `pulumi up` returns.
	gwMeta.Annotations = map[string]string{WaitForAnnotation: "jsonpath={.status.addresses[0].value}"}
	gw := &gwapiv1.Gateway{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwapiv1.GroupVersion.String(), Kind: "Gateway"},
		ObjectMeta: gwMeta,
		Spec: gwapiv1.GatewaySpec{
			GatewayClassName: gwapiv1.ObjectName(g.GatewayClassName),
			Infrastructure: &gwapiv1.GatewayInfrastructure{ParametersRef: &gwapiv1.LocalParametersReference{
				Group: lbcapi.GroupName, Kind: lbcapi.KindLoadBalancerConfiguration, Name: g.Name,
			}},
		},
	}
	same := gwapiv1.NamespacesFromSame
	listeners := map[string]NLBListenerArgs{}
	for _, l := range g.Listeners {
		listeners[l.Name] = l
		gl := gwapiv1.Listener{
			Name:          gwapiv1.SectionName(l.Name),
			Protocol:      gwapiv1.ProtocolType(l.Protocol),
			Port:          gwapiv1.PortNumber(l.Port),
			AllowedRoutes: &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{From: &same}},
		}
		if l.Protocol == "TLS" {
			if l.Hostname != "" {
				h := gwapiv1.Hostname(l.Hostname)
				gl.Hostname = &h
			}
			mode := gwapiv1.TLSModeTerminate
			gl.TLS = &gwapiv1.ListenerTLSConfig{
				Mode:    &mode,
				Options: map[gwapiv1.AnnotationKey]gwapiv1.AnnotationValue{ListenerCertificateOption: gwapiv1.AnnotationValue(l.CertificateARN)},
			}
			lbc.Spec.ListenerConfigurations = append(lbc.Spec.ListenerConfigurations, lbcapi.ListenerConfiguration{
				ProtocolPort:       "TLS:" + strconv.Itoa(l.Port),
				DefaultCertificate: l.CertificateARN,
				Certificates:       l.AdditionalCertificateARNs,
				SSLPolicy:          l.SSLPolicy,
				ALPNPolicy:         l.ALPNPolicy,
			})
		}
		gw.Spec.Listeners = append(gw.Spec.Listeners, gl)
	}
	ep.Objects = []Object{lbc, gw}

	for i := range e.Targets {
		ep.Targets = append(ep.Targets, planNLBTarget(a, &e.Targets[i], listeners[e.Targets[i].Listener]))
	}
	return ep, nil
}

func planNLBTarget(a *Args, t *NLBTargetArgs, l NLBListenerArgs) NLBTarget {
	g := a.EKS.Gateway
	svc, ns, port, _ := nlbTargetService(a, t)
	name := t.Backend
	if name == "" {
		name = svc
	}
	tg := t.TargetGroup
	nt := NLBTarget{
		Name: name, Namespace: ns, Service: svc,
		Listener: l.Name, ListenerProtocol: l.Protocol, TargetGroupProtocol: tg.Protocol,
		Statement: StatementTLS,
	}
	if tg.Protocol == "TCP" {
		nt.Statement = StatementTCP
	}
	appLabels := map[string]string{"app.kubernetes.io/name": name}

	tgcName := tg.Name
	if tgcName == "" {
		tgcName = svc + "-nlb"
	}
	hc := tg.HealthCheck
	kind := "Service"
	tgc := &lbcapi.TargetGroupConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: lbcapi.GroupVersion.String(), Kind: lbcapi.KindTargetGroupConfiguration},
		ObjectMeta: meta(tgcName, ns, appLabels),
		Spec: lbcapi.TargetGroupConfigurationSpec{
			TargetReference: &lbcapi.Reference{Kind: &kind, Name: svc},
			DefaultConfiguration: lbcapi.TargetGroupProps{
				TargetType: tg.TargetType,
				Protocol:   tg.Protocol,
				HealthCheckConfig: &lbcapi.HealthCheckConfig{
					HealthCheckProtocol:     hc.Protocol,
					HealthCheckPort:         hc.Port,
					HealthCheckPath:         hc.Path,
					HealthCheckInterval:     int32Ptr(hc.IntervalSeconds),
					HealthCheckTimeout:      int32Ptr(hc.TimeoutSeconds),
					HealthyThresholdCount:   int32Ptr(hc.HealthyThreshold),
					UnhealthyThresholdCount: int32Ptr(hc.UnhealthyThreshold),
				},
			},
		},
	}
	nt.Objects = append(nt.Objects, tgc)

	routeKind := "TLSRoute"
	if l.Protocol == "TCP" {
		routeKind = "TCPRoute"
	}
	p := gwapiv1.PortNumber(port)
	ref := gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{Name: gwapiv1.ObjectName(svc), Port: &p}}
	if ns != g.Namespace {
		n := gwapiv1.Namespace(ns)
		ref.Namespace = &n
		svcName := gwapiv1.ObjectName(svc)
		nt.Objects = append(nt.Objects, &gwapiv1b1.ReferenceGrant{
			TypeMeta:   metav1.TypeMeta{APIVersion: gwapiv1b1.GroupVersion.String(), Kind: "ReferenceGrant"},
			ObjectMeta: meta(svc+"-nlb-from-"+g.Namespace, ns, appLabels),
			Spec: gwapiv1b1.ReferenceGrantSpec{
				From: []gwapiv1b1.ReferenceGrantFrom{{Group: gwapiv1.GroupName, Kind: gwapiv1.Kind(routeKind), Namespace: gwapiv1.Namespace(g.Namespace)}},
				To:   []gwapiv1b1.ReferenceGrantTo{{Group: "", Kind: "Service", Name: &svcName}},
			},
		})
	}
	section := gwapiv1.SectionName(l.Name)
	common := gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: gwapiv1.ObjectName(g.Name), SectionName: &section}}}
	om := meta("nlb-"+name, g.Namespace, appLabels)
	if routeKind == "TCPRoute" {
		nt.Objects = append(nt.Objects, &gwapiv1.TCPRoute{
			TypeMeta:   metav1.TypeMeta{APIVersion: gwapiv1.GroupVersion.String(), Kind: routeKind},
			ObjectMeta: om,
			Spec:       gwapiv1.TCPRouteSpec{CommonRouteSpec: common, Rules: []gwapiv1.TCPRouteRule{{BackendRefs: []gwapiv1.BackendRef{ref}}}},
		})
		return nt
	}
	hostnames := t.Hostnames
	if len(hostnames) == 0 {
		hostnames = []string{l.Hostname}
	}
	var hs []gwapiv1.Hostname
	for _, h := range hostnames {
		hs = append(hs, gwapiv1.Hostname(h))
	}
	nt.Objects = append(nt.Objects, &gwapiv1.TLSRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwapiv1.GroupVersion.String(), Kind: routeKind},
		ObjectMeta: om,
		Spec:       gwapiv1.TLSRouteSpec{CommonRouteSpec: common, Hostnames: hs, Rules: []gwapiv1.TLSRouteRule{{BackendRefs: []gwapiv1.BackendRef{ref}}}},
	})
	return nt
}

func int32Ptr(v int) *int32 {
	if v == 0 {
		return nil
	}
	n := int32(v)
	return &n
}

// planIAM plans the controller's role: trust policy by identity mode, and the documented policy
// unless an existing one is given.
func planIAM(e *EKSArgs) (IAMPlan, error) {
	id, c := e.Identity, e.Controller
	if id.Mode == IdentityExisting {
		return IAMPlan{Mode: id.Mode, RoleARN: id.RoleARN, Namespace: c.Namespace, ServiceAccount: c.ServiceAccount}, nil
	}
	ip := IAMPlan{Mode: id.Mode, Create: true, RoleName: id.RoleName, Namespace: c.Namespace, ServiceAccount: c.ServiceAccount}
	var statement map[string]any
	switch id.Mode {
	case IdentityIRSA:
		issuer := id.OIDCProviderARN[strings.Index(id.OIDCProviderARN, ":oidc-provider/")+len(":oidc-provider/"):]
		statement = map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Federated": id.OIDCProviderARN},
			"Action":    "sts:AssumeRoleWithWebIdentity",
			"Condition": map[string]any{"StringEquals": map[string]any{
				issuer + ":sub": "system:serviceaccount:" + c.Namespace + ":" + c.ServiceAccount,
				issuer + ":aud": "sts.amazonaws.com",
			}},
		}
	default:
		statement = map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": "pods.eks.amazonaws.com"},
			"Action":    []string{"sts:AssumeRole", "sts:TagSession"},
		}
	}
	trust, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{statement}})
	if err != nil {
		return IAMPlan{}, fmt.Errorf("trust policy: %w", err)
	}
	ip.TrustPolicy = string(trust)
	if id.PolicyARN != "" {
		ip.PolicyARN = id.PolicyARN
	} else {
		ip.PolicyName = id.RoleName
		ip.PolicyDocument = lbciam.Document()
	}
	return ip, nil
}
