// Package config reads the product's stack configuration (the `upstream-tls:*` keys) into
// spec.Args, with the semantics of Pulumi's own stack loader. The Pulumi program (values from
// the engine, through the Pulumi config API) and the engine-free renderer (values from
// Pulumi.<stack>.yaml, through Pulumi's loader, workspace.LoadProjectStackBytes with yaml.v3)
// share one decoder, so both accept and refuse the same input with the same message: YAML 1.2
// (yes, no, on, off are strings), duplicate keys refused, unknown fields and type errors named
// by their configuration path.
package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/encoding"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
	"github.com/upstream-tls/upstream-tls/internal/spec"
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
	KeyKubeconfig            = "kubeconfig"
	KeyNodelessCluster       = "nodelessCluster"
	KeyPreflight             = "preflight"
	KeyCertificates          = "certificates"
)

// Keys lists every product key.
var Keys = []string{KeyEnvironment, KeyRenderDir, KeyKubeconfig, KeyNodelessCluster, KeyAllowInsecureBackends, KeyEnvoyGateway, KeyGateway, KeyBackends, KeyEKS, KeyPreflight, KeyCertificates}

// Stack is a decoded stack configuration.
type Stack struct {
	// Args are the component inputs.
	Args spec.Args
	// RenderDir, when set, makes the Kubernetes provider write YAML there instead of deploying.
	RenderDir string
	// Kubeconfig, when set, is the kubeconfig file the Kubernetes provider deploys with (the
	// local cluster's is .state/cluster/kubeconfig); otherwise the ambient one is used.
	Kubeconfig string
	// NodelessCluster says the cluster runs no pods (the local cluster: no kubelet): the
	// program then skips Pulumi's readiness waits of Deployments and Services only, which could
	// never end there. Everything else (CRDs established, and so on) is still awaited. Refused
	// in production.
	NodelessCluster bool
}

// Lookup returns the raw value of key (without the namespace) as the Pulumi Go config API does:
// strings as is, objects and lists as JSON text.
type Lookup func(key string) (string, bool)

// Decode reads every product key through lookup. Invalid values are reported together, as a
// *core.ValidationError whose fields are the configuration paths (`backends[0].tls.mode`).
func Decode(lookup Lookup) (Stack, error) {
	var s Stack
	var p core.Problems
	if v, ok := lookup(KeyEnvironment); ok {
		s.Args.Environment = spec.Environment(v)
	}
	if v, ok := lookup(KeyRenderDir); ok {
		s.RenderDir = v
	}
	if v, ok := lookup(KeyKubeconfig); ok {
		s.Kubeconfig = v
	}
	if s.RenderDir != "" && s.Kubeconfig != "" {
		p.Add(field.NewPath(KeyKubeconfig), "is set together with renderDir, which deploys nowhere", "remove one: renderDir writes YAML files, kubeconfig deploys to that cluster")
	}
	if v, ok := lookup(KeyNodelessCluster); ok {
		switch v {
		case "true":
			s.NodelessCluster = true
		case "false":
		default:
			p.Add(field.NewPath(KeyNodelessCluster), fmt.Sprintf("must be true or false, not %q", v), "write true or false, without quotes")
		}
	}
	if s.NodelessCluster && s.Args.Environment == spec.EnvironmentProduction {
		p.Add(field.NewPath(KeyNodelessCluster), "is true in environment production: Deployments and Services would be reported created before they are ready", "remove upstream-tls:nodelessCluster; it is for the local cluster, which runs no pods")
	}
	if v, ok := lookup(KeyAllowInsecureBackends); ok {
		switch v {
		case "true":
			s.Args.AllowInsecureBackends = true
		case "false":
		default:
			p.Add(field.NewPath(KeyAllowInsecureBackends), fmt.Sprintf("must be true or false, not %q", v), "write true or false, without quotes (YAML 1.2: yes, no, on and off are strings)")
		}
	}
	for _, k := range []struct {
		key  string
		into any
	}{
		{KeyEnvoyGateway, &s.Args.EnvoyGateway},
		{KeyGateway, &s.Args.Gateway},
		{KeyBackends, &s.Args.Backends},
		{KeyEKS, &s.Args.EKS},
		{KeyPreflight, &s.Args.Preflight},
		{KeyCertificates, &s.Args.Certificates},
	} {
		v, ok := lookup(k.key)
		if !ok {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		var generic any
		if err := dec.Decode(&generic); err != nil {
			// A scalar the engine passes as plain text (not JSON).
			generic = v
		}
		decodeValue(&p, field.NewPath(k.key), generic, reflect.ValueOf(k.into).Elem())
	}
	if s.RenderDir != "" && s.Args.Preflight != nil && s.Args.Preflight.Kubeconfig != "" {
		p.Add(field.NewPath(KeyPreflight, "kubeconfig"), "is set together with renderDir: a render deploys nothing, so there is no cluster to read", "remove upstream-tls:preflight from the render stack")
	}
	if err := p.Err(); err != nil {
		return Stack{}, err
	}
	return s, nil
}

// FromFile reads the `config:` section of a Pulumi.<stack>.yaml file with Pulumi's own loader
// and decodes the product's keys. Keys of other namespaces (kubernetes:, aws:) are ignored;
// unknown `upstream-tls:` keys, keys given twice (with and without the namespace), and encrypted
// values of product keys are refused.
func FromFile(path string) (Stack, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Stack{}, fmt.Errorf("read stack config: %w", err)
	}
	return FromBytes(raw, path)
}

