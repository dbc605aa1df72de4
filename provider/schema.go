package provider

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/upstream-tls/upstream-tls/components/upstreamtls"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// typeNames are the schema names of the argument types: what a C#, TypeScript or Python user
// writes (the SDK generators add `Args` to input types: `BackendArgs`, never `BackendArgsArgs`).
var typeNames = map[string]string{
	"EnvoyGatewayArgs":      "EnvoyGateway",
	"PreflightArgs":         "Preflight",
	"GatewayArgs":           "Gateway",
	"ListenerArgs":          "Listener",
	"BackendArgs":           "Backend",
	"ServiceArgs":           "BackendService",
	"PortArgs":              "ServicePort",
	"DeployArgs":            "Deploy",
	"RouteArgs":             "Route",
	"TLSArgs":               "BackendTls",
	"CAArgs":                "CaSource",
	"EKSArgs":               "Eks",
	"EKSIdentityArgs":       "EksIdentity",
	"LBCArgs":               "LoadBalancerController",
	"NLBGatewayArgs":        "NlbGateway",
	"NLBListenerArgs":       "NlbListener",
	"NLBTargetArgs":         "NlbTarget",
	"NLBServiceArgs":        "NlbService",
	"TargetGroupArgs":       "TargetGroup",
	"HealthCheckArgs":       "HealthCheck",
	"CertificatesArgs":      "CertificateLifecycle",
	"ClientCertificateArgs": "ClientCertificate",
	"ExternalArgs":          "ExternalBackend",
	"TLSParametersArgs":     "TlsParameters",
}

// specTypes are the Go types of the arguments, by Go name, for their default tags.
var specTypes = func() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || out[t.Name()] != nil {
			return
		}
		out[t.Name()] = t
		for i := 0; i < t.NumField(); i++ {
			walk(t.Field(i).Type)
		}
	}
	walk(reflect.TypeOf(spec.Args{}))
	return out
}()

// Language settings: C# namespace Pulumi.UpstreamTls (classes Pulumi.UpstreamTls.UpstreamTls,
// Pulumi.UpstreamTls.Inputs.BackendArgs; Pulumi's own convention, as Pulumi.Kubernetes or the
// Pulumi.KubernetesCrds of crd2pulumi), Node package @upstream-tls/upstream-tls, Python package
// upstream_tls, Go import path github.com/upstream-tls/upstream-tls/sdk/go/upstreamtls.
var languages = map[string]any{
	"csharp": map[string]any{
		"rootNamespace":        "Pulumi",
		"namespaces":           map[string]any{"upstream-tls": "UpstreamTls"},
		"packageReferences":    map[string]any{"Pulumi": "3.*"},
		"respectSchemaVersion": true,
	},
	"nodejs": map[string]any{
		"packageName":          "@upstream-tls/upstream-tls",
		"dependencies":         map[string]any{"@pulumi/pulumi": "^3.0.0"},
		"respectSchemaVersion": true,
	},
	"python": map[string]any{
		"packageName":          "upstream_tls",
		"requires":             map[string]any{"pulumi": ">=3.0.0,<4.0.0"},
		"pyproject":            map[string]any{"enabled": true},
		"respectSchemaVersion": true,
	},
	"go": map[string]any{
		"importBasePath":                 "github.com/upstream-tls/upstream-tls/sdk/go/upstreamtls",
		"rootPackageName":                "upstreamtls",
		"generateResourceContainerTypes": true,
		"respectSchemaVersion":           true,
	},
}

// LogoURL is the package logo. The .NET generator fetches it over HTTP (Pulumi's own by
// default); tools/sdkgen-dotnet serves this file:// URL with the logo it draws, so generation
// needs no network.
const LogoURL = "file:///upstream-tls/logo.png"

// contract applies the schema contract to the schema infer produced: descriptions from the Go
// doc comments, defaults from the default tags, readable type tokens, language settings.
func contract(raw string) (string, error) {
	var s map[string]any
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return "", err
	}
	s["language"] = languages
	s["logoUrl"] = LogoURL
	// Rename types, then rewrite every reference to them.
	types, _ := s["types"].(map[string]any)
	renamed := map[string]any{}
	refs := map[string]string{}
	for tok, def := range types {
		goName := strings.TrimPrefix(tok, Name+":index:")
		name, ok := typeNames[goName]
		if !ok {
			return "", fmt.Errorf("type %s has no schema name (add it to typeNames)", tok)
		}
		newTok := Name + ":index:" + name
		refs["#/types/"+tok] = "#/types/" + newTok
		d := def.(map[string]any)
		describe(d, goName, "properties")
		renamed[newTok] = d
	}
	s["types"] = renamed
	resources, _ := s["resources"].(map[string]any)
	if comp, ok := resources[Name+":index:UpstreamTls"].(map[string]any); ok {
		comp["description"] = docs["UpstreamTls"][""]
		describeWith(comp, "Args", "inputProperties", specTypes["Args"])
		describeWith(comp, reflect.TypeOf(upstreamtls.UpstreamTls{}).Name(), "properties", nil)
	}
	rewriteRefs(s, refs)
	out, err := json.MarshalIndent(s, "", "    ")
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// describe sets the description of an object type and of its properties (in key), and the
// constant defaults its Go fields' default tags declare.
func describe(def map[string]any, goName, key string) {
	def["description"] = docs[goName][""]
	describeWith(def, goName, key, specTypes[goName])
}

func describeWith(def map[string]any, goName, key string, t reflect.Type) {
	props, _ := def[key].(map[string]any)
	defaults := tagDefaults(t)
	for name, p := range props {
		pm := p.(map[string]any)
		if d := docs[goName][name]; d != "" {
			pm["description"] = d
		}
		if v, ok := defaults[name]; ok {
			pm["default"] = v
		}
	}
}

// tagDefaults maps the property names of t to their default tags, typed as the schema wants.
func tagDefaults(t reflect.Type) map[string]any {
	out := map[string]any{}
	if t == nil {
		return out
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		def, ok := f.Tag.Lookup("default")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("pulumi"), ",")
		kind := f.Type.Kind()
		if kind == reflect.Pointer {
			kind = f.Type.Elem().Kind()
		}
		switch kind {
		case reflect.Bool:
			out[name], _ = strconv.ParseBool(def)
		case reflect.Int:
			n, _ := strconv.Atoi(def)
			out[name] = n
		default:
			out[name] = def
		}
	}
	return out
}

// rewriteRefs replaces every "$ref" in v found in refs.
func rewriteRefs(v any, refs map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s, ok := t[k].(string); ok && k == "$ref" {
				if r, ok := refs[s]; ok {
					t[k] = r
				}
				continue
			}
			rewriteRefs(t[k], refs)
		}
	case []any:
		for _, e := range t {
			rewriteRefs(e, refs)
		}
	}
}
