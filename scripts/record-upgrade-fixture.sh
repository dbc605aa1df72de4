#!/usr/bin/env bash
# Records the upgrade fixture of the engine tier's TestUpgradeFromEarlierVersion: the dev stack
# as the code of an earlier commit (default 012776a, the last commit before the redesign)
# creates it.
#
#   scripts/record-upgrade-fixture.sh [COMMIT] [DEST]
#
# DEST defaults to ${UPSTREAM_TLS_CACHE:-~/.cache/upstream-tls}/upgrade/<COMMIT>: the state of
# the dev stack is 19 MB (mostly CRD schemas), too large to commit, so each machine records it
# once (about 9 minutes on 2 cores the first time, most of it compiling the old code) and reuses
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
cd "$work/tree"
# The old checkout's own environment (its pins, its offline inputs, its provider plugin).
set +u
source scripts/pulumi-env.sh
set -u
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
