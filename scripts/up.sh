#!/usr/bin/env bash
# make up: `pulumi up` on a stack (default dev) with a local file state backend in .state/.
# With the dev config the Kubernetes provider renders every object into out/dev/ (no cluster).
#
#   scripts/up.sh [STACK]
#
# The dev stack's secrets passphrase is fixed and DEV-ONLY ("upstream-tls-dev-only"); any other
# stack must bring its own PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE).
set -euo pipefail
stack=${1:-dev}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
source scripts/pulumi-env.sh

export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$repo/.state}
mkdir -p "$repo/.state"
if [[ $stack == dev ]]; then
	export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-upstream-tls-dev-only}
elif [[ -z ${PULUMI_CONFIG_PASSPHRASE:-} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
	echo "up: stack $stack needs PULUMI_CONFIG_PASSPHRASE (the fixed passphrase is for dev only)" >&2
	exit 1
fi

pulumi stack select --create "$stack" >/dev/null
start=$SECONDS
pulumi up --yes --stack "$stack" --suppress-progress
echo "pulumi up took $((SECONDS - start))s"
echo
pulumi stack output posture --stack "$stack"
