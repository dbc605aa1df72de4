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

// Target is where an anchor's Kubernetes provider puts the objects: a directory it renders
// them into, or the cluster of a kubeconfig file (exactly one of the two).
type Target struct {
	RenderDir  string
	Kubeconfig string
}

// Anchor is the program the component is measured against: the very objects a component stack
// rendered (files, from Manifests), registered without the component through one yaml/v2
// ConfigGroup on a Kubernetes provider configured as the component's (mutable Secrets and
// ConfigMaps, rendering into the target's directory or deploying into its cluster).
func Anchor(files []string, target Target) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		args := &kubernetes.ProviderArgs{
			EnableSecretMutable:    pulumi.Bool(true),
			EnableConfigMapMutable: pulumi.Bool(true),
		}
		switch {
		case target.RenderDir != "" && target.Kubeconfig == "":
			args.RenderYamlToDirectory = pulumi.String(target.RenderDir)
		case target.Kubeconfig != "" && target.RenderDir == "":
			kc, err := os.ReadFile(target.Kubeconfig)
			if err != nil {
				return fmt.Errorf("anchor kubeconfig: %w", err)
			}
			args.Kubeconfig = pulumi.ToSecret(pulumi.String(string(kc))).(pulumi.StringOutput)
		default:
			return fmt.Errorf("anchor: give a render directory or a kubeconfig, not %+v", target)
		}
		p, err := kubernetes.NewProvider(ctx, "kubernetes", args)
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
