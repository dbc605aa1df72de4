# Sourced by scripts/pulumi-env.sh and scripts/cluster.sh: whether this checkout's own binaries
# in out/bin are what `go build` would leave, without asking go build (its staleness check of
# a binary is 0.2-1 s of a no-change `make up`, more on a busy machine).
#
#   sources_fresh STAMP BINARY...   true when STAMP holds this Go version, every BINARY is
#                                   executable, and no Go source, go.mod, go.sum or .json file
#                                   of the checkout, and no directory (a file added, removed or
#                                   renamed), is newer than STAMP; UPSTREAM_TLS_REBUILD=1: false
#   sources_stamp STAMP EPOCH       after the builds succeeded: STAMP holds the Go version and
#                                   is dated EPOCH, when they started (a file saved during the
#                                   builds is then newer, and the next run builds again)

# sources_fresh STAMP BINARY...
sources_fresh() {
	local stamp=$1 root b
	shift
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	[[ ${UPSTREAM_TLS_REBUILD:-} != 1 && -f $stamp && $(<"$stamp") == "$(go env GOVERSION)" ]] || return 1
	for b in "$@"; do [[ -x $b ]] || return 1; done
	[[ -z $(cd "$root" && find go.mod go.sum cmd components infra internal provider -newer "$stamp" \
		\( -type d -o -name '*.go' -o -name go.mod -o -name go.sum -o -name '*.json' \) -print -quit) ]]
}

# sources_stamp STAMP EPOCH
sources_stamp() {
	go env GOVERSION >"$1"
	touch -d "@$2" "$1"
}
