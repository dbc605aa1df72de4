package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	yamlv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/yaml/v2"
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
		_, err = yamlv2.NewConfigGroup(ctx, "anchor", &yamlv2.ConfigGroupArgs{Files: pulumi.ToStringArray(files)}, pulumi.Provider(p))
		return err
	}
}
