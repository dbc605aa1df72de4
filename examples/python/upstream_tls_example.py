"""The upstream-tls environment as a Python Pulumi program, on the generated SDK (upstream_tls).

It reads the same stack configuration as the Go program (infra/program, Pulumi.dev.yaml): the
`upstream-tls:*` keys environment, renderDir, allowInsecureBackends, envoyGateway, gateway,
backends and eks. Every configuration object becomes the SDK's typed input class
(BackendArgs, BackendTlsArgs, ...); a key the SDK does not know is refused with its path, so a
typo never disappears silently. The component itself checks the values (at preview, before
anything is registered).

With upstream-tls:renderDir set, the Kubernetes provider writes every object as YAML into that
directory instead of deploying to a cluster. The provider is declared as a plain
pulumi.ProviderResource, so the program needs no Kubernetes SDK: the engine loads the
pulumi-resource-kubernetes plugin, as for any other language.

Relative paths in the configuration (renderDir, envoyGateway.chartDir, a local
envoyGateway.gatewayAPICRDs directory, eks.controller.chartDir and local eks.controller.crds
entries) are relative to project_dir, as in the Go program.
"""

import os
from typing import Any, Callable, Dict, List, Optional, TypeVar

import pulumi

import upstream_tls
from upstream_tls import (
    BackendArgs,
    BackendServiceArgs,
    BackendTlsArgs,
    CaSourceArgs,
    ClientCertificateArgs,
    DeployArgs,
    EksArgs,
    EksIdentityArgs,
    EnvoyGatewayArgs,
    ExternalBackendArgs,
    TlsParametersArgs,
    GatewayArgs,
    HealthCheckArgs,
    ListenerArgs,
    LoadBalancerControllerArgs,
    NlbGatewayArgs,
    NlbListenerArgs,
    NlbServiceArgs,
    NlbTargetArgs,
    PreflightArgs,
    CertificateLifecycleArgs,
    RouteArgs,
    ServicePortArgs,
    TargetGroupArgs,
)

NAMESPACE = "upstream-tls"

T = TypeVar("T")


class ConfigError(Exception):
    """A configuration value that does not fit the SDK's input types."""


class _Object:
    """One configuration object: its keys are taken one by one; keys left over are refused."""

    def __init__(self, value: Any, path: str):
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: must be an object, not {type(value).__name__}")
        self._value: Dict[str, Any] = dict(value)
        self._path = path

    def take(self, key: str) -> Any:
        return self._value.pop(key, None)

    def object(self, key: str, convert: Callable[["_Object"], T]) -> Optional[T]:
        v = self._value.pop(key, None)
        return None if v is None else convert(_Object(v, f"{self._path}.{key}"))

    def objects(self, key: str, convert: Callable[["_Object"], T]) -> Optional[List[T]]:
        v = self._value.pop(key, None)
        if v is None:
            return None
        if not isinstance(v, list):
            raise ConfigError(f"{self._path}.{key}: must be a list, not {type(v).__name__}")
        return [convert(_Object(item, f"{self._path}.{key}[{i}]")) for i, item in enumerate(v)]

    def done(self, args: T) -> T:
        if self._value:
            raise ConfigError(f"{self._path}: unknown field(s) {', '.join(sorted(self._value))}")
        return args


# ---- configuration objects -> the SDK's input types -----------------------------------------

def envoy_gateway_args(o: _Object) -> EnvoyGatewayArgs:
    return o.done(EnvoyGatewayArgs(
        install=o.take("install"),
        namespace=o.take("namespace"),
        version=o.take("version"),
        chart_repository=o.take("chartRepository"),
        chart_dir=o.take("chartDir"),
        manage_gateway_apicrds=o.take("manageGatewayAPICRDs"),
        gateway_apicrds=o.take("gatewayAPICRDs"),
        enable_backend=o.take("enableBackend"),
        gateway_class_name=o.take("gatewayClassName"),
        verdict_timeout_seconds=o.take("verdictTimeoutSeconds"),
    ))


def listener_args(o: _Object) -> ListenerArgs:
    return o.done(ListenerArgs(
        name=o.take("name"),
        protocol=o.take("protocol"),
        port=o.take("port"),
        hostname=o.take("hostname"),
        certificate_secret=o.take("certificateSecret"),
    ))


def gateway_args(o: _Object) -> GatewayArgs:
    return o.done(GatewayArgs(
        name=o.take("name"),
        namespace=o.take("namespace"),
        listeners=o.objects("listeners", listener_args),
        backend_client_certificate=o.object("backendClientCertificate", client_certificate_args),
    ))


def client_certificate_args(o: _Object) -> ClientCertificateArgs:
    return o.done(ClientCertificateArgs(generate=o.take("generate"), secret=o.take("secret")))


def service_port_args(o: _Object) -> ServicePortArgs:
    return o.done(ServicePortArgs(name=o.take("name"), port=o.take("port"), target_port=o.take("targetPort")))


