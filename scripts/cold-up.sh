#!/usr/bin/env bash
# The newcomer's first `make up`, measured: clones this checkout's HEAD into a temporary folder
# and runs `make up` there with every cache empty (HOME, the Go module and build caches, npm,
# pip and the tool cache point into the folder, as ../shared/tools/cold-ci does for .ci/run),
# each line of output prefixed with the minutes since the start, then `make down`. Expect about
# 43 minutes on 2 cores (README, "Toolchain and timings"). Leaves the folder and says where.
#
#   scripts/cold-up.sh > /tmp/cold-up.log
set -uo pipefail
root=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
work=$(mktemp -d -t cold-up.XXXXXX)
git clone -q "$root" "$work/repo"
mkdir -p "$work/home/.config"
# Registry client settings live in the home folder: carry them over, nothing else.
for f in .npmrc .config/go .config/pip .pip; do [ -e "$HOME/$f" ] && cp -r "$HOME/$f" "$work/home/$f"; done
start=$(date +%s)
(
	cd "$work/repo"
	env -u UPSTREAM_TLS_CACHE -u GOPATH -u GOMODCACHE -u GOCACHE HOME="$work/home" \
		GOPATH="$work/home/go" GOMODCACHE="$work/home/go/pkg/mod" GOCACHE="$work/home/.cache/go-build" \
		npm_config_cache="$work/home/.npm" PIP_CACHE_DIR="$work/home/.cache/pip" make up
	rc=$?
	env HOME="$work/home" make down >/dev/null 2>&1
	exit $rc
) 2>&1 | while IFS= read -r line; do printf '[%5.1f min] %s\n' "$(awk -v s="$start" -v n="$(date +%s)" 'BEGIN{print (n-s)/60}')" "$line"; done
rc=${PIPESTATUS[0]}
total=$(($(date +%s) - start))
echo "cold-up: make up exited $rc after $((total / 60)) min $((total % 60)) s; clone in $work"
exit "$rc"
