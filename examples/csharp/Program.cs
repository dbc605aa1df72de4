// The upstream-tls environment as a C# Pulumi program, on the generated SDK (sdk/dotnet,
// Pulumi.UpstreamTls).
//
// It reads the same stack configuration as the Go program (infra/program, Pulumi.dev.yaml): the
// `upstream-tls:*` keys environment, renderDir, allowInsecureBackends, envoyGateway, gateway,
// backends and eks. Every configuration object becomes the SDK's typed input class (BackendArgs,
// BackendTlsArgs, ...); a key the SDK does not know is refused with its path, so a typo never
// disappears silently. The component itself checks the values (at preview, before anything is
// registered).
//
// With upstream-tls:renderDir set, the Kubernetes provider writes every object as YAML into that
// directory instead of deploying to a cluster; without it, it uses the ambient kubeconfig.
//
// Relative paths in the configuration (renderDir, envoyGateway.chartDir, a local
// envoyGateway.gatewayAPICRDs directory, eks.controller.chartDir and local eks.controller.crds
// entries) are relative to the project directory (where Pulumi.yaml is), as in the Go program.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Pulumi;
using Pulumi.UpstreamTls.Inputs;
using Kubernetes = Pulumi.Kubernetes;

return await Deployment.RunAsync(() =>
{
    var config = new Config("upstream-tls");
    var stack = new StackConfig(config, Directory.GetCurrentDirectory());

    // Secrets and ConfigMaps update in place, so that a certificate renewal or a CA rollover
    // never deletes and re-creates them (see the README, "Certificates that never expire by
    // surprise").
    var k8sArgs = new Kubernetes.ProviderArgs { EnableSecretMutable = true, EnableConfigMapMutable = true };
    if (stack.RenderDir is { } renderDir)
    {
        k8sArgs.RenderYamlToDirectory = renderDir;
    }
    var k8s = new Kubernetes.Provider("kubernetes", k8sArgs);

    var env = new Pulumi.UpstreamTls.UpstreamTls("upstream-tls", new Pulumi.UpstreamTls.UpstreamTlsArgs
    {
        Environment = stack.Environment,
        AllowInsecureBackends = stack.AllowInsecureBackends,
        EnvoyGateway = stack.EnvoyGateway,
        Gateway = stack.Gateway,
        Backends = stack.Backends!,
        Eks = stack.Eks,
        Preflight = stack.Preflight,
        Certificates = stack.Certificates,
    }, new ComponentResourceOptions
    {
        Providers = { k8s },
    });

    var outputs = new Dictionary<string, object?>
    {
        ["posture"] = env.Posture,
        ["backends"] = env.Backends,
        ["gatewayName"] = env.GatewayName,
        ["gatewayNamespace"] = env.GatewayNamespace,
        ["backendApiEnabled"] = env.BackendApiEnabled,
    };
    if (stack.EksEnabled)
    {
        outputs["nlbTargets"] = env.NlbTargets;
        outputs["nlbAddress"] = env.NlbAddress;
    }
    if (stack.RenderDir is { } dir)
    {
        outputs["renderDir"] = dir;
    }
    return outputs;
});

/// <summary>The stack configuration (the <c>upstream-tls:*</c> keys) as the SDK's input types.</summary>
sealed class StackConfig
{
    public StackConfig(Config config, string root)
    {
        Environment = config.Get("environment") ?? "dev";
        AllowInsecureBackends = config.GetBoolean("allowInsecureBackends") ?? false;
        if (config.Get("renderDir") is { } renderDir)
        {
            RenderDir = ConfigObject.Absolute(renderDir, root);
        }
        EnvoyGateway = ConfigObject.FromConfig(config, "envoyGateway", root, ArgsFrom.EnvoyGateway);
        Gateway = ConfigObject.FromConfig(config, "gateway", root, ArgsFrom.Gateway);
        Backends = ConfigObject.ListFromConfig(config, "backends", root, ArgsFrom.Backend);
        Eks = ConfigObject.FromConfig(config, "eks", root, ArgsFrom.Eks);
        Preflight = ConfigObject.FromConfig(config, "preflight", root, ArgsFrom.Preflight);
        Certificates = ConfigObject.FromConfig(config, "certificates", root, ArgsFrom.CertificateLifecycle);
        if (config.Get("eks") is { } eks)
        {
            using var doc = JsonDocument.Parse(eks);
            EksEnabled = doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("enabled", out var enabled)
                && enabled.ValueKind == JsonValueKind.True;
        }
    }

