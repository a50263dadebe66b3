SHELL := /bin/bash
.DEFAULT_GOAL := help

# Tests are TypeScript run directly by Node's test runner through tsx; one file at a time, since many
# of them start real gateway, Redis and client processes on this machine.
# The image test builds both images with buildah (about 3 minutes on a cold machine, more on a slow one), so it runs
# last with a longer per-file timeout.
IMAGE_TEST_FILES = test/image/image.test.ts
TEST_FILES = $(filter-out $(IMAGE_TEST_FILES),$(shell find gateway/test client/test operator/test loadtest/test test -name '*.test.ts' 2>/dev/null | sort))
UNIT_FILES = $(shell find gateway/test client/test operator/test loadtest/test test -path '*/unit/*' -name '*.test.ts' 2>/dev/null | sort)
NODE_TEST = node --import tsx --test --test-concurrency=1 --test-timeout=300000 --test-force-exit

.PHONY: help setup setup-test build run test test-unit typecheck lint format e2e bench soak clean dev-cluster

help:
	@echo "make run    build and start one gateway on the embedded broker (http://localhost:8080)"
	@echo "make test   install what is missing, then typecheck, lint and run every test"
	@echo "make dev-cluster  a local cluster without Docker for kubectl: API server, operator, pods, Redis"
	@echo "make soak   the delivery model test for SOAK_SECONDS (default 1800) over a real fleet"
	@echo "make e2e    cluster-in-a-box: operator + simulated pods + real gateways, Redis and clients"
	@echo "make bench  the gateway beside Socket.IO + redis-adapter, bare uWS.js and Soketi"
	@echo "make box    hold 500,000 connections on this machine (27 gateways on Redis, 28 load workers, 110,000 deliveries/s)"
	@echo "make images   both container images, with docker, podman or buildah"
	@echo "make kind-up / minikube-up   the images on a local cluster (need Docker)"

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh test

build: setup
	npx tsc -p tsconfig.json

run: build
	node dist/cli/rtgw.js gateway

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
	$(NODE_TEST) --test-timeout=2400000 $(IMAGE_TEST_FILES)

# The delivery model test (test/model/) for longer: new runs for SOAK_SECONDS, then up to 10 minutes of
# shrinking if one fails. The faults are the test's own set unless RTGW_MODEL_FAULTS says otherwise (e.g. all).
SOAK_SECONDS ?= 1800
soak: setup-test
	RTGW_MODEL_RANDOM=1 RTGW_MODEL_SECONDS=$(SOAK_SECONDS) RTGW_MODEL_SHRINK_SECONDS=600 \
		node --import tsx --test --test-concurrency=1 --test-timeout=$$(( ($(SOAK_SECONDS) + 900) * 1000 )) \
		--test-force-exit test/model/delivery.model.test.ts

clean:
	rm -rf dist .cache

# A local cluster without Docker (dev-cluster/): the API server with the chart's RBAC, the operator as the chart runs
# it, each pod a real gateway process from this checkout, Redis (redis-server from PATH), a loopback proxy per Service.
# Prints `export KUBECONFIG=...`, the example manifest and the Service URLs; Ctrl-C stops everything it started.
dev-cluster: setup
	@scripts/tools.sh
	node --import tsx cli/rtgw.ts dev-cluster

# ---- Container images, the chart's CRD, local clusters -------------------------------------------------------
# `images` needs docker, podman or buildah; `kind-up` and `minikube-up` also a Docker engine and kind or minikube,
# and helm and kubectl (from PATH, else .cache/tools/bin, which scripts/tools.sh fills on Linux x86-64). CI has no
# Docker engine: test/image builds and runs both images with buildah, and test/chart checks the chart with helm.
IMAGE_TAG ?= $(shell node -p "require('./package.json').version")
GATEWAY_IMAGE ?= rtgw/gateway:$(IMAGE_TAG)
OPERATOR_IMAGE ?= rtgw/operator:$(IMAGE_TAG)
RELEASE ?= rtgw
NAMESPACE ?= rtgw-system
KIND_CLUSTER ?= rtgw
MINIKUBE_PROFILE ?= rtgw
HELM ?= $(shell command -v helm 2>/dev/null || echo $(CURDIR)/.cache/tools/bin/helm)
KUBECTL ?= $(shell command -v kubectl 2>/dev/null || echo $(CURDIR)/.cache/tools/bin/kubectl)
# Everything the quickstart installs: the chart with the quick-start Redis and the example RealtimeGateway, on the
# images just built (pullPolicy IfNotPresent, so the cluster uses the loaded copies).
CHART_SET = --set operator.image.repository=$(word 1,$(subst :, ,$(OPERATOR_IMAGE))) \
	--set-string operator.image.tag=$(IMAGE_TAG) \
	--set gateway.image.repository=$(word 1,$(subst :, ,$(GATEWAY_IMAGE))) \
	--set-string gateway.image.tag=$(IMAGE_TAG) \
	--set example.enabled=true

