package plan_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/upstream-tls/upstream-tls/internal/lbc"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/eks"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

const testCertARN = "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"

// eksArgs is a valid environment with the EKS path on: one backend behind a TLS listener.
func eksArgs() spec.Args {
	a := args(backend("api", spec.ModeCA))
	a.Backends[0].Namespace = "apps"
	a.Backends[0].TLS.CA = &spec.CAArgs{Generate: true}
	a.EKS = &spec.EKSArgs{
		Enabled:     true,
		ClusterName: "dev-cluster",
		Gateway: &spec.NLBGatewayArgs{Listeners: []spec.NLBListenerArgs{
			{Name: "tls", Port: 443, Hostname: "api.example.com", CertificateARN: testCertARN},
			{Name: "pass", Protocol: "TCP", Port: 8443},
		}},
		Targets: []spec.NLBTargetArgs{{Backend: "api"}},
	}
	return a
}

func TestEKSOffByDefault(t *testing.T) {
	for _, e := range []*spec.EKSArgs{nil, {ClusterName: "x"}} {
		a := args(backend("api", spec.ModeInsecure))
		a.EKS = e
		p, err := plan.Build(a)
		if err != nil {
			t.Fatal(err)
		}
		if p.EKS != nil {
			t.Errorf("EKS planned with eks = %+v", e)
		}
		for _, o := range p.AllObjects() {
			if o.Resource.GroupVersionKind().Group == lbc.GroupName {
				t.Errorf("LBC object %s planned while the EKS path is off", o.Key())
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
	if e.Release == nil || !e.Release.SkipCRDs || e.Release.Version != eks.DefaultLBCChartVersion || e.Release.Namespace != "kube-system" {
		t.Errorf("release = %+v", e.Release)
	}
	if e.CRDs == nil || len(e.CRDs.Sources) != 2 {
		t.Errorf("LBC CRDs = %+v", e.CRDs)
	}
	if e.IAM.Mode != spec.IdentityPodIdentity || e.IAM.RoleName != "dev-cluster-aws-load-balancer-controller" || e.IAM.PolicyDocument == "" {
		t.Errorf("IAM = %+v", e.IAM)
	}
	if gc := e.GatewayClass; gc.Name() != "aws-nlb" {
		t.Errorf("GatewayClass %s", gc.Name())
	}
	lbcObj, ok := e.Objects[0].Resource.(*lbc.LoadBalancerConfiguration)
	if !ok {
		t.Fatalf("first EKS object is %T, want the LoadBalancerConfiguration", e.Objects[0])
	}
	if lbcObj.Spec.Scheme != "internal" || len(lbcObj.Spec.ListenerConfigurations) != 1 ||
		lbcObj.Spec.ListenerConfigurations[0].ProtocolPort != "TLS:443" || lbcObj.Spec.ListenerConfigurations[0].DefaultCertificate != testCertARN {
		t.Errorf("LoadBalancerConfiguration spec = %+v", lbcObj.Spec)
	}
	if len(e.Targets) != 1 {
		t.Fatalf("targets = %d", len(e.Targets))
	}
	tg := e.Targets[0]
	if tg.TargetGroupProtocol != "TLS" || tg.ListenerProtocol != "TLS" || tg.Namespace != "apps" || tg.Service != "api" || tg.Statement != eks.StatementTLS {
		t.Errorf("target = %+v", tg)
	}
	tgc, ok := tg.Objects[0].Resource.(*lbc.TargetGroupConfiguration)
	if !ok || tgc.Namespace != "apps" || tgc.Spec.TargetReference.Name != "api" || tgc.Spec.DefaultConfiguration.HealthCheckConfig.HealthCheckProtocol != "TCP" {
		t.Errorf("TargetGroupConfiguration = %+v", tg.Objects[0])
	}
	if !strings.Contains(p.Posture(), "NLB VERIFIES") {
		t.Errorf("posture lacks the NLB section:\n%s", p.Posture())
	}
}

func TestEKSIRSATrustPolicy(t *testing.T) {
	a := eksArgs()
	a.EKS.Identity = &spec.EKSIdentityArgs{Mode: spec.IdentityIRSA, OIDCProviderARN: "arn:aws-cn:iam::111122223333:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC"}
	a.EKS.Controller = &spec.LBCArgs{Namespace: "lbc", ServiceAccount: "lbc-sa"}
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
	if sa["annotations"].(map[string]any)[eks.RoleARNAnnotation] != core.RoleARNRef.String() {
		t.Errorf("service account = %v", sa)
	}
}

func TestEKSBadInput(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mutate    func(a *spec.Args)
		field     string
		inMessage string
	}{
		{"TCP listener in front of a TLS target group", func(a *spec.Args) { a.EKS.Targets[0].Listener = "pass" },
			"eks.targets[0].targetGroup.protocol", "IncompatibleProtocols"},
		{"TLS listener without certificate ARN", func(a *spec.Args) { a.EKS.Gateway.Listeners[0].CertificateARN = "" },
			"eks.gateway.listeners[0].certificateArn", "has no certificate"},
		{"TLS health check", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{HealthCheck: &spec.HealthCheckArgs{Protocol: "TLS"}}
		}, "eks.targets[0].targetGroup.healthCheck.protocol", "not a health-check protocol"},
		{"two TargetGroupConfigurations for one Service", func(a *spec.Args) {
			a.EKS.Targets = append(a.EKS.Targets, spec.NLBTargetArgs{Service: &spec.NLBServiceArgs{Name: "api", Namespace: "apps", Port: 443}, Listener: "pass", TargetGroup: &spec.TargetGroupArgs{Protocol: "TCP"}})
		}, "eks.targets[1]", "one TargetGroupConfiguration per Service"},
		{"TargetGroupConfiguration in another namespace", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{Namespace: "gateway"}
		}, "eks.targets[0].targetGroup.namespace", `set it to "apps"`},
		{"malformed certificate ARN", func(a *spec.Args) { a.EKS.Gateway.Listeners[0].CertificateARN = "arn:aws:acm:eu-west-1:1111:cert/x" },
			"eks.gateway.listeners[0].certificateArn", "is not an ACM certificate ARN"},
		{"ARN of another service", func(a *spec.Args) {
			a.EKS.Gateway.Listeners[0].CertificateARN = "arn:aws:iam::111122223333:server-certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
		}, "eks.gateway.listeners[0].certificateArn", "is not an ACM certificate ARN"},
		{"EKS without cluster name", func(a *spec.Args) { a.EKS.ClusterName = "" }, "eks.clusterName", "is required"},
		{"malformed additional certificate ARN", func(a *spec.Args) { a.EKS.Gateway.Listeners[0].AdditionalCertificateARNs = []string{"x"} },
			"eks.gateway.listeners[0].additionalCertificateArns[0]", "not an ACM certificate ARN"},
		{"TCP target group behind a TLS listener", func(a *spec.Args) { a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{Protocol: "TCP"} },
			"eks.targets[0].targetGroup.protocol", "plaintext"},
		{"UDP target group", func(a *spec.Args) { a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{Protocol: "UDP"} },
			"eks.targets[0].targetGroup.protocol", "unsupported target group protocol"},
		{"HTTPS listener", func(a *spec.Args) { a.EKS.Gateway.Listeners[0].Protocol = "HTTPS" },
			"eks.gateway.listeners[0].protocol", "use TLS"},
		{"certificate on a TCP listener", func(a *spec.Args) { a.EKS.Gateway.Listeners[1].CertificateARN = testCertARN },
			"eks.gateway.listeners[1].certificateArn", "passes TLS through"},
		{"two listeners on one port", func(a *spec.Args) { a.EKS.Gateway.Listeners[1].Port = 443 },
			"eks.gateway.listeners[1].port", "one listener per port"},
		{"two targets on one listener", func(a *spec.Args) {
			a.EKS.Targets = append(a.EKS.Targets, spec.NLBTargetArgs{Service: &spec.NLBServiceArgs{Name: "other", Port: 443}})
		}, "eks.targets[1].listener", "no SNI routing"},
		{"unknown listener", func(a *spec.Args) { a.EKS.Targets[0].Listener = "https" }, "eks.targets[0].listener", `no listener "https"`},
		{"unknown backend", func(a *spec.Args) { a.EKS.Targets[0].Backend = "web" }, "eks.targets[0].backend", `no backend named "web"`},
		{"backend and service", func(a *spec.Args) { a.EKS.Targets[0].Service = &spec.NLBServiceArgs{Name: "api", Port: 443} },
			"eks.targets[0]", "sets both backend and service"},
		{"no target", func(a *spec.Args) { a.EKS.Targets = nil }, "eks.targets", "forward nowhere"},
		{"TLS route without hostname", func(a *spec.Args) { a.EKS.Gateway.Listeners[0].Hostname = "" },
			"eks.targets[0].hostnames", "needs at least one hostname"},
		{"route hostname outside the listener's", func(a *spec.Args) { a.EKS.Targets[0].Hostnames = []string{"web.example.com"} },
			"eks.targets[0].hostnames[0]", "would not attach"},
		{"hostname on TCP listener", func(a *spec.Args) { a.EKS.Gateway.Listeners[1].Hostname = "x.example.com" },
			"eks.gateway.listeners[1].hostname", "TCP"},
		{"path on TCP health check", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{HealthCheck: &spec.HealthCheckArgs{Path: "/healthz"}}
		}, "eks.targets[0].targetGroup.healthCheck.path", "HTTPS"},
		{"health check port", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{HealthCheck: &spec.HealthCheckArgs{Port: "https"}}
		}, "eks.targets[0].targetGroup.healthCheck.port", "traffic-port"},
		{"health check interval", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{HealthCheck: &spec.HealthCheckArgs{IntervalSeconds: 1}}
		}, "eks.targets[0].targetGroup.healthCheck.intervalSeconds", "5-300"},
		{"irsa without OIDC provider", func(a *spec.Args) { a.EKS.Identity = &spec.EKSIdentityArgs{Mode: spec.IdentityIRSA} },
			"eks.identity.oidcProviderArn", "needs the cluster's IAM OIDC provider"},
		{"malformed OIDC provider", func(a *spec.Args) {
			a.EKS.Identity = &spec.EKSIdentityArgs{Mode: spec.IdentityIRSA, OIDCProviderARN: "oidc.eks.eu-west-1.amazonaws.com/id/X"}
		}, "eks.identity.oidcProviderArn", "not an IAM OIDC provider ARN"},
		{"unknown identity mode", func(a *spec.Args) { a.EKS.Identity = &spec.EKSIdentityArgs{Mode: "keys"} }, "eks.identity.mode", "podIdentity, irsa or existing"},
		{"roleArn with a created role", func(a *spec.Args) {
			a.EKS.Identity = &spec.EKSIdentityArgs{RoleARN: "arn:aws:iam::111122223333:role/x"}
		}, "eks.identity.roleArn", "identity.mode: existing"},
		{"malformed roleArn", func(a *spec.Args) {
			a.EKS.Identity = &spec.EKSIdentityArgs{Mode: spec.IdentityExisting, RoleARN: "platform-lbc"}
		}, "eks.identity.roleArn", "not an IAM role ARN"},
		{"malformed policy ARN", func(a *spec.Args) {
			a.EKS.Identity = &spec.EKSIdentityArgs{PolicyARN: "AWSLoadBalancerControllerIAMPolicy"}
		},
			"eks.identity.policyArn", "not an IAM policy ARN"},
		{"role name too long", func(a *spec.Args) { a.EKS.ClusterName = strings.Repeat("c", 40) }, "eks.identity.roleName", "at most 64"},
		{"unknown scheme", func(a *spec.Args) { a.EKS.Gateway.Scheme = "public" }, "eks.gateway.scheme", "internet-facing"},
		// Issue 11: AWS rules.
		{"ACM certificate of another region", func(a *spec.Args) { a.EKS.Region = "us-east-1" }, "eks.gateway.listeners[0].certificateArn", "an NLB serves only certificates of its own region"},
		{"ACM certificate of another partition", func(a *spec.Args) { a.EKS.Region = "cn-north-1" }, "eks.gateway.listeners[0].certificateArn", "partition aws"},
		{"IPv6 source range", func(a *spec.Args) { a.EKS.Gateway.SourceRanges = []string{"2001:db8::/32"} }, "eks.gateway.sourceRanges[0]", "IPv4 NLB"},
		{"health check timeout not below interval", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{HealthCheck: &spec.HealthCheckArgs{IntervalSeconds: 10, TimeoutSeconds: 10}}
		}, "eks.targets[0].targetGroup.healthCheck.timeoutSeconds", "shorter than its interval"},
		{"plain HTTP health check on the TLS traffic port", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{HealthCheck: &spec.HealthCheckArgs{Protocol: "HTTP"}}
		}, "eks.targets[0].targetGroup.healthCheck.protocol", "speaks only TLS"},
		{"instance targets behind the deployed ClusterIP Service", func(a *spec.Args) {
			a.EKS.Targets[0].TargetGroup = &spec.TargetGroupArgs{TargetType: "instance"}
		}, "eks.targets[0].targetGroup.targetType", "NodePort"},
		{"OIDC provider of another region", func(a *spec.Args) {
			a.EKS.Region = "eu-west-1"
			a.EKS.Identity = &spec.EKSIdentityArgs{Mode: spec.IdentityIRSA, OIDCProviderARN: "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"}
		}, "eks.identity.oidcProviderArn", "cluster in us-east-1"},
		{"malformed source range", func(a *spec.Args) { a.EKS.Gateway.SourceRanges = []string{"10.0.0.0"} }, "eks.gateway.sourceRanges[0]", "not a CIDR"},
		{"malformed region", func(a *spec.Args) { a.EKS.Region = "Ireland" }, "eks.region", "not an AWS region"},
		{"malformed VPC", func(a *spec.Args) { a.EKS.VPCID = "vpc-1" }, "eks.vpcId", "not a VPC ID"},
		{"chart version with v", func(a *spec.Args) { a.EKS.Controller = &spec.LBCArgs{Version: "v3.5.0"} }, "eks.controller.version", "no leading v"},
		{"GatewayClass clash", func(a *spec.Args) { a.EKS.Gateway.GatewayClassName = "envoy-gateway" }, "eks.gateway.gatewayClassName", "already the Envoy Gateway"},
		{"Gateway clash", func(a *spec.Args) {
			a.EKS.Gateway.Name = "upstream-tls"
			a.EKS.Gateway.Namespace = "gateway"
		},
			"eks.gateway.name", "already the Envoy Gateway Gateway"},
		{"unverified NLB hop in production", func(a *spec.Args) { a.Environment = spec.EnvironmentProduction },
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
	a.Environment = spec.EnvironmentProduction
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
	a.EnvoyGateway = &spec.EnvoyGatewayArgs{ManageGatewayAPICRDs: &no}
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "v1.6 (or newer) standard-channel CRDs") {
		t.Errorf("warnings = %q", p.Warnings)
	}
}
