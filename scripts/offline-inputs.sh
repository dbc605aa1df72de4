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
#
# It does nothing when DEST was prepared by this version of the script with the current pins
# (DEST/.inputs), and holds DEST.lock while it works, so concurrent callers (make -j, parallel
# test tiers, two terminals) wait for one preparation instead of racing.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../tools/versions.env
source "$repo/tools/versions.env"
ENVOY_GATEWAY=github.com/envoyproxy/gateway@$ENVOY_GATEWAY_VERSION
GATEWAY_API=sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION
GATEWAY_API_CRDS=(gatewayclasses gateways httproutes grpcroutes tlsroutes tcproutes udproutes referencegrants backendtlspolicies listenersets)
# AWS Load Balancer Controller chart (stable/aws-load-balancer-controller).
EKS_CHARTS=github.com/aws/eks-charts@$EKS_CHARTS_MODVER
LBC_CHART=stable/aws-load-balancer-controller
LBC_CRDS=(crds.yaml gateway-crds.yaml)

dest=${1:-$repo/out/offline}
[[ $dest == /* ]] || dest=$PWD/$dest
version=${ENVOY_GATEWAY##*@}
stamp=$(cat "${BASH_SOURCE[0]}" "$repo/tools/versions.env" | sha256sum | cut -c1-16)

mkdir -p "$(dirname "$dest")"
exec {lock}>"$dest.lock"
flock "$lock"
if [[ "$(cat "$dest/.inputs" 2>/dev/null)" == "$stamp" ]]; then
	exit 0
fi

tmp=$(mktemp -d)
work=$(mktemp -d "$dest.tmp.XXXXXX")
trap 'rm -rf "$tmp" "$work"' EXIT
moddir() { (cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$1") | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p'; }
egdir=$(moddir "$ENVOY_GATEWAY")
gwdir=$(moddir "$GATEWAY_API")
ekdir=$(moddir "$EKS_CHARTS")
[[ -d $egdir && -d $gwdir && -d $ekdir ]] || { echo "offline-inputs: cannot download $ENVOY_GATEWAY, $GATEWAY_API or $EKS_CHARTS" >&2; exit 1; }
lbcchart=$ekdir/$LBC_CHART
lbcversion=$(sed -n 's/^version: *//p' "$lbcchart/Chart.yaml")

mkdir -p "$work/charts" "$work/gateway-api-crds" "$work/envoy-gateway-crds" "$work/lbc-crds"
for chart in gateway-helm gateway-crds-helm; do
	cp -R "$egdir/charts/$chart" "$work/charts/$chart"
	chmod -R u+w "$work/charts/$chart"
	sed -e "s|\${GatewayImage}|docker.io/envoyproxy/gateway:$version|" \
		-e "s|\${GatewayImagePullPolicy}|IfNotPresent|" \
		"$egdir/charts/$chart/values.tmpl.yaml" >"$work/charts/$chart/values.yaml"
	sed -i -e "s|^version: .*|version: $version|" -e "s|^appVersion: .*|appVersion: \"$version\"|" "$work/charts/$chart/Chart.yaml"
done
for c in "${GATEWAY_API_CRDS[@]}"; do
	cp "$gwdir/config/crd/standard/gateway.networking.k8s.io_$c.yaml" "$work/gateway-api-crds/"
done
for f in "$egdir"/charts/gateway-crds-helm/templates/generated/*.yaml; do
	grep -v '^[[:space:]]*{{' "$f" >"$work/envoy-gateway-crds/$(basename "$f")"
done
cp -R "$lbcchart" "$work/charts/aws-load-balancer-controller"
chmod -R u+w "$work/charts/aws-load-balancer-controller"
helpers=$work/charts/aws-load-balancer-controller/templates/_helpers.tpl
lookup='{{- $secret := lookup "v1" "Secret" .Release.Namespace $secretName -}}'
if [[ $(grep -cF "$lookup" "$helpers") != 1 || $(grep -c 'lookup' "$helpers") != 1 ]]; then
	echo "offline-inputs: the LBC chart's lookup is not the one line this script replaces; re-check $LBC_CHART/templates/_helpers.tpl" >&2
	exit 1
fi
sed -i "s|$(printf '%s' "$lookup" | sed 's/[|.*^$/\[]/\\&/g')|{{- \$secret := dict -}}|" "$helpers"
grep -q 'lookup' "$helpers" && { echo "offline-inputs: lookup still present in $helpers" >&2; exit 1; }
for f in "${LBC_CRDS[@]}"; do
	cp "$lbcchart/crds/$f" "$work/lbc-crds/$f"
done
chmod -R u+w "$work"
# Which version of this script and pins prepared the inputs.
printf '%s\n' "$stamp" >"$work/.inputs"
rm -rf "$dest"
mv "$work" "$dest"
echo "offline inputs in $dest (Envoy Gateway $version charts, Gateway API ${GATEWAY_API##*@} CRDs, AWS Load Balancer Controller $lbcversion chart and CRDs)"
