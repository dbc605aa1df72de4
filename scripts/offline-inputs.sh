#!/usr/bin/env bash
# Prepares the offline install inputs the dev stack points at, from the pinned Go modules in the
# module cache (fetched through the Go module proxy when missing), never from the internet:
#
#   <dest>/charts/gateway-helm, <dest>/charts/gateway-crds-helm   Envoy Gateway's charts, with
#       values.yaml rendered from the release template (image docker.io/envoyproxy/gateway:<ver>)
#       and Chart.yaml stamped with the release version, as the upstream release does;
#   <dest>/gateway-api-crds/                                       Gateway API standard CRDs;
#   <dest>/envoy-gateway-crds/                                     Envoy Gateway's CRDs (Helm
#       template guards stripped), for schema validation.
#
#   scripts/offline-inputs.sh [DEST]      (default DEST: out/offline)
set -euo pipefail

ENVOY_GATEWAY=github.com/envoyproxy/gateway@v1.9.1
GATEWAY_API=sigs.k8s.io/gateway-api@v1.6.3
GATEWAY_API_CRDS=(gatewayclasses gateways httproutes grpcroutes tlsroutes tcproutes udproutes referencegrants backendtlspolicies listenersets)

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-$repo/out/offline}
version=${ENVOY_GATEWAY##*@}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
moddir() { (cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$1") | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p'; }
egdir=$(moddir "$ENVOY_GATEWAY")
gwdir=$(moddir "$GATEWAY_API")
[[ -d $egdir && -d $gwdir ]] || { echo "offline-inputs: cannot download $ENVOY_GATEWAY or $GATEWAY_API" >&2; exit 1; }

rm -rf "$dest.tmp"
mkdir -p "$dest.tmp/charts" "$dest.tmp/gateway-api-crds" "$dest.tmp/envoy-gateway-crds"
for chart in gateway-helm gateway-crds-helm; do
	cp -R "$egdir/charts/$chart" "$dest.tmp/charts/$chart"
	chmod -R u+w "$dest.tmp/charts/$chart"
	sed -e "s|\${GatewayImage}|docker.io/envoyproxy/gateway:$version|" \
		-e "s|\${GatewayImagePullPolicy}|IfNotPresent|" \
		"$egdir/charts/$chart/values.tmpl.yaml" >"$dest.tmp/charts/$chart/values.yaml"
	sed -i -e "s|^version: .*|version: $version|" -e "s|^appVersion: .*|appVersion: \"$version\"|" "$dest.tmp/charts/$chart/Chart.yaml"
done
for c in "${GATEWAY_API_CRDS[@]}"; do
	cp "$gwdir/config/crd/standard/gateway.networking.k8s.io_$c.yaml" "$dest.tmp/gateway-api-crds/"
done
for f in "$egdir"/charts/gateway-crds-helm/templates/generated/*.yaml; do
	grep -v '^[[:space:]]*{{' "$f" >"$dest.tmp/envoy-gateway-crds/$(basename "$f")"
done
chmod -R u+w "$dest.tmp"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "offline inputs in $dest (Envoy Gateway $version charts, Gateway API ${GATEWAY_API##*@} CRDs)"
