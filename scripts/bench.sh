#!/usr/bin/env bash
# make bench: the benchmarks of bench/RESULTS.md (never part of make test). Builds the offline
# toolchain first (scripts/pulumi-env.sh; reused from the tool cache after the first run), then
# cmd/bench: the plan tier (engine-free, each size in its own process, cmd/bench-plan), the
# engine tier in render mode (the component against the anchor, interleaved), the incremental
# change. Writes the measured part of bench/RESULTS.md and ends with the key=value lines. BENCH_ARGS passes flags to cmd/bench
# (for example BENCH_ARGS="-engine-n 10,100 -rounds 2" for a quicker run, or -checkpoints).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Measured runs need the CPU to themselves: a running local cluster (make up's) takes a tenth of
# a core or more and moves the figures by as much as the differences they measure.
if [[ -x out/bin/upstream-tls-cluster ]] && out/bin/upstream-tls-cluster -dir .state/cluster status >/dev/null 2>&1; then
	echo "bench: the local cluster in .state/cluster runs; stop it first (make down), the benchmark starts clusters of its own" >&2
	exit 1
fi
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
