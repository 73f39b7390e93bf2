# opitios-alpaca: build, test, benchmark, synthesize and deploy.
#
# `make test` is what CI runs (.ci/run): on a fresh Debian machine it installs
# what it needs (redis-server from Debian, Go tools into ./.bin), starts a
# private standalone Redis and a 3-master Redis Cluster on free loopback
# ports, runs every check, stops the servers and prints one summary line.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# Go lives in /usr/local/go on our machines, whether or not it is on PATH;
# pip-installed tools (cfn-lint, moto_server) live behind pyenv's shims on
# build machines, or in ~/.local/bin when pip installed them for a user.
ifeq ($(shell command -v go 2>/dev/null),)
export PATH := /usr/local/go/bin:$(PATH)
endif
path_has = $(filter $(1),$(subst :, ,$(PATH)))
ifneq ($(wildcard $(HOME)/.pyenv/shims),)
ifeq ($(call path_has,$(HOME)/.pyenv/shims),)
export PATH := $(PATH):$(HOME)/.pyenv/shims
endif
endif
ifeq ($(call path_has,$(HOME)/.local/bin),)
export PATH := $(PATH):$(HOME)/.local/bin
endif

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := true
export CDK_DISABLE_CLI_TELEMETRY := true

GO ?= go
FUZZTIME ?= 5s
PIP ?= python3 -m pip
# The emulator runs the bootstraps on this machine, so build-local targets its
# architecture (amd64 on our machines and CI).
LOCAL_GOARCH ?= $(shell $(GO) env GOHOSTARCH)

BIN := $(CURDIR)/.bin
STATICCHECK := $(BIN)/staticcheck
BENCHSTAT := $(BIN)/benchstat
RIE := $(BIN)/aws-lambda-rie
STATICCHECK_PKG := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT_PKG := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
RIE_PKG := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d

STACK := OpitiosAlpaca
TEMPLATE := cdk.out/$(STACK).template.json

