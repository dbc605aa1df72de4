package eks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwapiv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/upstream-tls/upstream-tls/internal/lbc"
	"github.com/upstream-tls/upstream-tls/internal/lbc/iam"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// Deps are the install facts the composed plan hands the EKS path.
type Deps struct {
	// Namespaces are the namespaces the plan creates: an object in one waits for it.
	Namespaces map[string]bool
	// GatewayAPICRDs is true when the plan installs the Gateway API CRDs.
	GatewayAPICRDs bool
}

// Build plans the EKS path of validated, defaulted arguments; nil when it is off.
func Build(a *spec.Args, deps Deps) (*Plan, error) {
	if !Enabled(a) {
		return nil, nil
	}
	e := a.EKS
	c := e.Controller
	ep := &Plan{ClusterName: e.ClusterName}

	ip, err := planIAM(e)
	if err != nil {
		return nil, err
	}
	ep.IAM = ip

	nsKey := func(ns string) []string {
		if deps.Namespaces[ns] {
			return []string{core.Key(core.KindNamespace, "", ns)}
		}
		return nil
	}
	var crds []string
	if deps.GatewayAPICRDs {
		crds = append(crds, core.StepGatewayAPICRDs)
	}
	if *c.ManageCRDs {
		ep.CRDs = core.CRDBundleRetained(c.Version, c.CRDs...)
	}
	// The controller probes for the Gateway API and its own CRDs at start, so they come first.
	install := slices.Clone(crds)
	if ep.CRDs != nil {
		install = append(install, core.StepLBCCRDs)
	}
	if *c.Install {
		webhookSvc := "aws-load-balancer-webhook-service"
		cert := core.Certificate{
			Name:       WebhookCertificate,
			CommonName: webhookSvc + "." + c.Namespace + ".svc",
			DNSNames: []string{
				webhookSvc + "." + c.Namespace + ".svc",
				webhookSvc + "." + c.Namespace,
				webhookSvc + "." + c.Namespace + ".svc.cluster.local",
			},
			WithCA: true,
			Field:  "eks.controller",
		}
		ep.Certificates = append(ep.Certificates, cert)
		sa := map[string]any{"create": true, "name": c.ServiceAccount}
		var computed []core.Binding
		switch {
		case ip.Mode == spec.IdentityIRSA:
			sa["annotations"] = map[string]any{RoleARNAnnotation: core.RoleARNRef.String()}
			computed = append(computed, core.Bind(core.RoleARNRef, "serviceAccount", "annotations", RoleARNAnnotation))
		case ip.Mode == spec.IdentityExisting && ip.RoleARN != "":
			sa["annotations"] = map[string]any{RoleARNAnnotation: ip.RoleARN}
		}
		webhook := map[string]any{}
		for _, f := range []struct{ key, field string }{{"caCert", core.FieldCACert}, {"cert", core.FieldCert}, {"key", core.FieldKey}} {
			ref := core.CertRef(cert.Name, f.field)
			webhook[f.key] = ref.String()
			computed = append(computed, core.Bind(ref, "webhookTLS", f.key))
		}
		values := map[string]any{
			"clusterName":    e.ClusterName,
			"serviceAccount": sa,
			// The NLB gateway controller: on explicitly, so that a missing CRD fails loudly
			// instead of the controller silently skipping Gateway API.
			"controllerConfig": map[string]any{"featureGates": map[string]any{"NLBGatewayAPI": true}},
			// A stable webhook certificate: the chart's genCA would issue a new one on every
			// render, and every preview would show a diff.
			"webhookTLS": webhook,
		}
		if e.Region != "" {
			values["region"] = e.Region
		}
		if e.VPCID != "" {
			values["vpcId"] = e.VPCID
		}
		r := core.HelmRelease{Name: LBCChartName, Chart: LBCChartName, Version: c.Version, Namespace: c.Namespace, Values: values, Computed: computed, SkipCRDs: true}
		if c.ChartDir != "" {
			r.Path = strings.TrimSuffix(c.ChartDir, "/") + "/" + LBCChartName
		} else {
			r.Repository = c.ChartRepository
		}
		ep.Release = &r
		ep.ReleaseDependsOn = append(slices.Clone(install), nsKey(c.Namespace)...)
		if ip.Create {
			ep.ReleaseDependsOn = append(ep.ReleaseDependsOn, core.StepLBCIdentity)
		}
		install = append(install, core.StepLBC)
	}

	g := e.Gateway
	gwNS := nsKey(g.Namespace)
	ep.GatewayClass = core.Object{
		Resource: &gwapiv1.GatewayClass{
			TypeMeta:   core.TypeMeta(gwapiv1.GroupVersion, core.KindGatewayClass),
			ObjectMeta: core.Meta(g.GatewayClassName, "", nil),
			Spec:       gwapiv1.GatewayClassSpec{ControllerName: NLBControllerName},
		},
		Field:     "eks.gateway.gatewayClassName",
		DependsOn: slices.Clone(install),
	}

	lbcObj := &lbc.LoadBalancerConfiguration{
		TypeMeta:   core.TypeMeta(lbc.GroupVersion, lbc.KindLoadBalancerConfiguration),
		ObjectMeta: core.Meta(g.Name, g.Namespace, nil),
		Spec:       lbc.LoadBalancerConfigurationSpec{Scheme: g.Scheme, SourceRanges: g.SourceRanges},
	}
	gwMeta := core.Meta(g.Name, g.Namespace, nil)
	// The Kubernetes provider waits until LBC reports the NLB's DNS name, so that the
	// component's gatewayAddress output is set when `pulumi up` returns.
	gwMeta.Annotations = map[string]string{WaitForAnnotation: "jsonpath={.status.addresses[0].value}"}
	gw := &gwapiv1.Gateway{
		TypeMeta:   core.TypeMeta(gwapiv1.GroupVersion, core.KindGateway),
		ObjectMeta: gwMeta,
		Spec: gwapiv1.GatewaySpec{
			GatewayClassName: gwapiv1.ObjectName(g.GatewayClassName),
			Infrastructure: &gwapiv1.GatewayInfrastructure{ParametersRef: &gwapiv1.LocalParametersReference{
				Group: lbc.GroupName, Kind: lbc.KindLoadBalancerConfiguration, Name: g.Name,
			}},
		},
	}
	same := gwapiv1.NamespacesFromSame
	listeners := map[string]spec.NLBListenerArgs{}
	for _, l := range g.Listeners {
		listeners[l.Name] = l
		gl := gwapiv1.Listener{
			Name:          gwapiv1.SectionName(l.Name),
			Protocol:      gwapiv1.ProtocolType(l.Protocol),
			Port:          gwapiv1.PortNumber(l.Port),
			AllowedRoutes: &gwapiv1.AllowedRoutes{Namespaces: &gwapiv1.RouteNamespaces{From: &same}},
		}
		if l.Protocol == core.ProtocolTLS {
			if l.Hostname != "" {
				h := gwapiv1.Hostname(l.Hostname)
				gl.Hostname = &h
			}
			mode := gwapiv1.TLSModeTerminate
			gl.TLS = &gwapiv1.ListenerTLSConfig{
				Mode:    &mode,
				Options: map[gwapiv1.AnnotationKey]gwapiv1.AnnotationValue{ListenerCertificateOption: gwapiv1.AnnotationValue(l.CertificateARN)},
			}
			lbcObj.Spec.ListenerConfigurations = append(lbcObj.Spec.ListenerConfigurations, lbc.ListenerConfiguration{
				ProtocolPort:       "TLS:" + strconv.Itoa(l.Port),
				DefaultCertificate: l.CertificateARN,
				Certificates:       l.AdditionalCertificateARNs,
				SSLPolicy:          l.SSLPolicy,
				ALPNPolicy:         l.ALPNPolicy,
			})
		}
		gw.Spec.Listeners = append(gw.Spec.Listeners, gl)
	}
	base := append(slices.Clone(install), gwNS...)
	lbcO := core.Object{Resource: lbcObj, Field: "eks.gateway", DependsOn: slices.Clone(base)}
	ep.Objects = []core.Object{
		lbcO,
		{Resource: gw, Field: "eks.gateway", DependsOn: append(slices.Clone(base), ep.GatewayClass.Key(), lbcO.Key())},
	}

	for i := range e.Targets {
		t := &e.Targets[i]
		ep.Targets = append(ep.Targets, planTarget(a, field.NewPath("eks", "targets").Index(i), t, listeners[t.Listener], install, deps))
	}
	return ep, nil
}

