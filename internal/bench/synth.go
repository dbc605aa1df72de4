// Package bench is the benchmark harness behind `make bench` (cmd/bench): synthetic stacks of
// N backends, the anchor they are compared with (the same Kubernetes objects registered without
// the component, through the Kubernetes provider's yaml/v2 ConfigGroup), and the statistics.
// Benchmarks measure; they assert nothing about time (tests check behaviour).
package bench

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Modes are the TLS modes the synthetic backends cycle through, in this order.
var Modes = []string{"system", "ca", "insecure"}

// Namespaces is how many backend namespaces the synthetic backends are spread over.
const Namespaces = 10

// Backend is the configuration of synthetic backend i: mode Modes[i%3], in namespace
// apps-<i%10>, routed from the https listener by its own hostname; a system backend's workload
// serves an existing Secret, a ca backend's a certificate of a generated CA, an insecure one
// its own self-signed certificate (the dev stack's three backends, repeated).
func Backend(i int) map[string]any {
	name := fmt.Sprintf("b%d", i)
	b := map[string]any{
		"name":      name,
		"namespace": fmt.Sprintf("apps-%d", i%Namespaces),
		"route":     map[string]any{"hostnames": []any{name + ".dev.example.com"}, "listener": "https"},
	}
	switch mode := Modes[i%len(Modes)]; mode {
	case "system":
		b["deploy"] = map[string]any{"certificateSecret": name + "-tls"}
		b["tls"] = map[string]any{"mode": mode, "hostname": name + ".dev.example.com"}
	case "ca":
		b["tls"] = map[string]any{"mode": mode, "ca": map[string]any{"generate": true}}
	default:
		b["tls"] = map[string]any{"mode": mode}
	}
	return b
}

// StackConfig is a stack configuration file with n synthetic backends: base (a committed stack
// file, Pulumi.dev-render.yaml) with its backends replaced, rendering into renderDir. Its
// encryption salt is dropped: the engine writes a new one for the new stack.
func StackConfig(base []byte, n int, renderDir string) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("read the base stack file: %w", err)
	}
	cfg, ok := doc["config"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the base stack file has no config map")
	}
	if _, ok := cfg["upstream-tls:renderDir"]; !ok {
		return nil, fmt.Errorf("the base stack file does not render (no upstream-tls:renderDir)")
	}
	backends := make([]any, n)
	for i := range backends {
		backends[i] = Backend(i)
	}
	cfg["upstream-tls:backends"] = backends
	cfg["upstream-tls:renderDir"] = renderDir
	delete(doc, "encryptionsalt")
	return yaml.Marshal(doc)
}

// ChangeOne is cfg (a StackConfig) with backend i's route given a second hostname: the
// incremental change whose preview must touch that backend's objects only.
func ChangeOne(base []byte, n, i int, renderDir string) ([]byte, error) {
	raw, err := StackConfig(base, n, renderDir)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	b := doc["config"].(map[string]any)["upstream-tls:backends"].([]any)[i].(map[string]any)
	r := b["route"].(map[string]any)
	r["hostnames"] = append(r["hostnames"].([]any), fmt.Sprintf("%s-v2.dev.example.com", b["name"]))
	return yaml.Marshal(doc)
}
