package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/testutil"
)

const stackHead = testutil.StackHead

// TestStackFileRefusals: what Pulumi's loader would silently decide (or decide at random) and
// what no field accepts is refused, naming the key or the configuration path.
func TestStackFileRefusals(t *testing.T) {
	for _, tc := range testutil.ReaderRefusals() {
		t.Run(tc.Name, func(t *testing.T) {
			_, err := config.FromBytes([]byte(tc.File), "Pulumi.test.yaml")
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.File)
			}
			if !strings.Contains(err.Error(), tc.Want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.Want)
			}
		})
	}
}

// TestStringsStayStrings: YAML 1.2 keeps on/yes/no as strings where a string goes.
func TestStringsStayStrings(t *testing.T) {
	st, err := config.FromBytes([]byte(stackHead+"  upstream-tls:gateway: {name: on, namespace: no}\n"), "Pulumi.test.yaml")
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
		if _, err := config.FromFile(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// verdict is the outcome of reading and planning a stack file, as a string.
func verdict(raw []byte) string {
	st, err := config.FromBytes(raw, "Pulumi.fuzz.yaml")
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
