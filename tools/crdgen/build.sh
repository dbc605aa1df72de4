#!/usr/bin/env bash
# Builds crdgen into $1 (used by scripts/generate-crds.sh).
#
# github.com/pulumi/pulumi-kubernetes/provider/v4 is pinned (go.mod) to the
# newest pseudo-version the module proxy serves, which was written against
# github.com/pulumi/pulumi/pkg/v3 v3.215; in the pinned v3.274.1 the schema's
# PackageSpec.Provider is a *ResourceSpec, so one struct literal in
# provider/v4/pkg/gen/schema.go no longer compiles. This script builds against
# a temporary copy of that module with the literal fixed, via a temporary
# go.mod (-modfile) that adds a replace directive; the committed go.mod/go.sum
# and the module cache are left untouched. It fails if the patch does not
# apply exactly once (e.g. after bumping provider/v4: then drop the patch).
set -euo pipefail
out=${1:?usage: build.sh OUTPUT}
cd "$(dirname "${BASH_SOURCE[0]}")"

mod=github.com/pulumi/pulumi-kubernetes/provider/v4
go mod download "$mod"
src=$(go list -m -f '{{.Dir}}' "$mod")

# A fixed work directory next to the output keeps Go's build cache effective.
# A lock serialises concurrent builds.
work=$(cd "$(dirname "$out")" && pwd)/.crdgen-build
if command -v flock >/dev/null; then
	exec 9>"$work.lock"
	flock 9
fi
rm -rf "$work"
mkdir -p "$work"
cp -R "$src" "$work/provider"
chmod -R u+w "$work/provider"
file=$work/provider/pkg/gen/schema.go
sed -i.orig 's/^\t\tProvider: pschema\.ResourceSpec{$/\t\tProvider: \&pschema.ResourceSpec{/' "$file"
changed=$(diff "$file.orig" "$file" | grep -c '^>' || true)
rm "$file.orig"
if [[ $changed != 1 ]]; then
	echo "build.sh: expected to patch 1 line of $mod/pkg/gen/schema.go, patched $changed" >&2
	exit 1
fi

cp go.mod "$work/go.mod"
cp go.sum "$work/go.sum"
echo "replace $mod => $work/provider" >>"$work/go.mod"
nice -n 10 go build -trimpath -modfile="$work/go.mod" -o "$out" .
rm -rf "$work"
