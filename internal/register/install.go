package register

import (
	"fmt"
	"strings"

	helmv4 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v4"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/upstream-tls/upstream-tls/internal/plan/core"
)

// yamlComponent is the state of a kubernetes:yaml/v2 component. It is registered as a remote
// component so that this package does not compile the SDK's yaml/v2 package, which pulls in
// every Kubernetes type.
type yamlComponent struct {
	pulumi.ResourceState

	Resources pulumi.ArrayOutput `pulumi:"resources"`
}

// CRDFiles turns bundle sources into ConfigGroup file patterns: URLs and YAML files stay as
// they are, a local directory becomes <dir>/*.yaml.
func CRDFiles(b *core.CRDBundle) []string {
	var files []string
	for _, s := range b.Sources {
		if strings.Contains(s, "://") || strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".yml") {
			files = append(files, s)
			continue
		}
		files = append(files, strings.TrimSuffix(s, "/")+"/*.yaml")
	}
	return files
}

// CRDs registers a kubernetes:yaml/v2:ConfigGroup that applies every CRD of the bundle, each
// retained on delete when the bundle says so.
func CRDs(ctx *pulumi.Context, name string, b *core.CRDBundle, opts ...pulumi.ResourceOption) (pulumi.Resource, error) {
	if b == nil || len(b.Sources) == 0 {
		return nil, fmt.Errorf("CRD bundle %q has no sources", name)
	}
	if b.RetainOnDelete {
		// Inherited by every child the ConfigGroup registers (the engine's inheritance of
		// retainOnDelete from a parent); the component itself holds no object.
		opts = append(opts, pulumi.RetainOnDelete(true))
	}
	var res yamlComponent
	if err := ctx.RegisterRemoteComponentResource("kubernetes:yaml/v2:ConfigGroup", name, pulumi.Map{
		"files": pulumi.ToStringArray(CRDFiles(b)),
	}, &res, opts...); err != nil {
		return nil, fmt.Errorf("CRD bundle %q: %w", name, err)
	}
	return &res, nil
}

// Chart installs release r, its values' bindings filled by resolve; its objects are retained
// on delete when r says so.
func Chart(ctx *pulumi.Context, name string, r core.HelmRelease, resolve Resolver, opts ...pulumi.ResourceOption) (*helmv4.Chart, error) {
	values, err := Props(r.Values, r.Computed, resolve)
	if err != nil {
		return nil, fmt.Errorf("chart %s values: %w", r.Name, err)
	}
	a := &helmv4.ChartArgs{
		Name:      pulumi.String(r.Name),
		Namespace: pulumi.String(r.Namespace),
		Values:    values,
	}
	if r.SkipCRDs {
		a.SkipCrds = pulumi.Bool(true)
	}
	if r.Path != "" {
		a.Chart = pulumi.String(r.Path)
	} else {
		a.Chart = pulumi.String(strings.TrimSuffix(r.Repository, "/") + "/" + r.Chart)
		if !strings.HasPrefix(r.Repository, "oci://") {
			a.Chart = pulumi.String(r.Chart)
			a.RepositoryOpts = &helmv4.RepositoryOptsArgs{Repo: pulumi.String(r.Repository)}
		}
		a.Version = pulumi.String(r.Version)
	}
	if r.RetainOnDelete {
		opts = append(opts, pulumi.RetainOnDelete(true)) // inherited by the chart's objects
	}
	chart, err := helmv4.NewChart(ctx, name, a, opts...)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", r.Name, err)
	}
	return chart, nil
}
