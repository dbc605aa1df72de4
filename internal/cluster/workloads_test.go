package cluster

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// egModuleDir is the pinned Envoy Gateway module in the module cache.
func egModuleDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/envoyproxy/gateway").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("go list -m github.com/envoyproxy/gateway: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestRewriteBootstrap moves the bootstrap Envoy Gateway renders into its proxy Deployment (its
// own test fixture, from the pinned module) onto this host: the xDS cluster to the
// controller's listener, the admin and stats listeners to free loopback ports (the stats
// listener's cluster following the admin port), and the service network's DNS resolver; the
// rest is unchanged.
func TestRewriteBootstrap(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(egModuleDir(t), "internal/infrastructure/kubernetes/proxy/testdata/deployments/default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := yaml.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	c := proxyContainer(&d)
	if c == nil {
		t.Fatal("Envoy Gateway's proxy Deployment fixture is not recognised as a proxy")
	}
	var bootstrap string
	for i, a := range c.Args {
		if a == "--config-yaml" {
			bootstrap = c.Args[i+1]
		}
	}
	ports, taken := map[string]int{}, map[string]int{}
	out, err := rewriteBootstrap(bootstrap, "127.0.0.1:41000", "127.0.0.1:41001", ports, taken)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := yaml.Unmarshal([]byte(out), &b); err != nil {
		t.Fatal(err)
	}
	admin := ports["admin"]
	if admin == 0 || admin == 19000 {
		t.Fatalf("admin port %d, want a free port (ports %v)", admin, ports)
	}
	get := func(v any, path ...any) any {
		for _, p := range path {
			switch k := p.(type) {
			case string:
				v = v.(map[string]any)[k]
			case int:
				v = v.([]any)[k]
			}
		}
		return v
	}
	if a := get(b, "admin", "address", "socket_address"); a.(map[string]any)["port_value"].(float64) != float64(admin) {
		t.Errorf("admin address %v, want port %d", a, admin)
	}
	clusters := get(b, "static_resources", "clusters").([]any)
	sawXDS := false
	for _, c := range clusters {
		cm := c.(map[string]any)
		if cm["load_assignment"] == nil {
			continue // (an EDS cluster)
		}
		sa := get(cm, "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address").(map[string]any)
		switch cm["name"] {
		case "xds_cluster":
			sawXDS = true
			if sa["address"] != "127.0.0.1" || sa["port_value"].(float64) != 41000 {
				t.Errorf("xds_cluster endpoint %v, want 127.0.0.1:41000", sa)
			}
		case "prometheus_stats":
			if sa["port_value"].(float64) != float64(admin) {
				t.Errorf("prometheus_stats endpoint %v, want the admin port %d", sa, admin)
			}
		}
	}
	if !sawXDS {
		t.Error("no xds_cluster in the rewritten bootstrap")
	}
	for _, l := range get(b, "static_resources", "listeners").([]any) {
		sa := get(l, "address", "socket_address").(map[string]any)
		if sa["address"] != "127.0.0.1" || sa["port_value"].(float64) == 19001 {
			t.Errorf("static listener %v still on its pod address", sa)
		}
	}
	if r := get(b, "typed_dns_resolver_config", "typed_config", "resolvers", 0, "socket_address").(map[string]any); r["port_value"].(float64) != 41001 {
		t.Errorf("DNS resolver %v, want 127.0.0.1:41001", r)
	}
	if !strings.Contains(out, "/sds/xds-certificate.json") {
		t.Error("the SDS paths went missing (they are moved by the caller, not here)")
	}
}

// TestServiceNetDNS: the service network answers a Service's FQDN with its address (a real
// resolver asks it), and any other name with NXDOMAIN.
func TestServiceNetDNS(t *testing.T) {
	s, err := startServiceNet(t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	ip := s.address("legacy-app", "legacy")
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", s.DNSAddr())
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := r.LookupIP(ctx, "ip4", "legacy-app.legacy.svc.cluster.local.")
	if err != nil || len(got) != 1 || !got[0].Equal(ip) {
		t.Errorf("legacy-app.legacy.svc.cluster.local: %v %v, want %s", got, err, ip)
	}
	if got, err := r.LookupIP(ctx, "ip4", "other.legacy.svc.cluster.local."); err == nil {
		t.Errorf("an unknown Service resolved to %v", got)
	}
	if ip2 := s.address("internal-api", "apps"); ip2.Equal(ip) {
		t.Errorf("two Services got the same address %s", ip)
	}
}
