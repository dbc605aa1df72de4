package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/gen"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	pschema "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// k8sImportBase is the Go import base path the pulumi-kubernetes schema
// generator sets. As in crd2pulumi, it is kept: references to meta/v1 types and
// to the codegen's runtime helpers then resolve to pulumi-kubernetes' own
// metav1 and utilities packages, so the generated code needs neither copies of
// them nor a go.mod of its own, and resources are registered with the same
// Kubernetes provider version as the pulumi-kubernetes SDK in use.
const k8sImportBase = "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"

// sharedModules are the only pulumi-kubernetes packages generated code may import.
var sharedModules = map[string]bool{"meta/v1": true, "utilities": true}

var nonAlphanumeric = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// packageLayout maps each "<group>/<version>" to its output directory
// "<prefix>/<version>". The prefix is the group's first DNS label stripped of
// non-alphanumerics (crd2pulumi's rule: gateway.networking.k8s.io -> gateway)
// unless overridden. Two groups may not share a prefix.
func packageLayout(groupVersions map[string]bool, overrides groupPackages) (map[string]string, error) {
	layout := map[string]string{}
	owner := map[string]string{} // prefix -> group
	used := map[string]bool{}
	for gv := range groupVersions {
		group, version, _ := strings.Cut(gv, "/")
		prefix, ok := overrides[group]
		if ok {
			used[group] = true
		} else {
			prefix = nonAlphanumeric.ReplaceAllString(strings.Split(group, ".")[0], "")
		}
		if sharedModules[prefix+"/"+version] || prefix == "utilities" {
			return nil, fmt.Errorf("group %s: package directory %q is reserved", group, prefix)
		}
		if other, clash := owner[prefix]; clash && other != group {
			return nil, fmt.Errorf("groups %s and %s both map to directory %q; use -group-package", other, group, prefix)
		}
		owner[prefix] = group
		layout[gv] = prefix + "/" + version
	}
	for group := range overrides {
		if !used[group] {
			return nil, fmt.Errorf("-group-package %s: no served CRD version in that group", group)
		}
	}
	return layout, nil
}

// generateGo turns the swagger definitions into a Pulumi package schema with
// pulumi-kubernetes' generator, renders it with Pulumi's Go code generator and
// returns the gofmt'ed files of the CRD packages, keyed by "<prefix>/<version>/<file>".
func generateGo(defs spec.Definitions, layout map[string]string) (map[string][]byte, error) {
	raw, err := json.Marshal(map[string]any{"definitions": defs})
	if err != nil {
		return nil, err
	}
	var swagger map[string]any
	if err := json.Unmarshal(raw, &swagger); err != nil {
		return nil, err
	}
	// Hyphenated field names occur in CRDs; allow them as crd2pulumi does.
	pkgSpec := gen.PulumiSchema(swagger, gen.WithAllowHyphens(true))

	// Only the CRD resources are wanted: not the provider resource and its
	// configuration, and not the meta/v1 resources (Status); the meta/v1
	// types stay so that references to them bind.
	pkgSpec.Config = pschema.ConfigSpec{}
	pkgSpec.Provider = nil
	for tok := range pkgSpec.Resources {
		if strings.HasPrefix(tok, "kubernetes:meta/v1:") {
			delete(pkgSpec.Resources, tok)
		}
	}

	// Keep the generator's Go options (import base path, container types,
	// extra input types, internal module "utilities", ...) and only lay the
	// modules out as crd2pulumi does.
	var goInfo map[string]any
	if err := json.Unmarshal(pkgSpec.Language["go"], &goInfo); err != nil {
		return nil, fmt.Errorf("go language info: %w", err)
	}
	if goInfo["importBasePath"] != k8sImportBase {
		return nil, fmt.Errorf("unexpected Go importBasePath %v from pulumi-kubernetes", goInfo["importBasePath"])
	}
	modToPkg := map[string]string{"meta/v1": "meta/v1"}
	for gv, dir := range layout {
		modToPkg[gv] = dir
	}
	goInfo["moduleToPackage"] = modToPkg
	goInfo["packageImportAliases"] = map[string]string{k8sImportBase + "/meta/v1": "metav1"}
	goRaw, err := json.Marshal(goInfo)
	if err != nil {
		return nil, err
	}
	pkgSpec.Language = map[string]pschema.RawMessage{"go": goRaw}

	pkg, err := pschema.ImportSpec(pkgSpec, nil, noLoader{}, pschema.ValidationOptions{})
	if err != nil {
		return nil, fmt.Errorf("binding Pulumi schema: %w", err)
	}
	generated, err := gogen.GeneratePackage("crdgen", pkg, nil)
	if err != nil {
		return nil, fmt.Errorf("Go codegen: %w", err)
	}

	// Generated paths are "kubernetes/<module dir>/<file>" (path.Base of the
	// import base path). Keep the CRD modules; drop the root package, meta/v1
	// and utilities, which pulumi-kubernetes provides.
	keep := map[string]bool{}
	for _, dir := range layout {
		keep[dir] = true
	}
	files := map[string][]byte{}
	for name, code := range generated {
		rel, ok := strings.CutPrefix(name, path.Base(k8sImportBase)+"/")
		if !ok || !keep[path.Dir(rel)] {
			continue
		}
		if path.Ext(rel) == ".go" {
			if code, err = checkAndFormat(rel, code); err != nil {
				return nil, err
			}
		}
		files[rel] = code
	}
	for _, dir := range layout {
		if _, ok := files[dir+"/init.go"]; !ok {
			return nil, fmt.Errorf("codegen produced no package for %s", dir)
		}
	}
	return files, nil
}

// noLoader is the schema loader for binding: the package is self-contained,
// so loading any other package is an error.
type noLoader struct{}

func (noLoader) LoadPackage(name string, _ *semver.Version) (*pschema.Package, error) {
	return nil, fmt.Errorf("unexpected reference to package %s", name)
}

func (noLoader) LoadPackageV2(_ context.Context, d *pschema.PackageDescriptor) (*pschema.Package, error) {
	return nil, fmt.Errorf("unexpected reference to package %s", d.Name)
}

// checkAndFormat gofmts a generated file and makes sure it imports nothing
// from the pulumi-kubernetes SDK but meta/v1 and utilities (any other such
// import would point at a package that exists neither there nor here).
func checkAndFormat(name string, code []byte) ([]byte, error) {
	f, err := parser.ParseFile(token.NewFileSet(), name, code, parser.ImportsOnly)
	if err != nil {
		return nil, fmt.Errorf("generated %s: %w", name, err)
	}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if mod, ok := strings.CutPrefix(p, k8sImportBase+"/"); ok && !sharedModules[mod] {
			return nil, fmt.Errorf("generated %s imports %s, which is not generated", name, p)
		}
	}
	out, err := format.Source(code)
	if err != nil {
		return nil, fmt.Errorf("gofmt %s: %w", name, err)
	}
	return out, nil
}

// writeTree replaces dir by exactly the given files. As a guard against a
// wrong -out, an existing non-empty dir must hold a README.md (i.e. look
// like earlier output).
func writeTree(dir string, files map[string][]byte) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
			return fmt.Errorf("refusing to wipe %s: it is not empty and has no README.md", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}