// FromBytes is FromFile on the file's content (path names it in messages).
func FromBytes(raw []byte, path string) (Stack, error) {
	// Pulumi's loader first, so that what it refuses is refused with its own words, as
	// `pulumi preview` does.
	ps, err := workspace.LoadProjectStackBytes(nil, &workspace.Project{Name: Namespace}, raw, path, encoding.YAML)
	if err != nil {
		return Stack{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := CheckStackFile(raw, path); err != nil {
		return Stack{}, err
	}
	values := map[string]string{}
	for k, v := range ps.Config {
		if k.Namespace() != Namespace {
			continue
		}
		plain, err := config.Map{k: v}.Decrypt(refuseSecrets{})
		if err != nil {
			if errors.Is(err, errEncrypted) {
				return Stack{}, fmt.Errorf("%s: %s:%s is encrypted; the engine-free render cannot decrypt it; fix: run `make up` instead, or keep non-secret settings in plain text", path, Namespace, k.Name())
			}
			return Stack{}, fmt.Errorf("%s: %s:%s: %w", path, Namespace, k.Name(), err)
		}
		values[k.Name()] = plain[k]
	}
	return Decode(func(key string) (string, bool) {
		v, ok := values[key]
		return v, ok
	})
}

var errEncrypted = errors.New("encrypted value")

// refuseSecrets is a config.Decrypter that refuses every secret: the engine-free render has no
// passphrase, and product keys hold no secrets.
type refuseSecrets struct{}

func (refuseSecrets) DecryptValue(context.Context, string) (string, error) { return "", errEncrypted }
func (refuseSecrets) BatchDecrypt(context.Context, []string) ([]string, error) {
	return nil, errEncrypted
}

// CheckStackFile refuses what Pulumi's loader would decide by Go map order or silently
// accept: a product key given more than once under different spellings (`backends`,
// `upstream-tls:backends`, `upstream-tls:config:backends`), and unknown `upstream-tls:` keys.
// (Duplicate identical keys are refused by yaml.v3 itself.) Both `make render` and the Pulumi
// program run it on the stack file.
func CheckStackFile(raw []byte, path string) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	var cfg *yaml.Node
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "config" {
			cfg = top.Content[i+1]
		}
	}
	if cfg == nil || cfg.Kind != yaml.MappingNode {
		return nil
	}
	seen := map[string]*yaml.Node{}
	var problems []string
	for i := 0; i+1 < len(cfg.Content); i += 2 {
		kn := cfg.Content[i]
		ns, name := Namespace, kn.Value
		if strings.Contains(kn.Value, ":") {
			k, err := config.ParseKey(kn.Value)
			if err != nil {
				continue // Pulumi's loader reports it.
			}
			ns, name = k.Namespace(), k.Name()
		}
		if ns != Namespace {
			continue
		}
		if !isKnown(name) {
			problems = append(problems, fmt.Sprintf("line %d: unknown key %s; fix: use one of %s:%s", kn.Line, kn.Value, Namespace, strings.Join(Keys, ", "+Namespace+":")))
			continue
		}
		if prev, dup := seen[name]; dup && prev.Value == kn.Value {
			problems = append(problems, fmt.Sprintf("line %d: %s is given twice (first at line %d); fix: keep one of them", kn.Line, kn.Value, prev.Line))
			continue
		} else if dup {
			problems = append(problems, fmt.Sprintf("line %d: %s is %s:%s again (first given as %s at line %d), and Pulumi would keep one of the two at random; fix: keep one of them", kn.Line, kn.Value, Namespace, name, prev.Value, prev.Line))
			continue
		}
		seen[name] = kn
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("%s: %s", path, strings.Join(problems, "; "))
	}
	return nil
}

func isKnown(key string) bool {
	for _, k := range Keys {
		if k == key {
			return true
		}
	}
	return false
}

// ArgsFromYAML decodes spec.Args written directly as YAML (the golden test inputs) with the same
// decoder and YAML semantics as the stack configuration.
func ArgsFromYAML(raw []byte) (spec.Args, error) {
	var generic any
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&generic); err != nil && err.Error() != "EOF" {
		return spec.Args{}, fmt.Errorf("decode args: %w", err)
	}
	var a spec.Args
	var p core.Problems
	decodeValue(&p, nil, normalize(generic), reflect.ValueOf(&a).Elem())
	if err := p.Err(); err != nil {
		return spec.Args{}, err
	}
	return a, nil
}

// normalize turns yaml.v3's map[any]any (mappings with non-string keys) into map[string]any.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case map[any]any:
		out := map[string]any{}
		for k, e := range t {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
		return t
	}
	return v
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
// entries) relative to root, the project directory, so they mean the same whatever directory
// the program or the provider runs in.
func (s *Stack) Absolutize(root string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) && !strings.Contains(*p, "://") {
			*p = filepath.Join(root, *p)
		}
	}
	abs(&s.RenderDir)
	abs(&s.Kubeconfig)
	if pf := s.Args.Preflight; pf != nil {
		abs(&pf.Kubeconfig)
	}
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
