#!/usr/bin/env bash
# Prepares the offline install inputs the dev stack points at, from the pinned Go modules in the
# module cache (fetched through the Go module proxy when missing), never from the internet:
#
#   <dest>/charts/gateway-helm, <dest>/charts/gateway-crds-helm   Envoy Gateway's charts, with
#       values.yaml rendered from the release template (image docker.io/envoyproxy/gateway:<ver>)
#       and Chart.yaml stamped with the release version, as the upstream release does;
#   <dest>/gateway-api-crds/                                       Gateway API standard CRDs;
#   <dest>/envoy-gateway-crds/                                     Envoy Gateway's CRDs (Helm
#       template guards stripped), for schema validation;
#   <dest>/charts/aws-load-balancer-controller                     the AWS Load Balancer Controller
#       v3.5.0 chart from eks-charts (its Chart.yaml already carries the release), with one
#       change: the webhook certificate helper's `lookup` of the existing Secret is replaced by an
#       empty dict, which is what `helm template` returns without a cluster. Pulumi's helm/v4
#       Chart always renders with a server dry-run, so in render mode (renderYamlToDirectory, no
#       cluster) the lookup fails (pulumi/pulumi-kubernetes#4049). The lookup only feeds the
#       chart's keepTLSSecret branch; the component always passes webhookTLS, so the branch the
#       chart takes is the same with or without it;
#   <dest>/lbc-crds/                                               the LBC's CRDs as plain YAML
#       (the chart's crds/crds.yaml and crds/gateway-crds.yaml, several CRDs per file; not its
#       crds/kustomization.yaml), for schema validation.
#
#   scripts/offline-inputs.sh [DEST]      (default DEST: out/offline)
set -euo pipefail

ENVOY_GATEWAY=github.com/envoyproxy/gateway@v1.9.1
GATEWAY_API=sigs.k8s.io/gateway-api@v1.6.3
GATEWAY_API_CRDS=(gatewayclasses gateways httproutes grpcroutes tlsroutes tcproutes udproutes referencegrants backendtlspolicies listenersets)
# AWS Load Balancer Controller v3.5.0 chart (stable/aws-load-balancer-controller). Keep in step
# with scripts/generate-crds.sh.
EKS_CHARTS=github.com/aws/eks-charts@v0.0.243-0.20260821194545-743f98a89b5b
LBC_CHART=stable/aws-load-balancer-controller
LBC_CRDS=(crds.yaml gateway-crds.yaml)

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-$repo/out/offline}
version=${ENVOY_GATEWAY##*@}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
moddir() { (cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$1") | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p'; }
egdir=$(moddir "$ENVOY_GATEWAY")
gwdir=$(moddir "$GATEWAY_API")
ekdir=$(moddir "$EKS_CHARTS")
[[ -d $egdir && -d $gwdir && -d $ekdir ]] || { echo "offline-inputs: cannot download $ENVOY_GATEWAY, $GATEWAY_API or $EKS_CHARTS" >&2; exit 1; }
lbcchart=$ekdir/$LBC_CHART
lbcversion=$(sed -n 's/^version: *//p' "$lbcchart/Chart.yaml")

rm -rf "$dest.tmp"
mkdir -p "$dest.tmp/charts" "$dest.tmp/gateway-api-crds" "$dest.tmp/envoy-gateway-crds" "$dest.tmp/lbc-crds"
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
cp -R "$lbcchart" "$dest.tmp/charts/aws-load-balancer-controller"
chmod -R u+w "$dest.tmp/charts/aws-load-balancer-controller"
helpers=$dest.tmp/charts/aws-load-balancer-controller/templates/_helpers.tpl
lookup='{{- $secret := lookup "v1" "Secret" .Release.Namespace $secretName -}}'
if [[ $(grep -cF "$lookup" "$helpers") != 1 || $(grep -c 'lookup' "$helpers") != 1 ]]; then
	echo "offline-inputs: the LBC chart's lookup is not the one line this script replaces; re-check $LBC_CHART/templates/_helpers.tpl" >&2
	exit 1
fi
sed -i "s|$(printf '%s' "$lookup" | sed 's/[|.*^$/\[]/\\&/g')|{{- \$secret := dict -}}|" "$helpers"
grep -q 'lookup' "$helpers" && { echo "offline-inputs: lookup still present in $helpers" >&2; exit 1; }
for f in "${LBC_CRDS[@]}"; do
	cp "$lbcchart/crds/$f" "$dest.tmp/lbc-crds/$f"
done
chmod -R u+w "$dest.tmp"
# Which version of this script prepared the inputs (scripts/pulumi-env.sh re-runs it on change).
sha256sum "${BASH_SOURCE[0]}" | cut -c1-16 >"$dest.tmp/.inputs"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "offline inputs in $dest (Envoy Gateway $version charts, Gateway API ${GATEWAY_API##*@} CRDs, AWS Load Balancer Controller $lbcversion chart and CRDs)"
