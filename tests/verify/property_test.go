package verify_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/upstream-tls/upstream-tls/internal/pki"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
	"github.com/upstream-tls/upstream-tls/internal/spec"
	"github.com/upstream-tls/upstream-tls/internal/verify"
)

// propertyConfigs is how many generated configurations the posture property test checks:
// UPSTREAM_TLS_POSTURE_CONFIGS when set (make fuzz-posture sets a large number), else 200.
func propertyConfigs(t *testing.T) int {
	if v := os.Getenv("UPSTREAM_TLS_POSTURE_CONFIGS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("UPSTREAM_TLS_POSTURE_CONFIGS=%q is not a positive number", v)
		}
		return n
	}
	return 200
}

// port is one (name, number) pair; a name always has the same number, so backends sharing an
// existing Service agree on its ports.
type port struct {
	name   string
	number int
}

var portPool = []port{{"https", 443}, {"alt", 8443}, {"http", 80}}

// generate returns configuration i of seed: one Gateway in its own namespace, and 1-4 backends
// drawn so that the risky shapes of upstream TLS come up often: routes to ports outside
// tls.ports, several backends on one existing Service, every mode behind both route kinds,
// cross-namespace backends, host names on and off listeners. Every name is suffixed with i so
// that many configurations translate together.
func generate(r *rand.Rand, i int) spec.Args {
	sfx := strconv.Itoa(i)
	gwNS := "g" + sfx
	on := true
	a := spec.Args{
		EnvoyGateway: &spec.EnvoyGatewayArgs{GatewayClassName: "eg", Install: &on},
		Gateway: &spec.GatewayArgs{Name: "gw", Namespace: gwNS, Listeners: []spec.ListenerArgs{
			{Name: "http", Protocol: "HTTP", Port: 80},
			{Name: "https", Protocol: "HTTPS", Port: 443, Hostname: "*.example.com"},
		}},
	}
	namespaces := []string{"a" + sfx, "b" + sfx, gwNS}
	for j := range 1 + r.IntN(4) {
		name := fmt.Sprintf("be%d", j)
		b := spec.BackendArgs{Name: name, Namespace: namespaces[r.IntN(len(namespaces))], Service: &spec.ServiceArgs{}, Deploy: &spec.DeployArgs{}, Route: &spec.RouteArgs{}}
		b.Service.Existing = r.IntN(2) == 0
		if b.Service.Existing && r.IntN(3) == 0 {
			b.Service.Name = "shared"
		}
		perm := r.Perm(len(portPool))[:1+r.IntN(len(portPool))]
		slices.Sort(perm)
		for _, k := range perm {
			b.Service.Ports = append(b.Service.Ports, spec.PortArgs{Name: portPool[k].name, Port: portPool[k].number, TargetPort: 8443 + k})
		}
		if r.IntN(2) == 0 {
			for _, p := range b.Service.Ports {
				if r.IntN(2) == 0 {
					b.TLS.Ports = append(b.TLS.Ports, p.Name)
				}
			}
		}
		if r.IntN(2) == 0 {
			b.Route.Port = b.Service.Ports[r.IntN(len(b.Service.Ports))].Name
		}
		if r.IntN(5) == 0 {
			b.Route.Kind = spec.RouteKindGRPC
		}
		if r.IntN(2) == 0 {
			b.Route.Listener = "https"
			b.Route.Hostnames = []string{name + sfx + ".example.com"}
		}
		switch r.IntN(3) {
		case 0:
			b.TLS.Mode = spec.ModeSystem
			b.TLS.Hostname = name + ".example.com"
			if !b.Service.Existing {
				b.Deploy.CertificateSecret = name + "-public"
			}
		case 1:
			b.TLS.Mode = spec.ModeCA
			if b.Service.Existing && r.IntN(2) == 0 {
				b.TLS.CA = &spec.CAArgs{Secret: name + "-ca"}
			} else if b.Service.Existing {
				b.TLS.CA = &spec.CAArgs{ConfigMap: name + "-ca"}
			} else {
				b.TLS.CA = &spec.CAArgs{Generate: true}
			}
		default:
			b.TLS.Mode = spec.ModeInsecure
			b.TLS.Ports = nil
		}
		a.Backends = append(a.Backends, b)
	}
	return a
}

