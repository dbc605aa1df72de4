package upstreamtls_test

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/components/certificate"
	"github.com/upstream-tls/upstream-tls/components/kubeobject"
	"github.com/upstream-tls/upstream-tls/components/manifest"
	"github.com/upstream-tls/upstream-tls/components/pki"
	"github.com/upstream-tls/upstream-tls/components/plan"
	"github.com/upstream-tls/upstream-tls/components/upstreamtls"
)

// registered is one resource the program registered with Pulumi's mock monitor.
type registered struct {
	Type, Name, Parent string
	Custom             bool
	Inputs             resource.PropertyMap
	Outputs            resource.PropertyMap
	Deps               []string
	Aliases            []string
}

// mocks records registrations. CertificateBundle resources get real generated material (the
// provider's job in a real run), so tests can verify the chain end to end.
type mocks struct {
	mu  sync.Mutex
	all []registered
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	out := args.Inputs.Copy()
	if args.TypeToken == certificate.Token {
		var names []string
		for _, v := range args.Inputs["dnsNames"].ArrayValue() {
			names = append(names, v.StringValue())
		}
		b, err := pki.Generate(pki.Request{
			CommonName: args.Inputs["commonName"].StringValue(),
			DNSNames:   names,
			WithCA:     args.Inputs["withCa"].BoolValue(),
		}, time.Now())
		if err != nil {
			return "", nil, err
		}
		out["caCertPem"] = resource.NewStringProperty(b.CACertPEM)
		out["certPem"] = resource.NewStringProperty(b.CertPEM)
		out["keyPem"] = resource.NewStringProperty(b.KeyPEM)
	}
	r := registered{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs, Outputs: out}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.Deps = rpc.GetDependencies()
		for _, a := range rpc.GetAliases() {
			if spec := a.GetSpec(); spec != nil {
				r.Aliases = append(r.Aliases, spec.GetName()+"|"+spec.GetParentUrn())
			} else {
				r.Aliases = append(r.Aliases, a.GetUrn())
			}
		}
	}
	m.mu.Lock()
	m.all = append(m.all, r)
	m.mu.Unlock()
	return args.Name + "-id", out, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return args.Args, nil
}

func (m *mocks) find(typ, name string) *registered {
	for i := range m.all {
		if m.all[i].Type == typ && m.all[i].Name == name {
			return &m.all[i]
		}
	}
	return nil
}

// plain unwraps secrets and outputs into plain Go values, and reports whether any was secret.
func plain(v resource.PropertyValue) (any, bool) {
	switch {
	case v.IsSecret():
		p, _ := plain(v.SecretValue().Element)
		return p, true
	case v.IsOutput():
		p, s := plain(v.OutputValue().Element)
		return p, s || v.OutputValue().Secret
	case v.IsObject():
		m := map[string]any{}
		secret := false
		for k, e := range v.ObjectValue() {
			p, s := plain(e)
			m[string(k)] = p
			secret = secret || s
		}
		return m, secret
	case v.IsArray():
		var a []any
		secret := false
		for _, e := range v.ArrayValue() {
			p, s := plain(e)
			a = append(a, p)
			secret = secret || s
		}
		return a, secret
	case v.IsNumber():
		return v.NumberValue(), false
	}
	return v.Mappable(), false
}

func devArgs() plan.Args {
	return plan.Args{
		Environment: plan.EnvironmentDev,
		Backends: []plan.BackendArgs{
			{Name: "public-api", Namespace: "apps", Deploy: &plan.DeployArgs{CertificateSecret: "public-tls"}, TLS: plan.TLSArgs{Mode: plan.ModeSystem, Hostname: "api.example.com"}},
			{Name: "internal-api", Namespace: "apps", TLS: plan.TLSArgs{Mode: plan.ModeCA, CA: &plan.CAArgs{Generate: true}}},
			{Name: "legacy-app", Namespace: "legacy", TLS: plan.TLSArgs{Mode: plan.ModeInsecure}},
		},
	}
}

// eksArgs is devArgs with the EKS path on: the NLB re-encrypts to internal-api.
func eksArgs() plan.Args {
	a := devArgs()
	a.EKS = &plan.EKSArgs{
		Enabled:     true,
		ClusterName: "dev",
		Gateway: &plan.NLBGatewayArgs{Listeners: []plan.NLBListenerArgs{{
			Name: "tls", Port: 443, Hostname: "internal.example.com",
			CertificateARN: "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
		}}},
		Targets: []plan.NLBTargetArgs{{Backend: "internal-api"}},
	}
	return a
}

