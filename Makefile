# upstream-tls: the set-up and verification commands. See README.md. `make help` lists them
# (from the `## ` comments below).
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
STACK ?= dev
GO    ?= go
export UPSTREAM_TLS_CACHE ?= $(HOME)/.cache/upstream-tls
# Every Go build and test of the project uses the flags scripts/tools.sh builds the pinned tools
# with (-trimpath, no cgo), so that a package they share at the same version (the Pulumi SDK,
# gRPC, protobuf, the Kubernetes apimachinery, Envoy Gateway's API) compiles once into the build
# cache instead of once per flag set: on a cold machine that is minutes (README, "CI budget").
export GOFLAGS := -trimpath -buildvcs=false
export CGO_ENABLED := 0
# The compile-heavy steps below (vet, the unit and render tiers, whose tests start no engine or
# cluster) run go with GOGC 400: the compiler collects garbage less often, about a fifth less
# build time on an empty cache (scripts/tools.sh, which builds the tools the same way, has the
# measurement). The tiers that run the engine and the cluster keep Go's default for what they
# start.
BUILD_GOGC ?= 400
# The tiers share the tool cache and out/offline: run them one after the other.
.NOTPARALLEL:

.PHONY: help up unlock cluster down render verify test fmt-check vet test-unit test-render test-schema test-provider \
	test-verify test-cluster test-engine test-examples test-generate fuzz fuzz-posture generate tools clean bench

## help: list the targets
help:
	@awk '/^## /{sub(/^## /, ""); split($$0, a, ": "); printf "  make %-16s %s\n", a[1], substr($$0, length(a[1]) + 3)}' $(MAKEFILE_LIST)

## up: pulumi up on STACK (default dev: the local cluster in .state/cluster; STACK=dev-render renders into out/dev/); builds what is missing
up:
	scripts/up.sh $(STACK)

## unlock: remove STACK's stale lock after an interrupted run (refused while its run is alive; FORCE=1: another host's)
unlock:
	scripts/up.sh $(STACK) -unlock $(if $(FORCE),-force)

## cluster: start the local Kubernetes control plane in .state/cluster (builds it on first use)
cluster:
	scripts/cluster.sh start

## down: stop the local cluster's processes (its data stays in .state/cluster)
down:
	scripts/cluster.sh stop

## bench: plan and engine benchmarks (render mode, local clusters) on synthetic stacks, the component against raw yaml/v2 (bench/RESULTS.md; not part of test)
bench:
	scripts/bench.sh

## render: engine-free plan of Pulumi.$(STACK).yaml into out/render/$(STACK)/
render:
	$(GO) run ./cmd/render -stack $(STACK)

## verify: Pulumi.$(STACK).yaml: API server dry run (scratch cluster), EG translator, and the stack's cluster; LIVE=1: requests through Envoy
verify:
	@bin=$$(scripts/tools.sh egctl-verify | tail -n 1); cbin=$$(scripts/tools.sh cluster | tail -n 1); \
	mkdir -p out/bin && CGO_ENABLED=0 $(GO) build -trimpath -o out/bin/upstream-tls-cluster ./cmd/cluster; \
	scripts/offline-inputs.sh out/offline >&2; \
	$(GO) run ./cmd/verify -stack $(STACK) -egctl $$bin/egctl-verify -cluster-bin $$cbin -host $$PWD/out/bin/upstream-tls-cluster \
		-crds out/offline/gateway-api-crds,out/offline/envoy-gateway-crds,out/offline/lbc-crds $(if $(LIVE),-live)

## test: every tier (what CI runs)
test: fmt-check vet test-unit test-render test-schema test-provider test-verify test-cluster test-engine test-examples test-generate

## fmt-check: gofmt of every Go file
fmt-check:
	@out=$$(git ls-files '*.go' | xargs -r gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## vet: go vet of the main module (the provider module is vetted by test-provider)
vet:
	GOGC=$(BUILD_GOGC) $(GO) vet ./...

## test-unit: plan, config, components (Pulumi mocks), golden files, fuzz seed corpora
test-unit:
	GOGC=$(BUILD_GOGC) $(GO) test -count=1 ./internal/... ./components/... ./cmd/... ./infra/...

## test-render: the renderer binary on every committed stack
test-render:
	GOGC=$(BUILD_GOGC) $(GO) test -count=1 ./tests/render/...

## test-schema: every golden case and stack, server-side dry-run on a scratch local cluster with the pinned CRDs
# (each tier builds its pinned tools first, in the open: on a first run those builds are most of
# its time, and go test's timeout then bounds the tests alone)
test-schema:
	@scripts/tools.sh cluster >/dev/null
	$(GO) test -count=1 -timeout 40m ./tests/schema/...

## test-provider: the provider plugin (its own module): schema contract, schema.json, certificates
test-provider:
	cd provider && $(GO) vet ./... && $(GO) test -count=1 ./...

## test-verify: Envoy Gateway's translator on the dev stack, golden cases, negatives, posture property
test-verify:
	@scripts/tools.sh egctl egctl-verify >/dev/null && scripts/tools.sh cluster >/dev/null
	$(GO) test -count=1 -timeout 40m ./tests/verify/...

## test-cluster: the local cluster (real etcd, kube-apiserver, kube-controller-manager): start, stop, restart
# (process liveness also inside a PID namespace on a foreign /proc, as CI's sandbox has, where unshare works)
test-cluster:
	$(GO) test -count=1 -timeout 30m ./tests/cluster/...
	@if unshare --pid --fork true 2>/dev/null; then \
		echo "liveness inside a new PID namespace with the host's /proc:"; \
		unshare --pid --fork $(GO) test -count=1 -run TestLivenessWithAndWithoutProc ./internal/cluster/; \
	else echo "skipped the PID-namespace liveness run: unshare --pid is not permitted here"; fi

## test-engine: the real pulumi CLI: lifecycle, EKS, upgrade from 012776a, render/preview agreement, faults,
# the dev stack on a local cluster (the cluster tests and the render-mode ones side by side)
test-engine:
	scripts/test-engine.sh

## test-examples: the examples in YAML, TypeScript, Python, C# and Go (see examples/)
test-examples:
	$(GO) test -count=1 -timeout 60m ./tests/examples/...
	cd examples/go && GOWORK=off $(GO) vet ./... && GOWORK=off $(GO) test -count=1 ./...

## test-generate: generated and copied files are what their pinned generators and sources make
test-generate:
	@scripts/tools.sh sdkgen sdkgen-dotnet >/dev/null
	$(GO) test -count=1 -timeout 60m ./tests/generate/...

## fuzz: fuzz the stack-file reader and the config -> plan path (60 s each)
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzStackFile -fuzztime 60s ./internal/config
	$(GO) test -run '^$$' -fuzz FuzzBuild -fuzztime 60s ./internal/plan

## fuzz-posture: the posture property test on many more generated configurations (N=2000)
fuzz-posture:
	UPSTREAM_TLS_POSTURE_CONFIGS=$${N:-2000} $(GO) test -count=1 -timeout 60m -run TestPostureMatchesTheTranslator -v ./tests/verify/

## generate: docs, IAM policy, schema.json and sdk/ with the pinned generators
generate:
	scripts/generate.sh

## tools: build every pinned tool into $(UPSTREAM_TLS_CACHE)/bin
tools:
	scripts/tools.sh
	scripts/tools.sh cluster
	@if [ -x scripts/example-tools.sh ]; then scripts/example-tools.sh; fi

## clean: remove out/ (renders, offline inputs, this checkout's binaries)
clean:
	rm -rf out
