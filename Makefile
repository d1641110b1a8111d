# Build and test targets. `make build` writes the binaries to bin/.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
VERSITYGW_VERSION := v1.8.0

.PHONY: build test test-full demo tools vet generate

build:
	for cmd in dfdaemon dfstore manager scheduler dfcluster; do \
		$(GO) build -ldflags "$(LDFLAGS)" -o bin/$$cmd ./cmd/$$cmd || exit 1; \
	done

# tools installs the S3 server the integration tests start.
tools:
	@command -v versitygw >/dev/null 2>&1 || test -x "$$($(GO) env GOPATH)/bin/versitygw" || \
		$(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

vet:
	$(GO) vet ./...

# test runs every test except the 6 GiB transfer.
test: tools vet
	$(GO) test -short -count=1 -timeout 30m ./...

# test-full adds the 6 GiB end-to-end transfer (about 20 GiB of disk).
test-full: tools
	$(GO) test -count=1 -timeout 60m ./...

# demo starts a local cluster on the fs backend, copies a file up through
# one peer and down through another, deletes it and stops the cluster.
demo: build
	./scripts/demo.sh

# generate rebuilds the gRPC code from proto/ with Debian's protobuf-compiler
# and the pinned plugins.
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
generate:
	GOFLAGS= $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOFLAGS= $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	PATH="$$($(GO) env GOPATH)/bin:$$PATH" protoc -I proto \
		--go_out=. --go_opt=module=github.com/dfcache/dfcache \
		--go-grpc_out=. --go-grpc_opt=module=github.com/dfcache/dfcache \
		manager/v1/manager.proto scheduler/v1/scheduler.proto

# bench runs dfbench in full mode on the binaries in bin/ (objects up to
# 4 GiB, about 25 GiB of free disk) and rewrites docs/benchmarks.md;
# bench-quick runs the small mode (about two minutes) and prints the report.
.PHONY: bench bench-quick
bench: build tools
	$(GO) build -o bin/dfbench ./cmd/dfbench
	bin/dfbench --bin bin --out docs/benchmarks.md

bench-quick: build tools
	$(GO) build -o bin/dfbench ./cmd/dfbench
	bin/dfbench --bin bin --quick