func run(t *testing.T, a plan.Args) (*mocks, *upstreamtls.UpstreamTls, error) {
	t.Helper()
	m := &mocks{}
	var c *upstreamtls.UpstreamTls
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		var err error
		c, err = upstreamtls.New(ctx, "env", &a)
		return err
	}, pulumi.WithMocks("upstream-tls", "test", m))
	return m, c, err
}

// TestRegistersThePlan: every planned object is registered under its Kubernetes type token with
// exactly the fields `make render` writes, placeholders replaced by the certificate outputs.
func TestRegistersThePlan(t *testing.T) {
	t.Run("dev", func(t *testing.T) { checkRegistersThePlan(t, devArgs()) })
	t.Run("with EKS", func(t *testing.T) { checkRegistersThePlan(t, eksArgs()) })
}

func checkRegistersThePlan(t *testing.T, a plan.Args) {
	m, c, err := run(t, a)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Plan()
	certs := map[string]*registered{}
	for _, req := range p.AllCertificates() {
		r := m.find(certificate.Token, req.Name)
		if r == nil {
			t.Fatalf("certificate %s not registered", req.Name)
		}
		certs[req.Name] = r
	}
	var resolve func(v any) any
	resolve = func(v any) any {
		switch x := v.(type) {
		case string:
			if name, field, ok := plan.ParseComputed(x); ok {
				out := map[string]string{plan.FieldCACert: "caCertPem", plan.FieldCert: "certPem", plan.FieldKey: "keyPem"}[field]
				return certs[name].Outputs[resource.PropertyKey(out)].StringValue()
			}
		case map[string]any:
			for k, e := range x {
				x[k] = resolve(e)
			}
		case []any:
			for i, e := range x {
				x[i] = resolve(e)
			}
		}
		return v
	}
	for _, o := range p.AllObjects() {
		r := m.find(kubeobject.TypeToken(o), kubeobject.ResourceName(o))
		if r == nil {
			t.Errorf("%s not registered as %s %s", plan.ObjectKey(o), kubeobject.TypeToken(o), kubeobject.ResourceName(o))
			continue
		}
		want, err := manifest.ToMap(o)
		if err != nil {
			t.Fatal(err)
		}
		want = resolve(want).(map[string]any)
		got, secret := plain(resource.NewObjectProperty(r.Inputs))
		// JSON numbers are float64 on both sides.
		if !reflect.DeepEqual(normalise(got), normalise(want)) {
			t.Errorf("%s inputs differ from the plan\n got: %v\nwant: %v", plan.ObjectKey(o), got, want)
		}
		isSecret := o.GroupVersionKind().Kind == "Secret"
		if isSecret {
			sd := r.Inputs["stringData"]
			if !sd.IsSecret() && !(sd.IsOutput() && sd.OutputValue().Secret) {
				t.Errorf("%s stringData is not marked secret as a whole", plan.ObjectKey(o))
			}
		} else if secret {
			t.Errorf("%s has a secret input, but only Secrets should", plan.ObjectKey(o))
		}
	}
}

func normalise(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalise(e)
		}
	case []any:
		for i, e := range t {
			t[i] = normalise(e)
		}
	case int:
		return float64(t)
	}
	return v
}

// TestCRDAliasWithoutEKS: without the EKS path the Envoy Gateway component owns the Gateway API
// CRDs, aliased to their place under UpstreamTls (where the EKS path puts them).
func TestCRDAliasWithoutEKS(t *testing.T) {
	m, _, err := run(t, devArgs())
	if err != nil {
		t.Fatal(err)
	}
	r := m.find("kubernetes:yaml/v2:ConfigGroup", "env-envoy-gateway-gateway-api-crds")
	if r == nil {
		t.Fatal("Gateway API CRDs not registered")
	}
	if !strings.Contains(r.Parent, "$upstream-tls:index:EnvoyGateway::") {
		t.Errorf("parent = %s, want the EnvoyGateway component", r.Parent)
	}
	if !slices.ContainsFunc(r.Aliases, func(a string) bool {
		return strings.HasPrefix(a, "env-envoy-gateway-gateway-api-crds|") && strings.HasSuffix(a, "upstream-tls:index:UpstreamTls::env")
	}) {
		t.Errorf("aliases = %v, want the bundle's place under UpstreamTls", r.Aliases)
	}
}

