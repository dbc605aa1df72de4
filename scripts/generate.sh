#!/usr/bin/env bash
# make generate: regenerates every generated file the repository commits, with the project's
# pinned generators, in dependency order:
#   provider/zz_docs.go                                the schema's descriptions, from the Go
#                                                      doc comments (internal/spec/docgen);
#   internal/lbc/iam/iam_policy.json                   the AWS Load Balancer Controller's IAM
#                                                      policy, copied from the pinned module;
#   provider/cmd/pulumi-resource-upstream-tls/schema.json   the provider's schema (schemagen);
#   sdk/{nodejs,python,go,dotnet}                      the SDKs, from schema.json (tools/sdkgen,
#                                                      tools/sdkgen-dotnet, built by tools.sh).
# tests/generate (and the provider's tests) regenerate each into a temporary directory and diff.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=../tools/versions.env
source tools/versions.env

go run ./internal/spec/docgen -out provider/zz_docs.go
lbc=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/aws-load-balancer-controller@$LBC_MODVER" | jq -r .Dir)
install -m 0644 "$lbc/docs/install/iam_policy.json" internal/lbc/iam/iam_policy.json
(cd provider && go run ./cmd/schemagen -out cmd/pulumi-resource-upstream-tls/schema.json)
tools_out=$(scripts/tools.sh sdkgen sdkgen-dotnet)
bin=${tools_out##*$'\n'}
"$bin/sdkgen" -schema provider/cmd/pulumi-resource-upstream-tls/schema.json -out sdk -lang nodejs,python,go
"$bin/sdkgen-dotnet" -schema provider/cmd/pulumi-resource-upstream-tls/schema.json -out sdk/dotnet
echo "generated provider/zz_docs.go, internal/lbc/iam/iam_policy.json, schema.json and sdk/" >&2
