// Command sdkgen-dotnet generates the upstream-tls .NET SDK from the committed schema with
// Pulumi's own .NET code generator, which left github.com/pulumi/pulumi/pkg/v3 after v3.226.0
// (the version this module pins; the Kubernetes provider build pins the same). The generator
// fetches the package logo over HTTP: the schema's logoUrl is a file:// URL, served here with a
// logo this program draws (a 64x64 PNG), so nothing reaches the network. `make generate` runs it.
//
//	sdkgen-dotnet -schema provider/cmd/pulumi-resource-upstream-tls/schema.json -out sdk/dotnet
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/dotnet"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "upstream-tls sdkgen-dotnet (tools/sdkgen-dotnet)"

type noLoader struct{}

var errNoRefs = errors.New("the upstream-tls schema references no other package")

func (noLoader) LoadPackage(string, *semver.Version) (*schema.Package, error) { return nil, errNoRefs }
func (noLoader) LoadPackageV2(context.Context, *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, errNoRefs
}

// logo draws the package icon: a 64x64 green square with a white lock-shaped mark.
func logo() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			c := color.RGBA{0x1b, 0x7f, 0x5c, 0xff}
			body := x >= 18 && x < 46 && y >= 30 && y < 52
			shackle := y >= 14 && y < 30 && ((x >= 22 && x < 27) || (x >= 37 && x < 42)) || (y >= 14 && y < 19 && x >= 22 && x < 42)
			if body || shackle {
				c = color.RGBA{0xff, 0xff, 0xff, 0xff}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

type logoTransport struct{}

func (logoTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader(logo())), Request: r, Header: http.Header{}}, nil
}

func main() {
	schemaPath := flag.String("schema", "", "schema.json")
	out := flag.String("out", "sdk/dotnet", "output directory")
	flag.Parse()
	if err := run(*schemaPath, *out); err != nil {
		fmt.Fprintln(os.Stderr, "sdkgen-dotnet:", err)
		os.Exit(1)
	}
}

func run(schemaPath, out string) error {
	http.DefaultTransport.(*http.Transport).RegisterProtocol("file", logoTransport{})
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	pkg, diags, err := schema.BindSpec(spec, noLoader{}, schema.ValidationOptions{})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return fmt.Errorf("bind %s: %s", schemaPath, diags.Error())
	}
	files, err := dotnet.GeneratePackage(tool, pkg, nil, nil)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(out, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}
