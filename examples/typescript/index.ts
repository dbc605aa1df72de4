// The upstream-tls dev environment (the same one as the repository's Pulumi.dev.yaml) written
// in TypeScript against the generated SDK @upstream-tls/upstream-tls (sdk/nodejs): one backend
// in each upstream TLS mode behind an HTTP + HTTPS gateway, rendered to YAML files by the
// Kubernetes provider instead of being applied to a cluster.
//
// Configuration (project upstream-tls-typescript):
//   renderDir       directory the Kubernetes provider writes the objects to (render mode)
//   chartDir        local Envoy Gateway charts (out/offline/charts, scripts/offline-inputs.sh)
//   gatewayAPICRDs  local Gateway API CRDs (out/offline/gateway-api-crds)
//   environment     dev (default), staging or production; production refuses the insecure
//                   backend legacy-app
//
// The module exports the program as a function, the form both an inline Automation API program
// (automation.ts) and the Pulumi CLI's Node.js language host accept; its result is the stack's
// outputs.
import * as pulumi from "@pulumi/pulumi";
import * as upstreamtls from "@upstream-tls/upstream-tls";

// The Kubernetes provider in render mode: it writes every object as YAML under
// renderYamlToDirectory instead of applying it. A ProviderResource of package "kubernetes" needs
// no @pulumi/kubernetes package: the engine loads the pulumi-resource-kubernetes plugin itself.
class RenderingKubernetesProvider extends pulumi.ProviderResource {
    constructor(name: string, renderYamlToDirectory: pulumi.Input<string>) {
        // Secrets and ConfigMaps update in place: a certificate renewal never deletes and
        // re-creates them (README, "Certificates that never expire by surprise").
        super("kubernetes", name, { renderYamlToDirectory, enableSecretMutable: true, enableConfigMapMutable: true });
    }
}

export = async () => {
    const config = new pulumi.Config();

    const kubernetes = new RenderingKubernetesProvider("kubernetes", config.require("renderDir"));

    const env = new upstreamtls.UpstreamTls("upstream-tls", {
        environment: config.get("environment") ?? "dev",
        envoyGateway: {
            chartDir: config.require("chartDir"),
            gatewayAPICRDs: config.require("gatewayAPICRDs"),
        },
        gateway: {
            name: "upstream-tls",
            namespace: "gateway",
            listeners: [
                { name: "http", protocol: "HTTP", port: 80 },
                { name: "https", protocol: "HTTPS", port: 443, hostname: "*.dev.example.com" },
            ],
            // mTLS to backends: the gateway presents a generated client certificate to every TLS
            // backend; internal-api verifies it.
            backendClientCertificate: { generate: true },
        },
        backends: [
            // Verified against the system trust store: the workload serves a publicly trusted
            // certificate from an existing Secret (for example issued by cert-manager with ACME).
            {
                name: "public-api",
                namespace: "apps",
                deploy: { certificateSecret: "public-api-tls" },
                route: { hostnames: ["public.dev.example.com"], listener: "https" },
                tls: { mode: "system", hostname: "public-api.dev.example.com" },
            },
            // Verified against a CA the component generates together with the serving certificate;
            // the workload in turn verifies the gateway's client certificate.
            {
                name: "internal-api",
                namespace: "apps",
                deploy: { verifyClientCertificate: true },
                route: { hostnames: ["internal.dev.example.com"], listener: "https" },
                tls: { mode: "ca", ca: { generate: true } },
            },
            // Self-signed and unverifiable: encrypted, not verified (Envoy Gateway Backend).
            {
                name: "legacy-app",
                namespace: "legacy",
                route: { hostnames: ["legacy.dev.example.com"], listener: "https" },
                tls: { mode: "insecure" },
            },
        ],
    }, { providers: [kubernetes] });

    return {
        posture: env.posture,
        backends: env.backends,
        gatewayName: env.gatewayName,
        gatewayNamespace: env.gatewayNamespace,
        backendApiEnabled: env.backendApiEnabled,
    };
};