    public string Environment { get; }
    public bool AllowInsecureBackends { get; }
    public string? RenderDir { get; }
    public Input<EnvoyGatewayArgs>? EnvoyGateway { get; }
    public Input<GatewayArgs>? Gateway { get; }
    public InputList<BackendArgs>? Backends { get; }
    public Input<EksArgs>? Eks { get; }
    public Input<PreflightArgs>? Preflight { get; }
    public Input<CertificateLifecycleArgs>? Certificates { get; }
    public bool EksEnabled { get; }
}

/// <summary>Configuration objects to the SDK's input types, one method per type.</summary>
/// <remarks>
/// An absent key stays unset (null), so that the component's default applies. The SDK's list
/// properties (InputList) take null as "not set", hence the <c>!</c> on optional lists.
/// </remarks>
static class ArgsFrom
{
    public static EnvoyGatewayArgs EnvoyGateway(ConfigObject o) => o.Done(new EnvoyGatewayArgs
    {
        Install = o.Bool("install"),
        Namespace = o.String("namespace"),
        Version = o.String("version"),
        ChartRepository = o.String("chartRepository"),
        ChartDir = o.LocalPath("chartDir"),
        ManageGatewayAPICRDs = o.Bool("manageGatewayAPICRDs"),
        GatewayAPICRDs = o.LocalPath("gatewayAPICRDs"),
        EnableBackend = o.Bool("enableBackend"),
        GatewayClassName = o.String("gatewayClassName"),
        VerdictTimeoutSeconds = o.Int("verdictTimeoutSeconds"),
    });

    public static ListenerArgs Listener(ConfigObject o) => o.Done(new ListenerArgs
    {
        Name = o.RequiredString("name"),
        Protocol = o.RequiredString("protocol"),
        Port = o.RequiredInt("port"),
        Hostname = o.String("hostname"),
        CertificateSecret = o.String("certificateSecret"),
    });

    public static GatewayArgs Gateway(ConfigObject o) => o.Done(new GatewayArgs
    {
        Name = o.String("name"),
        Namespace = o.String("namespace"),
        Listeners = o.Children("listeners", Listener)!,
        BackendClientCertificate = o.Child("backendClientCertificate", ClientCertificate),
    });

    public static ClientCertificateArgs ClientCertificate(ConfigObject o) => o.Done(new ClientCertificateArgs
    {
        Generate = o.Bool("generate"),
        Secret = o.String("secret"),
    });

    public static ServicePortArgs ServicePort(ConfigObject o) => o.Done(new ServicePortArgs
    {
        Name = o.RequiredString("name"),
        Port = o.RequiredInt("port"),
        TargetPort = o.Int("targetPort"),
    });

    public static BackendServiceArgs BackendService(ConfigObject o) => o.Done(new BackendServiceArgs
    {
        Name = o.String("name"),
        Existing = o.Bool("existing"),
        Ports = o.Children("ports", ServicePort)!,
    });

    public static DeployArgs Deploy(ConfigObject o) => o.Done(new DeployArgs
    {
        Image = o.String("image"),
        Replicas = o.Int("replicas"),
        CertificateSecret = o.String("certificateSecret"),
        VerifyClientCertificate = o.Bool("verifyClientCertificate"),
    });

    public static RouteArgs Route(ConfigObject o) => o.Done(new RouteArgs
    {
        Kind = o.String("kind"),
        Hostnames = o.Strings("hostnames")!,
        PathPrefix = o.String("pathPrefix"),
        Listener = o.String("listener"),
        Port = o.String("port"),
    });