// clusterObjects are what the cluster holds besides the plan and the translator must see: the
// existing Services (with the ports the configuration lists) and the existing CA ConfigMaps and
// Secrets.
func clusterObjects(t *testing.T, a spec.Args, ca *pki.Bundle, ip *int) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, b := range plan.WithDefaults(a).Backends {
		if !b.Service.Existing {
			continue
		}
		key := core.Key(core.KindService, b.Namespace, b.Service.Name)
		svc := out[key]
		if svc == nil {
			*ip++
			svc = map[string]any{"apiVersion": "v1", "kind": "Service",
				"metadata": map[string]any{"name": b.Service.Name, "namespace": b.Namespace},
				"spec":     map[string]any{"clusterIP": fmt.Sprintf("10.97.%d.%d", *ip/250, 1+*ip%250), "ports": []any{}}}
			out[key] = svc
		}
		spec := svc["spec"].(map[string]any)
		for _, p := range b.Service.Ports {
			ports := spec["ports"].([]any)
			if !slices.ContainsFunc(ports, func(e any) bool { return e.(map[string]any)["name"] == p.Name }) {
				spec["ports"] = append(ports, map[string]any{"name": p.Name, "port": p.Port, "protocol": "TCP", "targetPort": p.TargetPort})
			}
		}
		if b.TLS.CA != nil && b.TLS.CA.ConfigMap != "" {
			out[core.Key(core.KindConfigMap, b.Namespace, b.TLS.CA.ConfigMap)] = map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": b.TLS.CA.ConfigMap, "namespace": b.Namespace},
				"data":     map[string]any{core.CAKey: ca.CACertPEM}}
		}
		if b.TLS.CA != nil && b.TLS.CA.Secret != "" {
			out[core.Key(core.KindSecret, b.Namespace, b.TLS.CA.Secret)] = map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
				"metadata": map[string]any{"name": b.TLS.CA.Secret, "namespace": b.Namespace},
				"data":     map[string]any{core.CAKey: base64.StdEncoding.EncodeToString([]byte(ca.CACertPEM))}}
		}
	}
	return out
}

