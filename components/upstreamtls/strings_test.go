package upstreamtls

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/register"
	"github.com/upstream-tls/upstream-tls/internal/spec"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

// TestUserStringsAreData puts the display text of engine-computed values (and variants of it)
// into every string field of the configuration, one at a time, and registers the plan even
// when validation would refuse it (plan.BuildUnchecked; Build refuses most such values first):
// the string is registered as the string it is, and no private key reaches any registered
// input except the Secrets the plan binds keys to. Computed values are placed by their
// bindings' paths, so this holds by construction; the test shows it.
func TestUserStringsAreData(t *testing.T) {
	injections := []string{
		core.CertRef("backend-internal-api", core.FieldKey).String(),
		core.CertRef("lbc-webhook", core.FieldKey).String(),
		"<<computed:certificate/backend-internal-api/key>>",
		core.RoleARNRef.String(),
	}
	base := spec.Args{
		EnvoyGateway: &spec.EnvoyGatewayArgs{},
		Gateway:      &spec.GatewayArgs{Listeners: []spec.ListenerArgs{{Name: "https", Protocol: "HTTPS", Port: 443}}},
		Backends: []spec.BackendArgs{
			{Name: "public-api", Namespace: "apps", Service: &spec.ServiceArgs{}, Route: &spec.RouteArgs{Hostnames: []string{"a.example.com"}}, Deploy: &spec.DeployArgs{CertificateSecret: "public-tls"}, TLS: spec.TLSArgs{Mode: spec.ModeSystem, Hostname: "api.example.com", SubjectAltNames: []string{"api.example.com"}}},
			{Name: "internal-api", Namespace: "apps", Service: &spec.ServiceArgs{}, Route: &spec.RouteArgs{}, Deploy: &spec.DeployArgs{}, TLS: spec.TLSArgs{Mode: spec.ModeCA, CA: &spec.CAArgs{Generate: true}}},
			{Name: "legacy-app", Namespace: "legacy", Service: &spec.ServiceArgs{}, Route: &spec.RouteArgs{}, Deploy: &spec.DeployArgs{}, TLS: spec.TLSArgs{Mode: spec.ModeInsecure}},
		},
	}
	refused, tried := 0, 0
	for _, path := range stringFields(reflect.ValueOf(&base).Elem(), "") {
		for _, inj := range injections {
			a := deepCopy(t, base)
			setString(reflect.ValueOf(&a).Elem(), path, inj)
			tried++
			if _, err := plan.Build(a); err != nil {
				refused++
			}
			p, _ := plan.BuildUnchecked(a, plan.Options{})
			m := &testutil.Mocks{}
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := apply(ctx, "env", p)
				return err
			}, pulumi.WithMocks("upstream-tls", "test", m))
			if err != nil {
				// Registration refused the broken plan (an object name no resource can have):
				// nothing of the injected value was registered as a key.
				continue
			}
			for _, r := range m.All() {
				if r.Type == register.CertificateToken {
					continue
				}
				for k, v := range r.Inputs {
					p, _ := testutil.Plain(v)
					raw := fmt.Sprint(p)
					if !strings.Contains(raw, "PRIVATE KEY") {
						continue
					}
					allowed := r.Type == "kubernetes:core/v1:Secret" && k == "stringData"
					if !allowed {
						t.Errorf("%s = %q put key material into %s %s input %s", path, inj, r.Type, r.Name, k)
					}
				}
			}
		}
	}
	if tried < 100 || refused == 0 || refused == tried {
		t.Errorf("%d injections, %d refused by the plan: the walk reaches too few fields", tried, refused)
	}
	t.Logf("%d injections into string fields, %d refused by Build, all registered as data", tried, refused)
}

// stringFields lists the paths (Go field names joined by dots, [i] for slices) of every string
// field reachable in v.
func stringFields(v reflect.Value, prefix string) []string {
	var out []string
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			out = append(out, stringFields(v.Elem(), prefix)...)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			out = append(out, stringFields(v.Field(i), prefix+"."+v.Type().Field(i).Name)...)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			out = append(out, stringFields(v.Index(i), fmt.Sprintf("%s[%d]", prefix, i))...)
		}
		if v.Type().Elem().Kind() == reflect.String {
			out = append(out, prefix+"[+]")
		}
	case reflect.String:
		out = append(out, prefix)
	}
	return out
}

// setString sets the string field at path (from stringFields) to s; "[+]" appends.
func setString(v reflect.Value, path, s string) {
	if path == "" {
		v.SetString(s)
		return
	}
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if strings.HasPrefix(path, "[+]") {
		v.Set(reflect.Append(v, reflect.ValueOf(s).Convert(v.Type().Elem())))
		return
	}
	if strings.HasPrefix(path, "[") {
		end := strings.Index(path, "]")
		i, _ := strconv.Atoi(path[1:end])
		setString(v.Index(i), path[end+1:], s)
		return
	}
	path = strings.TrimPrefix(path, ".")
	name, rest := path, ""
	if i := strings.IndexAny(path, ".["); i >= 0 {
		name, rest = path[:i], path[i:]
	}
	f := v.FieldByName(name)
	if rest == "" && f.Kind() == reflect.String {
		f.SetString(s)
		return
	}
	setString(f, rest, s)
}

func deepCopy(t *testing.T, a spec.Args) spec.Args {
	t.Helper()
	raw, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var out spec.Args
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
