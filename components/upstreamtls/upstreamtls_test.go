package upstreamtls_test

import (
	"crypto/x509"
	"encoding/pem"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/upstreamtls"
	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/register"
	"github.com/upstream-tls/upstream-tls/internal/render"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

func devArgs() upstreamtls.Args {
	return upstreamtls.Args{
		Environment: upstreamtls.EnvironmentDev,
		Backends: []upstreamtls.BackendArgs{
			{Name: "public-api", Namespace: "apps", Deploy: &upstreamtls.DeployArgs{CertificateSecret: "public-tls"}, TLS: upstreamtls.TLSArgs{Mode: upstreamtls.ModeSystem, Hostname: "api.example.com"}},
			{Name: "internal-api", Namespace: "apps", TLS: upstreamtls.TLSArgs{Mode: upstreamtls.ModeCA, CA: &upstreamtls.CAArgs{Generate: true}}},
			{Name: "legacy-app", Namespace: "legacy", TLS: upstreamtls.TLSArgs{Mode: upstreamtls.ModeInsecure}},
		},
	}
}

// eksArgs is devArgs with the EKS path on: the NLB re-encrypts to internal-api.
func eksArgs() upstreamtls.Args {
	a := devArgs()
	a.EKS = &upstreamtls.EKSArgs{
		Enabled:     true,
		ClusterName: "dev",
		Gateway: &upstreamtls.NLBGatewayArgs{Listeners: []upstreamtls.NLBListenerArgs{{
			Name: "tls", Port: 443, Hostname: "internal.example.com",
			CertificateARN: "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
		}}},
		Targets: []upstreamtls.NLBTargetArgs{{Backend: "internal-api"}},
	}
	return a
}

func run(t *testing.T, a upstreamtls.Args, watch func(c *upstreamtls.UpstreamTls)) (*testutil.Mocks, error) {
	t.Helper()
	m := &testutil.Mocks{}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		c, err := upstreamtls.New(ctx, "env", &a)
		if err == nil && watch != nil {
			watch(c)
		}
		return err
	}, pulumi.WithMocks("upstream-tls", "test", m))
	return m, err
}