    public static CaSourceArgs CaSource(ConfigObject o) => o.Done(new CaSourceArgs
    {
        Generate = o.Bool("generate"),
        Pem = o.String("pem"),
        ConfigMap = o.String("configMap"),
        Secret = o.String("secret"),
    });

    public static BackendTlsArgs BackendTls(ConfigObject o) => o.Done(new BackendTlsArgs
    {
        Mode = o.RequiredString("mode"),
        Hostname = o.String("hostname"),
        SubjectAltNames = o.Strings("subjectAltNames")!,
        AllowInClusterHostname = o.Bool("allowInClusterHostname"),
        Ca = o.Child("ca", CaSource),
        Ports = o.Strings("ports")!,
        ClientCertificate = o.Child("clientCertificate", ClientCertificate),
        Parameters = o.Child("parameters", TlsParameters),
        SniFromRequestHost = o.Bool("sniFromRequestHost"),
    });

    public static TlsParametersArgs TlsParameters(ConfigObject o) => o.Done(new TlsParametersArgs
    {
        MinVersion = o.String("minVersion"),
        MaxVersion = o.String("maxVersion"),
        Ciphers = o.Strings("ciphers")!,
        AlpnProtocols = o.Strings("alpnProtocols")!,
        AllowLegacyTLS = o.Bool("allowLegacyTLS"),
    });

    public static BackendArgs Backend(ConfigObject o) => o.Done(new BackendArgs
    {
        Name = o.RequiredString("name"),
        Namespace = o.String("namespace"),
        Service = o.Child("service", BackendService),
        Deploy = o.Child("deploy", Deploy),
        External = o.Child("external", ExternalBackend),
        Route = o.Child("route", Route),
        Tls = o.RequiredChild("tls", BackendTls),
    });

    public static ExternalBackendArgs ExternalBackend(ConfigObject o) => o.Done(new ExternalBackendArgs
    {
        Hostname = o.RequiredString("hostname"),
        Port = o.Int("port"),
    });

    public static EksIdentityArgs EksIdentity(ConfigObject o) => o.Done(new EksIdentityArgs
    {
        Mode = o.String("mode"),
        OidcProviderArn = o.String("oidcProviderArn"),
        RoleName = o.String("roleName"),
        PolicyArn = o.String("policyArn"),
        RoleArn = o.String("roleArn"),
    });

    public static LoadBalancerControllerArgs LoadBalancerController(ConfigObject o) => o.Done(new LoadBalancerControllerArgs
    {
        Install = o.Bool("install"),
        Namespace = o.String("namespace"),
        ServiceAccount = o.String("serviceAccount"),
        Version = o.String("version"),
        ChartRepository = o.String("chartRepository"),
        ChartDir = o.LocalPath("chartDir"),
        ManageCrds = o.Bool("manageCrds"),
        Crds = o.LocalPaths("crds")!,
    });

    public static NlbListenerArgs NlbListener(ConfigObject o) => o.Done(new NlbListenerArgs
    {
        Name = o.RequiredString("name"),
        Protocol = o.String("protocol"),
        Port = o.RequiredInt("port"),
        Hostname = o.String("hostname"),
        CertificateArn = o.String("certificateArn"),
        AdditionalCertificateArns = o.Strings("additionalCertificateArns")!,
        SslPolicy = o.String("sslPolicy"),
        AlpnPolicy = o.String("alpnPolicy"),
    });

    public static NlbGatewayArgs NlbGateway(ConfigObject o) => o.Done(new NlbGatewayArgs
    {
        Name = o.String("name"),
        Namespace = o.String("namespace"),
        GatewayClassName = o.String("gatewayClassName"),
        Scheme = o.String("scheme"),
        SourceRanges = o.Strings("sourceRanges")!,
        Listeners = o.Children("listeners", NlbListener)!,
    });

    public static NlbServiceArgs NlbService(ConfigObject o) => o.Done(new NlbServiceArgs
    {
        Name = o.RequiredString("name"),
        Namespace = o.String("namespace"),
        Port = o.RequiredInt("port"),
    });

