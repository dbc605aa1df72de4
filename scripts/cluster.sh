#!/usr/bin/env bash
# make cluster / make down: start or stop the local Kubernetes control plane (etcd,
# kube-apiserver, kube-controller-manager; internal/cluster) in .state/cluster.
#
#   scripts/cluster.sh start|stop|status [cmd/cluster flags...]
#
# `start` builds what is missing first (scripts/tools.sh cluster: on a first run about 15
# minutes on 2 cores, later runs reuse the shared tool cache) and does nothing when the cluster
# already runs. The admin kubeconfig is .state/cluster/kubeconfig:
#   export KUBECONFIG=$PWD/.state/cluster/kubeconfig; kubectl get namespaces
# (build kubectl, which nothing else needs, with `scripts/tools.sh kubectl`; it prints its directory).
set -euo pipefail
action=${1:?usage: scripts/cluster.sh start|stop|status}
shift
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bin=${UPSTREAM_TLS_CACHE:-$HOME/.cache/upstream-tls}/bin
if [[ $action == start ]]; then
	bin=$(scripts/tools.sh cluster | tail -n 1)
fi
mkdir -p out/bin
# cmd/cluster is built unless no source changed since its last build (scripts/sources-stamp.sh;
# go build's own staleness check is 0.2-0.4 s of every `make up`, more on a busy machine).
# shellcheck source=sources-stamp.sh
source scripts/sources-stamp.sh
if ! sources_fresh out/bin/.cluster-sources-stamp out/bin/upstream-tls-cluster; then
	rm -f out/bin/.cluster-sources-stamp
	built_from=$(date +%s)
	CGO_ENABLED=0 go build -trimpath -o out/bin/upstream-tls-cluster ./cmd/cluster
	sources_stamp out/bin/.cluster-sources-stamp "$built_from"
fi
exec out/bin/upstream-tls-cluster -dir "$repo/.state/cluster" -bin "$bin" "$@" "$action"
