package core

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func secret(ns, name, f string) Object {
	return Object{Resource: &corev1.Secret{TypeMeta: TypeMeta(corev1.SchemeGroupVersion, KindSecret), ObjectMeta: Meta(name, ns, nil)}, Field: f}
}

// TestRegistryGivesEveryNameOneOwner: a second create, an overwrite of a used object and two
// names that join to one resource name are each refused naming both fields; shared uses are
// fine.
func TestRegistryGivesEveryNameOneOwner(t *testing.T) {
	for _, tc := range []struct {
		name   string
		build  func(r *Registry)
		field  string
		inText string
	}{
		{"created twice", func(r *Registry) { r.Create(secret("apps", "x", "backends[0]"), secret("apps", "x", "backends[1]")) }, "backends[1]", "backends[0] creates too"},
		{"overwrites a used object", func(r *Registry) {
			r.Create(secret("apps", "x", "backends[0]"))
			r.Use(KindSecret, "apps", "x", field.NewPath("backends").Index(1).Child("deploy", "certificateSecret"))
		}, "backends[1].deploy.certificateSecret", "would overwrite it"},
		{"joined names meet", func(r *Registry) { r.Create(secret("a-b", "c", "backends[0]"), secret("a", "b-c", "backends[1]")) }, "backends[1]", `resource name "secret-a-b-c"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRegistry()
			tc.build(r)
			var p Problems
			r.Check(&p)
			err := p.Err()
			if err == nil {
				t.Fatal("no conflict reported")
			}
			if !strings.Contains(err.Error(), tc.field+": ") || !strings.Contains(err.Error(), tc.inText) {
				t.Errorf("got %v, want a problem on %s mentioning %q", err, tc.field, tc.inText)
			}
		})
	}
	r := NewRegistry()
	r.Use(KindConfigMap, "apps", "ca", field.NewPath("backends").Index(0))
	r.Use(KindConfigMap, "apps", "ca", field.NewPath("backends").Index(1))
	var p Problems
	r.Check(&p)
	if p.Err() != nil {
		t.Errorf("two uses of one existing object refused: %v", p.Err())
	}
}

// TestHostnameCovers follows Gateway API's host name matching.
func TestHostnameCovers(t *testing.T) {
	for _, tc := range []struct {
		l, h string
		want bool
	}{
		{"", "a.example.com", true},
		{"a.example.com", "a.example.com", true},
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "*.example.com", true},
		{"*.example.com", "*.a.example.com", true},
		{"a.example.com", "*.example.com", true},
		{"a.example.com", "b.example.com", false},
		{"*.example.com", "a.example.org", false},
	} {
		if got := HostnameCovers(tc.l, tc.h); got != tc.want {
			t.Errorf("HostnameCovers(%q, %q) = %v, want %v", tc.l, tc.h, got, tc.want)
		}
	}
}

// TestResolveFillsOnlyBindings: a string equal to a reference's display text is data unless a
// binding names its path.
func TestResolveFillsOnlyBindings(t *testing.T) {
	ref := CertRef("backend-api", FieldKey)
	m := map[string]any{
		"stringData": map[string]any{"tls.key": ref.String()},
		"metadata":   map[string]any{"name": ref.String()},
	}
	err := Resolve(m, []Binding{Bind(ref, "stringData", "tls.key")}, func(Ref) (any, error) { return "KEY", nil })
	if err != nil {
		t.Fatal(err)
	}
	if m["stringData"].(map[string]any)["tls.key"] != "KEY" {
		t.Error("the binding was not filled")
	}
	if m["metadata"].(map[string]any)["name"] != ref.String() {
		t.Error("a user string was read as a reference")
	}
	if err := Resolve(m, []Binding{Bind(ref, "metadata", "labels")}, func(Ref) (any, error) { return "x", nil }); err == nil {
		t.Error("a binding whose path holds something else was accepted")
	}
}

// TestChartVersion: exact semantic versions only (Helm's semver library, strict), so that a
// version names one chart release.
func TestChartVersion(t *testing.T) {
	for v, want := range map[string]bool{
		"1.9.1": true, "3.5.0": true, "1.2.3-rc.1": true, "1.2.3+build.5": true,
		"v1.9.1": false, "1.9": false, "1": false, "01.2.3": false, "1.2.3-": false, "latest": false, "": false, "1.2.3 ": false,
	} {
		if got := ChartVersion(v); got != want {
			t.Errorf("ChartVersion(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestFastDNSAgrees: the plan's regexp-free DNS checks decide exactly as apimachinery does, over
// every string of up to 4 characters from an alphabet with the edge characters, and over long
// and dotted values around the length limits.
func TestFastDNSAgrees(t *testing.T) {
	alphabet := []byte{'a', 'z', '0', '9', '-', '.', 'A', '_', '*', '\n'}
	var values []string
	var gen func(prefix []byte, n int)
	gen = func(prefix []byte, n int) {
		values = append(values, string(prefix))
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(append(prefix, c), n-1)
		}
	}
	gen(nil, 4)
	for _, n := range []int{62, 63, 64, 252, 253, 254} {
		long := strings.Repeat("a", n)
		values = append(values, long, long+".b", "b."+long, strings.Repeat("ab.", n/3)+"c", strings.Repeat("a.", n/2))
	}
	checked := 0
	for _, v := range values {
		if got, want := isDNS1123Label(v), len(validation.IsDNS1123Label(v)) == 0; got != want {
			t.Errorf("isDNS1123Label(%q) = %v, apimachinery says %v", v, got, want)
		}
		if got, want := isDNS1123Subdomain(v), len(validation.IsDNS1123Subdomain(v)) == 0; got != want {
			t.Errorf("isDNS1123Subdomain(%q) = %v, apimachinery says %v", v, got, want)
		}
		checked++
	}
	if checked < 10000 {
		t.Fatalf("only %d values checked", checked)
	}
}
