#!/usr/bin/env bash
# make up: `pulumi up` on a stack (default dev) with a local file state backend in .state/,
# through cmd/up (Automation API: the program in-process, the pinned pulumi CLI driving the
# engine). The dev stack deploys into the local cluster (.state/cluster), which this script
# starts first (scripts/cluster.sh start: built on first use) whenever the stack's
# upstream-tls:kubeconfig is that cluster's; STACK=dev-render renders the same environment into
# out/dev/ instead.
#
#   scripts/up.sh [STACK] [cmd/up flags...]     (make unlock: scripts/up.sh STACK -unlock)
#
# The dev stack's secrets passphrase is fixed and DEV-ONLY ("upstream-tls-dev-only"); any other
# stack must bring its own PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE).
set -euo pipefail
stack=${1:-dev}
shift || true
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
local_cluster=false
if [[ " $* " != *" -unlock "* ]] && grep -qE '^\s*upstream-tls:kubeconfig:\s*\.state/cluster/kubeconfig\s*$' "Pulumi.$stack.yaml" 2>/dev/null; then
	local_cluster=true
	scripts/tools.sh --prepare
	# The local cluster starts (its first start builds its programs) beside the toolchain's
	# checks and builds below: on a first run the two builds share the CPU's idle moments, on
	# later runs the two checks take the time of one.
	scripts/cluster.sh start &
	cluster_start=$!
fi
# shellcheck source=pulumi-env.sh
source scripts/pulumi-env.sh
if $local_cluster; then
	wait "$cluster_start" || { echo "up: the local cluster did not start (make cluster shows why)" >&2; exit 1; }
fi

export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$repo/.state}
mkdir -p "$repo/.state"
if [[ $stack == dev || $stack == dev-render ]]; then
	export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-upstream-tls-dev-only}
elif [[ -z ${PULUMI_CONFIG_PASSPHRASE:-} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
	echo "up: stack $stack needs PULUMI_CONFIG_PASSPHRASE (the fixed passphrase is for dev only)" >&2
	exit 1
fi

if [[ " $* " == *" -unlock "* ]]; then
	exec upstream-tls-up -stack "$stack" -dir "$repo" "$@"
fi

start=$SECONDS
upstream-tls-up -stack "$stack" -dir "$repo" "$@"
echo "pulumi up ($stack) took $((SECONDS - start))s"
if $local_cluster; then
	# What the local cluster runs, the Envoy Gateway controller included (make down stops it);
	# scripts/cluster.sh start built the command.
	out/bin/upstream-tls-cluster -dir "$repo/.state/cluster" status || true
fi
