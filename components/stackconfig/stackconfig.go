// Package stackconfig reads the product's stack configuration (the `upstream-tls:*` keys) into
// plan.Args. The Pulumi program (through the Pulumi config API) and the engine-free renderer
// (through Pulumi.<stack>.yaml) share this decoder, so both accept and refuse the same input.
package stackconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/upstream-tls/upstream-tls/components/plan"
)

// Namespace is the Pulumi config namespace of the product (the project name).
const Namespace = "upstream-tls"

// Config keys under Namespace. They are the product's interface: never rename them.
const (
	KeyEnvironment           = "environment"
	KeyRenderDir             = "renderDir"
	KeyAllowInsecureBackends = "allowInsecureBackends"
	KeyEnvoyGateway          = "envoyGateway"
	KeyGateway               = "gateway"
	KeyBackends              = "backends"
	KeyEKS                   = "eks"
)

var knownKeys = []string{KeyEnvironment, KeyRenderDir, KeyAllowInsecureBackends, KeyEnvoyGateway, KeyGateway, KeyBackends, KeyEKS}

// Stack is a decoded stack configuration.
type Stack struct {
	// Args are the component inputs.
	Args plan.Args
	// RenderDir, when set, makes the Kubernetes provider write YAML there instead of deploying.
	RenderDir string
}

// Lookup returns the raw value of key (without the namespace) as the Pulumi Go config API does:
// strings as is, objects and lists as JSON text.
type Lookup func(key string) (string, bool)

// Decode reads every product key through lookup. Objects are decoded strictly: an unknown
// field (a typo such as `mdoe`) is an error naming the key.
func Decode(lookup Lookup) (Stack, error) {
	var s Stack
	if v, ok := lookup(KeyEnvironment); ok {
		s.Args.Environment = plan.Environment(v)
	}
	if v, ok := lookup(KeyRenderDir); ok {
		s.RenderDir = v
	}
	if v, ok := lookup(KeyAllowInsecureBackends); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Stack{}, fmt.Errorf("%s:%s: %q is not a boolean; fix: use true or false", Namespace, KeyAllowInsecureBackends, v)
		}
		s.Args.AllowInsecureBackends = b
	}
	for _, k := range []struct {
		key  string
		into any
		want string
	}{
		{KeyEnvoyGateway, &s.Args.EnvoyGateway, "an object"},
		{KeyGateway, &s.Args.Gateway, "an object"},
		{KeyBackends, &s.Args.Backends, "a list of backends"},
		{KeyEKS, &s.Args.EKS, "an object"},
	} {
		v, ok := lookup(k.key)
		if !ok {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(k.into); err != nil {
			return Stack{}, fmt.Errorf("%s:%s: %v; fix: it must be %s with the fields documented in the README's configuration reference", Namespace, k.key, err, k.want)
		}
	}
	return s, nil
}

// FromFile decodes the `config:` section of a Pulumi.<stack>.yaml file. Keys of other
// namespaces (kubernetes:, aws:) are ignored; unknown `upstream-tls:` keys and encrypted
// values of product keys are errors.
func FromFile(path string) (Stack, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Stack{}, fmt.Errorf("read stack config: %w", err)
	}
	var file struct {
		Config map[string]any `json:"config"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		return Stack{}, fmt.Errorf("parse %s: %w", path, err)
	}
	values := map[string]string{}
	for full, v := range file.Config {
		ns, key, found := strings.Cut(full, ":")
		if !found {
			ns, key = Namespace, full
		}
		if ns != Namespace {
			continue
		}
		if !isKnown(key) {
			return Stack{}, fmt.Errorf("%s: unknown key %s:%s; fix: use one of %s", path, Namespace, key, strings.Join(knownKeys, ", "))
		}
		if m, ok := v.(map[string]any); ok && len(m) == 1 && m["secure"] != nil {
			return Stack{}, fmt.Errorf("%s: %s:%s is encrypted; the engine-free render cannot decrypt it; fix: run `make up` instead, or keep non-secret settings in plain text", path, Namespace, key)
		}
		switch t := v.(type) {
		case string:
			values[key] = t
		case bool, float64, int64:
			values[key] = fmt.Sprint(t)
		default:
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(t); err != nil {
				return Stack{}, fmt.Errorf("%s: encode %s:%s: %w", path, Namespace, key, err)
			}
			values[key] = strings.TrimSpace(buf.String())
		}
	}
	return Decode(func(key string) (string, bool) {
		v, ok := values[key]
		return v, ok
	})
}

func isKnown(key string) bool {
	for _, k := range knownKeys {
		if k == key {
			return true
		}
	}
	return false
}

// ProjectRoot returns the nearest directory at or above dir that holds Pulumi.yaml.
func ProjectRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "Pulumi.yaml")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no Pulumi.yaml at or above %s", dir)
		}
	}
}

// Absolutize makes the stack's relative paths (renderDir, envoyGateway.chartDir, a local
// envoyGateway.gatewayAPICRDs directory, eks.controller.chartDir and local eks.controller.crds
// entries) relative to root, the project directory, so they mean
// the same whatever directory the program or the provider runs in.
func (s *Stack) Absolutize(root string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) && !strings.Contains(*p, "://") {
			*p = filepath.Join(root, *p)
		}
	}
	abs(&s.RenderDir)
	if eg := s.Args.EnvoyGateway; eg != nil {
		abs(&eg.ChartDir)
		abs(&eg.GatewayAPICRDs)
	}
	if e := s.Args.EKS; e != nil && e.Controller != nil {
		abs(&e.Controller.ChartDir)
		for i := range e.Controller.CRDs {
			abs(&e.Controller.CRDs[i])
		}
	}
}

// FromArgsYAML decodes plan.Args written directly as YAML (the golden test inputs), strictly.
func FromArgsYAML(raw []byte) (plan.Args, error) {
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return plan.Args{}, err
	}
	var a plan.Args
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return plan.Args{}, fmt.Errorf("decode args: %w", err)
	}
	return a, nil
}
