#!/usr/bin/env bash
# Regenerates components/lbciam/policy_gen.go: the IAM policy the AWS Load Balancer
# Controller documents (docs/install/iam_policy.json), as Go literals.
#
#   scripts/generate-lbc-iam.sh [OUT]     (default OUT: <repo>/components/lbciam/policy_gen.go)
#
# The generator is components/lbciam/internal/gen (stdlib only). The policy is read from
# the Go module cache at the version pinned below (fetched through the Go module proxy
# if missing).
set -euo pipefail

# Pinned input. The proxy serves the LBC repository only at this pseudo-version (its
# version.txt says 3.2.2); the v3.5.0 chart comes from eks-charts (scripts/generate-crds.sh).
LBC=sigs.k8s.io/aws-load-balancer-controller@v0.0.0-20260423195125-93ff3b5fdaad
POLICY=docs/install/iam_policy.json

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$repo/components/lbciam/policy_gen.go}
[[ $out == /* ]] || out=$PWD/$out

# Locate the pinned module in the module cache (outside any module, so that the
# state of go.mod files does not matter).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
moddir() { (cd "$tmp" && go mod download -json "$1") | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p'; }
lbcdir=$(moddir "$LBC")
[[ -d $lbcdir && -f $lbcdir/$POLICY ]] || { echo "could not download $LBC (or it has no $POLICY)" >&2; exit 1; }

(cd "$repo" && go run ./components/lbciam/internal/gen -in "$lbcdir/$POLICY" -source "$LBC $POLICY" -out "$out")
echo "generated $out from $LBC $POLICY" >&2
