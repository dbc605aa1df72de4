# upstream-tls: the set-up and verification commands. See README.md.
SHELL := /usr/bin/env bash
STACK ?= dev
GO    ?= go
export UPSTREAM_TLS_CACHE ?= $(HOME)/.cache/upstream-tls

.PHONY: help up render verify test test-unit test-render test-schema test-provider test-verify test-engine test-generate fmt-check vet fuzz generate tools clean

help:
	@echo "make up [STACK=dev]        pulumi up on a stack (dev renders into out/dev/)"
	@echo "make render STACK=<stack>  plan a stack into out/render/<stack>/ (engine-free)"
	@echo "make verify STACK=<stack>  effective upstream TLS per backend, from Envoy Gateway's translator"
	@echo "make test                  every test tier (what CI runs)"
	@echo "make generate              regenerate crds/ and components/lbciam with the pinned generators"
	@echo "make tools                 build the pinned Pulumi toolchain into $(UPSTREAM_TLS_CACHE)/bin"
	@echo "make fuzz                  fuzz the config -> plan path for 60s"

## up: the main job. pulumi up on $(STACK) (default dev) with a local file backend in .state/;
## the dev stack renders every object into out/dev/. Builds the pinned toolchain when missing.
up:
	scripts/up.sh $(STACK)

## render: engine-free plan of Pulumi.$(STACK).yaml into out/render/$(STACK)/.
render:
	$(GO) run ./cmd/render -stack $(STACK)

## verify: prove the plan of Pulumi.$(STACK).yaml against Envoy Gateway's own translator (egctl):
## one line per backend with its effective upstream TLS; non-zero exit on any mismatch.
verify:
	$(GO) run ./cmd/verify -stack $(STACK)

## test: every tier. CI (.ci/run) calls this.
test: fmt-check vet test-unit test-render test-schema test-provider test-verify test-engine test-generate

fmt-check:
	@out=$$(git ls-files '*.go' | grep -v '^crds/' | xargs -r gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./components/... ./cmd/... ./infra/... ./tests/...

## test-unit: plan table tests, golden files, fuzz seed corpus, Pulumi mock tests.
test-unit:
	$(GO) test -count=1 ./components/... ./cmd/... ./infra/...

## test-render: every committed stack renders (or fails as its file says it must).
test-render:
	$(GO) test -count=1 ./tests/render/...

## test-schema: every golden case and stack passes the pinned CRD schemas + CEL (kubectl-validate).
test-schema:
	$(GO) test -count=1 -timeout 40m ./tests/schema/...

## test-provider: the provider plugin (its own module): schema, certificate lifecycle.
test-provider:
	cd provider && $(GO) vet ./... && $(GO) test -count=1 ./...

## test-engine: the real pulumi CLI on the dev config (builds the pinned toolchain if missing).
test-engine:
	$(GO) test -count=1 -timeout 80m -v -run . ./tests/engine/... 2>&1 | grep -Ev '^=== (RUN|PAUSE|CONT)' ; exit $${PIPESTATUS[0]}

## test-verify: the dev stack verifies OK against egctl; every negative case is reported.
test-verify:
	$(GO) test -count=1 -timeout 40m ./tests/verify/...

## test-generate: crds/ and components/lbciam/policy_gen.go are exactly what the pinned generators
## produce; the LBC IAM policy equals the upstream iam_policy.json.
test-generate:
	$(GO) test -count=1 -timeout 60m ./tests/generate/...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzBuild -fuzztime 60s ./components/plan

## generate: crds/ (Pulumi CRD types) and components/lbciam/policy_gen.go (the LBC IAM policy).
generate:
	scripts/generate-crds.sh
	scripts/generate-lbc-iam.sh

tools:
	scripts/tools.sh

clean:
	rm -rf out