func mustPlan(t *testing.T, a upstreamtls.Args) *plan.Plan {
	t.Helper()
	p, err := plan.Build(a)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRegistersThePlan: every planned object is registered under its Kubernetes type token with
// exactly the fields `make render` writes, the computed fields filled with the certificate
// outputs, Secrets (and only Secrets) secret.
func TestRegistersThePlan(t *testing.T) {
	t.Run("dev", func(t *testing.T) { checkRegistersThePlan(t, devArgs()) })
	t.Run("with EKS", func(t *testing.T) { checkRegistersThePlan(t, eksArgs()) })
}

func checkRegistersThePlan(t *testing.T, a upstreamtls.Args) {
	m, err := run(t, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := mustPlan(t, a)
	certs := map[string]*testutil.Registered{}
	for _, req := range p.AllCertificates() {
		r := m.Find(register.CertificateToken, req.Name)
		if r == nil {
			t.Fatalf("certificate %s not registered", req.Name)
		}
		certs[req.Name] = r
	}
	for _, o := range p.AllObjects() {
		r := m.Find(register.TypeToken(o), o.ResourceName())
		if r == nil {
			t.Errorf("%s not registered as %s %s", o.Key(), register.TypeToken(o), o.ResourceName())
			continue
		}
		want, err := render.ToMap(o)
		if err != nil {
			t.Fatal(err)
		}
		err = core.Resolve(want, o.Computed, func(ref core.Ref) (any, error) {
			out := map[string]string{core.FieldCACert: "caCertPem", core.FieldCert: "certPem", core.FieldKey: "keyPem"}[ref.Field]
			return certs[ref.Name].Outputs[resource.PropertyKey(out)].StringValue(), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, secret := testutil.Plain(resource.NewObjectProperty(r.Inputs))
		if !reflect.DeepEqual(testutil.Normalise(got), testutil.Normalise(want)) {
			t.Errorf("%s inputs differ from the plan\n got: %v\nwant: %v", o.Key(), got, want)
		}
		if o.Kind() == core.KindSecret {
			sd := r.Inputs["stringData"]
			if !sd.IsSecret() && !(sd.IsOutput() && sd.OutputValue().Secret) {
				t.Errorf("%s stringData is not marked secret as a whole", o.Key())
			}
		} else if secret {
			t.Errorf("%s has a secret input, but only Secrets should", o.Key())
		}
	}
}

// TestDependenciesAreThePlansOrder: every registered object depends on exactly the resources
// its plan entry names (namespace, install steps, what it references), so backends apply in
// parallel where Kubernetes allows it.
func TestDependenciesAreThePlansOrder(t *testing.T) {
	m, err := run(t, devArgs(), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := mustPlan(t, devArgs())
	urnOf := map[string]string{}
	for _, o := range p.AllObjects() {
		if r := m.Find(register.TypeToken(o), o.ResourceName()); r != nil {
			urnOf[o.Key()] = o.ResourceName()
		}
	}
	steps := map[string]string{core.StepGatewayAPICRDs: "env-envoy-gateway-gateway-api-crds", core.StepEnvoyGateway: "env-envoy-gateway-gateway-helm", core.StepEnvoyGatewayCRDs: "env-envoy-gateway-gateway-crds-helm"}
	for _, o := range p.AllObjects() {
		r := m.Find(register.TypeToken(o), o.ResourceName())
		if r == nil {
			continue
		}
		var want []string
		for _, k := range o.DependsOn {
			name := urnOf[k]
			if s, ok := steps[k]; ok {
				name = s
			}
			want = append(want, name)
		}
		// Values computed from a certificate make the object depend on it, as Pulumi inputs do.
		for _, b := range o.Computed {
			if !slices.Contains(want, b.Ref.Name) {
				want = append(want, b.Ref.Name)
			}
		}
		var got []string
		for _, d := range r.Deps {
			got = append(got, d[strings.LastIndex(d, "::")+2:])
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s depends on %v, the plan says %v", o.Key(), got, want)
		}
	}
	// Within a backend, the policy does not wait for the Deployment.
	btp := m.Find("kubernetes:gateway.networking.k8s.io/v1:BackendTLSPolicy", "backendtlspolicy-apps-internal-api-https")
	if btp == nil || slices.ContainsFunc(btp.Deps, func(d string) bool { return strings.HasSuffix(d, "deployment-apps-internal-api") }) {
		t.Errorf("the policy waits for the Deployment: %v", btp)
	}
}

// TestCRDsOwnedByTheComponent: the Gateway API CRDs hang under UpstreamTls whichever paths are
// on (switching EKS on or off never moves them), with an alias to their earlier place under the
// EnvoyGateway component.
func TestCRDsOwnedByTheComponent(t *testing.T) {
	for name, a := range map[string]upstreamtls.Args{"dev": devArgs(), "eks": eksArgs()} {
		t.Run(name, func(t *testing.T) {
			m, err := run(t, a, nil)
			if err != nil {
				t.Fatal(err)
			}
			var bundles []testutil.Registered
			for _, r := range m.All() {
				if r.Type == "kubernetes:yaml/v2:ConfigGroup" && strings.Contains(r.Name, "gateway-api") {
					bundles = append(bundles, r)
				}
			}
			if len(bundles) != 1 {
				t.Fatalf("Gateway API CRDs installed %d times, want once", len(bundles))
			}
			crds := bundles[0]
			if crds.Name != "env-envoy-gateway-gateway-api-crds" || !strings.HasSuffix(crds.Parent, "upstream-tls:index:UpstreamTls::env") {
				t.Errorf("Gateway API CRDs %s under %s", crds.Name, crds.Parent)
			}
			if !slices.ContainsFunc(crds.Aliases, func(a string) bool {
				return strings.HasSuffix(a, "|urn:pulumi:test::upstream-tls::upstream-tls:index:UpstreamTls$upstream-tls:index:EnvoyGateway::env-envoy-gateway")
			}) {
				t.Errorf("aliases = %v, want the former place under the EnvoyGateway component", crds.Aliases)
			}
		})
	}
}

// TestCRDsRetainedOnDelete: every bundle of CRDs (Gateway API, Envoy Gateway's chart of CRDs,
// the AWS Load Balancer Controller's) is registered retained on delete, so that destroying the
// stack, or a version that stops registering them, never deletes a CRD and with it every object
// of its kinds in the cluster; nothing else is retained.
func TestCRDsRetainedOnDelete(t *testing.T) {
	for name, a := range map[string]upstreamtls.Args{"dev": devArgs(), "eks": eksArgs()} {
		t.Run(name, func(t *testing.T) {
			m, err := run(t, a, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{"env-envoy-gateway-gateway-api-crds": true, "env-envoy-gateway-gateway-crds-helm": true}
			if name == "eks" {
				want["env-eks-lbc-crds"] = true
			}
			for _, r := range m.All() {
				if r.RetainOnDelete != want[r.Name] {
					t.Errorf("%s %s: retainOnDelete %v, want %v", r.Type, r.Name, r.RetainOnDelete, want[r.Name])
				}
				delete(want, r.Name)
			}
			for n := range want {
				t.Errorf("%s not registered", n)
			}
		})
	}
}

// TestParents: every object hangs under the component that owns it.
func TestParents(t *testing.T) {
	m, err := run(t, devArgs(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"backendtlspolicy-apps-internal-api-https": "upstream-tls:index:TLSBackend",
		"configmap-apps-internal-api-ca":           "upstream-tls:index:TLSBackend",
		"backend-legacy-legacy-app":                "upstream-tls:index:TLSBackend",
		"gateway-gateway-upstream-tls":             "upstream-tls:index:Gateway",
		"gatewayclass-envoy-gateway":               "upstream-tls:index:EnvoyGateway",
		"namespace-apps":                           "upstream-tls:index:UpstreamTls",
		"backend-internal-api":                     "upstream-tls:index:TLSBackend",
		"env-envoy-gateway-gateway-helm":           "upstream-tls:index:EnvoyGateway",
	}
	for name, parentType := range want {
		r := m.Named(name)
		if r == nil {
			t.Errorf("%s not registered", name)
			continue
		}
		if !strings.Contains(r.Parent, "::"+parentType+"::") && !strings.Contains(r.Parent, "$"+parentType+"::") {
			t.Errorf("%s parent = %q, want a %s", name, r.Parent, parentType)
		}
	}
}

// TestGeneratedCAVerifiesServingCertificate: in mode ca with a generated CA, the ConfigMap the
// policy trusts verifies the certificate the workload serves, for the policy hostname.
func TestGeneratedCAVerifiesServingCertificate(t *testing.T) {
	m, err := run(t, devArgs(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cm := m.Find("kubernetes:core/v1:ConfigMap", "configmap-apps-internal-api-ca")
	secret := m.Find("kubernetes:core/v1:Secret", "secret-apps-internal-api-tls")
	if cm == nil || secret == nil {
		t.Fatal("CA ConfigMap or serving Secret not registered")
	}
	ca, _ := testutil.Plain(cm.Inputs["data"])
	sd, isSecret := testutil.Plain(secret.Inputs["stringData"])
	if !isSecret {
		t.Error("serving Secret stringData is not secret")
	}
	caPEM := ca.(map[string]any)["ca.crt"].(string)
	certPEM := sd.(map[string]any)["tls.crt"].(string)
	if err := pki.Verify(caPEM, certPEM, mustPlan(t, devArgs()).Envoy.Backends[1].Hostname, time.Now()); err != nil {
		t.Errorf("the CA ConfigMap does not verify the serving certificate: %v", err)
	}
	if !strings.Contains(sd.(map[string]any)["tls.key"].(string), "PRIVATE KEY") {
		t.Error("serving Secret holds no private key")
	}
}

// TestOutputs: the component reports each backend's mode, derived verification and effective
// upstream TLS, and the posture.
func TestOutputs(t *testing.T) {
	var posture testutil.Await[string]
	var backends testutil.Await[[]map[string]any]
	_, err := run(t, devArgs(), func(c *upstreamtls.UpstreamTls) {
		posture.Watch(c.Posture)
		backends.Watch(c.Backends)
	})
	if err != nil {
		t.Fatal(err)
	}
	bs := backends.Wait()
	if len(bs) != 3 {
		t.Fatalf("backends output has %d entries, want 3", len(bs))
	}
	want := map[string][2]any{"public-api": {true, "system"}, "internal-api": {true, "ca"}, "legacy-app": {false, "insecure"}}
	for _, b := range bs {
		w, ok := want[b["name"].(string)]
		if !ok || b["verified"] != w[0] || b["effective"] != w[1] || b["clientCertificate"] != "none" {
			t.Errorf("backend %v: %v, want verified %v effective %v", b["name"], b, w[0], w[1])
		}
	}
	for _, line := range []string{"legacy-app", "insecure", "NO", "internal-api"} {
		if !strings.Contains(posture.Wait(), line) {
			t.Errorf("posture lacks %q:\n%s", line, posture.Wait())
		}
	}
}

// TestBadInputRegistersNothing: invalid input fails before any resource is registered.
func TestBadInputRegistersNothing(t *testing.T) {
	for name, mutate := range map[string]func(a *upstreamtls.Args){
		"production guardrail": func(a *upstreamtls.Args) { a.Environment = upstreamtls.EnvironmentProduction },
		"bad EKS health check": func(a *upstreamtls.Args) {
			*a = eksArgs()
			a.EKS.Targets[0].TargetGroup = &upstreamtls.TargetGroupArgs{HealthCheck: &upstreamtls.HealthCheckArgs{Protocol: "TLS"}}
		},
		"name collision": func(a *upstreamtls.Args) {
			a.Backends = append(a.Backends, upstreamtls.BackendArgs{Name: "web", Namespace: "apps", Service: &upstreamtls.ServiceArgs{Existing: true},
				TLS: upstreamtls.TLSArgs{Mode: upstreamtls.ModeCA, CA: &upstreamtls.CAArgs{ConfigMap: "internal-api-ca"}}})
		},
	} {
		t.Run(name, func(t *testing.T) {
			a := devArgs()
			mutate(&a)
			m, err := run(t, a, nil)
			if err == nil {
				t.Fatal("accepted")
			}
			if n := len(m.All()); n != 0 {
				t.Errorf("%d resources registered despite invalid input: %v", n, err)
			}
		})
	}
}

// TestEKS: the EKS path hangs under its own EksNlb component, the controller comes before
// anything that creates Services, and every NLB target is reported as unverified.
func TestEKS(t *testing.T) {
	var targets testutil.Await[[]map[string]any]
	m, err := run(t, eksArgs(), func(c *upstreamtls.UpstreamTls) { targets.Watch(c.NLBTargets) })
	if err != nil {
		t.Fatal(err)
	}
	dependsOn := func(r *testutil.Registered, typ, name string) bool {
		return slices.ContainsFunc(r.Deps, func(d string) bool { return strings.HasSuffix(d, typ+"::"+name) })
	}
	lbc := "env-eks-aws-load-balancer-controller"
	for _, name := range []string{"env-envoy-gateway-gateway-helm", "env-envoy-gateway-gateway-crds-helm", "service-apps-internal-api", "deployment-apps-internal-api", "tlsroute-gateway-nlb-internal-api", "gateway-gateway-upstream-tls-nlb"} {
		r := m.Named(name)
		if r == nil {
			t.Errorf("%s not registered", name)
		} else if !dependsOn(r, "kubernetes:helm.sh/v4:Chart", lbc) {
			t.Errorf("%s does not wait for the AWS Load Balancer Controller chart: %v", name, r.Deps)
		}
	}
	for _, name := range []string{"tlsroute-gateway-nlb-internal-api", "targetgroupconfiguration-apps-internal-api-nlb", "gatewayclass-aws-nlb", lbc} {
		r := m.Named(name)
		if r == nil {
			t.Errorf("%s not registered", name)
		} else if !strings.Contains(r.Parent, "$upstream-tls:index:EksNlb::") {
			t.Errorf("%s parent = %q, want the EksNlb component", name, r.Parent)
		}
	}
	ts := targets.Wait()
	if len(ts) != 1 || ts[0]["name"] != "internal-api" || ts[0]["verified"] != false {
		t.Errorf("nlbTargets = %v", ts)
	}
}

// TestClientCertificate: with a generated gateway client certificate, the Secret the Gateway
// references holds a client certificate its client CA ConfigMap verifies, with its key as a
// Pulumi secret, and every backend's clientCertificate output names that Secret.
func TestClientCertificate(t *testing.T) {
	args := devArgs()
	args.Gateway = &upstreamtls.GatewayArgs{BackendClientCertificate: &upstreamtls.ClientCertificateArgs{Generate: true}}
	args.Backends[1].Deploy = &upstreamtls.DeployArgs{VerifyClientCertificate: true}
	var backends testutil.Await[[]map[string]any]
	m, err := run(t, args, func(c *upstreamtls.UpstreamTls) { backends.Watch(c.Backends) })
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range backends.Wait() {
		if b["clientCertificate"] != "gateway/upstream-tls-client-tls" {
			t.Errorf("backend %v: clientCertificate %v", b["name"], b["clientCertificate"])
		}
	}
	secret := m.Find("kubernetes:core/v1:Secret", "secret-gateway-upstream-tls-client-tls")
	cm := m.Find("kubernetes:core/v1:ConfigMap", "configmap-apps-internal-api-client-ca")
	if secret == nil || cm == nil {
		t.Fatal("client certificate Secret or client CA ConfigMap not registered")
	}
	sd, isSecret := testutil.Plain(secret.Inputs["stringData"])
	if !isSecret {
		t.Error("client certificate Secret stringData is not secret")
	}
	ca, _ := testutil.Plain(cm.Inputs["data"])
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(ca.(map[string]any)["ca.crt"].(string))) {
		t.Fatal("client CA ConfigMap holds no CA")
	}
	blk, _ := pem.Decode([]byte(sd.(map[string]any)["tls.crt"].(string)))
	if blk == nil {
		t.Fatal("client certificate Secret holds no certificate")
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the client CA does not verify the gateway's client certificate for client auth: %v", err)
	}
}