    public static HealthCheckArgs HealthCheck(ConfigObject o) => o.Done(new HealthCheckArgs
    {
        Protocol = o.String("protocol"),
        Port = o.String("port"),
        Path = o.String("path"),
        IntervalSeconds = o.Int("intervalSeconds"),
        TimeoutSeconds = o.Int("timeoutSeconds"),
        HealthyThreshold = o.Int("healthyThreshold"),
        UnhealthyThreshold = o.Int("unhealthyThreshold"),
    });

    public static TargetGroupArgs TargetGroup(ConfigObject o) => o.Done(new TargetGroupArgs
    {
        Name = o.String("name"),
        Namespace = o.String("namespace"),
        Protocol = o.String("protocol"),
        TargetType = o.String("targetType"),
        HealthCheck = o.Child("healthCheck", HealthCheck),
    });

    public static NlbTargetArgs NlbTarget(ConfigObject o) => o.Done(new NlbTargetArgs
    {
        Backend = o.String("backend"),
        Service = o.Child("service", NlbService),
        Listener = o.String("listener"),
        Hostnames = o.Strings("hostnames")!,
        TargetGroup = o.Child("targetGroup", TargetGroup),
    });

    public static EksArgs Eks(ConfigObject o) => o.Done(new EksArgs
    {
        Enabled = o.Bool("enabled"),
        ClusterName = o.String("clusterName"),
        Region = o.String("region"),
        VpcId = o.String("vpcId"),
        Identity = o.Child("identity", EksIdentity),
        Controller = o.Child("controller", LoadBalancerController),
        Gateway = o.Child("gateway", NlbGateway),
        Targets = o.Children("targets", NlbTarget)!,
    });

    public static PreflightArgs Preflight(ConfigObject o) => o.Done(new PreflightArgs
    {
        Kubeconfig = o.LocalPath("kubeconfig"),
        Context = o.String("context"),
    });

    public static CertificateLifecycleArgs CertificateLifecycle(ConfigObject o) => o.Done(new CertificateLifecycleArgs
    {
        ValidityDays = o.Int("validityDays"),
        CaValidityDays = o.Int("caValidityDays"),
        RenewBeforeDays = o.Int("renewBeforeDays"),
    });
}

/// <summary>A configuration value that does not fit the SDK's input types.</summary>
sealed class StackConfigException : Exception
{
    public StackConfigException(string message) : base(message)
    {
    }
}

/// <summary>
/// One object of the stack configuration (JSON, as Pulumi passes structured values): its keys are
/// taken one by one; <c>Done</c> refuses the keys left over.
/// </summary>
sealed class ConfigObject
{
    private readonly Dictionary<string, JsonElement> _fields;
    private readonly string _path;
    private readonly string _root;

