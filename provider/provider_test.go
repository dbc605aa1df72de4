package provider_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/provider"
)

const bundleType = "upstream-tls:index:CertificateBundle"

func server(t *testing.T) integration.Server {
	t.Helper()
	prov, err := provider.New()
	if err != nil {
		t.Fatal(err)
	}
	s, err := integration.NewServer(context.Background(), provider.Name, semver.MustParse("0.1.0"), integration.WithProvider(prov))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func urn(name string) presource.URN {
	return presource.NewURN("test", "upstream-tls", "", bundleType, name)
}

func inputs(names ...string) property.Map {
	var dns []property.Value
	for _, n := range names {
		dns = append(dns, property.New(n))
	}
	return property.NewMap(map[string]property.Value{
		"commonName": property.New(names[0]),
		"dnsNames":   property.New(dns),
		"withCa":     property.New(true),
	})
}

// TestSchema: the schema serves the certificate resource (key secret) and the component.
func TestSchema(t *testing.T) {
	resp, err := server(t).GetSchema(p.GetSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Name      string `json:"name"`
		Resources map[string]struct {
			IsComponent bool `json:"isComponent"`
			Properties  map[string]struct {
				Secret bool `json:"secret"`
			} `json:"properties"`
			InputProperties map[string]any `json:"inputProperties"`
		} `json:"resources"`
	}
	if err := json.Unmarshal([]byte(resp.Schema), &schema); err != nil {
		t.Fatal(err)
	}
	if schema.Name != "upstream-tls" {
		t.Errorf("package name %q", schema.Name)
	}
	cb, ok := schema.Resources[bundleType]
	if !ok {
		t.Fatalf("schema lacks %s", bundleType)
	}
	if !cb.Properties["caKeyPem"].Secret {
		t.Error("caKeyPem is not secret in the schema")
	}
	if !cb.Properties["keyPem"].Secret {
		t.Error("keyPem is not a secret in the schema")
	}
	comp, ok := schema.Resources["upstream-tls:index:UpstreamTls"]
	if !ok || !comp.IsComponent {
		t.Fatal("schema lacks the UpstreamTls component")
	}
	for _, in := range []string{"environment", "backends", "gateway", "envoyGateway", "allowInsecureBackends", "eks"} {
		if _, ok := comp.InputProperties[in]; !ok {
			t.Errorf("UpstreamTls lacks input %s", in)
		}
	}
	if _, ok := comp.Properties["-"]; ok {
		t.Error(`the component has a property named "-": a Go field tagged pulumi:"-" leaked into the schema`)
	}
	for _, out := range []string{"nlbTargets", "nlbAddress", "posture", "backends"} {
		if _, ok := comp.Properties[out]; !ok {
			t.Errorf("UpstreamTls lacks output %s", out)
		}
	}
	// The EKS inputs reach every SDK: the nested types carry the fields users set.
	var full struct {
		Types map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"types"`
	}
	if err := json.Unmarshal([]byte(resp.Schema), &full); err != nil {
		t.Fatal(err)
	}
	for typ, fields := range map[string][]string{
		"upstream-tls:index:Eks":         {"enabled", "clusterName", "identity", "controller", "gateway", "targets"},
		"upstream-tls:index:NlbListener": {"certificateArn", "protocol", "port"},
		"upstream-tls:index:TargetGroup": {"protocol", "targetType", "healthCheck", "namespace"},
	} {
		tt, ok := full.Types[typ]
		if !ok {
			var names []string
			for n := range full.Types {
				names = append(names, n)
			}
			t.Errorf("schema lacks type %s (types: %v)", typ, names)
			continue
		}
		for _, f := range fields {
			if _, ok := tt.Properties[f]; !ok {
				t.Errorf("%s lacks property %s", typ, f)
			}
		}
	}
}

// TestCreate: a real create returns a CA that verifies the leaf for its first DNS name and a
// key; a preview returns no material.
func TestCreate(t *testing.T) {
	s := server(t)
	resp, err := s.Create(p.CreateRequest{Urn: urn("api"), Properties: inputs("api.apps.svc", "api.apps.svc.cluster.local")})
	if err != nil {
		t.Fatal(err)
	}
	get := func(k string) property.Value { return resp.Properties.Get(k) }
	// keyPem is secret in the schema (TestSchema); SDKs, including components/certificate,
	// register it as an additional secret output, so the engine encrypts it in state.
	if get("keyPem").AsString() == "" {
		t.Error("no private key returned")
	}
	if err := pki.Verify(get("caCertPem").AsString(), get("certPem").AsString(), "api.apps.svc", time.Now()); err != nil {
		t.Errorf("generated CA does not verify the leaf: %v", err)
	}

	preview, err := s.Create(p.CreateRequest{Urn: urn("api"), Properties: inputs("api.apps.svc"), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if v := preview.Properties.Get("certPem"); v.IsString() && v.AsString() != "" {
		t.Error("preview generated a certificate")
	}
}

// TestDiffReplaces: changing the names replaces the bundle; the same inputs change nothing.
func TestDiffReplaces(t *testing.T) {
	s := server(t)
	created, err := s.Create(p.CreateRequest{Urn: urn("api"), Properties: inputs("api.apps.svc")})
	if err != nil {
		t.Fatal(err)
	}
	same, err := s.Diff(p.DiffRequest{ID: "api", Urn: urn("api"), State: created.Properties, OldInputs: inputs("api.apps.svc"), Inputs: inputs("api.apps.svc")})
	if err != nil {
		t.Fatal(err)
	}
	if same.HasChanges {
		t.Errorf("identical inputs report changes: %+v", same.DetailedDiff)
	}
	changed, err := s.Diff(p.DiffRequest{ID: "api", Urn: urn("api"), State: created.Properties, OldInputs: inputs("api.apps.svc"), Inputs: inputs("other.apps.svc")})
	if err != nil {
		t.Fatal(err)
	}
	replace := false
	for _, d := range changed.DetailedDiff {
		if d.Kind == p.UpdateReplace || d.Kind == p.AddReplace || d.Kind == p.DeleteReplace {
			replace = true
		}
	}
	if !changed.HasChanges || !replace {
		t.Errorf("changing dnsNames does not replace the bundle: %+v", changed)
	}
}

// TestNotAfterIsTheCertificates: the published expiry is the leaf's own notAfter (it used to be
// five minutes late).
func TestNotAfterIsTheCertificates(t *testing.T) {
	resp, err := server(t).Create(p.CreateRequest{Urn: urn("api"), Properties: inputs("api.apps.svc")})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(resp.Properties.Get("certPem").AsString()))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.Properties.Get("notAfter").AsString(), cert.NotAfter.UTC().Format(time.RFC3339); got != want {
		t.Errorf("notAfter output %s, certificate notAfter %s", got, want)
	}
}

// TestUsage: without a usage the state holds none (so bundles created before usages existed
// keep their inputs and state, and never replace); usage client issues a clientAuth leaf; an
// unknown usage is refused at check.
func TestUsage(t *testing.T) {
	s := server(t)
	created, err := s.Create(p.CreateRequest{Urn: urn("api"), Properties: inputs("api.apps.svc")})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := created.Properties.GetOk("usage"); ok {
		t.Errorf("a server bundle's state holds usage %v", created.Properties.Get("usage"))
	}
	client := inputs("gateway.example.com").Set("usage", property.New("client"))
	resp, err := s.Create(p.CreateRequest{Urn: urn("client"), Properties: client})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(resp.Properties.Get("certPem").AsString()))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("client usage issued %v", cert.ExtKeyUsage)
	}
	check, err := s.Check(p.CheckRequest{Urn: urn("bad"), Inputs: inputs("a.example.com").Set("usage", property.New("both"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(check.Failures) != 1 || check.Failures[0].Property != "usage" {
		t.Errorf("unknown usage not refused: %+v", check.Failures)
	}
}

// TestSchemaJSONUpToDate: the committed schema.json is what the provider serves (`make
// generate` rewrites it; the SDKs are generated from it).
func TestSchemaJSONUpToDate(t *testing.T) {
	got, err := provider.Schema()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("cmd/pulumi-resource-upstream-tls/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if got+"\n" != string(want) {
		t.Error("provider/cmd/pulumi-resource-upstream-tls/schema.json is out of date: run `make generate` and commit the result")
	}
}

// TestSchemaContract: every input and output of the component and every property of every
// type carries a description; constant defaults are published; type tokens and language
// package names read well (no BackendArgsArgs, no UpstreamTls.UpstreamTls, no
// upstream_tls_upstream_tls).
func TestSchemaContract(t *testing.T) {
	raw, err := provider.Schema()
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Language  map[string]map[string]any `json:"language"`
		Resources map[string]struct {
			Description     string                    `json:"description"`
			InputProperties map[string]map[string]any `json:"inputProperties"`
			Properties      map[string]map[string]any `json:"properties"`
		} `json:"resources"`
		Types map[string]struct {
			Description string                    `json:"description"`
			Properties  map[string]map[string]any `json:"properties"`
		} `json:"types"`
	}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatal(err)
	}
	for tok, r := range s.Resources {
		if r.Description == "" {
			t.Errorf("%s has no description", tok)
		}
		for _, props := range []map[string]map[string]any{r.InputProperties, r.Properties} {
			for name, p := range props {
				if p["description"] == nil || p["description"] == "" {
					t.Errorf("%s.%s has no description", tok, name)
				}
			}
		}
	}
	for tok, ty := range s.Types {
		if strings.HasSuffix(tok, "Args") {
			t.Errorf("type token %s ends in Args (the SDKs would say %sArgs)", tok, tok)
		}
		if ty.Description == "" {
			t.Errorf("%s has no description", tok)
		}
		for name, p := range ty.Properties {
			if p["description"] == nil || p["description"] == "" {
				t.Errorf("%s.%s has no description", tok, name)
			}
		}
	}
	comp := s.Resources["upstream-tls:index:UpstreamTls"]
	if comp.InputProperties["environment"]["default"] != "dev" {
		t.Errorf("environment default = %v", comp.InputProperties["environment"]["default"])
	}
	if d := s.Types["upstream-tls:index:EnvoyGateway"].Properties["namespace"]["default"]; d != "envoy-gateway-system" {
		t.Errorf("envoyGateway.namespace default = %v", d)
	}
	if d := s.Types["upstream-tls:index:ServicePort"].Properties["targetPort"]["default"]; d != float64(8443) {
		t.Errorf("targetPort default = %v", d)
	}
	cs := s.Language["csharp"]
	if cs["rootNamespace"] != "Pulumi" || cs["namespaces"].(map[string]any)["upstream-tls"] != "UpstreamTls" {
		t.Errorf("C# namespace settings = %v", cs)
	}
	if s.Language["python"]["packageName"] != "upstream_tls" || s.Language["nodejs"]["packageName"] != "@upstream-tls/upstream-tls" {
		t.Errorf("python/nodejs package names = %v / %v", s.Language["python"]["packageName"], s.Language["nodejs"]["packageName"])
	}
}
