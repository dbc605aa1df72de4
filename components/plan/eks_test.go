package plan_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/upstream-tls/upstream-tls/components/lbcapi"
	"github.com/upstream-tls/upstream-tls/components/plan"
)

const testCertARN = "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"

// eksArgs is a valid environment with the EKS path on: one backend behind a TLS listener.
func eksArgs() plan.Args {
	a := args(backend("api", plan.ModeCA))
	a.Backends[0].Namespace = "apps"
	a.Backends[0].TLS.CA = &plan.CAArgs{Generate: true}
	a.EKS = &plan.EKSArgs{
		Enabled:     true,
		ClusterName: "dev-cluster",
		Gateway: &plan.NLBGatewayArgs{Listeners: []plan.NLBListenerArgs{
			{Name: "tls", Port: 443, Hostname: "api.example.com", CertificateARN: testCertARN},
			{Name: "pass", Protocol: "TCP", Port: 8443},
		}},
		Targets: []plan.NLBTargetArgs{{Backend: "api"}},
	}
	return a
}

func TestEKSOffByDefault(t *testing.T) {
	for _, e := range []*plan.EKSArgs{nil, {ClusterName: "x"}} {
		a := args(backend("api", plan.ModeInsecure))
		a.EKS = e
		p, err := plan.Build(a)
		if err != nil {
			t.Fatal(err)
		}
		if p.EKS != nil {
			t.Errorf("EKS planned with eks = %+v", e)
		}
		for _, o := range p.AllObjects() {
			if o.GroupVersionKind().Group == lbcapi.GroupName {
				t.Errorf("LBC object %s planned while the EKS path is off", plan.ObjectKey(o))
			}
		}
	}
}

func TestEKSPlan(t *testing.T) {
	p, err := plan.Build(eksArgs())
	if err != nil {
		t.Fatal(err)
	}
	e := p.EKS
	if e == nil {
		t.Fatal("no EKS plan")
	}
	if e.Release == nil || !e.Release.SkipCRDs || e.Release.Version != plan.DefaultLBCChartVersion || e.Release.Namespace != "kube-system" {
		t.Errorf("release = %+v", e.Release)
	}
	if e.CRDs == nil || len(e.CRDs.Sources) != 2 {
		t.Errorf("LBC CRDs = %+v", e.CRDs)
	}
	if e.IAM.Mode != plan.IdentityPodIdentity || e.IAM.RoleName != "dev-cluster-aws-load-balancer-controller" || e.IAM.PolicyDocument == "" {
		t.Errorf("IAM = %+v", e.IAM)
	}
	if gc := e.GatewayClass.(interface{ GetName() string }); gc.GetName() != plan.DefaultNLBGatewayClassName {
		t.Errorf("GatewayClass %s", gc.GetName())
	}
	lbc, ok := e.Objects[0].(*lbcapi.LoadBalancerConfiguration)
	if !ok {
		t.Fatalf("first EKS object is %T, want the LoadBalancerConfiguration", e.Objects[0])
	}
	if lbc.Spec.Scheme != "internal" || len(lbc.Spec.ListenerConfigurations) != 1 ||
		lbc.Spec.ListenerConfigurations[0].ProtocolPort != "TLS:443" || lbc.Spec.ListenerConfigurations[0].DefaultCertificate != testCertARN {
		t.Errorf("LoadBalancerConfiguration spec = %+v", lbc.Spec)
	}
	if len(e.Targets) != 1 {
		t.Fatalf("targets = %d", len(e.Targets))
	}
	tg := e.Targets[0]
	if tg.TargetGroupProtocol != "TLS" || tg.ListenerProtocol != "TLS" || tg.Namespace != "apps" || tg.Service != "api" || tg.Statement != plan.StatementTLS {
		t.Errorf("target = %+v", tg)
	}
	tgc, ok := tg.Objects[0].(*lbcapi.TargetGroupConfiguration)
	if !ok || tgc.Namespace != "apps" || tgc.Spec.TargetReference.Name != "api" || tgc.Spec.DefaultConfiguration.HealthCheckConfig.HealthCheckProtocol != "TCP" {
		t.Errorf("TargetGroupConfiguration = %+v", tg.Objects[0])
	}
	if !strings.Contains(p.Posture(), "NLB VERIFIES") {
		t.Errorf("posture lacks the NLB section:\n%s", p.Posture())
	}
}

