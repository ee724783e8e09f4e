# webui-operator: every developer and CI entry point. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
BIN  := $(ROOT)/bin

# --- Node: the system node (with npm) when it is >= 22, otherwise Node and npm from the npm registry,
# pinned and checked, fetched with curl or wget (scripts/bootstrap/node.sh; a fresh machine has no npm) ---
NODE_MAJOR_MIN := 22
NODE_VERSION   := $(shell sed -n 's/^NODE_VERSION=//p' scripts/bootstrap/node.sh)
NODE_DIR       := $(ROOT)/.tools/node
SYSTEM_NODE_OK := $(shell command -v npm >/dev/null && node -e 'process.exit(+process.versions.node.split(".")[0] >= $(NODE_MAJOR_MIN) ? 0 : 1)' >/dev/null 2>&1 && echo yes)
ifeq ($(SYSTEM_NODE_OK),yes)
NODE_STAMP :=
else
NODE_STAMP := $(NODE_DIR)/.installed
export PATH := $(NODE_DIR)/bin:$(PATH)
# npm run by the fetched Node trusts the machine's CA store, as curl did when it fetched them.
NPM_NODE_OPTIONS := --use-system-ca
# Native addons must compile against the headers of the Node that runs them.
export npm_config_nodedir := $(NODE_DIR)/dist
endif

# --- Go (it only builds test tooling): the system go when it is >= 1.26, otherwise the toolchain
# module from the Go module proxy, pinned and checked (scripts/bootstrap/go.ts; Debian 12's go is 1.19) ---
GO_DIR       := $(ROOT)/.tools/go
SYSTEM_GO_OK := $(shell go env GOVERSION 2>/dev/null | awk -F'[go.]' '{ exit !($$3 > 1 || ($$3 == 1 && $$4 >= 26)) }' && echo yes)
ifeq ($(SYSTEM_GO_OK),yes)
GO_STAMP :=
else
GO_STAMP := $(GO_DIR)/.installed
export PATH := $(GO_DIR)/bin:$(PATH)
endif
export PATH := $(ROOT)/node_modules/.bin:$(BIN):$(PATH)

HELM_VERSION := v3.21.4
K8S_MINOR    := 37

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(NODE_DIR)/.installed: scripts/bootstrap/node.sh
	@echo "system node (with npm) is missing or older than $(NODE_MAJOR_MIN); installing Node $(NODE_VERSION) into .tools/node"
	sh scripts/bootstrap/node.sh $(NODE_DIR)
	touch $@

# --use-system-ca: the download trusts what curl and the rest of the machine trust (a company's TLS proxy, say).
$(GO_DIR)/.installed: scripts/bootstrap/go.ts $(NODE_STAMP)
	@echo "system go is missing or older than 1.26; installing the Go toolchain module into .tools/go"
	node --use-system-ca scripts/bootstrap/go.ts $(GO_DIR)
	touch $@

.PHONY: go-toolchain
go-toolchain: $(GO_STAMP) ## The Go toolchain that builds the test tooling: the system go >= 1.26, else one fetched into .tools/go
	@GOTOOLCHAIN=local go version

node_modules/.installed: package-lock.json package.json $(NODE_STAMP)
	NODE_OPTIONS="$(NPM_NODE_OPTIONS) $${NODE_OPTIONS:-}" flock /tmp/webui-npm.lock npm ci --no-audit --no-fund
	touch $@

.PHONY: deps
deps: node_modules/.installed ## Install the Node toolchain and the pinned npm dependencies

.PHONY: node-version
node-version: $(NODE_STAMP)
	@node --version

# Per-file commands in the docs need Node >= 22; these run them with the project's Node whatever is on PATH.
.PHONY: vitest
vitest: deps ## Run vitest with the project's Node: make vitest ARGS='run --project unit path/x.test.ts'
	vitest $(ARGS)

.PHONY: webui
webui: deps ## Run the WebUI's command line with the project's Node: make webui ARGS='serve --mode api'
	node webui/bin/webui.ts $(ARGS)

.PHONY: shell-env
shell-env: $(NODE_STAMP) ## Print the PATH line that puts the project's Node and tools first: eval "$(make -s shell-env)"
	@echo 'export PATH="$(PATH)"'

# --- WebUI ---
FRONTEND_SRC := $(shell find webui/src/frontend webui/scripts/build-frontend.ts -type f 2>/dev/null)

