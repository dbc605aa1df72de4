// Package program is the upstream-tls stack program: it reads the stack's typed configuration,
// builds the Kubernetes provider (rendering YAML into upstream-tls:renderDir when set, otherwise
// using the ambient kubeconfig), composes UpstreamTls and exports its outputs. infra/main.go
// runs it under the Pulumi CLI's Go language host; cmd/up runs it inline through the Automation
// API (the same engine, no language host needed).
package program

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/upstream-tls/upstream-tls/components/stackconfig"
	"github.com/upstream-tls/upstream-tls/components/upstreamtls"
)

// Run is the stack program.
func Run(ctx *pulumi.Context) error {
	cfg := config.New(ctx, stackconfig.Namespace)
	st, err := stackconfig.Decode(func(key string) (string, bool) {
		v, err := cfg.Try(key)
		return v, err == nil
	})
	if err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := stackconfig.ProjectRoot(wd)
	if err != nil {
		return err
	}
	st.Absolutize(root)
	providerArgs := &kubernetes.ProviderArgs{}
	if st.RenderDir != "" {
		providerArgs.RenderYamlToDirectory = pulumi.String(st.RenderDir)
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
