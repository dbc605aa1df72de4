package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
)

const stackHead = "config:\n  upstream-tls:environment: dev\n"

// TestStackFileRefusals: what Pulumi's loader would silently decide (or decide at random) and
// what no field accepts is refused, naming the key or the configuration path.
func TestStackFileRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
	}{
		{"unknown field with its path", stackHead + "  upstream-tls:backends:\n    - name: a\n      tls: {mode: ca, ca: {secret: x}}\n",
			`backends[0].tls.ca.secret: unknown field; fix: use one of the fields known here: pem, configMap, generate`},
		{"misspelt field suggests", stackHead + "  upstream-tls:backends:\n    - name: a\n      tls: {mdoe: ca}\n", `unknown field (did you mean "mode"?)`},
		{"port as a string", stackHead + "  upstream-tls:backends:\n    - name: a\n      service: {ports: [{name: https, port: \"443\"}]}\n      tls: {mode: insecure}\n",
			`backends[0].service.ports[0].port: must be an integer, not the string "443"`},
		{"yes is a string", stackHead + "  upstream-tls:backends:\n    - name: a\n      service: {existing: yes}\n      tls: {mode: insecure}\n",
			`backends[0].service.existing: must be true or false, not the string "yes"`},
		{"allowInsecureBackends: on", stackHead + "  upstream-tls:allowInsecureBackends: on\n", `allowInsecureBackends: must be true or false, not "on"`},
		{"allowInsecureBackends: 1", stackHead + "  upstream-tls:allowInsecureBackends: 1\n", `allowInsecureBackends: must be true or false, not "1"`},
		{"key with and without namespace", stackHead + "  upstream-tls:gateway: {name: a}\n  gateway: {name: b}\n", "is upstream-tls:gateway again"},
		{"key in the :config: form", stackHead + "  upstream-tls:gateway: {name: a}\n  upstream-tls:config:gateway: {name: b}\n", "is upstream-tls:gateway again"},
		{"duplicate key", stackHead + "  upstream-tls:gateway: {name: a}\n  upstream-tls:gateway: {name: b}\n", `upstream-tls:gateway is given twice (first at line 3)`},
		{"unknown key", stackHead + "  upstream-tls:backend: []\n", "unknown key upstream-tls:backend"},
		{"list where an object goes", stackHead + "  upstream-tls:gateway: [a]\n", "gateway: must be an object with the fields name, namespace, listeners, not a list"},
		{"encrypted product key", stackHead + "  upstream-tls:gateway:\n    secure: v1:abc\n", "is encrypted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromBytes([]byte(tc.file), "Pulumi.test.yaml")
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.file)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestStringsStayStrings: YAML 1.2 keeps on/yes/no as strings where a string goes.
func TestStringsStayStrings(t *testing.T) {
	st, err := FromBytes([]byte(stackHead+"  upstream-tls:gateway: {name: on, namespace: no}\n"), "Pulumi.test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if st.Args.Gateway.Name != "on" || st.Args.Gateway.Namespace != "no" {
		t.Errorf("gateway = %+v", st.Args.Gateway)
	}
}

// TestCommittedStacksDecode reads every committed stack with the reader.
func TestCommittedStacksDecode(t *testing.T) {
	files, _ := filepath.Glob("../../Pulumi.*.yaml")
	if len(files) == 0 {
		t.Fatal("no stacks")
	}
	for _, f := range files {
		if _, err := FromFile(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// verdict is the outcome of reading and planning a stack file, as a string.
func verdict(raw []byte) string {
	st, err := FromBytes(raw, "Pulumi.fuzz.yaml")
	if err != nil {
		return "read: " + err.Error()
	}
	p, err := plan.Build(st.Args)
	if err != nil {
		var verr *core.ValidationError
		if !errors.As(err, &verr) {
			return "PANIC-CLASS non-validation error: " + err.Error()
		}
		return "plan: " + err.Error()
	}
	return fmt.Sprintf("ok: %d objects\n%s", len(p.AllObjects()), p.Posture())
}

// FuzzStackFile feeds raw stack-file bytes to the reader and the plan: they never panic, never
// fail with anything but a validation error, and the same bytes give the same verdict every
// time (no Go map order anywhere): 20 runs per input.
func FuzzStackFile(f *testing.F) {
	files, _ := filepath.Glob("../../Pulumi.*.yaml")
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(stackHead + "  upstream-tls:gateway: {name: a}\n  gateway: {name: b}\n"))
	f.Add([]byte(stackHead + "  upstream-tls:backends: [{name: a, tls: {mode: ca, ca: {generate: true}}}, {name: b, tls: {mode: insecure}}]\n"))
	f.Add([]byte("config: {upstream-tls:backends: {x: 1}}"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		first := verdict(raw)
		if strings.HasPrefix(first, "PANIC-CLASS") {
			t.Fatal(first)
		}
		for range 19 {
			if again := verdict(raw); again != first {
				t.Fatalf("verdict changed between runs:\n%s\n---\n%s", first, again)
			}
		}
	})
}

// TestDecodeCoversEveryField: every exported field of spec has a JSON name (so the decoder and
// the schema see it).
func TestDecodeCoversEveryField(t *testing.T) {
	var walk func(rt reflect.Type, seen map[reflect.Type]bool)
	walk = func(rt reflect.Type, seen map[reflect.Type]bool) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || seen[rt] {
			return
		}
		seen[rt] = true
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			if jsonName(f) == "" {
				t.Errorf("%s.%s has no JSON name", rt.Name(), f.Name)
			}
			walk(f.Type, seen)
		}
	}
	walk(reflect.TypeOf(Stack{}).Field(0).Type, map[reflect.Type]bool{})
}
