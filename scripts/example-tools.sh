#!/usr/bin/env bash
# The tools the multi-language examples (examples/<language>, tests/examples) need beyond
# scripts/tools.sh, built or installed into the shared tool cache OUTSIDE the repo
# (${UPSTREAM_TLS_CACHE:-$HOME/.cache/upstream-tls}), each only when missing or out of date, one
# builder at a time (flock), so that the examples run offline afterwards.
#
#   scripts/example-tools.sh yaml            pulumi-language-yaml (the YAML language host)
#                                            into <cache>/bin-examples; prints that directory
#   scripts/example-tools.sh node            node_modules of examples/typescript (npm ci from its
#                                            package-lock.json) into <cache>/examples/node/<key>;
#                                            prints that node_modules directory
#   scripts/example-tools.sh ts-stage DIR    stages the TypeScript example in DIR with the
#                                            generated SDK built as a package (see below), ready
#                                            to type-check; prints DIR/examples/typescript
#   scripts/example-tools.sh ts-build DIR    ts-stage, then compiles the example (tsc) into
#                                            DIR/examples/typescript/bin; prints
#                                            DIR/examples/typescript
#   scripts/example-tools.sh python          the venv of examples/python (python3 -m venv, then
#                                            exactly the pins of its requirements.txt from PyPI)
#                                            into <cache>/examples/python/<key>; prints that venv
#   scripts/example-tools.sh python-sdk DIR  the generated Python SDK (sdk/python) built from a
#                                            copy and installed into DIR (for PYTHONPATH: the
#                                            shared venv never holds a checkout's SDK); prints DIR
#   scripts/example-tools.sh csharp-parser   node_modules of the C# syntax check
#                                            (tests/examples/testdata/csharp-parser: npm ci from
#                                            its package-lock.json) into
#                                            <cache>/examples/csharp-parser/<key>; prints that
#                                            node_modules directory (NODE_PATH)
#
# As with scripts/tools.sh the result is the last line on stdout; progress goes to stderr.
#
# The TypeScript stage (DIR) mirrors the repository so the example consumes the generated SDK
# (sdk/nodejs, TypeScript sources) as the built package a user installs from a registry:
#   DIR/node_modules                 symlink to the cached node_modules (@pulumi/pulumi,
#                                    typescript, @types/node), shared and never written to
#   DIR/sdk/nodejs                   copy of sdk/nodejs, compiled with its own
#                                    tsconfig.json into DIR/sdk/nodejs/bin and copies
#                                    package.json there, as a published Pulumi SDK is laid out
#   DIR/examples/typescript          copy of examples/typescript, whose
#     node_modules/@upstream-tls/upstream-tls -> DIR/sdk/nodejs/bin
# Node and tsc resolve @pulumi/pulumi through DIR/node_modules from the example and from the
# SDK alike, so both use one copy of it (a Pulumi program must).
#
# Each language has its own function (yaml_host, node_modules_ts, ...); another language's
# example adds its own function and a line in the dispatch at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${UPSTREAM_TLS_CACHE:-$HOME/.cache/upstream-tls}
EXAMPLES_BIN=$CACHE/bin-examples
EXAMPLES_STAMPS=$CACHE/stamps-examples

# ---- pins -------------------------------------------------------------------
# PULUMI_YAML_VERSION (github.com/pulumi/pulumi-yaml) with every other Go pin; the npm and
# PyPI pins are the examples' package-lock.json and requirements.txt.
# shellcheck source=../tools/versions.env
source "$ROOT/tools/versions.env"

log() { printf '%s\n' "$*" >&2; }
die() { log "example-tools.sh: $*"; exit 1; }
sha() { sha256sum | cut -c1-16; }

# with_lock <name> <command...>: one runner of <command> at a time across checkouts sharing the
# cache (waits for the other one).
with_lock() {
  local name=$1 lock; shift
  mkdir -p "$EXAMPLES_STAMPS"
  exec {lock}>"$EXAMPLES_STAMPS/$name.lock"
  command -v flock >/dev/null 2>&1 && flock "$lock"
  "$@"
  exec {lock}>&-
}

