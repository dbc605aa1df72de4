package plan_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/upstream-tls/upstream-tls/internal/lbc/iam"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/eks"
	"github.com/upstream-tls/upstream-tls/internal/plan/envoy"
	"github.com/upstream-tls/upstream-tls/internal/spec"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

// everySection has every optional section of spec.Args present and empty, one element in every
// list, so that WithDefaults reaches every field.
func everySection() spec.Args {
	return spec.Args{
		EnvoyGateway: &spec.EnvoyGatewayArgs{},
		Gateway:      &spec.GatewayArgs{Listeners: []spec.ListenerArgs{{}}},
		Backends: []spec.BackendArgs{{
			Service: &spec.ServiceArgs{Ports: []spec.PortArgs{{}}}, Deploy: &spec.DeployArgs{}, Route: &spec.RouteArgs{},
			TLS: spec.TLSArgs{CA: &spec.CAArgs{}},
		}},
		EKS: &spec.EKSArgs{
			Identity: &spec.EKSIdentityArgs{}, Controller: &spec.LBCArgs{}, Gateway: &spec.NLBGatewayArgs{Listeners: []spec.NLBListenerArgs{{}}},
			Targets: []spec.NLBTargetArgs{{Service: &spec.NLBServiceArgs{}, TargetGroup: &spec.TargetGroupArgs{HealthCheck: &spec.HealthCheckArgs{}}}},
		},
	}
}

// TestTagDefaultsAreTheDefaults: every `default:"…"` tag of spec is exactly what WithDefaults
// gives an unset field (the schema publishes the tags, so the two must agree), and every tag
// parses as its field's type.
func TestTagDefaultsAreTheDefaults(t *testing.T) {
	got := plan.WithDefaults(everySection())
	seen := 0
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				f := v.Type().Field(i)
				fv := v.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if def, ok := f.Tag.Lookup("default"); ok {
					seen++
					val := fv
					if val.Kind() == reflect.Pointer {
						if val.IsNil() {
							t.Errorf("%s.%s: nil after defaults, tag says %q", path, name, def)
							continue
						}
						val = val.Elem()
					}
					if s := fmt.Sprint(val.Interface()); s != def {
						t.Errorf("%s.%s: WithDefaults gives %q, the tag says %q", path, name, s, def)
					}
					continue
				}
				walk(fv, path+"."+name)
			}
		}
	}
	walk(reflect.ValueOf(got), "args")
	if seen < 25 {
		t.Errorf("only %d tagged fields reached; everySection misses a section", seen)
	}
}

// TestPinsAgree: the plan's pinned versions, the spec's default tags and tools/versions.env say
// the same.
func TestPinsAgree(t *testing.T) {
	root, err := testutil.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	pins, err := testutil.Pins(root)
	if err != nil {
		t.Fatal(err)
	}
	tag := func(v any, field string) string {
		f, _ := reflect.TypeOf(v).FieldByName(field)
		return f.Tag.Get("default")
	}
	for _, c := range []struct{ what, got, want string }{
		{"envoy.DefaultEnvoyGatewayVersion", envoy.DefaultEnvoyGatewayVersion, pins["ENVOY_GATEWAY_VERSION"]},
		{"spec EnvoyGatewayArgs.Version tag", tag(spec.EnvoyGatewayArgs{}, "Version"), pins["ENVOY_GATEWAY_VERSION"]},
		{"envoy.DefaultGatewayAPIVersion", envoy.DefaultGatewayAPIVersion, pins["GATEWAY_API_VERSION"]},
		{"spec EnvoyGatewayArgs.GatewayAPICRDs tag", tag(spec.EnvoyGatewayArgs{}, "GatewayAPICRDs"), envoy.GatewayAPIStandardInstallURL(pins["GATEWAY_API_VERSION"])},
		{"eks.DefaultLBCChartVersion", eks.DefaultLBCChartVersion, pins["LBC_CHART_VERSION"]},
		{"spec LBCArgs.Version tag", tag(spec.LBCArgs{}, "Version"), pins["LBC_CHART_VERSION"]},
		{"iam.Module", iam.Module, "sigs.k8s.io/aws-load-balancer-controller@" + pins["LBC_MODVER"]},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, tools/versions.env says %q", c.what, c.got, c.want)
		}
	}
}
