// Command go-example is a Go Pulumi program of a platform team that composes UpstreamTls into a
// larger stack: the component stands up upstream TLS for the team's backends, and the stack
// publishes the resulting posture as a ConfigMap that the team's dashboards read.
//
// It imports the component as a library (github.com/upstream-tls/upstream-tls/components/...),
// the way any Go module would; go.mod points at this repository with a replace directive.
package main

import (
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/upstream-tls/upstream-tls/components/upstreamtls"
)

func main() { pulumi.Run(Stack) }

// Stack is the program: one backend in each TLS mode behind one Gateway, plus the posture
// ConfigMap.
func Stack(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	providerArgs := &kubernetes.ProviderArgs{}
	if dir := cfg.Get("renderDir"); dir != "" {
		providerArgs.RenderYamlToDirectory = pulumi.String(dir)
	}
	k8s, err := kubernetes.NewProvider(ctx, "kubernetes", providerArgs)
	if err != nil {
		return err
	}
	env, err := upstreamtls.New(ctx, "platform", &upstreamtls.Args{
		Environment: upstreamtls.EnvironmentStaging,
		EnvoyGateway: &upstreamtls.EnvoyGatewayArgs{
			ChartDir:       cfg.Get("chartDir"),
			GatewayAPICRDs: cfg.Get("gatewayAPICRDs"),
		},
		Backends: []upstreamtls.BackendArgs{
			{
				Name: "public-api", Namespace: "apps",
				Deploy: &upstreamtls.DeployArgs{CertificateSecret: "public-api-tls"},
				TLS:    upstreamtls.TLSArgs{Mode: upstreamtls.ModeSystem, Hostname: "public-api.example.com"},
			},
			{
				Name: "internal-api", Namespace: "apps",
				TLS: upstreamtls.TLSArgs{Mode: upstreamtls.ModeCA, CA: &upstreamtls.CAArgs{Generate: true}},
			},
			{
				Name: "legacy-app", Namespace: "legacy",
				TLS: upstreamtls.TLSArgs{Mode: upstreamtls.ModeInsecure},
			},
		},
	}, pulumi.Providers(k8s))
	if err != nil {
		return err
	}
	// The rest of the platform stack: here, the posture for the dashboards.
	_, err = corev1.NewConfigMap(ctx, "upstream-tls-posture", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("upstream-tls-posture"), Namespace: env.GatewayNamespace},
		Data:     pulumi.StringMap{"posture": env.Posture},
	}, pulumi.Provider(k8s), pulumi.DependsOn([]pulumi.Resource{env}))
	if err != nil {
		return err
	}
	ctx.Export("posture", env.Posture)
	return nil
}
