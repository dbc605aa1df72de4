# Sourced by scripts that run the Pulumi engine offline (make up, the engine tests):
#
#   source scripts/pulumi-env.sh
#
# Builds what is missing and exports the environment that keeps Pulumi from reaching the
# internet:
#   - the pinned toolchain (pulumi, pulumi-resource-kubernetes) into the shared tool cache
#     (${UPSTREAM_TLS_CACHE:-~/.cache/upstream-tls}/bin, scripts/tools.sh);
#   - this checkout's own binaries (the provider plugin pulumi-resource-upstream-tls and cmd/up)
#     into out/bin of this checkout, so that two checkouts never use each other's;
#   - the offline install inputs (out/offline, scripts/offline-inputs.sh, which does nothing
#     when they are up to date).
# Afterwards PATH has out/bin and the tool cache first; PULUMI_HOME is isolated under the
# cache; plugin downloads, update checks and registry lookups are off. Any failure stops the
# caller (errexit and pipefail are set: source it from bash scripts that expect that).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export UPSTREAM_TLS_CACHE=${UPSTREAM_TLS_CACHE:-$HOME/.cache/upstream-tls}
tools_out=$("$repo/scripts/tools.sh" pulumi pulumi-resource-kubernetes)
BIN=${tools_out##*$'\n'}
[[ -x $BIN/pulumi ]] || { echo "pulumi-env: scripts/tools.sh did not build pulumi into $BIN" >&2; return 1 2>/dev/null || exit 1; }

start=$SECONDS
mkdir -p "$repo/out/bin"
# The sources stamp (scripts/sources-stamp.sh): while no Go source, go.mod, go.sum or embedded
# file of the checkout, and no directory, is newer than it, the two binaries are what go build
# would leave, and its staleness checks (about 1 s of a no-change `make up`, 1.8 s of CPU) are
# skipped. UPSTREAM_TLS_REBUILD=1 always builds.
# shellcheck source=sources-stamp.sh
source "$repo/scripts/sources-stamp.sh"
stamp="$repo/out/bin/.sources-stamp"
if sources_fresh "$stamp" "$repo/out/bin/pulumi-resource-upstream-tls" "$repo/out/bin/upstream-tls-up"; then
	echo "this checkout's binaries (out/bin) are up to date (no source newer than $stamp)" >&2
else
	rm -f "$stamp"
	built_from=$(date +%s) # (the stamp's time: a file saved during the builds is newer)
	# The two builds side by side: when nothing changed each is mostly go's own staleness
	# check.
	(cd "$repo/provider" && CGO_ENABLED=0 go build -trimpath -o "$repo/out/bin/pulumi-resource-upstream-tls" ./cmd/pulumi-resource-upstream-tls) &
	provider_build=$!
	(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$repo/out/bin/upstream-tls-up" ./cmd/up)
	wait "$provider_build"
	sources_stamp "$stamp" "$built_from"
	echo "this checkout's binaries (out/bin) ready in $((SECONDS - start))s" >&2
fi

"$repo/scripts/offline-inputs.sh" "$repo/out/offline" >&2

export PATH="$repo/out/bin:$BIN:$PATH"
export PULUMI_HOME=${PULUMI_HOME:-$UPSTREAM_TLS_CACHE/pulumi-home}
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
export PULUMI_SKIP_CONFIRMATIONS=true
