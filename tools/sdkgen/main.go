// Command sdkgen generates the upstream-tls SDKs for Node.js, Python and Go from the committed
// schema with Pulumi's own code generators (github.com/pulumi/pulumi/pkg/v3 codegen, pinned in
// this module's go.mod): `pulumi package gen-sdk` delegates to language plugins the module proxy
// does not serve, so the project calls the generators directly. The .NET generator lives in
// tools/sdkgen-dotnet (it left pkg/v3 after v3.226.0). `make generate` runs both.
//
//	sdkgen -schema provider/cmd/pulumi-resource-upstream-tls/schema.json -out sdk -lang nodejs,python,go
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "upstream-tls sdkgen (tools/sdkgen)"

// noLoader refuses every reference to another package: the schema is self-contained.
type noLoader struct{}

var errNoRefs = errors.New("the upstream-tls schema references no other package")

func (noLoader) LoadPackage(string, *semver.Version) (*schema.Package, error) { return nil, errNoRefs }
func (noLoader) LoadPackageV2(context.Context, *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, errNoRefs
}
func (noLoader) LoadPackageReference(string, *semver.Version) (schema.PackageReference, error) {
	return nil, errNoRefs
}
func (noLoader) LoadPackageReferenceV2(context.Context, *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, errNoRefs
}

func main() {
	schemaPath := flag.String("schema", "", "schema.json")
	out := flag.String("out", "sdk", "directory receiving one sub-directory per language")
	langs := flag.String("lang", "nodejs,python,go", "languages to generate")
	flag.Parse()
	if err := run(*schemaPath, *out, strings.Split(*langs, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "sdkgen:", err)
		os.Exit(1)
	}
}

func run(schemaPath, out string, langs []string) error {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	for _, lang := range langs {
		pkg, diags, err := schema.BindSpec(spec, noLoader{}, schema.ValidationOptions{})
		if err != nil {
			return err
		}
		if diags.HasErrors() {
			return fmt.Errorf("bind %s: %s", schemaPath, diags.Error())
		}
		var files map[string][]byte
		switch lang {
		case "nodejs":
			files, err = nodejs.GeneratePackage(tool, pkg, nil, nil, false, noLoader{})
		case "python":
			files, err = python.GeneratePackage(tool, pkg, nil, noLoader{})
		case "go":
			files, err = gogen.GeneratePackage(tool, pkg, nil)
		default:
			return fmt.Errorf("unknown language %q", lang)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", lang, err)
		}
		dir := filepath.Join(out, lang)
		if lang == "go" {
			// The Go generator's paths are relative to the package (importBasePath).
			dir = filepath.Join(out, "go", "upstreamtls")
		}
		if err := write(dir, files); err != nil {
			return err
		}
	}
	return nil
}

// write replaces dir with files.
func write(dir string, files map[string][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}
