SHELL := /bin/bash
.DEFAULT_GOAL := help

# Tests are TypeScript run directly by Node's test runner through tsx; one file at a time, since many
# of them start real gateway, Redis and client processes on this machine.
TEST_FILES = $(shell find gateway/test client/test operator/test loadtest/test test -name '*.test.ts' 2>/dev/null | sort)
UNIT_FILES = $(shell find gateway/test client/test operator/test loadtest/test test -path '*/unit/*' -name '*.test.ts' 2>/dev/null | sort)
NODE_TEST = node --import tsx --test --test-concurrency=1 --test-timeout=600000

.PHONY: help setup setup-test build run test test-unit typecheck lint format e2e bench clean

help:
	@echo "make run    build and start one gateway on the embedded broker (http://localhost:8080)"
	@echo "make test   install what is missing, then typecheck, lint and run every test"
	@echo "make e2e    cluster-in-a-box: operator + simulated pods + real gateways, Redis and clients"
	@echo "make bench  the gateway beside Socket.IO + redis-adapter and bare uWS.js"

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh test

build: setup
	npx tsc -p tsconfig.json

run: build
	node dist/src/cli.js gateway

typecheck: setup
	npx tsc -p tsconfig.test.json

lint: setup
	npx biome check .

format: setup
	npx biome check --write .

test-unit: setup
	$(NODE_TEST) $(UNIT_FILES)

test: setup-test typecheck lint
	$(NODE_TEST) $(TEST_FILES)

clean:
	rm -rf dist .cache
