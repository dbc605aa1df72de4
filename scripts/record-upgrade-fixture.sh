#!/usr/bin/env bash
# Records the upgrade fixture of the engine tier's TestUpgradeFromEarlierVersion: the dev stack
# as the code of an earlier commit (default 012776a, the last commit before the redesign)
# creates it.
#
#   scripts/record-upgrade-fixture.sh [COMMIT] [DEST]
#
# DEST defaults to ${UPSTREAM_TLS_CACHE:-~/.cache/upstream-tls}/upgrade/<COMMIT>: the state of
# the dev stack is 19 MB (mostly CRD schemas), too large to commit, so each machine records it
# once (about 6 minutes on 2 cores with the toolchain cached, most of it compiling the old code) and reuses
# it. It builds that commit's cmd/up and provider plugin in a temporary worktree, runs `up` on
# that commit's Pulumi.dev.yaml with a fresh file backend, and writes into DEST:
#   Pulumi.upgrade.yaml  the stack configuration (with its encryption salt), and
#   state.json           `pulumi stack export` of the result (secrets stay encrypted),
# with the worktree's path replaced by @ROOT@ and the render directory by @RENDER@, which the
# test substitutes with its own. The passphrase is "upgrade-test" (a test fixture: no secret of
# value is in it).
set -euo pipefail
commit=${1:-012776a}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
here=${2:-${UPSTREAM_TLS_CACHE:-$HOME/.cache/upstream-tls}/upgrade/$commit}
mkdir -p "$here"
here=$(cd "$here" && pwd)
exec {lock}>"$here.lock"
flock "$lock"
if [[ -s $here/state.json && -s $here/Pulumi.upgrade.yaml ]]; then
	exit 0
fi
work=$(mktemp -d)
trap 'git -C "$repo" worktree remove --force "$work/tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$repo" worktree add --detach "$work/tree" "$commit" >&2
# The toolchain is this checkout's (scripts/pulumi-env.sh: pulumi and the Kubernetes provider
# from the shared tool cache), never the old commit's scripts/tools.sh: that one keys the same
# cache entries differently, so it would rebuild both tools (about 20 minutes) and this
# checkout's tools.sh would then rebuild them again. The old commit must pin the same versions.
source "$repo/scripts/pulumi-env.sh"
# shellcheck source=../tools/versions.env
source "$repo/tools/versions.env"
old_pins=$(git -C "$work/tree" show HEAD:scripts/tools.sh | sed -n -E 's/^(PULUMI_VERSION|K8S_PROVIDER_VERSION)=([^ ]*).*/\1=\2/p' | sort)
new_pins=$(printf 'K8S_PROVIDER_VERSION=%s\nPULUMI_VERSION=%s\n' "$K8S_PROVIDER_VERSION" "$PULUMI_VERSION")
if [[ $old_pins != "$new_pins" ]]; then
	echo "record-upgrade-fixture: $commit pins $(echo $old_pins), this checkout $(echo $new_pins); record it with that commit's own toolchain" >&2
	exit 1
fi
cd "$work/tree"
# The old checkout's own offline inputs (its Pulumi.dev.yaml points at out/offline) and its
# own binaries, in the temporary worktree.
scripts/offline-inputs.sh "$work/tree/out/offline" >&2
# With the flags every build of this checkout uses (the Makefile's GOFLAGS and CGO_ENABLED), so
# that the packages the old code shares with this checkout at the same version (most: the old
# commit pins the same SDKs) come from the build cache instead of compiling again.
export GOFLAGS="-trimpath -buildvcs=false" CGO_ENABLED=0
go build -o "$work/up" ./cmd/up
mkdir -p "$work/bin" && (cd provider && go build -o "$work/bin/pulumi-resource-upstream-tls" ./cmd/pulumi-resource-upstream-tls)
export PATH="$work/bin:$PATH"
export PULUMI_BACKEND_URL="file://$work/state" PULUMI_CONFIG_PASSPHRASE=upgrade-test
mkdir -p "$work/state"
sed -e "s|upstream-tls:renderDir: out/dev|upstream-tls:renderDir: $work/render|" -e '/^encryptionsalt:/d' Pulumi.dev.yaml >Pulumi.upgrade.yaml
"$work/up" -stack upgrade -dir "$work/tree" >&2
pulumi stack export --stack upgrade --cwd "$work/tree" >"$work/state.json"
sed -e "s|$work/render|@RENDER@|g" -e "s|$work/tree|@ROOT@|g" "$work/state.json" >"$here/state.json.tmp"
sed -e "s|$work/render|@RENDER@|g" Pulumi.upgrade.yaml >"$here/Pulumi.upgrade.yaml"
mv "$here/state.json.tmp" "$here/state.json"
echo "recorded $commit: $(wc -c <"$here/state.json") bytes of state" >&2