# ---- YAML: pulumi-language-yaml ---------------------------------------------------------------
yaml_key() {
  printf '%s\n' "$PULUMI_YAML_VERSION" "$(go env GOVERSION)" "$(declare -f build_yaml_host)" | sha
}
yaml_fresh() { [ -x "$EXAMPLES_BIN/pulumi-language-yaml" ] && [ "$(cat "$EXAMPLES_STAMPS/pulumi-language-yaml" 2>/dev/null)" = "$1" ]; }
build_yaml_host() {
  local key=$1 tmp start
  yaml_fresh "$key" && { log "cached pulumi-language-yaml $PULUMI_YAML_VERSION"; return 0; }
  log "building pulumi-language-yaml $PULUMI_YAML_VERSION (first run on 2 cores: 2-3 min; kept in $EXAMPLES_BIN, later runs reuse it)..."
  start=$(date +%s)
  mkdir -p "$EXAMPLES_BIN"
  tmp=$(mktemp -d "$EXAMPLES_BIN/.yaml.XXXXXX")
  # Outside any module (go install mod@version), with the release build's flags.
  (cd / && GOWORK=off GOTOOLCHAIN=${GOTOOLCHAIN:-local} CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false" GOGC=${UPSTREAM_TLS_BUILD_GOGC:-400} GOBIN="$tmp" \
     nice -n 15 go install -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=${PULUMI_YAML_VERSION#v}" \
     "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$PULUMI_YAML_VERSION") || { rm -rf "$tmp"; die "go install pulumi-language-yaml failed"; }
  mv -f "$tmp/pulumi-language-yaml" "$EXAMPLES_BIN/pulumi-language-yaml"
  rm -rf "$tmp"
  printf '%s\n' "$key" >"$EXAMPLES_STAMPS/pulumi-language-yaml"
  log "built pulumi-language-yaml in $(( $(date +%s) - start ))s"
}
yaml_host() {
  command -v go >/dev/null || die "go is required"
  local key; key=$(yaml_key)
  yaml_fresh "$key" || with_lock pulumi-language-yaml build_yaml_host "$key"
  yaml_fresh "$key" || die "pulumi-language-yaml missing from $EXAMPLES_BIN after the build"
  printf '%s\n' "$EXAMPLES_BIN"
}

# ---- TypeScript: node_modules -----------------------------------------------------------------
TS_EXAMPLE=$ROOT/examples/typescript
node_key() {
  command -v node >/dev/null || die "node is required (Debian: apt-get install nodejs npm)"
  command -v npm >/dev/null || die "npm is required"
  { cat "$TS_EXAMPLE/package.json" "$TS_EXAMPLE/package-lock.json"; node --version; declare -f install_node_modules; } | sha
}
node_fresh() { [ -f "$CACHE/examples/node/$1/.complete" ]; }
install_node_modules() {
  local key=$1 dest=$CACHE/examples/node/$1 tmp start
  node_fresh "$key" && { log "cached node_modules $key"; return 0; }
  log "installing node_modules for examples/typescript ($key)..."
  start=$(date +%s)
  mkdir -p "$CACHE/examples/node"
  tmp=$(mktemp -d "$CACHE/examples/node/.$key.XXXXXX")
  cp "$TS_EXAMPLE/package.json" "$TS_EXAMPLE/package-lock.json" "$tmp/"
  # Exactly the lockfile; no install scripts (none is needed), no audit or fund lookups.
  (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) || { rm -rf "$tmp"; die "npm ci failed"; }
  touch "$tmp/.complete"
  rm -rf "$dest" && mv "$tmp" "$dest"
  log "installed node_modules in $(( $(date +%s) - start ))s"
}
node_modules_ts() {
  local key; key=$(node_key)
  node_fresh "$key" || with_lock node-modules install_node_modules "$key"
  node_fresh "$key" || die "node_modules missing from $CACHE/examples/node/$key after npm ci"
  printf '%s\n' "$CACHE/examples/node/$key/node_modules"
}

