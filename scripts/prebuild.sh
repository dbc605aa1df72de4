#!/usr/bin/env bash
# CI's background builder (.ci/run starts it beside `make test`). It builds, on otherwise idle
# CPU only (SCHED_IDLE, nice 19), what the later test tiers need, latest-needed last: the
# engine tier's pulumi CLI and Kubernetes provider and its upgrade fixture, the examples' tools,
# the generators. On a cold machine the early tiers leave the CPU idle for minutes (module
# downloads, a real controller's and the engine's waits); this fills those minutes. Every
# build goes through scripts/tools.sh, scripts/example-tools.sh or
# scripts/record-upgrade-fixture.sh, which hold a lock per tool: a tier that needs a tool still
# being built here waits for this build instead of starting a second one. Nothing depends on
# this script: stopped or failed, the tiers build what they need themselves. Progress goes to
# the log file given as $1 (default: stderr).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ $# -gt 0 ]]; then exec >>"$1" 2>&1; fi
if chrt -i 0 true 2>/dev/null; then idle=(chrt -i 0 nice -n 19); else idle=(nice -n 19); fi
step() {
	local start=$SECONDS
	echo "prebuild: $*"
	"${idle[@]}" "$@" >/dev/null || echo "prebuild: $* failed (the tier that needs it builds it)"
	echo "prebuild: $* done in $((SECONDS - start))s"
}
step scripts/tools.sh pulumi pulumi-resource-kubernetes
step bash -o pipefail scripts/record-upgrade-fixture.sh
step scripts/example-tools.sh yaml
step scripts/example-tools.sh node
step scripts/example-tools.sh csharp-parser
step scripts/example-tools.sh python
step scripts/tools.sh sdkgen sdkgen-dotnet
echo "prebuild: finished"