# Rebuilt only when a frontend source changed, so `make run` starts at once.
webui/frontend-dist/index.html: $(FRONTEND_SRC) node_modules/.installed
	node webui/scripts/build-frontend.ts

.PHONY: frontend
frontend: deps webui/frontend-dist/index.html ## Bundle the Lit frontend with esbuild (when its sources changed)

.PHONY: run
run: frontend ## Run the WebUI locally in the foreground on embedded SQLite (./data)
	node webui/bin/webui.ts serve

.PHONY: build
build: frontend crds ## Build what ships: the frontend bundle, the server and operator bundles (dist/) and the generated CRD
	node webui/scripts/build-server.ts
	node operator/scripts/build-operator.ts
	tsc -p tsconfig.json --noEmit

# --- Operator ---
.PHONY: run-operator
run-operator: deps ## Run the operator from source against the cluster in KUBECONFIG (ARGS=--help for its flags)
	node operator/bin/webui-operator.ts $(ARGS)

.PHONY: crds
crds: deps ## Regenerate crds/ from the TypeScript API types, and the chart files derived from them
	node operator/scripts/generate-crd.ts
	node scripts/chart-generate.ts

# --- Control plane and helm, built from Go modules ---
ENVTEST_INPUTS := test/envtest/go.mod test/envtest/go.sum test/envtest/main.go test/envtest/pause/main.go test/envtest/build.sh
ENVTEST_STAMP  = $(shell cat $(ENVTEST_INPUTS) | sha256sum | cut -d' ' -f1)

.PHONY: envtest-assets
envtest-assets: go-toolchain ## Build the Kubernetes components (control plane, kubelet, kube-proxy), etcd, kubectl and pause into bin/
	@if [ -x $(BIN)/k8s-envtest ] && [ "$$(cat $(BIN)/.k8s-envtest.stamp 2>/dev/null)" = "$(ENVTEST_STAMP)" ]; then \
	  echo "bin/k8s-envtest is up to date ($$($(BIN)/k8s-envtest version))"; \
	else \
	  echo "building the control plane from Go modules (first build takes a while; see docs/testing.md)"; \
	  time OUT=$(BIN) test/envtest/build.sh; \
	fi

.PHONY: helm
helm: go-toolchain ## Build the helm binary into bin/
	@if [ -x $(BIN)/helm ] && $(BIN)/helm version --short 2>/dev/null | grep -q '^$(HELM_VERSION)'; then \
	  echo "bin/helm is up to date ($(HELM_VERSION))"; \
	else \
	  GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN=$(BIN) go install -trimpath -ldflags "-s -w \
	    -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(K8S_MINOR) \
	    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(K8S_MINOR)" \
	    helm.sh/helm/v3/cmd/helm@$(HELM_VERSION); \
	fi

# --- schemathesis (PyPI) for the API fuzz run in test-integration, pinned with its dependencies ---
SCHEMATHESIS_DIR := .tools/schemathesis
SCHEMATHESIS_STAMP = $(shell sha256sum < test/api-fuzz/requirements.txt | cut -d' ' -f1)

.PHONY: schemathesis
schemathesis: ## Install schemathesis into .tools/schemathesis (a Python venv, from test/api-fuzz/requirements.txt)
	@if [ -x $(SCHEMATHESIS_DIR)/bin/st ] && [ "$$(cat $(SCHEMATHESIS_DIR)/.stamp 2>/dev/null)" = "$(SCHEMATHESIS_STAMP)" ]; then \
	  echo "schemathesis is up to date ($$($(SCHEMATHESIS_DIR)/bin/st --version))"; \
	else \
	  python3 -c 'import venv, ensurepip' 2>/dev/null || { echo "schemathesis needs Python 3.10+ with venv: apt-get install python3 python3-venv"; exit 1; }; \
	  rm -rf $(SCHEMATHESIS_DIR) && python3 -m venv $(SCHEMATHESIS_DIR) && \
	  $(SCHEMATHESIS_DIR)/bin/pip install -q --disable-pip-version-check -r test/api-fuzz/requirements.txt && \
	  echo "$(SCHEMATHESIS_STAMP)" > $(SCHEMATHESIS_DIR)/.stamp; \
	fi

# --- nginx (Debian's package, unpacked, never installed): the latency floor and the Ingress stand-in ---
.PHONY: nginx
nginx: ## Unpack Debian's nginx into .tools/nginx (apt-get download; no service), for make bench and the Ingress routing test
	@sh scripts/bootstrap/nginx.sh

