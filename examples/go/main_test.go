package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

type mocks struct {
	mu    sync.Mutex
	types []string
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	m.types = append(m.types, args.TypeToken+" "+args.Name)
	m.mu.Unlock()
	out := args.Inputs.Copy()
	if args.TypeToken == "upstream-tls:index:CertificateBundle" {
		for _, k := range []string{"caCertPem", "certPem", "keyPem"} {
			out[resource.PropertyKey(k)] = resource.NewStringProperty("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n")
		}
	}
	return args.Name + "-id", out, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) { return args.Args, nil }

// TestComposes: the component composes into this module's stack (it builds against the
// library's Go API) and registers its children and the stack's own ConfigMap.
func TestComposes(t *testing.T) {
	m := &mocks{}
	if err := pulumi.RunErr(Stack, pulumi.WithMocks("platform", "dev", m)); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(m.types, "\n")
	for _, want := range []string{
		"upstream-tls:index:UpstreamTls platform",
		"kubernetes:gateway.networking.k8s.io/v1:BackendTLSPolicy backendtlspolicy-apps-internal-api-https",
		"kubernetes:gateway.envoyproxy.io/v1alpha1:Backend backend-legacy-legacy-app",
		"kubernetes:core/v1:ConfigMap upstream-tls-posture",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("not registered: %s", want)
		}
	}
}