# ts_stage <dir>: the layout described at the top.
ts_stage() {
  local dir=$1 nm
  nm=$(node_modules_ts | tail -n1)
  mkdir -p "$dir/examples" "$dir/sdk"
  dir=$(cd "$dir" && pwd -P)
  # The stage replaces DIR/examples/typescript and DIR/sdk/nodejs: never the checkout's own.
  [ "$dir" != "$(cd "$ROOT" && pwd -P)" ] || die "ts-stage: DIR must not be the repository itself"
  rm -rf "$dir/examples/typescript" "$dir/sdk/nodejs"
  cp -R "$TS_EXAMPLE" "$dir/examples/typescript"
  rm -rf "$dir/examples/typescript/node_modules" "$dir/examples/typescript/bin"
  cp -R "$ROOT/sdk/nodejs" "$dir/sdk/nodejs"
  rm -rf "$dir/sdk/nodejs/node_modules" "$dir/sdk/nodejs/bin"
  ln -sfn "$nm" "$dir/node_modules"
  mkdir -p "$dir/examples/typescript/node_modules/@upstream-tls"
  ln -sfn "$dir/sdk/nodejs/bin" "$dir/examples/typescript/node_modules/@upstream-tls/upstream-tls"
  # The SDK as published: compiled with its own tsconfig.json, package.json beside the output.
  (cd "$dir/sdk/nodejs" && "$dir/node_modules/.bin/tsc" -p tsconfig.json >&2) || die "the generated SDK (sdk/nodejs) does not compile"
  cp "$dir/sdk/nodejs/package.json" "$dir/sdk/nodejs/bin/package.json"
  printf '%s\n' "$dir/examples/typescript"
}

# ts_build <dir>: stage, then compile the example (into DIR/examples/typescript/bin).
ts_build() {
  local dir=$1 ex
  ex=$(ts_stage "$dir" | tail -n1)
  (cd "$ex" && ../../node_modules/.bin/tsc -p tsconfig.json >&2) || die "examples/typescript does not compile"
  printf '%s\n' "$ex"
}

# ---- Python: the venv of examples/python ------------------------------------------------------
PY_EXAMPLE=$ROOT/examples/python
# setuptools builds the generated SDK (sdk/python: build-system setuptools>=61) WITHOUT build
# isolation, from this venv, so that installing the SDK needs no index at all.
PY_SETUPTOOLS=setuptools==80.9.0
py_pins() { grep -E '^[A-Za-z0-9_.-]+==' "$PY_EXAMPLE/requirements.txt"; }
python_key() {
  command -v python3 >/dev/null || die "python3 is required (Debian: apt-get install python3 python3-venv)"
  { py_pins; echo "$PY_SETUPTOOLS"; python3 -c 'import sys; print(sys.version, sys.executable)'; declare -f install_python_venv; } | sha
}
python_fresh() { [ -f "$CACHE/examples/python/$1/.complete" ]; }
install_python_venv() {
  local key=$1 dest=$CACHE/examples/python/$1 start
  python_fresh "$key" && { log "cached python venv $key"; return 0; }
  log "creating the python venv for examples/python ($key)..."
  start=$(date +%s)
  mkdir -p "$CACHE/examples/python"
  # Built in place (a venv cannot be moved); .complete marks it finished.
  rm -rf "$dest"
  python3 -m venv "$dest" >&2 || { rm -rf "$dest"; die "python3 -m venv failed"; }
  # Exactly the pins, nothing resolved: a missing transitive pin fails pip check below.
  "$dest/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r <(py_pins) "$PY_SETUPTOOLS" >&2 \
    || { rm -rf "$dest"; die "pip install of examples/python/requirements.txt failed"; }
  "$dest/bin/python" -m pip check >&2 \
    || { rm -rf "$dest"; die "examples/python/requirements.txt does not pin every dependency (pip check above)"; }
  touch "$dest/.complete"
  log "created the python venv in $(( $(date +%s) - start ))s"
}
python_venv() {
  local key; key=$(python_key)
  python_fresh "$key" || with_lock python-venv install_python_venv "$key"
  python_fresh "$key" || die "python venv missing from $CACHE/examples/python/$key after the install"
  printf '%s\n' "$CACHE/examples/python/$key"
}

