// Package program is the upstream-tls stack program: it reads the stack's configuration,
// builds the Kubernetes provider (rendering YAML into upstream-tls:renderDir when set, otherwise
// using the ambient kubeconfig), composes UpstreamTls and exports its outputs. infra/main.go
// runs it under the Pulumi CLI's Go language host; cmd/up (internal/engine) runs it inline
// through the Automation API (the same engine, no language host needed).
package program

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumiconfig "github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/upstream-tls/upstream-tls/components/upstreamtls"
	"github.com/upstream-tls/upstream-tls/internal/config"
	"github.com/upstream-tls/upstream-tls/internal/plan"
	"github.com/upstream-tls/upstream-tls/internal/spec"
)

// Options say where the program's files are.
type Options struct {
	// Root is the project directory relative paths of the configuration (renderDir, chartDir,
	// local CRD directories) are resolved against. Default: the nearest directory at or above
	// the working directory holding Pulumi.yaml.
	Root string
	// StackFile is the stack's configuration file, which the program checks as `make render`
	// does (unknown keys, keys given twice under different spellings). Default:
	// <Root>/Pulumi.<stack>.yaml when it exists.
	StackFile string
}

// Run is the stack program with default Options.
func Run(ctx *pulumi.Context) error { return New(Options{})(ctx) }

// New returns the stack program for opts.
func New(opts Options) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		root := opts.Root
		if root == "" {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			if root, err = config.ProjectRoot(wd); err != nil {
				return err
			}
		}
		stackFile := opts.StackFile
		if stackFile == "" {
			if f := filepath.Join(root, "Pulumi."+ctx.Stack()+".yaml"); fileExists(f) {
				stackFile = f
			}
		}
		if stackFile != "" {
			raw, err := os.ReadFile(stackFile)
			if err != nil {
				return fmt.Errorf("read stack config: %w", err)
			}
			if err := config.CheckStackFile(raw, stackFile); err != nil {
				return err
			}
		}
		cfg := pulumiconfig.New(ctx, config.Namespace)
		st, err := config.Decode(func(key string) (string, bool) {
			v, err := cfg.Try(key)
			return v, err == nil
		})
		if err != nil {
			return err
		}
		st.Absolutize(root)
		// Refuse bad input before anything, the provider included, is registered.
		if _, err := plan.Build(st.Args); err != nil {
			return err
		}
		// Secrets and ConfigMaps update in place: a certificate renewal changes a Secret's data
		// and a CA rollover a ConfigMap's, and without these the Kubernetes provider replaces
		// the object (deletes it, then creates it again, under the same name), leaving the
		// gateway without it for a moment. Objects marked immutable are still replaced.
		providerArgs := &kubernetes.ProviderArgs{EnableSecretMutable: pulumi.Bool(true), EnableConfigMapMutable: pulumi.Bool(true)}
		if st.RenderDir != "" {
			providerArgs.RenderYamlToDirectory = pulumi.String(st.RenderDir)
		}
		if st.Kubeconfig != "" {
			kc, err := os.ReadFile(st.Kubeconfig)
			if err != nil {
				return fmt.Errorf("upstream-tls:kubeconfig: %w; fix: start the local cluster (make cluster) or point the key at a kubeconfig file", err)
			}
			providerArgs.Kubeconfig = pulumi.ToSecret(pulumi.String(string(kc))).(pulumi.StringOutput)
		}
		// The component reads the cluster it deploys to before registering anything
		// (conflicting policies, CA ConfigMaps, foreign CRDs, the posture change), with the
		// provider's kubeconfig, unless the stack names another one for those reads.
		if st.RenderDir == "" && st.Args.Preflight == nil {
			st.Args.Preflight = &spec.PreflightArgs{Kubeconfig: ambientKubeconfig(st.Kubeconfig)}
		}
		if st.NodelessCluster {
			if err := ctx.RegisterResourceTransform(skipWorkloadAwait); err != nil {
				return fmt.Errorf("upstream-tls:nodelessCluster: %w", err)
			}
		}
		k8s, err := kubernetes.NewProvider(ctx, "kubernetes", providerArgs)
		if err != nil {
			return fmt.Errorf("kubernetes provider: %w", err)
		}
		env, err := upstreamtls.New(ctx, "upstream-tls", &st.Args, pulumi.Providers(k8s))
		if err != nil {
			return err
		}
		ctx.Export("posture", env.Posture)
		ctx.Export("observedPosture", env.ObservedPosture)
		ctx.Export("backends", env.Backends)
		ctx.Export("gatewayName", env.GatewayName)
		ctx.Export("gatewayNamespace", env.GatewayNamespace)
		ctx.Export("backendApiEnabled", env.BackendAPIEnabled)
		if st.Args.EKS != nil && st.Args.EKS.Enabled {
			ctx.Export("nlbTargets", env.NLBTargets)
			ctx.Export("nlbAddress", env.NLBAddress)
		}
		if st.RenderDir != "" {
			ctx.Export("renderDir", pulumi.String(st.RenderDir))
		}
		return nil
	}
}

// ambientKubeconfig is the kubeconfig file the Kubernetes provider uses: the stack's kubeconfig
// key, else the first file of $KUBECONFIG, else ~/.kube/config (as client-go loads it; the
// provider's kubernetes:kubeconfig and kubernetes:context settings are not read here).
func ambientKubeconfig(key string) string {
	if key != "" {
		return key
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		return filepath.SplitList(env)[0]
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".kube", "config")
	}
	return ""
}

// workloadTypes are the resource types whose readiness needs running pods.
var workloadTypes = map[string]bool{"kubernetes:apps/v1:Deployment": true, "kubernetes:core/v1:Service": true}

// skipWorkloadAwait (upstream-tls:nodelessCluster) annotates Deployments and Services, those of
// the Helm charts included, with pulumi.com/skipAwait: on a cluster that runs no pods they
// would never become ready. Nothing else is touched.
func skipWorkloadAwait(_ context.Context, a *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
	if !a.Custom || !workloadTypes[a.Type] {
		return nil
	}
	props := pulumi.Map{}
	for k, v := range a.Props {
		props[k] = v
	}
	meta := pulumi.Map{}
	if m, ok := props["metadata"].(pulumi.Map); ok {
		for k, v := range m {
			meta[k] = v
		}
	}
	ann := pulumi.Map{}
	switch m := meta["annotations"].(type) {
	case pulumi.Map:
		for k, v := range m {
			ann[k] = v
		}
	case pulumi.StringMap:
		for k, v := range m {
			ann[k] = v
		}
	}
	ann["pulumi.com/skipAwait"] = pulumi.String("true")
	meta["annotations"] = ann
	props["metadata"] = meta
	return &pulumi.ResourceTransformResult{Props: props, Opts: a.Opts}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