// TestPostureMatchesTheTranslator: on generated configurations (a fixed seed set in make test;
// make fuzz-posture runs more), the posture the plan derives from its objects is what Envoy
// Gateway's translator configures, backend by backend: the same effective upstream TLS and
// the same SNI; where the plan sees two policies on one port, the translator marks one
// Conflicted. This holds for the configurations the plan accepts and for those it refuses
// (planned without refusing, BuildUnchecked), and the plan accepts none whose derived posture
// is not what its mode declares, so no accepted backend is reached in plain text, or with
// another backend's policy, while the posture says otherwise.
func TestPostureMatchesTheTranslator(t *testing.T) {
	n := propertyConfigs(t)
	r := rand.New(rand.NewPCG(20261201, 9))
	now := time.Now()
	ca, err := pki.Generate(pki.Request{CommonName: "cluster-ca", DNSNames: []string{"ca"}, WithCA: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		args     spec.Args
		p        *plan.Plan
		refused  error
		in       *verify.Input
		accepted bool
	}
	var all []entry
	stats := map[string]int{}
	ip := 0
	for i := range n {
		a := generate(r, i)
		e := entry{args: a}
		strict, err := plan.Build(a)
		e.accepted = err == nil
		e.refused = err
		e.p, _ = plan.BuildUnchecked(a, plan.Options{Now: now})
		if e.accepted {
			e.p = strict
		}
		if e.in, err = verify.BuildInput(e.p, now); err != nil {
			t.Fatalf("config %d: %v", i, err)
		}
		for k, o := range clusterObjects(t, a, ca, &ip) {
			e.in.Objects[k] = o
		}
		all = append(all, e)
		if e.accepted {
			stats["accepted"]++
		} else {
			stats["refused"]++
		}
	}

	// Translate in batches: every configuration has its own namespaces, so they do not meet.
	const batch = 25
	for start := 0; start < len(all); start += batch {
		end := min(start+batch, len(all))
		out := translate(t, all[start:end], func(e entry) *verify.Input { return e.in })
		for i := start; i < end; i++ {
			e := all[i]
			rep, err := verify.Derive(e.p, e.in, out)
			if err != nil {
				t.Fatal(err)
			}
			for k, res := range rep.Results {
				be := e.p.Envoy.Backends[k]
				derived := be.Posture
				stats["backend "+string(derived.Effective)]++
				mode, _ := envoy.ModeOf(be.Mode)
				if e.accepted && derived.Effective != mode.Expected() {
					t.Errorf("config %d accepted, but backend %s in mode %s derives %s (%s)", i, be.Name, be.Mode, derived.Effective, derived.Via)
				}
				if !e.accepted && derived.Effective != mode.Expected() && e.refused == nil {
					t.Errorf("config %d: backend %s derives %s and the plan does not refuse it", i, be.Name, derived.Effective)
				}
				switch derived.Effective {
				case core.EffectiveConflict:
					if !conflicted(out, be.Namespace) {
						t.Errorf("config %d: the plan derives a conflict for %s (%s), but the translator marks no policy in %s Conflicted\n%s", i, be.Name, derived.Via, be.Namespace, yamlOf(e.args))
					}
				default:
					got := res.Effective
					if got == core.EffectiveOtherCA && derived.Effective == core.EffectiveCA && !e.accepted {
						got = core.EffectiveCA
					}
					if got != derived.Effective {
						t.Errorf("config %d backend %s (mode %s): the translator configures %s, the plan derives %s (%s)\n%s", i, be.Name, be.Mode, res.Effective, derived.Effective, derived.Via, yamlOf(e.args))
					} else if derived.Effective.Encrypted() && res.SNI != derived.SNI {
						t.Errorf("config %d backend %s: translator SNI %q, derived %q", i, be.Name, res.SNI, derived.SNI)
					}
				}
			}
		}
	}
	t.Logf("%d configurations: %v", n, stats)
	// The generator must keep producing the shapes this test is about.
	for _, k := range []string{"accepted", "refused", "backend plaintext", "backend conflict", "backend ca", "backend system", "backend insecure"} {
		if n >= 200 && stats[k] == 0 {
			t.Errorf("the generator produced no %q case in %d configurations", k, n)
		}
	}
}

// translate runs egctl-verify once over the inputs of entries, merged (a GatewayClass shared by
// several configurations is sent once).
func translate[E any](t *testing.T, entries []E, input func(E) *verify.Input) *verify.Output {
	t.Helper()
	seen := map[string]bool{}
	var docs []string
	for _, e := range entries {
		in := input(e)
		keys := make([]string, 0, len(in.Objects))
		for k := range in.Objects {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if seen[k] {
				continue
			}
			seen[k] = true
			y, err := yaml.Marshal(in.Objects[k])
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(y))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := verify.Translate(ctx, egctl, &verify.Input{YAML: []byte(strings.Join(docs, "---\n")), EnableBackend: true})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// conflicted reports whether the translator marks a BackendTLSPolicy in namespace ns
// Accepted=False with reason Conflicted.
func conflicted(out *verify.Output, ns string) bool {
	for _, r := range out.BackendTLSPolicies {
		if r.Metadata.Namespace != ns {
			continue
		}
		for _, a := range r.Status.Ancestors {
			for _, c := range a.Conditions {
				if c.Type == "Accepted" && c.Status == "False" && c.Reason == "Conflicted" {
					return true
				}
			}
		}
	}
	return false
}

func yamlOf(a spec.Args) string {
	y, _ := yaml.Marshal(a)
	return string(y)
}