# python_sdk <dir>: sdk/python built from a copy (the build writes build/ and *.egg-info beside
# the sources, and sdk/ is generated) with the venv's pinned setuptools, installed into <dir>.
python_sdk() {
  local dir=$1 venv tmp
  venv=$(python_venv | tail -n1)
  mkdir -p "$dir" && dir=$(cd "$dir" && pwd)
  tmp=$(mktemp -d)
  cp -R "$ROOT/sdk/python" "$tmp/sdk"
  rm -rf "$tmp/sdk/build" "$tmp/sdk"/*.egg-info
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-index --no-build-isolation \
    --target "$dir" "$tmp/sdk" >&2 || { rm -rf "$tmp"; die "the generated SDK (sdk/python) does not install"; }
  rm -rf "$tmp"
  printf '%s\n' "$dir"
}

# ---- C#: the syntax check's node_modules (tree-sitter's C# grammar) ----------------------------
CS_PARSER=$ROOT/tests/examples/testdata/csharp-parser
csharp_parser_key() {
  command -v node >/dev/null || die "node is required (Debian: apt-get install nodejs npm)"
  command -v npm >/dev/null || die "npm is required"
  { cat "$CS_PARSER/package.json" "$CS_PARSER/package-lock.json"; node --version; declare -f install_csharp_parser; } | sha
}
csharp_parser_fresh() { [ -f "$CACHE/examples/csharp-parser/$1/.complete" ]; }
install_csharp_parser() {
  local key=$1 dest=$CACHE/examples/csharp-parser/$1 tmp start
  csharp_parser_fresh "$key" && { log "cached csharp-parser node_modules $key"; return 0; }
  log "installing node_modules for the C# syntax check ($key)..."
  start=$(date +%s)
  mkdir -p "$CACHE/examples/csharp-parser"
  tmp=$(mktemp -d "$CACHE/examples/csharp-parser/.$key.XXXXXX")
  cp "$CS_PARSER/package.json" "$CS_PARSER/package-lock.json" "$tmp/"
  # Exactly the lockfile. No install scripts: the grammar's native binding (node-gyp-build) is
  # not used, its WebAssembly build (tree-sitter-c_sharp.wasm) runs on web-tree-sitter.
  (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) || { rm -rf "$tmp"; die "npm ci failed"; }
  [ -f "$tmp/node_modules/tree-sitter-c-sharp/tree-sitter-c_sharp.wasm" ] || { rm -rf "$tmp"; die "tree-sitter-c-sharp ships no tree-sitter-c_sharp.wasm"; }
  touch "$tmp/.complete"
  rm -rf "$dest" && mv "$tmp" "$dest"
  log "installed the csharp-parser node_modules in $(( $(date +%s) - start ))s"
}
csharp_parser() {
  local key; key=$(csharp_parser_key)
  csharp_parser_fresh "$key" || with_lock csharp-parser install_csharp_parser "$key"
  csharp_parser_fresh "$key" || die "node_modules missing from $CACHE/examples/csharp-parser/$key after npm ci"
  printf '%s\n' "$CACHE/examples/csharp-parser/$key/node_modules"
}

# ---- main -------------------------------------------------------------------------------------
[ $# -gt 0 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
case $1 in
  yaml) yaml_host ;;
  node) node_modules_ts ;;
  ts-stage) [ $# -eq 2 ] || die "usage: $0 ts-stage DIR"; ts_stage "$2" ;;
  ts-build) [ $# -eq 2 ] || die "usage: $0 ts-build DIR"; ts_build "$2" ;;
  python) python_venv ;;
  python-sdk) [ $# -eq 2 ] || die "usage: $0 python-sdk DIR"; python_sdk "$2" ;;
  csharp-parser) csharp_parser ;;
  -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown target: $1 (yaml, node, ts-stage DIR, ts-build DIR, python, python-sdk DIR, csharp-parser)" ;;
esac