    public ConfigObject(JsonElement value, string path, string root)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new StackConfigException($"{path}: must be an object, not {value.ValueKind}");
        }
        _fields = value.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
        _path = path;
        _root = root;
    }

    /// <summary>The object under a top-level key, converted; null when the key is not set.</summary>
    public static Input<T>? FromConfig<T>(Config config, string key, string root, Func<ConfigObject, T> convert)
        where T : class
    {
        if (config.Get(key) is not { } raw)
        {
            return null;
        }
        using var doc = JsonDocument.Parse(raw);
        return convert(new ConfigObject(doc.RootElement, key, root));
    }

    /// <summary>The list of objects under a top-level key, converted; null when the key is not set.</summary>
    public static InputList<T>? ListFromConfig<T>(Config config, string key, string root, Func<ConfigObject, T> convert)
        where T : class
    {
        if (config.Get(key) is not { } raw)
        {
            return null;
        }
        using var doc = JsonDocument.Parse(raw);
        return ListOf(doc.RootElement, key, root, convert);
    }

    /// <summary>path made absolute against root, unless it is absolute already or a URL.</summary>
    public static string Absolute(string path, string root) =>
        path.Length == 0 || System.IO.Path.IsPathRooted(path) || path.Contains("://")
            ? path
            : System.IO.Path.Combine(root, path);

    public Input<string>? String(string key)
    {
        if (Take(key) is not { } e)
        {
            return null;
        }
        return StringOf(key, e);
    }

    public Input<string> RequiredString(string key) =>
        Take(key) is { } e ? StringOf(key, e) : throw Missing(key);

    public Input<int>? Int(string key)
    {
        if (Take(key) is not { } e)
        {
            return null;
        }
        return IntOf(key, e);
    }

    public Input<int> RequiredInt(string key) =>
        Take(key) is { } e ? IntOf(key, e) : throw Missing(key);

    public Input<bool>? Bool(string key)
    {
        if (Take(key) is not { } e)
        {
            return null;
        }
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(key, "true or false", e),
        };
    }

    /// <summary>A local path (made absolute against the project directory) or a URL.</summary>
    public Input<string>? LocalPath(string key)
    {
        if (Take(key) is not { } e)
        {
            return null;
        }
        return Absolute(StringOf(key, e), _root);
    }

    public InputList<string>? Strings(string key) => StringList(key, s => s);

    public InputList<string>? LocalPaths(string key) => StringList(key, s => Absolute(s, _root));

    public Input<T>? Child<T>(string key, Func<ConfigObject, T> convert)
        where T : class
    {
        if (Take(key) is not { } e)
        {
            return null;
        }
        return convert(new ConfigObject(e, At(key), _root));
    }

    public Input<T> RequiredChild<T>(string key, Func<ConfigObject, T> convert)
        where T : class
    {
        if (Take(key) is not { } e)
        {
            throw Missing(key);
        }
        return convert(new ConfigObject(e, At(key), _root));
    }

    public InputList<T>? Children<T>(string key, Func<ConfigObject, T> convert)
        where T : class
    {
        if (Take(key) is not { } e)
        {
            return null;
        }
        return ListOf(e, At(key), _root, convert);
    }

    /// <summary>args, once every key of this object has been taken; unknown keys are refused.</summary>
    public T Done<T>(T args)
    {
        if (_fields.Count > 0)
        {
            var unknown = string.Join(", ", _fields.Keys.OrderBy(k => k, StringComparer.Ordinal));
            throw new StackConfigException($"{_path}: unknown field(s) {unknown}");
        }
        return args;
    }

    private static InputList<T> ListOf<T>(JsonElement e, string path, string root, Func<ConfigObject, T> convert)
        where T : class
    {
        if (e.ValueKind != JsonValueKind.Array)
        {
            throw new StackConfigException($"{path}: must be a list, not {e.ValueKind}");
        }
        var list = new InputList<T>();
        var i = 0;
        foreach (var item in e.EnumerateArray())
        {
            list.Add(convert(new ConfigObject(item, $"{path}[{i}]", root)));
            i++;
        }
        return list;
    }

    private InputList<string>? StringList(string key, Func<string, string> map)
    {
        if (Take(key) is not { } e)
        {
            return null;
        }
        if (e.ValueKind != JsonValueKind.Array)
        {
            throw Wrong(key, "a list", e);
        }
        var list = new InputList<string>();
        foreach (var item in e.EnumerateArray())
        {
            list.Add(map(StringOf(key, item)));
        }
        return list;
    }

    private JsonElement? Take(string key)
    {
        if (_fields.Remove(key, out var value) && value.ValueKind != JsonValueKind.Null)
        {
            return value;
        }
        return null;
    }

    private string StringOf(string key, JsonElement e) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Wrong(key, "a string", e);

    private int IntOf(string key, JsonElement e) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var i) ? i : throw Wrong(key, "an integer", e);

    private string At(string key) => $"{_path}.{key}";

    private StackConfigException Missing(string key) => new($"{At(key)}: required");

    private StackConfigException Wrong(string key, string want, JsonElement got) =>
        new($"{At(key)}: must be {want}, not {got.ValueKind}");
}