def backend_service_args(o: _Object) -> BackendServiceArgs:
    return o.done(BackendServiceArgs(
        name=o.take("name"),
        existing=o.take("existing"),
        ports=o.objects("ports", service_port_args),
    ))


def deploy_args(o: _Object) -> DeployArgs:
    return o.done(DeployArgs(
        image=o.take("image"),
        replicas=o.take("replicas"),
        certificate_secret=o.take("certificateSecret"),
        verify_client_certificate=o.take("verifyClientCertificate"),
    ))


def route_args(o: _Object) -> RouteArgs:
    return o.done(RouteArgs(
        kind=o.take("kind"),
        hostnames=o.take("hostnames"),
        path_prefix=o.take("pathPrefix"),
        listener=o.take("listener"),
        port=o.take("port"),
    ))


def ca_source_args(o: _Object) -> CaSourceArgs:
    return o.done(CaSourceArgs(generate=o.take("generate"), pem=o.take("pem"), config_map=o.take("configMap"),
                               secret=o.take("secret")))


def backend_tls_args(o: _Object) -> BackendTlsArgs:
    return o.done(BackendTlsArgs(
        mode=o.take("mode"),
        hostname=o.take("hostname"),
        subject_alt_names=o.take("subjectAltNames"),
        allow_in_cluster_hostname=o.take("allowInClusterHostname"),
        ca=o.object("ca", ca_source_args),
        ports=o.take("ports"),
        client_certificate=o.object("clientCertificate", client_certificate_args),
        parameters=o.object("parameters", tls_parameters_args),
        sni_from_request_host=o.take("sniFromRequestHost"),
    ))


def tls_parameters_args(o: _Object) -> TlsParametersArgs:
    return o.done(TlsParametersArgs(
        min_version=o.take("minVersion"),
        max_version=o.take("maxVersion"),
        ciphers=o.take("ciphers"),
        alpn_protocols=o.take("alpnProtocols"),
        allow_legacy_tls=o.take("allowLegacyTLS"),
    ))


def external_backend_args(o: _Object) -> ExternalBackendArgs:
    return o.done(ExternalBackendArgs(hostname=o.take("hostname"), port=o.take("port")))


def backend_args(o: _Object) -> BackendArgs:
    return o.done(BackendArgs(
        name=o.take("name"),
        namespace=o.take("namespace"),
        service=o.object("service", backend_service_args),
        deploy=o.object("deploy", deploy_args),
        external=o.object("external", external_backend_args),
        route=o.object("route", route_args),
        tls=o.object("tls", backend_tls_args),
    ))


def eks_identity_args(o: _Object) -> EksIdentityArgs:
    return o.done(EksIdentityArgs(
        mode=o.take("mode"),
        oidc_provider_arn=o.take("oidcProviderArn"),
        role_name=o.take("roleName"),
        policy_arn=o.take("policyArn"),
        role_arn=o.take("roleArn"),
    ))


def load_balancer_controller_args(o: _Object) -> LoadBalancerControllerArgs:
    return o.done(LoadBalancerControllerArgs(
        install=o.take("install"),
        namespace=o.take("namespace"),
        service_account=o.take("serviceAccount"),
        version=o.take("version"),
        chart_repository=o.take("chartRepository"),
        chart_dir=o.take("chartDir"),
        manage_crds=o.take("manageCrds"),
        crds=o.take("crds"),
    ))


def nlb_listener_args(o: _Object) -> NlbListenerArgs:
    return o.done(NlbListenerArgs(
        name=o.take("name"),
        protocol=o.take("protocol"),
        port=o.take("port"),
        hostname=o.take("hostname"),
        certificate_arn=o.take("certificateArn"),
        additional_certificate_arns=o.take("additionalCertificateArns"),
        ssl_policy=o.take("sslPolicy"),
        alpn_policy=o.take("alpnPolicy"),
    ))


def nlb_gateway_args(o: _Object) -> NlbGatewayArgs:
    return o.done(NlbGatewayArgs(
        name=o.take("name"),
        namespace=o.take("namespace"),
        gateway_class_name=o.take("gatewayClassName"),
        scheme=o.take("scheme"),
        source_ranges=o.take("sourceRanges"),
        listeners=o.objects("listeners", nlb_listener_args),
    ))


def nlb_service_args(o: _Object) -> NlbServiceArgs:
    return o.done(NlbServiceArgs(name=o.take("name"), namespace=o.take("namespace"), port=o.take("port")))


def health_check_args(o: _Object) -> HealthCheckArgs:
    return o.done(HealthCheckArgs(
        protocol=o.take("protocol"),
        port=o.take("port"),
        path=o.take("path"),
        interval_seconds=o.take("intervalSeconds"),
        timeout_seconds=o.take("timeoutSeconds"),
        healthy_threshold=o.take("healthyThreshold"),
        unhealthy_threshold=o.take("unhealthyThreshold"),
    ))