# A function is a directory under functions/ holding Go files.
FUNCTIONS := $(sort $(patsubst functions/%/,%,$(dir $(wildcard functions/*/*.go))))

WITH_REDIS := dev/testenv/with-redis.sh
# Steps that need Redis start their own servers unless the caller's are set
# (inside `make test`, or exported by hand).
REDIS := $(if $(and $(OPITIOS_TEST_REDIS_ADDR),$(OPITIOS_TEST_REDIS_CLUSTER_ADDRS)),,$(WITH_REDIS))


# Go files to format: everything but dependencies, outputs and golden data.
GOFILES = $(shell find . -name '*.go' -not -path './.*' -not -path './node_modules/*' \
	-not -path './cdk.out/*' -not -path './build/*' -not -path '*/testdata/*')

# The module's packages. `./...` alone would include node_modules, where
# aws-cdk ships Go template files that are not valid packages.
PKGS = $(shell $(GO) list -e ./... | grep -v '/node_modules/')
# The RIE harness runs under `make local-rie`, with the emulator and the
# bootstraps it needs; `make test-go` covers every other package.
GO_TEST_PKGS = $(filter-out $(MODULE)/dev/rie $(MODULE)/dev/rie/%,$(PKGS))
MODULE = $(shell $(GO) list -m)

TEST_STEPS := vet staticcheck fmt-check test-go fuzz bench-smoke local-rie cfn-lint

GO_TEST_FLAGS ?= -race -count=1 -timeout 20m

# The instants (UTC) `make test-dates` runs the tests at, each a few minutes
# before a change the run then crosses: the early close of Christmas Eve 2026
# (13:00 New York), the switch to daylight saving time on 2027-03-14 (02:00
# New York), a Saturday in the closure of Independence Day (observed Monday
# 2027-07-05) and the last close of the embedded NYSE table (Friday
# 2028-12-29, 16:00 New York), after which the calendar is weekday rules.
TEST_DATES ?= 2026-12-24T17:57:00Z 2027-03-14T06:57:00Z 2027-07-03T15:00:00Z 2028-12-29T20:57:00Z
TEST_DATES_GO_FLAGS ?= -count=1 -timeout 20m

.PHONY: help deps deps-redis deps-wrk deps-tools deps-py npm-deps \
	test test-go test-dates fuzz vet staticcheck fmt-check lint fmt \
	build build-local run local-rie bench bench-smoke bench-micro \
	synth synth-go cfn-lint deploy diff clean

help: ## list the targets
	@echo "usage: make TARGET   (FUZZTIME=$(FUZZTIME) for fuzz)"
	@awk '/^## ---- / {sub(/^## ---- /, ""); printf "\n%s:\n", $$0; next} \
		/^[a-z][a-z0-9-]*:.*## / && !seen[$$1]++ {split($$0, a, ":.*## "); printf "  %-12s %s\n", a[1], a[2]}' \
		$(firstword $(MAKEFILE_LIST))

## ---- dependencies

deps: deps-redis deps-tools deps-py npm-deps ## install what make test needs (only what is missing)

deps-redis: ## redis-server and redis-cli from Debian's packages, when missing
	@if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then exit 0; fi; \
	sudo=; if [ "$$(id -u)" != 0 ]; then sudo=sudo; fi; \
	echo "deps: installing redis-server and redis-tools from Debian"; \
	$$sudo apt-get update; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server redis-tools

deps-wrk: ## wrk (the load generator of make bench's max-rate runs) from Debian's packages, when missing
	@if command -v wrk >/dev/null; then exit 0; fi; \
	sudo=; if [ "$$(id -u)" != 0 ]; then sudo=sudo; fi; \
	echo "deps: installing wrk from Debian"; \
	$$sudo apt-get update; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk

deps-tools: $(STATICCHECK) $(BENCHSTAT) $(RIE) ## staticcheck, benchstat, aws-lambda-rie into .bin at pinned versions

$(STATICCHECK):
	GOBIN=$(BIN) $(GO) install $(STATICCHECK_PKG)
$(BENCHSTAT):
	GOBIN=$(BIN) $(GO) install $(BENCHSTAT_PKG)
$(RIE):
	GOBIN=$(BIN) $(GO) install $(RIE_PKG)

# PIP_BREAK_SYSTEM_PACKAGES: Debian's own python3 refuses pip installs
# otherwise (PEP 668); root's go to /usr/local, a user's to ~/.local.
deps-py: ## cfn-lint and moto_server: pip install when missing; failure is only a warning here
	@if command -v cfn-lint >/dev/null && command -v moto_server >/dev/null; then exit 0; fi; \
	echo "deps: cfn-lint or moto_server is missing: trying pip install"; \
	if ! PIP_BREAK_SYSTEM_PACKAGES=1 $(PIP) install --disable-pip-version-check --timeout 15 --retries 1 \
		cfn-lint 'moto[server]'; then \
		echo "deps: WARNING: pip install cfn-lint 'moto[server]' failed (is PyPI reachable?):" \
			"make cfn-lint and the tests that run moto_server will fail until both are on PATH" >&2; \
	fi

npm-deps: ## npm ci, when package-lock.json exists and node_modules is missing or stale
	@if [ ! -f package-lock.json ]; then echo "npm-deps: no package-lock.json: nothing to install"; exit 0; fi; \
	if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		npm ci --no-audit --no-fund; \
	fi

## ---- tests

test: deps ## everything CI checks, against private Redis servers, with a summary
	@MAKE="$(MAKE)" $(WITH_REDIS) dev/testenv/run-steps.sh "make test" $(TEST_STEPS)

test-go: ## go test -race on every package (but dev/rie: see local-rie)
	$(REDIS) $(GO) test $(GO_TEST_FLAGS) $(GO_TEST_PKGS)

# Each date runs test-go (without -race: TEST_DATES_GO_FLAGS), bench-smoke
# and local-rie under dev/testenv/shifted-clock.sh: every step of every date,
# even after a failure.
test-dates: $(RIE) $(BENCHSTAT) ## test-go, bench-smoke and local-rie as if today were each of TEST_DATES (4 to 8 min a date on 2 cores)
	@failed=""; for when in $(TEST_DATES); do \
		echo "== test-dates: $$when"; \
		if ! GO=$(GO) dev/testenv/shifted-clock.sh "$$when" $(REDIS) \
			$(MAKE) -k --no-print-directory test-go bench-smoke local-rie GO_TEST_FLAGS='$(TEST_DATES_GO_FLAGS)'; then \
			failed="$$failed $$when"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "test-dates: FAIL at$$failed"; exit 1; fi; \
	echo "test-dates: PASS at each of $(TEST_DATES)"

fuzz: ## run every Fuzz target for FUZZTIME
	GO=$(GO) FUZZTIME=$(FUZZTIME) $(REDIS) dev/testenv/fuzz-all.sh

vet: ## go vet
	$(GO) vet $(PKGS)

staticcheck: $(STATICCHECK) ## staticcheck
	$(STATICCHECK) $(PKGS)

fmt-check: ## fail when a Go file is not gofmt-formatted
	@out=$$(gofmt -l $(GOFILES)); \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting (run make fmt):"; echo "$$out"; exit 1; fi; \
	echo "gofmt: all files formatted"

lint: vet staticcheck fmt-check ## vet + staticcheck + gofmt check

fmt: ## gofmt -w every Go file
	gofmt -w $(GOFILES)

## ---- build and run

build: ## every functions/<name> -> build/lambda/<name>/bootstrap (linux/arm64)
	@$(if $(FUNCTIONS),,echo "build: no functions/<name>/*.go yet: nothing to build")
	@$(foreach f,$(FUNCTIONS),echo "build $(f) (linux/arm64)"; \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
			-o build/lambda/$(f)/bootstrap ./functions/$(f);)

build-local: ## the same for this machine's arch -> build/local/<name>/bootstrap, for the emulator
	@$(if $(FUNCTIONS),,echo "build-local: no functions/<name>/*.go yet: nothing to build")
	@$(foreach f,$(FUNCTIONS),echo "build $(f) (linux/$(LOCAL_GOARCH))"; \
		GOOS=linux GOARCH=$(LOCAL_GOARCH) CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
			-o build/local/$(f)/bootstrap ./functions/$(f);)

run: ## the whole service on this machine (API on 127.0.0.1:3000)
	@mkdir -p build/local
	$(GO) build -o build/local/opitios-local ./dev/local
	@# exec, not go run: Ctrl-C then reaches the program alone, which stops
	@# everything it started and exits 0.
	exec build/local/opitios-local

local-rie: build-local $(RIE) ## the built bootstraps under the AWS Lambda Runtime Interface Emulator
	RIE_BIN=$(RIE) LAMBDA_BUILD_DIR=$(CURDIR)/build/local $(REDIS) $(GO) test -count=1 -v ./dev/rie/...

## ---- benchmarks

bench: deps-redis deps-wrk $(BENCHSTAT) $(RIE) ## full benchmarks (~6 min) -> BENCHMARKS.md, bench/results.json, bench/latency.png
	$(WITH_REDIS) $(GO) run ./dev/bench -benchstat $(BENCHSTAT) -rie $(RIE)
bench-smoke: $(BENCHSTAT) $(RIE) ## the benchmark program end to end, in seconds -> bench/out/smoke
	$(REDIS) $(GO) run ./dev/bench -smoke -benchstat $(BENCHSTAT) -rie $(RIE)

bench-micro: $(BENCHSTAT) ## go benchmarks of shared/... (5 runs) -> bench/out/micro.txt, summarized by benchstat
	@mkdir -p bench/out
	$(REDIS) $(GO) test -run '^$$' -bench . -benchmem -count 5 ./shared/... | tee bench/out/micro.txt
	$(BENCHSTAT) bench/out/micro.txt

## ---- infrastructure

synth: build npm-deps ## cdk synth (CLI) -> cdk.out
	npx --yes cdk synth --no-notices -c assetsDir=build/lambda -o cdk.out

synth-go: build ## synthesize by running the CDK app directly (no CLI) -> cdk.out
	CDK_OUTDIR=cdk.out $(GO) run ./infra

cfn-lint: deps-py synth-go ## cfn-lint the synthesized template
	@command -v cfn-lint >/dev/null || { echo "cfn-lint: cfn-lint is not installed and pip could not install it:" \
		"install it (pip install cfn-lint) so it is on PATH, then re-run" >&2; exit 1; }
	cfn-lint $(TEMPLATE)

deploy: build npm-deps ## cdk deploy, no approval prompt
	npx --yes cdk deploy --no-notices --app "$(GO) run ./infra" -c assetsDir=build/lambda --require-approval never --outputs-file cdk.out/outputs.json

diff: build npm-deps ## cdk diff against the deployed stack
	npx --yes cdk diff --no-notices --app "$(GO) run ./infra" -c assetsDir=build/lambda

clean: ## remove build outputs (keeps .bin and node_modules)
	rm -rf build cdk.out bench/out
