# Sourced by scripts that run the Pulumi engine offline (make up, the engine tests).
# Builds what is missing (the pinned toolchain, the upstream-tls provider plugin, the offline
# install inputs) and exports the environment that keeps Pulumi from reaching the internet.
#
#   source scripts/pulumi-env.sh
#
# Afterwards: PATH has pulumi, pulumi-resource-kubernetes and pulumi-resource-upstream-tls (the
# program runs in-process through the Automation API, cmd/up, so no Go language host is needed); PULUMI_HOME is isolated under the cache; plugin downloads,
# update checks and registry lookups are off.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export UPSTREAM_TLS_CACHE=${UPSTREAM_TLS_CACHE:-$HOME/.cache/upstream-tls}
BIN=$("$repo/scripts/tools.sh" pulumi pulumi-resource-kubernetes | tail -n 1)
export PATH="$BIN:$PATH"

# The upstream-tls provider plugin (CertificateBundle, UpstreamTls component); the Go build
# cache makes this a quick no-op when nothing changed.
start=$SECONDS
(cd "$repo/provider" && CGO_ENABLED=0 go build -trimpath -o "$BIN/pulumi-resource-upstream-tls" ./cmd/pulumi-resource-upstream-tls)
echo "provider plugin pulumi-resource-upstream-tls ready in $((SECONDS - start))s" >&2

# Offline inputs, prepared again whenever scripts/offline-inputs.sh changes.
[[ "$(cat "$repo/out/offline/.inputs" 2>/dev/null)" == "$(sha256sum "$repo/scripts/offline-inputs.sh" | cut -c1-16)" ]] ||
	"$repo/scripts/offline-inputs.sh" "$repo/out/offline" >&2

export PULUMI_HOME=${PULUMI_HOME:-$UPSTREAM_TLS_CACHE/pulumi-home}
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
export PULUMI_SKIP_CONFIRMATIONS=true