.PHONY: images crd kind-up minikube-up

# With docker, podman or buildah, whichever the machine has (scripts/images.sh; RTGW_IMAGE_BUILDER picks one).
# Without a reachable registry: make images NODE_IMAGE=$$(scripts/node-base.sh)
images:
	scripts/images.sh gateway $(GATEWAY_IMAGE) operator $(OPERATOR_IMAGE)

# Regenerates the chart's CRD from the schema in operator/src/api (test/chart checks they are equal).
crd: setup
	node --import tsx cli/rtgw.ts crd > charts/realtime-gateway/crds/realtimegateways.rtgw.dev.yaml.tmp
	mv charts/realtime-gateway/crds/realtimegateways.rtgw.dev.yaml.tmp charts/realtime-gateway/crds/realtimegateways.rtgw.dev.yaml

kind-up: images
	kind get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)' || kind create cluster --name $(KIND_CLUSTER) --wait 120s
	kind load docker-image --name $(KIND_CLUSTER) $(GATEWAY_IMAGE) $(OPERATOR_IMAGE)
	$(HELM) upgrade --install $(RELEASE) charts/realtime-gateway --kube-context kind-$(KIND_CLUSTER) \
		--namespace $(NAMESPACE) --create-namespace $(CHART_SET) --wait --timeout 5m
	$(KUBECTL) --context kind-$(KIND_CLUSTER) -n $(NAMESPACE) wait realtimegateway/example --for=condition=Ready --timeout 5m
	$(KUBECTL) --context kind-$(KIND_CLUSTER) -n $(NAMESPACE) get rtgw,deployments,pods

minikube-up: images
	minikube status -p $(MINIKUBE_PROFILE) >/dev/null 2>&1 || minikube start -p $(MINIKUBE_PROFILE)
	minikube -p $(MINIKUBE_PROFILE) image load $(GATEWAY_IMAGE)
	minikube -p $(MINIKUBE_PROFILE) image load $(OPERATOR_IMAGE)
	$(HELM) upgrade --install $(RELEASE) charts/realtime-gateway --kube-context $(MINIKUBE_PROFILE) \
		--namespace $(NAMESPACE) --create-namespace $(CHART_SET) --wait --timeout 5m
	$(KUBECTL) --context $(MINIKUBE_PROFILE) -n $(NAMESPACE) wait realtimegateway/example --for=condition=Ready --timeout 5m
	$(KUBECTL) --context $(MINIKUBE_PROFILE) -n $(NAMESPACE) get rtgw,deployments,pods

# ---- Load tests and benchmarks (loadtest/) ----
.PHONY: box k6-typecheck

# Our gateway beside Socket.IO + redis-adapter, bare uWS.js and Soketi (installed into loadtest/peers/soketi on
# first use), one run on this machine (~10 minutes): prints the tables, verdict and goals, writes
# loadtest/results/bench.json and the README's results block.
# Runs the compiled JS (dist/), as deployed: no TypeScript loader in the servers' memory or CPU.
bench: build
	node dist/cli/rtgw.js bench

# The box-scale run, issue 14's scenario: 500,000 subscribed connections on 27 gateways + Redis + 28 load workers,
# 110,000 deliveries/s for 60 s; prints each goal with its verdict (exit 1 unless all pass). About 5.5 min, ~9 GB.
box: build
	node dist/cli/rtgw.js bench box --update-readme README.md

# The k6 scripts against @types/k6 (also part of `make test`, through loadtest/test/k6-scripts.test.ts).
k6-typecheck: setup
	npx tsc -p loadtest/k6/tsconfig.json

# Cluster in a box: fake API server + the operator + simulated pods running real gateways + Redis + 62,000 SDK
# clients. Writes loadtest/results/e2e.json and e2e.html; fails when a check fails (see README, autoscaling).
e2e: setup-test
	node --import tsx test/e2e/main.ts --scenario full --out loadtest/results
