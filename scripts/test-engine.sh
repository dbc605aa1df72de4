#!/usr/bin/env bash
# The engine tier (make test-engine): the tests of tests/engine in two processes side by side,
# those against a local cluster in one, the render-mode ones in the other. Their time is
# mostly waiting (the engine's plugin start-ups, the controller's verdicts, a killed run's
# recovery), so on two cores the pair takes little more than the longer half. Both run the
# same test binary, built once, with what pulumi-env.sh builds (out/bin, out/offline) ready
# before either starts, so that neither rewrites a binary the other is running. Each half's
# output is printed when both have ended; the exit status fails when either half failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
# Tests that start a local cluster (a regular expression for -test.run / -test.skip).
cluster_tests=${ENGINE_CLUSTER_TESTS:-'^(TestDevStackOnTheLocalCluster|TestClusterFault.*)$'}
timeout=${ENGINE_TIMEOUT:-80m}

(source scripts/pulumi-env.sh >/dev/null)
go test -c -o out/engine.test ./tests/engine

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
run() { # run NAME ARGS...: the test binary in its package directory, as go test runs it
	local name=$1
	shift
	(cd tests/engine && "$root/out/engine.test" -test.count=1 -test.timeout "$timeout" -test.v "$@") >"$logs/$name" 2>&1
}
start=$SECONDS
run cluster -test.run "$cluster_tests" &
cluster=$!
rc_render=0
run render -test.skip "$cluster_tests" || rc_render=$?
rc_cluster=0
wait "$cluster" || rc_cluster=$?
for half in render cluster; do
	echo "---- tests/engine, the $half half:"
	grep -Ev '^=== (RUN|PAUSE|CONT)' "$logs/$half" || true
done
echo "test-engine: both halves ended after $((SECONDS - start))s (render exit $rc_render, cluster exit $rc_cluster)"
[[ $rc_render -eq 0 && $rc_cluster -eq 0 ]]