# --- The dev cluster's node: containerd and CoreDNS from Go modules, runc and CNI plugins from Debian ---
NODE_TOOLS_STAMP = $(shell sha256sum < test/envtest/build-node-tools.sh | cut -d' ' -f1)
# Debian packages: the node (runc, CNI plugins, nftables, iptables, iproute2) and the image build
# without a Docker engine (buildah, mmdebstrap, umoci).
NODE_PACKAGES := runc containernetworking-plugins nftables iptables iproute2 buildah mmdebstrap umoci uidmap

.PHONY: node-packages
node-packages: ## Install the Debian packages the real node and the image build need (apt-get; root)
	@sh scripts/bootstrap/apt.sh "the real node" $(NODE_PACKAGES)

# Debian packages make test needs besides the node's: Chromium (browser suite), Postgres (its server
# binaries; the tests start it), and Python's venv (schemathesis).
TEST_PACKAGES := chromium postgresql

.PHONY: test-prereqs
test-prereqs: ## Install what make test needs from Debian (as root; otherwise it names the apt-get command)
	@venv=$$(python3 -c 'import venv, ensurepip' 2>/dev/null || echo "python3 python3-venv"); \
	sh scripts/bootstrap/apt.sh "make test" $(TEST_PACKAGES) $(NODE_PACKAGES) $$venv

.PHONY: node-assets
node-assets: go-toolchain ## Build containerd, its runc shim, ctr and CoreDNS into bin/
	@if [ -x $(BIN)/containerd ] && [ -x $(BIN)/coredns ] && [ "$$(cat $(BIN)/.node-tools.stamp 2>/dev/null)" = "$(NODE_TOOLS_STAMP)" ]; then \
	  echo "bin/containerd and bin/coredns are up to date"; \
	else \
	  echo "building containerd and CoreDNS from Go modules (first build takes several minutes)"; \
	  time OUT=$(BIN) test/envtest/build-node-tools.sh; \
	fi

.PHONY: dev-images
dev-images: deps envtest-assets node-assets ## Build the images the dev cluster's node runs into .dev/images (webui, operator, fake Ollama, CoreDNS, pause)
	node scripts/build-images.ts --dev-cluster --oci-dir .dev/images

.PHONY: dev-cluster
dev-cluster: deps frontend envtest-assets node-assets dev-images ## A real one-node cluster in the foreground (root; .dev/kubeconfig); DEV_CLUSTER_NODE=0: control plane only
	node test/harness/dev-cluster.ts

# --- Quality ---
.PHONY: lint
lint: deps ## Lint and format check (biome) and typecheck (tsc)
	biome check .
	tsc -p tsconfig.json --noEmit

.PHONY: test-unit
test-unit: deps ## Unit tests only (pure logic)
	vitest run --project unit

.PHONY: test-integration
test-integration: deps frontend envtest-assets helm schemathesis nginx ## Integration tests only (control plane, Postgres, server processes, schemathesis)
	vitest run --project integration

.PHONY: test-browser
test-browser: deps frontend ## Browser tests only (Chromium)
	vitest run --project browser

.PHONY: test-e2e
test-e2e: deps envtest-assets node-assets helm dev-images nginx ## The end-to-end suite: the images in real pods on a real one-node cluster (root)
	vitest run --project e2e

.PHONY: test
test: test-prereqs lint test-unit test-integration test-browser test-e2e ## Run every check and test suite

.PHONY: bench
bench: deps frontend envtest-assets nginx ## Run the benchmarks and rewrite docs/benchmarks.md
	node bench/run.ts

.PHONY: images
images: ## Build the webui and operator container images (Docker, Podman, or Buildah where neither exists)
	node scripts/build-images.ts

.PHONY: e2e-k3s
e2e-k3s: deps helm ## Optional: build the images, install the chart in k3s and chat through real pods (needs Docker/Podman; skipped without)
	vitest run --config test/e2e/vitest.e2e.config.ts

.PHONY: clean
clean: ## Remove build outputs and local data (keeps bin/ and node_modules)
	rm -rf dist webui/frontend-dist .dev .tmp coverage bench/results

.PHONY: distclean
distclean: clean ## Also remove node_modules, .tools and bin
	rm -rf node_modules .tools bin
