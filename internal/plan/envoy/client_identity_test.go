package envoy

import (
	"strings"
	"testing"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// plannedPath plans backends behind a Gateway with a generated client certificate, the way the
// real plan does, and returns every object and the path.
func plannedPath(t *testing.T, bs ...spec.BackendArgs) (Path, *spec.Args, []core.Object) {
	t.Helper()
	on := true
	a := &spec.Args{
		EnvoyGateway: &spec.EnvoyGatewayArgs{GatewayClassName: "eg", Namespace: "eg", Version: "v1.9.1", Install: &on},
		Gateway: &spec.GatewayArgs{Name: "gw", Namespace: "gw", Listeners: []spec.ListenerArgs{{Name: "http", Protocol: "HTTP", Port: 80}},
			BackendClientCertificate: &spec.ClientCertificateArgs{Generate: true}},
		Backends: bs,
	}
	p := Plan(a, Deps{})
	return p, a, p.Objects()
}

// TestClientCertificateFollowsTheObjects: which certificate the posture says the gateway
// presents comes from the planned Gateway and Backend, not from the configuration: removing the
// Gateway's clientCertificateRef makes it none and the plan refuses the backend; a plain-text
// backend gets none whatever the Gateway says; a Backend's own ref overrides the Gateway's.
func TestClientCertificateFollowsTheObjects(t *testing.T) {
	insecure := ca("legacy")
	insecure.TLS = spec.TLSArgs{Mode: spec.ModeInsecure, Hostname: "legacy.apps.svc", ClientCertificate: &spec.ClientCertificateArgs{Secret: "legacy-client"}}
	p, a, objects := plannedPath(t, ca("api"), insecure)
	var problems core.Problems
	p.DerivePostures(a, objects, &problems)
	if problems.Len() != 0 {
		t.Fatalf("valid plan refused: %v", problems.Err())
	}
	if got := p.Backends[0].ClientCertificate; got != "gw/gw-client-tls" {
		t.Errorf("ca backend behind the Gateway's generated certificate: client certificate %q", got)
	}
	if got := p.Backends[1].ClientCertificate; got != "apps/legacy-client" {
		t.Errorf("insecure backend with its own Secret: client certificate %q, want the Backend's", got)
	}

	// The Gateway loses its clientCertificateRef.
	for _, o := range objects {
		if g, ok := o.Resource.(*gwapiv1.Gateway); ok {
			g.Spec.TLS = nil
		}
	}
	problems = core.Problems{}
	p.DerivePostures(a, objects, &problems)
	if got := p.Backends[0].Posture.ClientCertificate; got != NoClientCertificate {
		t.Errorf("without the Gateway's ref the posture says %q", got)
	}
	if err := problems.Err(); err == nil || !strings.Contains(err.Error(), `backend "api" would be presented the client certificate none`) {
		t.Errorf("the plan did not refuse the mismatch: %v", err)
	}
	if got := p.Backends[1].Posture.ClientCertificate; got != "apps/legacy-client" {
		t.Errorf("the Backend's own ref does not depend on the Gateway, got %q", got)
	}

	// The Backend loses its own ref too.
	for _, o := range objects {
		if be, ok := o.Resource.(*egv1a1.Backend); ok {
			be.Spec.TLS.BackendTLSConfig = nil
		}
	}
	p.DerivePostures(a, objects, &core.Problems{})
	if got := p.Backends[1].Posture.ClientCertificate; got != NoClientCertificate {
		t.Errorf("without any ref the insecure backend's posture says %q", got)
	}

	// A plain-text backend (its policy gone) is presented nothing.
	var kept []core.Object
	for _, o := range objects {
		if _, ok := o.Resource.(*gwapiv1.BackendTLSPolicy); !ok {
			kept = append(kept, o)
		}
	}
	_, _, fresh := plannedPath(t, ca("api"))
	for _, o := range fresh {
		if _, ok := o.Resource.(*gwapiv1.Gateway); ok {
			kept = append(kept, o)
		}
	}
	if got := Derive(route(p.Backends[0]), kept, nil); got.Effective.Encrypted() || got.ClientCertificate != NoClientCertificate {
		t.Errorf("plain-text backend derives %+v", got)
	}
}

// TestVerifyingWorkloadTrustsTheClientCA: a deployed backend with verifyClientCertificate
// mounts a ConfigMap whose ca.crt is bound to the CA of the certificate the gateway presents to
// it (its own generated one, else the Gateway's).
func TestVerifyingWorkloadTrustsTheClientCA(t *testing.T) {
	deployed := func(name string, mode spec.Mode, own bool) spec.BackendArgs {
		b := ca(name)
		b.Service = &spec.ServiceArgs{Name: name, Ports: []spec.PortArgs{{Name: "https", Port: 443, TargetPort: 8443}}}
		b.Deploy = &spec.DeployArgs{Image: "example.com/echo:1", Replicas: 1, VerifyClientCertificate: true}
		b.TLS = spec.TLSArgs{Mode: mode, Hostname: name + ".apps.svc"}
		if mode == spec.ModeCA {
			b.TLS.CA = &spec.CAArgs{Generate: true}
		}
		if own {
			b.TLS.ClientCertificate = &spec.ClientCertificateArgs{Generate: true}
		}
		return b
	}
	p, _, _ := plannedPath(t, deployed("api", spec.ModeCA, false), deployed("legacy", spec.ModeInsecure, true))
	for i, want := range []string{GatewayClientCert, "client-legacy"} {
		found := false
		for _, o := range p.Backends[i].Objects {
			if o.Kind() == core.KindConfigMap && strings.HasSuffix(o.Name(), "-client-ca") {
				found = true
				if len(o.Computed) != 1 || !strings.Contains(o.Computed[0].Ref.String(), want+"/caCert") {
					t.Errorf("%s: client CA ConfigMap bound to %+v, want %s's CA", p.Backends[i].Name, o.Computed, want)
				}
			}
		}
		if !found || !p.Backends[i].VerifiesClientCertificate {
			t.Errorf("%s: no client CA ConfigMap planned (verifies=%v)", p.Backends[i].Name, p.Backends[i].VerifiesClientCertificate)
		}
	}
}