func TestEKSIRSATrustPolicy(t *testing.T) {
	a := eksArgs()
	a.EKS.Identity = &plan.EKSIdentityArgs{Mode: plan.IdentityIRSA, OIDCProviderARN: "arn:aws-cn:iam::111122223333:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC"}
	a.EKS.Controller = &plan.LBCArgs{Namespace: "lbc", ServiceAccount: "lbc-sa"}
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	var trust struct {
		Statement []struct {
			Action    string
			Principal map[string]string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(p.EKS.IAM.TrustPolicy), &trust); err != nil {
		t.Fatal(err)
	}
	st := trust.Statement[0]
	issuer := "oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC"
	if st.Action != "sts:AssumeRoleWithWebIdentity" || st.Principal["Federated"] != a.EKS.Identity.OIDCProviderARN ||
		st.Condition["StringEquals"][issuer+":sub"] != "system:serviceaccount:lbc:lbc-sa" {
		t.Errorf("trust policy = %s", p.EKS.IAM.TrustPolicy)
	}
	sa := p.EKS.Release.Values["serviceAccount"].(map[string]any)
	if sa["annotations"].(map[string]any)[plan.RoleARNAnnotation] != plan.ComputedRoleARN {
		t.Errorf("service account = %v", sa)
	}
}

func TestEKSBadInput(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mutate    func(a *plan.Args)
		field     string
		inMessage string
	}{
		{"TCP listener in front of a TLS target group", func(a *plan.Args) { a.EKS.Targets[0].Listener = "pass" },
			"eks.targets[0].targetGroup.protocol", "IncompatibleProtocols"},
		{"TLS listener without certificate ARN", func(a *plan.Args) { a.EKS.Gateway.Listeners[0].CertificateARN = "" },
			"eks.gateway.listeners[0].certificateArn", "has no certificate"},
		{"TLS health check", func(a *plan.Args) {
			a.EKS.Targets[0].TargetGroup = &plan.TargetGroupArgs{HealthCheck: &plan.HealthCheckArgs{Protocol: "TLS"}}
		}, "eks.targets[0].targetGroup.healthCheck.protocol", "not a health-check protocol"},
		{"two TargetGroupConfigurations for one Service", func(a *plan.Args) {
			a.EKS.Targets = append(a.EKS.Targets, plan.NLBTargetArgs{Service: &plan.NLBServiceArgs{Name: "api", Namespace: "apps", Port: 443}, Listener: "pass", TargetGroup: &plan.TargetGroupArgs{Protocol: "TCP"}})
		}, "eks.targets[1]", "one TargetGroupConfiguration per Service"},
		{"TargetGroupConfiguration in another namespace", func(a *plan.Args) {
			a.EKS.Targets[0].TargetGroup = &plan.TargetGroupArgs{Namespace: "gateway"}
		}, "eks.targets[0].targetGroup.namespace", `set it to "apps"`},
		{"malformed certificate ARN", func(a *plan.Args) { a.EKS.Gateway.Listeners[0].CertificateARN = "arn:aws:acm:eu-west-1:1111:cert/x" },
			"eks.gateway.listeners[0].certificateArn", "is not an ACM certificate ARN"},
		{"ARN of another service", func(a *plan.Args) {
			a.EKS.Gateway.Listeners[0].CertificateARN = "arn:aws:iam::111122223333:server-certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
		}, "eks.gateway.listeners[0].certificateArn", "is not an ACM certificate ARN"},
		{"EKS without cluster name", func(a *plan.Args) { a.EKS.ClusterName = "" }, "eks.clusterName", "is required"},
		{"malformed additional certificate ARN", func(a *plan.Args) { a.EKS.Gateway.Listeners[0].AdditionalCertificateARNs = []string{"x"} },
			"eks.gateway.listeners[0].additionalCertificateArns[0]", "not an ACM certificate ARN"},
		{"TCP target group behind a TLS listener", func(a *plan.Args) { a.EKS.Targets[0].TargetGroup = &plan.TargetGroupArgs{Protocol: "TCP"} },
			"eks.targets[0].targetGroup.protocol", "plaintext"},
		{"UDP target group", func(a *plan.Args) { a.EKS.Targets[0].TargetGroup = &plan.TargetGroupArgs{Protocol: "UDP"} },
			"eks.targets[0].targetGroup.protocol", "unsupported target group protocol"},
		{"HTTPS listener", func(a *plan.Args) { a.EKS.Gateway.Listeners[0].Protocol = "HTTPS" },
			"eks.gateway.listeners[0].protocol", "use TLS"},
		{"certificate on a TCP listener", func(a *plan.Args) { a.EKS.Gateway.Listeners[1].CertificateARN = testCertARN },
			"eks.gateway.listeners[1].certificateArn", "passes TLS through"},
		{"two listeners on one port", func(a *plan.Args) { a.EKS.Gateway.Listeners[1].Port = 443 },
			"eks.gateway.listeners[1].port", "one listener per port"},
		{"two targets on one listener", func(a *plan.Args) {
			a.EKS.Targets = append(a.EKS.Targets, plan.NLBTargetArgs{Service: &plan.NLBServiceArgs{Name: "other", Port: 443}})
		}, "eks.targets[1].listener", "no SNI routing"},
		{"unknown listener", func(a *plan.Args) { a.EKS.Targets[0].Listener = "https" }, "eks.targets[0].listener", `no listener "https"`},
		{"unknown backend", func(a *plan.Args) { a.EKS.Targets[0].Backend = "web" }, "eks.targets[0].backend", `no backend named "web"`},
		{"backend and service", func(a *plan.Args) { a.EKS.Targets[0].Service = &plan.NLBServiceArgs{Name: "api", Port: 443} },
			"eks.targets[0]", "sets both backend and service"},
		{"no target", func(a *plan.Args) { a.EKS.Targets = nil }, "eks.targets", "forward nowhere"},
		{"TLS route without hostname", func(a *plan.Args) { a.EKS.Gateway.Listeners[0].Hostname = "" },
			"eks.targets[0].hostnames", "needs at least one hostname"},
		{"route hostname outside the listener's", func(a *plan.Args) { a.EKS.Targets[0].Hostnames = []string{"web.example.com"} },
			"eks.targets[0].hostnames[0]", "would not attach"},
		{"hostname on TCP listener", func(a *plan.Args) { a.EKS.Gateway.Listeners[1].Hostname = "x.example.com" },
			"eks.gateway.listeners[1].hostname", "TCP"},
		{"path on TCP health check", func(a *plan.Args) {
			a.EKS.Targets[0].TargetGroup = &plan.TargetGroupArgs{HealthCheck: &plan.HealthCheckArgs{Path: "/healthz"}}
		}, "eks.targets[0].targetGroup.healthCheck.path", "HTTPS"},
		{"health check port", func(a *plan.Args) {
			a.EKS.Targets[0].TargetGroup = &plan.TargetGroupArgs{HealthCheck: &plan.HealthCheckArgs{Port: "https"}}
		}, "eks.targets[0].targetGroup.healthCheck.port", "traffic-port"},
		{"health check interval", func(a *plan.Args) {
			a.EKS.Targets[0].TargetGroup = &plan.TargetGroupArgs{HealthCheck: &plan.HealthCheckArgs{IntervalSeconds: 1}}
		}, "eks.targets[0].targetGroup.healthCheck.intervalSeconds", "5-300"},
		{"irsa without OIDC provider", func(a *plan.Args) { a.EKS.Identity = &plan.EKSIdentityArgs{Mode: plan.IdentityIRSA} },
			"eks.identity.oidcProviderArn", "needs the cluster's IAM OIDC provider"},
		{"malformed OIDC provider", func(a *plan.Args) {
			a.EKS.Identity = &plan.EKSIdentityArgs{Mode: plan.IdentityIRSA, OIDCProviderARN: "oidc.eks.eu-west-1.amazonaws.com/id/X"}
		}, "eks.identity.oidcProviderArn", "not an IAM OIDC provider ARN"},
		{"unknown identity mode", func(a *plan.Args) { a.EKS.Identity = &plan.EKSIdentityArgs{Mode: "keys"} }, "eks.identity.mode", "podIdentity, irsa or existing"},
		{"roleArn with a created role", func(a *plan.Args) {
			a.EKS.Identity = &plan.EKSIdentityArgs{RoleARN: "arn:aws:iam::111122223333:role/x"}
		}, "eks.identity.roleArn", "identity.mode: existing"},
		{"malformed roleArn", func(a *plan.Args) {
			a.EKS.Identity = &plan.EKSIdentityArgs{Mode: plan.IdentityExisting, RoleARN: "platform-lbc"}
		}, "eks.identity.roleArn", "not an IAM role ARN"},
		{"malformed policy ARN", func(a *plan.Args) {
			a.EKS.Identity = &plan.EKSIdentityArgs{PolicyARN: "AWSLoadBalancerControllerIAMPolicy"}
		},
			"eks.identity.policyArn", "not an IAM policy ARN"},
		{"role name too long", func(a *plan.Args) { a.EKS.ClusterName = strings.Repeat("c", 40) }, "eks.identity.roleName", "at most 64"},
		{"unknown scheme", func(a *plan.Args) { a.EKS.Gateway.Scheme = "public" }, "eks.gateway.scheme", "internet-facing"},
		{"malformed source range", func(a *plan.Args) { a.EKS.Gateway.SourceRanges = []string{"10.0.0.0"} }, "eks.gateway.sourceRanges[0]", "not a CIDR"},
		{"malformed region", func(a *plan.Args) { a.EKS.Region = "Ireland" }, "eks.region", "not an AWS region"},
		{"malformed VPC", func(a *plan.Args) { a.EKS.VPCID = "vpc-1" }, "eks.vpcId", "not a VPC ID"},
		{"chart version with v", func(a *plan.Args) { a.EKS.Controller = &plan.LBCArgs{Version: "v3.5.0"} }, "eks.controller.version", "no leading v"},
		{"GatewayClass clash", func(a *plan.Args) { a.EKS.Gateway.GatewayClassName = plan.DefaultGatewayClassName }, "eks.gateway.gatewayClassName", "already the Envoy Gateway"},
		{"Gateway clash", func(a *plan.Args) {
			a.EKS.Gateway.Name = plan.DefaultGatewayName
			a.EKS.Gateway.Namespace = plan.DefaultGatewayNamespace
		},
			"eks.gateway.name", "already the Envoy Gateway Gateway"},
		{"unverified NLB hop in production", func(a *plan.Args) { a.Environment = plan.EnvironmentProduction },
			"eks.targets[0].targetGroup.protocol", "allowInsecureBackends"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := eksArgs()
			tc.mutate(&a)
			p, err := plan.Build(a)
			if err == nil {
				t.Fatalf("Build accepted the input; EKS plan %+v", p.EKS)
			}
			requireProblem(t, err, tc.field, tc.inMessage)
		})
	}
}

func TestEKSProductionAllowedWarns(t *testing.T) {
	a := eksArgs()
	a.Environment = plan.EnvironmentProduction
	a.AllowInsecureBackends = true
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "does not validate the pods' certificates") {
		t.Errorf("warnings = %q", p.Warnings)
	}
}

func TestEKSDoesNotMutateInput(t *testing.T) {
	a := eksArgs()
	before, _ := json.Marshal(a)
	if _, err := plan.Build(a); err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(a)
	if string(before) != string(after) {
		t.Errorf("Build changed its input:\nbefore %s\nafter  %s", before, after)
	}
}

func TestEKSExternalGatewayAPICRDsWarn(t *testing.T) {
	a := eksArgs()
	no := false
	a.EnvoyGateway = &plan.EnvoyGatewayArgs{ManageGatewayAPICRDs: &no}
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "v1.6 (or newer) standard-channel CRDs") {
		t.Errorf("warnings = %q", p.Warnings)
	}
}