// TestParents: every object hangs under the component that owns it.
func TestParents(t *testing.T) {
	m, _, err := run(t, devArgs())
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
		var r *registered
		for i := range m.all {
			if m.all[i].Name == name {
				r = &m.all[i]
			}
		}
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
	m, c, err := run(t, devArgs())
	if err != nil {
		t.Fatal(err)
	}
	cm := m.find("kubernetes:core/v1:ConfigMap", "configmap-apps-internal-api-ca")
	secret := m.find("kubernetes:core/v1:Secret", "secret-apps-internal-api-tls")
	if cm == nil || secret == nil {
		t.Fatal("CA ConfigMap or serving Secret not registered")
	}
	ca, _ := plain(cm.Inputs["data"])
	sd, isSecret := plain(secret.Inputs["stringData"])
	if !isSecret {
		t.Error("serving Secret stringData is not secret")
	}
	caPEM := ca.(map[string]any)["ca.crt"].(string)
	certPEM := sd.(map[string]any)["tls.crt"].(string)
	if err := pki.Verify(caPEM, certPEM, c.Plan().Backends[1].Hostname, time.Now()); err != nil {
		t.Errorf("the CA ConfigMap does not verify the serving certificate: %v", err)
	}
	key := m.find(certificate.Token, "backend-internal-api")
	if !strings.Contains(sd.(map[string]any)["tls.key"].(string), "PRIVATE KEY") || key == nil {
		t.Error("serving Secret holds no private key")
	}
}

// TestOutputs: the component reports each backend's mode and verification, and the posture.
func TestOutputs(t *testing.T) {
	var posture string
	var backends []map[string]any
	var wg sync.WaitGroup
	m := &mocks{}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		a := devArgs()
		c, err := upstreamtls.New(ctx, "env", &a)
		if err != nil {
			return err
		}
		wg.Add(2) // output callbacks may run after RunErr returns
		c.Posture.ApplyT(func(s string) string { m.mu.Lock(); posture = s; m.mu.Unlock(); wg.Done(); return s })
		c.Backends.ApplyT(func(bs []map[string]any) int { m.mu.Lock(); backends = bs; m.mu.Unlock(); wg.Done(); return 0 })
		return nil
	}, pulumi.WithMocks("upstream-tls", "test", m))
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(backends) != 3 {
		t.Fatalf("backends output has %d entries, want 3", len(backends))
	}
	want := map[string]bool{"public-api": true, "internal-api": true, "legacy-app": false}
	for _, b := range backends {
		if v, ok := want[b["name"].(string)]; !ok || b["verified"] != v {
			t.Errorf("backend %v: verified %v, want %v", b["name"], b["verified"], v)
		}
	}
	for _, line := range []string{"legacy-app", "insecure", "NO", "internal-api"} {
		if !strings.Contains(posture, line) {
			t.Errorf("posture lacks %q:\n%s", line, posture)
		}
	}
}

// TestBadInputRegistersNothing: invalid input fails before any resource is registered.
func TestBadInputRegistersNothing(t *testing.T) {
	a := devArgs()
	a.Environment = plan.EnvironmentProduction
	m, _, err := run(t, a)
	if err == nil || !strings.Contains(err.Error(), "backends[2].tls.mode") || !strings.Contains(err.Error(), "production") {
		t.Fatalf("error = %v, want the production guardrail on backends[2].tls.mode", err)
	}
	if len(m.all) != 0 {
		t.Errorf("%d resources registered despite invalid input, first %s %s", len(m.all), m.all[0].Type, m.all[0].Name)
	}
}