def target_group_args(o: _Object) -> TargetGroupArgs:
    return o.done(TargetGroupArgs(
        name=o.take("name"),
        namespace=o.take("namespace"),
        protocol=o.take("protocol"),
        target_type=o.take("targetType"),
        health_check=o.object("healthCheck", health_check_args),
    ))


def nlb_target_args(o: _Object) -> NlbTargetArgs:
    return o.done(NlbTargetArgs(
        backend=o.take("backend"),
        service=o.object("service", nlb_service_args),
        listener=o.take("listener"),
        hostnames=o.take("hostnames"),
        target_group=o.object("targetGroup", target_group_args),
    ))


def preflight_args(o: _Object) -> PreflightArgs:
    return o.done(PreflightArgs(
        kubeconfig=o.take("kubeconfig"),
        context=o.take("context"),
    ))


def certificate_lifecycle_args(o: _Object) -> CertificateLifecycleArgs:
    return o.done(CertificateLifecycleArgs(
        validity_days=o.take("validityDays"),
        ca_validity_days=o.take("caValidityDays"),
        renew_before_days=o.take("renewBeforeDays"),
    ))


def eks_args(o: _Object) -> EksArgs:
    return o.done(EksArgs(
        enabled=o.take("enabled"),
        cluster_name=o.take("clusterName"),
        region=o.take("region"),
        vpc_id=o.take("vpcId"),
        identity=o.object("identity", eks_identity_args),
        controller=o.object("controller", load_balancer_controller_args),
        gateway=o.object("gateway", nlb_gateway_args),
        targets=o.objects("targets", nlb_target_args),
    ))


# ---- the program ------------------------------------------------------------------------------

def _absolute(path: Optional[str], root: str) -> Optional[str]:
    if path and not os.path.isabs(path) and "://" not in path:
        return os.path.join(root, path)
    return path


def _object(cfg: pulumi.Config, key: str, convert: Callable[[_Object], T]) -> Optional[T]:
    v = cfg.get_object(key)
    return None if v is None else convert(_Object(v, key))


def upstream_tls_program(project_dir: Optional[str] = None) -> None:
    """The stack program: call it from __main__.py or pass it to the Automation API."""
    root = os.path.abspath(project_dir or os.getcwd())
    cfg = pulumi.Config(NAMESPACE)

    render_dir = _absolute(cfg.get("renderDir"), root)
    envoy_gateway = _object(cfg, "envoyGateway", envoy_gateway_args)
    if envoy_gateway is not None:
        envoy_gateway.chart_dir = _absolute(envoy_gateway.chart_dir, root)
        envoy_gateway.gateway_apicrds = _absolute(envoy_gateway.gateway_apicrds, root)
    raw_backends = cfg.get_object("backends")
    if raw_backends is not None and not isinstance(raw_backends, list):
        raise ConfigError(f"backends: must be a list, not {type(raw_backends).__name__}")
    backends = [backend_args(_Object(b, f"backends[{i}]")) for i, b in enumerate(raw_backends or [])]
    eks = _object(cfg, "eks", eks_args)
    if eks is not None and eks.controller is not None:
        eks.controller.chart_dir = _absolute(eks.controller.chart_dir, root)
        if eks.controller.crds:
            eks.controller.crds = [_absolute(c, root) for c in eks.controller.crds]
    preflight = _object(cfg, "preflight", preflight_args)
    if preflight is not None:
        preflight.kubeconfig = _absolute(preflight.kubeconfig, root)

    # The Kubernetes provider: render mode writes YAML into render_dir; without it the provider
    # uses the ambient kubeconfig.
    # Secrets and ConfigMaps update in place: a certificate renewal never deletes and re-creates
    # them (README, "Certificates that never expire by surprise").
    k8s_props = {"enableSecretMutable": True, "enableConfigMapMutable": True}
    if render_dir:
        k8s_props["renderYamlToDirectory"] = render_dir
    k8s = pulumi.ProviderResource("kubernetes", "kubernetes", k8s_props)

    env = upstream_tls.UpstreamTls(
        "upstream-tls",
        upstream_tls.UpstreamTlsArgs(
            environment=cfg.get("environment"),
            allow_insecure_backends=cfg.get_bool("allowInsecureBackends"),
            envoy_gateway=envoy_gateway,
            gateway=_object(cfg, "gateway", gateway_args),
            backends=backends or None,
            eks=eks,
            preflight=preflight,
            certificates=_object(cfg, "certificates", certificate_lifecycle_args),
        ),
        opts=pulumi.ResourceOptions(providers={"kubernetes": k8s}),
    )

    pulumi.export("posture", env.posture)
    pulumi.export("backends", env.backends)
    pulumi.export("gatewayName", env.gateway_name)
    pulumi.export("gatewayNamespace", env.gateway_namespace)
    pulumi.export("backendApiEnabled", env.backend_api_enabled)
    if eks is not None and eks.enabled:
        pulumi.export("nlbTargets", env.nlb_targets)
        pulumi.export("nlbAddress", env.nlb_address)
    if render_dir:
        pulumi.export("renderDir", render_dir)