func planTarget(a *spec.Args, path *field.Path, t *spec.NLBTargetArgs, l spec.NLBListenerArgs, install []string, deps Deps) Target {
	g := a.EKS.Gateway
	svc, ns, port, _, _ := targetService(a, t)
	name := t.Backend
	if name == "" {
		name = svc
	}
	tg := t.TargetGroup
	nt := Target{
		Name: name, Namespace: ns, Service: svc,
		Listener: l.Name, ListenerProtocol: l.Protocol, TargetGroupProtocol: tg.Protocol,
		Statement: StatementTLS,
	}
	if tg.Protocol == core.ProtocolTCP {
		nt.Statement = StatementTCP
	}
	appLabels := map[string]string{core.AppLabel: name}
	base := slices.Clone(install)
	if deps.Namespaces[ns] {
		base = append(base, core.Key(core.KindNamespace, "", ns))
	}

	hc := tg.HealthCheck
	kind := core.KindService
	tgc := core.Object{Field: path.String(), DependsOn: slices.Clone(base), Resource: &lbc.TargetGroupConfiguration{
		TypeMeta:   core.TypeMeta(lbc.GroupVersion, lbc.KindTargetGroupConfiguration),
		ObjectMeta: core.Meta(tg.Name, ns, appLabels),
		Spec: lbc.TargetGroupConfigurationSpec{
			TargetReference: &lbc.Reference{Kind: &kind, Name: svc},
			DefaultConfiguration: lbc.TargetGroupProps{
				TargetType: tg.TargetType,
				Protocol:   tg.Protocol,
				HealthCheckConfig: &lbc.HealthCheckConfig{
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
	}}
	nt.Objects = append(nt.Objects, tgc)

	routeKind := core.KindTLSRoute
	if l.Protocol == core.ProtocolTCP {
		routeKind = core.KindTCPRoute
	}
	p := gwapiv1.PortNumber(port)
	ref := gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{Name: gwapiv1.ObjectName(svc), Port: &p}}
	routeDeps := append(slices.Clone(install), core.Key(core.KindGateway, g.Namespace, g.Name))
	if deps.Namespaces[g.Namespace] {
		routeDeps = append(routeDeps, core.Key(core.KindNamespace, "", g.Namespace))
	}
	if ns != g.Namespace {
		n := gwapiv1.Namespace(ns)
		ref.Namespace = &n
		svcName := gwapiv1.ObjectName(svc)
		rg := core.Object{Field: path.String(), DependsOn: slices.Clone(base), Resource: &gwapiv1b1.ReferenceGrant{
			TypeMeta:   core.TypeMeta(gwapiv1b1.GroupVersion, core.KindReferenceGrant),
			ObjectMeta: core.Meta(svc+"-nlb-from-"+g.Namespace, ns, appLabels),
			Spec: gwapiv1b1.ReferenceGrantSpec{
				From: []gwapiv1b1.ReferenceGrantFrom{{Group: gwapiv1.GroupName, Kind: gwapiv1.Kind(routeKind), Namespace: gwapiv1.Namespace(g.Namespace)}},
				To:   []gwapiv1b1.ReferenceGrantTo{{Group: "", Kind: core.KindService, Name: &svcName}},
			},
		}}
		nt.Objects = append(nt.Objects, rg)
		routeDeps = append(routeDeps, rg.Key())
	}
	section := gwapiv1.SectionName(l.Name)
	common := gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: gwapiv1.ObjectName(g.Name), SectionName: &section}}}
	om := core.Meta("nlb-"+name, g.Namespace, appLabels)
	if routeKind == core.KindTCPRoute {
		nt.Objects = append(nt.Objects, core.Object{Field: path.String(), DependsOn: routeDeps, Resource: &gwapiv1.TCPRoute{
			TypeMeta:   core.TypeMeta(gwapiv1.GroupVersion, routeKind),
			ObjectMeta: om,
			Spec:       gwapiv1.TCPRouteSpec{CommonRouteSpec: common, Rules: []gwapiv1.TCPRouteRule{{BackendRefs: []gwapiv1.BackendRef{ref}}}},
		}})
		return nt
	}
	var hs []gwapiv1.Hostname
	for _, h := range t.Hostnames {
		hs = append(hs, gwapiv1.Hostname(h))
	}
	nt.Objects = append(nt.Objects, core.Object{Field: path.String(), DependsOn: routeDeps, Resource: &gwapiv1.TLSRoute{
		TypeMeta:   core.TypeMeta(gwapiv1.GroupVersion, routeKind),
		ObjectMeta: om,
		Spec:       gwapiv1.TLSRouteSpec{CommonRouteSpec: common, Hostnames: hs, Rules: []gwapiv1.TLSRouteRule{{BackendRefs: []gwapiv1.BackendRef{ref}}}},
	}})
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
// unless an existing one is given. Validation has checked the OIDC provider ARN of mode irsa.
func planIAM(e *spec.EKSArgs) (IAMPlan, error) {
	id, c := e.Identity, e.Controller
	if id.Mode == spec.IdentityExisting {
		return IAMPlan{Mode: id.Mode, RoleARN: id.RoleARN, Namespace: c.Namespace, ServiceAccount: c.ServiceAccount}, nil
	}
	ip := IAMPlan{Mode: id.Mode, Create: true, RoleName: id.RoleName, Namespace: c.Namespace, ServiceAccount: c.ServiceAccount}
	var statement map[string]any
	switch id.Mode {
	case spec.IdentityIRSA:
		issuer := issuerOf(id.OIDCProviderARN)
		if issuer == "" {
			return IAMPlan{}, fmt.Errorf("eks.identity.oidcProviderArn %q has no issuer", id.OIDCProviderARN)
		}
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
		if ip.PolicyDocument, err = iam.Document(); err != nil {
			return IAMPlan{}, err
		}
	}
	return ip, nil
}

// Uses lists the existing objects the EKS configuration names, for the registry.
func Uses(a *spec.Args, r *core.Registry) {
	if !Enabled(a) {
		return
	}
	for i := range a.EKS.Targets {
		t := &a.EKS.Targets[i]
		if t.Service != nil && t.Backend == "" {
			r.Use(core.KindService, t.Service.Namespace, t.Service.Name, field.NewPath("eks", "targets").Index(i).Child("service", "name"))
		}
	}
}