// TestEKS: the EKS path hangs under its own EksNlb component, the Gateway API CRDs are installed
// once (by the Envoy Gateway component, one owner) and the NLB waits for them, and the component
// reports every NLB target as unverified.
func TestEKS(t *testing.T) {
	var targets []map[string]any
	var wg sync.WaitGroup
	m := &mocks{}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		a := eksArgs()
		c, err := upstreamtls.New(ctx, "env", &a)
		if err != nil {
			return err
		}
		wg.Add(1) // output callbacks may run after RunErr returns
		c.NLBTargets.ApplyT(func(v []map[string]any) int { m.mu.Lock(); targets = v; m.mu.Unlock(); wg.Done(); return 0 })
		return nil
	}, pulumi.WithMocks("upstream-tls", "test", m))
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	var gatewayAPICRDs []*registered
	for i, r := range m.all {
		if r.Type == "kubernetes:yaml/v2:ConfigGroup" && strings.Contains(r.Name, "gateway-api") {
			gatewayAPICRDs = append(gatewayAPICRDs, &m.all[i])
		}
	}
	if len(gatewayAPICRDs) != 1 {
		t.Fatalf("Gateway API CRDs installed %d times, want once", len(gatewayAPICRDs))
	}
	// Owned by UpstreamTls with the EKS path on, aliased to its place under EnvoyGateway.
	crds := gatewayAPICRDs[0]
	if crds.Name != "env-envoy-gateway-gateway-api-crds" || !strings.HasSuffix(crds.Parent, "upstream-tls:index:UpstreamTls::env") {
		t.Errorf("Gateway API CRDs %s under %s", crds.Name, crds.Parent)
	}
	if !slices.ContainsFunc(crds.Aliases, func(a string) bool {
		return strings.HasSuffix(a, "|urn:pulumi:test::upstream-tls::upstream-tls:index:UpstreamTls$upstream-tls:index:EnvoyGateway::env-envoy-gateway")
	}) {
		t.Errorf("Gateway API CRDs aliases = %v, want their former place under the EnvoyGateway component", crds.Aliases)
	}
	// The controller before anything that creates Services; the NLB objects after it.
	dependsOn := func(r *registered, typ, name string) bool {
		return slices.ContainsFunc(r.Deps, func(d string) bool { return strings.HasSuffix(d, typ+"::"+name) })
	}
	lbc := "env-eks-aws-load-balancer-controller"
	for _, name := range []string{"env-envoy-gateway-gateway-helm", "env-envoy-gateway-gateway-crds-helm", "service-apps-internal-api", "deployment-apps-internal-api", "tlsroute-gateway-nlb-internal-api", "gateway-gateway-upstream-tls-nlb"} {
		var r *registered
		for i := range m.all {
			if m.all[i].Name == name {
				r = &m.all[i]
			}
		}
		if r == nil {
			t.Errorf("%s not registered", name)
		} else if !dependsOn(r, "kubernetes:helm.sh/v4:Chart", lbc) {
			t.Errorf("%s does not wait for the AWS Load Balancer Controller chart", name)
		}
	}
	for _, name := range []string{"tlsroute-gateway-nlb-internal-api", "targetgroupconfiguration-apps-internal-api-nlb", "gatewayclass-aws-nlb", "env-eks-aws-load-balancer-controller"} {
		var r *registered
		for i := range m.all {
			if m.all[i].Name == name {
				r = &m.all[i]
			}
		}
		if r == nil {
			t.Errorf("%s not registered", name)
		} else if !strings.Contains(r.Parent, "$upstream-tls:index:EksNlb::") {
			t.Errorf("%s parent = %q, want the EksNlb component", name, r.Parent)
		}
	}
	if len(targets) != 1 || targets[0]["name"] != "internal-api" || targets[0]["verified"] != false {
		t.Errorf("nlbTargets = %v", targets)
	}
}

// TestBadEKSInputRegistersNothing: an invalid EKS input fails before anything, AWS or
// Kubernetes, is registered.
func TestBadEKSInputRegistersNothing(t *testing.T) {
	a := eksArgs()
	a.EKS.Targets[0].TargetGroup = &plan.TargetGroupArgs{HealthCheck: &plan.HealthCheckArgs{Protocol: "TLS"}}
	m, _, err := run(t, a)
	if err == nil || !strings.Contains(err.Error(), "eks.targets[0].targetGroup.healthCheck.protocol") {
		t.Fatalf("error = %v, want the health-check protocol problem", err)
	}
	if len(m.all) != 0 {
		t.Errorf("%d resources registered despite invalid input, first %s %s", len(m.all), m.all[0].Type, m.all[0].Name)
	}
}
