#!/usr/bin/env bash
# make bench: the benchmarks of bench/RESULTS.md (never part of make test). Builds the offline
# toolchain first (scripts/pulumi-env.sh; reused from the tool cache after the first run), then
# cmd/bench: the plan tier (engine-free, each size in its own process, cmd/bench-plan), the
# engine tier in render mode (the component against the anchor, interleaved), the incremental
# change. Writes the measured part of bench/RESULTS.md and ends with the key=value lines. BENCH_ARGS passes flags to cmd/bench
# (for example BENCH_ARGS="-engine-n 10,100 -rounds 2" for a quicker run, or -checkpoints).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=pulumi-env.sh
source scripts/pulumi-env.sh
mkdir -p out/bin
CGO_ENABLED=0 go build -trimpath -o out/bin/upstream-tls-bench ./cmd/bench
CGO_ENABLED=0 go build -trimpath -o out/bin/upstream-tls-bench-plan ./cmd/bench-plan
# The cluster tier's local clusters: their programs (the shared tool cache) and host.
BENCH_CLUSTER_BIN=$(scripts/tools.sh cluster | tail -n 1)
CGO_ENABLED=0 go build -trimpath -o out/bin/upstream-tls-cluster ./cmd/cluster
export BENCH_CLUSTER_BIN BENCH_CLUSTER_HOST=$PWD/out/bin/upstream-tls-cluster
# shellcheck disable=SC2086
exec out/bin/upstream-tls-bench ${BENCH_ARGS:-}
