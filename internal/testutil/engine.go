package testutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
)

// PulumiEnv sources scripts/pulumi-env.sh (building the pinned toolchain on first use) under
// errexit and pipefail, so a failed build stops the caller's TestMain, and returns the
// environment it sets up.
func PulumiEnv(root string) ([]string, error) {
	cmd := exec.Command("bash", "-c", "set -euo pipefail; source scripts/pulumi-env.sh >&2; env -0")
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("scripts/pulumi-env.sh: %w", err)
	}
	var env []string
	for _, kv := range bytes.Split(out, []byte{0}) {
		if len(kv) > 0 {
			env = append(env, string(kv))
		}
	}
	return env, nil
}

// MatchPlanned compares a planned value with what an engine run rendered and appends one
// problem per difference: equal everywhere (numbers compared as JSON numbers), except at the
// paths the plan binds to computed values (computed), which the engine must have filled with
// PEM. Map keys the rendering adds are not differences; list lengths must agree.
func MatchPlanned(planned, got any, path string, computed map[string]bool, problems *[]string) {
	if computed[path] {
		if s, _ := got.(string); !strings.Contains(s, "-----BEGIN ") {
			*problems = append(*problems, path+": computed value is not PEM")
		}
		return
	}
	switch p := planned.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*problems = append(*problems, path+": not an object in the engine's rendering")
			return
		}
		for k, v := range p {
			MatchPlanned(v, g[k], path+"."+k, computed, problems)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(p) {
			*problems = append(*problems, path+": list differs")
			return
		}
		for i := range p {
			MatchPlanned(p[i], g[i], path, computed, problems)
		}
	default:
		if !reflect.DeepEqual(number(p), number(got)) {
			*problems = append(*problems, path+": "+jsonText(p)+" != "+jsonText(got))
		}
	}
}

func number(v any) any {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return v
}

func jsonText(v any) string { b, _ := json.Marshal(v); return string(b) }
