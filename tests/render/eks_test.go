package render_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/upstream-tls/upstream-tls/internal/lbc/iam"
)

// TestEKSStack: `make render STACK=eks` writes, without AWS credentials or a cluster, the NLB
// GatewayClass, a Gateway with a TLS listener, a LoadBalancerConfiguration carrying that
// listener's certificate ARN, a route to the Service and a TargetGroupConfiguration with
// protocol TLS and a non-TLS health check, plus the controller's install and IAM policy.
func TestEKSStack(t *testing.T) {
	dir, out, err := render(t, "Pulumi.eks.yaml")
	if err != nil {
		t.Fatalf("render failed: %v\n%s", err, out)
	}
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	if len(env) > 0 {
		t.Logf("note: AWS variables are set (%v); the render never reads them", env)
	}

	// GatewayClass for the NLB controller.
	gcs, _ := filepath.Glob(filepath.Join(dir, "gatewayclass-*.yaml"))
	var nlbClass string
	for _, f := range gcs {
		gc := load(t, dir, filepath.Base(f))
		if get(t, gc, "spec", "controllerName") == "gateway.k8s.aws/nlb" {
			nlbClass = get(t, gc, "metadata", "name").(string)
		}
	}
	if nlbClass == "" {
		t.Fatalf("no GatewayClass with controllerName gateway.k8s.aws/nlb among %v", gcs)
	}

	// The Gateway of that class with a TLS listener, parameterised by a LoadBalancerConfiguration.
	var gw map[string]any
	gws, _ := filepath.Glob(filepath.Join(dir, "gateway-*.yaml"))
	for _, f := range gws {
		g := load(t, dir, filepath.Base(f))
		if get(t, g, "spec", "gatewayClassName") == nlbClass {
			gw = g
		}
	}
	if gw == nil {
		t.Fatalf("no Gateway of class %s", nlbClass)
	}
	ns := get(t, gw, "metadata", "namespace").(string)
	listener := get(t, gw, "spec", "listeners", 0).(map[string]any)
	if listener["protocol"] != "TLS" || get(t, listener, "tls", "mode") != "Terminate" {
		t.Fatalf("NLB Gateway listener = %v, want protocol TLS with tls.mode Terminate", listener)
	}
	pref := get(t, gw, "spec", "infrastructure", "parametersRef").(map[string]any)
	if pref["group"] != "gateway.k8s.aws" || pref["kind"] != "LoadBalancerConfiguration" {
		t.Fatalf("Gateway parametersRef = %v", pref)
	}

	// The LoadBalancerConfiguration holds the listener's ACM certificate.
	lbc := load(t, dir, "loadbalancerconfiguration-"+ns+"-"+pref["name"].(string)+".yaml")
	if get(t, lbc, "apiVersion") != "gateway.k8s.aws/v1" {
		t.Errorf("LoadBalancerConfiguration apiVersion = %v, want the stored gateway.k8s.aws/v1", get(t, lbc, "apiVersion"))
	}
	lc := get(t, lbc, "spec", "listenerConfigurations", 0).(map[string]any)
	port := strconv.Itoa(int(listener["port"].(float64)))
	arn, _ := lc["defaultCertificate"].(string)
	if lc["protocolPort"] != "TLS:"+port || !strings.HasPrefix(arn, "arn:aws:acm:") {
		t.Errorf("listener configuration = %v, want TLS:%s with an ACM certificate ARN", lc, port)
	}
	if get(t, listener, "tls", "options", "upstream-tls.io/acm-certificate-arn") != arn {
		t.Errorf("listener TLS options do not record the certificate ARN %s: %v", arn, get(t, listener, "tls"))
	}

	// A route from that listener to the Service.
	routes, _ := filepath.Glob(filepath.Join(dir, "tlsroute-*.yaml"))
	if len(routes) != 1 {
		t.Fatalf("TLSRoutes: %v", routes)
	}
	route := load(t, dir, filepath.Base(routes[0]))
	parent := get(t, route, "spec", "parentRefs", 0).(map[string]any)
	if parent["name"] != get(t, gw, "metadata", "name") || parent["sectionName"] != listener["name"] {
		t.Errorf("route parent = %v", parent)
	}
	ref := get(t, route, "spec", "rules", 0, "backendRefs", 0).(map[string]any)
	svcNS, _ := ref["namespace"].(string)
	if svcNS == "" {
		svcNS = ns
	}
	svc := load(t, dir, "service-"+svcNS+"-"+ref["name"].(string)+".yaml")
	if get(t, svc, "spec", "ports", 0, "port") != ref["port"] {
		t.Errorf("route port %v is not the Service's port", ref["port"])
	}

	// One TargetGroupConfiguration for that Service, in its namespace: TLS to the pods, a
	// health check NLB accepts.
	tgcs, _ := filepath.Glob(filepath.Join(dir, "targetgroupconfiguration-*.yaml"))
	if len(tgcs) != 1 {
		t.Fatalf("TargetGroupConfigurations: %v", tgcs)
	}
	tgc := load(t, dir, filepath.Base(tgcs[0]))
	if get(t, tgc, "metadata", "namespace") != svcNS || get(t, tgc, "spec", "targetReference", "name") != ref["name"] {
		t.Errorf("TargetGroupConfiguration does not target Service %s/%s: %v", svcNS, ref["name"], get(t, tgc, "spec", "targetReference"))
	}
	dc := get(t, tgc, "spec", "defaultConfiguration").(map[string]any)
	hc := get(t, dc, "healthCheckConfig", "healthCheckProtocol")
	if dc["protocol"] != "TLS" || dc["targetType"] != "ip" || hc == "TLS" || hc == nil {
		t.Errorf("TargetGroupConfiguration defaultConfiguration = %v", dc)
	}

	// The controller install: CRDs first, then the chart without its CRDs, NLB gateway on.
	install := load(t, dir, "install.yaml")
	rel := get(t, install, "eks", "helmRelease").(map[string]any)
	if rel["skipCrds"] != true || get(t, rel, "values", "controllerConfig", "featureGates", "NLBGatewayAPI") != true {
		t.Errorf("LBC release = %v", rel)
	}
	if get(t, install, "eks", "iam", "mode") != "podIdentity" {
		t.Errorf("iam = %v", get(t, install, "eks", "iam"))
	}
	raw, err := os.ReadFile(filepath.Join(dir, "iam-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	doc, _ := iam.Document()
	_ = json.Unmarshal([]byte(doc), &want)
	if !reflect.DeepEqual(got, want) {
		t.Error("iam-policy.json is not the controller's documented policy")
	}

	for _, want := range []string{"NLB TARGET", "orders", "TLS", "NO"} {
		if !strings.Contains(out, want) {
			t.Errorf("posture lacks %q:\n%s", want, out)
		}
	}
}

// TestEKSBadInput: each invalid EKS input the issue lists fails the render with a message naming
// the field and the fix, and nothing is written.
func TestEKSBadInput(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(), "Pulumi.eks.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base := string(raw)
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"TCP listener in front of a TLS target group", "          protocol: TLS\n          port: 443", "          protocol: TCP\n          port: 443",
			"IncompatibleProtocols"},
		{"TLS listener without certificate ARN", "          certificateArn: arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789\n", "",
			"eks.gateway.listeners[0].certificateArn: TLS listener \"tls\" has no certificate"},
		{"TLS health check", "            protocol: TCP\n", "            protocol: TLS\n",
			"eks.targets[0].targetGroup.healthCheck.protocol: TLS is not a health-check protocol"},
		{"two TargetGroupConfigurations for one Service", "      - backend: orders\n", "      - service: {name: orders, namespace: shop, port: 443}\n        listener: tls\n      - backend: orders\n",
			"LBC reads only one TargetGroupConfiguration per Service"},
		{"TargetGroupConfiguration in another namespace", "          targetType: ip\n", "          targetType: ip\n          namespace: gateway\n",
			"eks.targets[0].targetGroup.namespace: \"gateway\" differs from the namespace \"shop\""},
		{"malformed ARN", "certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789", "certificate/orders",
			"is not an ACM certificate ARN"},
		{"EKS without cluster name", "    clusterName: staging-eu\n", "",
			"eks.clusterName: is required when eks.enabled is true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(base, tc.old, tc.new, 1)
			if bad == base {
				t.Fatalf("Pulumi.eks.yaml no longer contains %q", tc.old)
			}
			cfg := filepath.Join(t.TempDir(), "Pulumi.bad.yaml")
			if err := os.WriteFile(cfg, []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
			dir, out, err := render(t, cfg)
			if err == nil {
				t.Fatalf("render succeeded:\n%s", out)
			}
			if !strings.Contains(out, tc.want) || !strings.Contains(out, "fix: ") {
				t.Errorf("output lacks %q and a fix:\n%s", tc.want, out)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("render wrote %s despite the error", dir)
			}
		})
	}
}
