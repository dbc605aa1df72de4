package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/go-openapi/jsonreference"
	"github.com/pulumi/pulumi/pkg/v3/codegen/cgstrings"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/controller/openapi/builder"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// helmDirective matches a line that is nothing but a Helm template action,
// e.g. `{{- if .Values.crds.envoyGateway.enabled }}` wrapping the CRDs in
// Envoy Gateway's gateway-crds-helm chart. Such lines are dropped so the
// chart's generated CRD files can be read as plain YAML.
var helmDirective = regexp.MustCompile(`^\s*\{\{-?.*-?\}\}\s*$`)

// readCRDs decodes every CustomResourceDefinition in the given multi-document
// YAML (or JSON) files; other documents are ignored.
func readCRDs(paths []string) ([]*apiextv1.CustomResourceDefinition, error) {
	var crds []*apiextv1.CustomResourceDefinition
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var clean bytes.Buffer
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		for sc.Scan() {
			if !helmDirective.Match(sc.Bytes()) {
				clean.Write(sc.Bytes())
				clean.WriteByte('\n')
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		dec := yaml.NewYAMLOrJSONDecoder(&clean, 4096)
		found := 0
		for {
			crd := &apiextv1.CustomResourceDefinition{}
			if err := dec.Decode(crd); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if crd.Kind == "CustomResourceDefinition" {
				crds = append(crds, crd)
				found++
			}
		}
		if found == 0 {
			return nil, fmt.Errorf("%s: no CustomResourceDefinition found", p)
		}
	}
	return crds, nil
}

// swaggerDefinitions builds the OpenAPI v2 definitions of every served version
// of every CRD (as crd2pulumi's crdToOpenAPI does), hoists nested objects, and
// merges the results. It also returns the set of "<group>/<version>" strings.
func swaggerDefinitions(crds []*apiextv1.CustomResourceDefinition) (spec.Definitions, map[string]bool, error) {
	merged := spec.Definitions{}
	groupVersions := map[string]bool{}
	for _, crd := range crds {
		// Same defaults the API server would fill in; the builder needs them.
		if crd.Spec.Names.Singular == "" {
			crd.Spec.Names.Singular = strings.ToLower(crd.Spec.Names.Kind)
		}
		if crd.Spec.Names.ListKind == "" {
			crd.Spec.Names.ListKind = crd.Spec.Names.Kind + "List"
		}
		for _, v := range crd.Spec.Versions {
			if !v.Served {
				continue
			}
			sw, err := builder.BuildOpenAPIV2(crd, v.Name, builder.Options{V2: true, AllowNonStructural: true})
			if err != nil {
				return nil, nil, fmt.Errorf("%s %s: %w", crd.Name, v.Name, err)
			}
			if err := hoistNestedObjects(sw.Definitions); err != nil {
				return nil, nil, fmt.Errorf("%s %s: %w", crd.Name, v.Name, err)
			}
			for name, def := range sw.Definitions {
				// Shared definitions (meta/v1 ObjectMeta, ...) repeat in every
				// document; anything else must not clash.
				if prev, ok := merged[name]; ok && !reflect.DeepEqual(prev, def) {
					return nil, nil, fmt.Errorf("conflicting OpenAPI definitions for %s", name)
				}
				merged[name] = def
			}
			groupVersions[crd.Spec.Group+"/"+v.Name] = true
		}
	}
	if len(groupVersions) == 0 {
		return nil, nil, errors.New("no served CRD versions found")
	}
	return merged, groupVersions, nil
}

// hoistNestedObjects replaces inline object schemas that declare properties -
// directly, as array items or as map values, at any depth - by references to
// new definitions named <parent><Property> (e.g. HTTPRouteSpecRules). The
// pulumi-kubernetes schema generator only emits typed structs for named
// definitions and turns inline objects into untyped maps.
//
// crd2pulumi's flattenOpenAPI hoists direct object properties only; we also
// hoist array items and map values (as pulumi-kubernetes' CRD
// parameterization later did), so e.g. HTTPRoute rules are typed.
func hoistNestedObjects(defs spec.Definitions) error {
	names := make([]string, 0, len(defs))
	for name := range defs {
		names = append(names, name)
	}
	sort.Strings(names) // deterministic error messages; the result is order-independent
	for _, name := range names {
		def := defs[name]
		if err := hoistProperties(defs, name, &def); err != nil {
			return err
		}
		defs[name] = def
	}
	return nil
}

func hoistProperties(defs spec.Definitions, parent string, s *spec.Schema) error {
	for prop, ps := range s.Properties {
		hoisted, err := hoist(defs, parent+cgstrings.UppercaseFirst(prop), ps)
		if err != nil {
			return err
		}
		s.Properties[prop] = hoisted
	}
	return nil
}

// hoist returns the schema to use in place of s, moving s (or the object
// schema inside an array/map s) into defs[name] when it is a structured object.
func hoist(defs spec.Definitions, name string, s spec.Schema) (spec.Schema, error) {
	switch {
	case s.Ref.GetURL() != nil:
		return s, nil
	case s.Type.Contains("array") && s.Items != nil && s.Items.Schema != nil:
		item, err := hoist(defs, name, *s.Items.Schema)
		s.Items = &spec.SchemaOrArray{Schema: &item}
		return s, err
	case !s.Type.Contains("object"):
		return s, nil
	case len(s.Properties) == 0 && s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil:
		value, err := hoist(defs, name, *s.AdditionalProperties.Schema)
		s.AdditionalProperties = &spec.SchemaOrBool{Allows: true, Schema: &value}
		return s, err
	case len(s.Properties) == 0 || s.AdditionalProperties != nil:
		return s, nil
	}
	if _, taken := defs[name]; taken {
		return s, fmt.Errorf("cannot hoist nested object: definition %s already exists", name)
	}
	if err := hoistProperties(defs, name, &s); err != nil {
		return s, err
	}
	defs[name] = s
	ref, err := jsonreference.New("#/definitions/" + name)
	if err != nil {
		return s, err
	}
	return spec.Schema{SchemaProps: spec.SchemaProps{
		Ref:         spec.Ref{Ref: ref},
		Description: s.Description,
	}}, nil
}
