package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/utilities"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AnchorProject is the Pulumi project of the anchor stacks.
const AnchorProject = "upstream-tls-anchor"

// Manifests lists the YAML files under dir (what the Kubernetes provider rendered for a
// component stack: its CRDs under 0-crd/, every other object under 1-manifest/), sorted.
func Manifests(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".yaml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the rendered manifests in %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no rendered manifests in %s", dir)
	}
	sort.Strings(files)
	return files, nil
}

// Anchor is the program the component is measured against: the very objects a component stack
// rendered (files, from Manifests), registered without the component through one yaml/v2
// ConfigGroup on a Kubernetes provider configured as the component's (rendering into
// renderDir, mutable Secrets and ConfigMaps).
func Anchor(files []string, renderDir string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "kubernetes", &kubernetes.ProviderArgs{
			RenderYamlToDirectory:  pulumi.String(renderDir),
			EnableSecretMutable:    pulumi.Bool(true),
			EnableConfigMapMutable: pulumi.Bool(true),
		})
		if err != nil {
			return err
		}
		return newConfigGroup(ctx, "anchor", files, pulumi.Provider(p))
	}
}

// ConfigGroupToken is the type of the Kubernetes provider's yaml/v2 ConfigGroup, a component
// the provider plugin itself constructs (a remote component).
const ConfigGroupToken = "kubernetes:yaml/v2:ConfigGroup"

// configGroup is a yaml/v2 ConfigGroup's state; its `resources` output is not read.
type configGroup struct{ pulumi.ResourceState }

// newConfigGroup registers a yaml/v2 ConfigGroup of files exactly as the SDK's
// yamlv2.NewConfigGroup does (the remote component ConfigGroupToken with the input `files`, the
// SDK's default options), without importing the SDK's yaml/v2 package: that package imports
// every typed Kubernetes package of the SDK (about 65, to type its `resources` output), which
// took minutes of every cold build of the main module, `go vet` and `make test` included.
func newConfigGroup(ctx *pulumi.Context, name string, files []string, opts ...pulumi.ResourceOption) error {
	var cg configGroup
	args := pulumi.Map{"files": pulumi.ToStringArray(files)}
	return ctx.RegisterRemoteComponentResource(ConfigGroupToken, name, args, &cg, utilities.PkgResourceDefaultOpts(opts)...)
}
