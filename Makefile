# Countersign build targets. `make test` is what CI runs (through .ci/run).
GO        ?= go
BIN       := bin/countersign
PKGS      := ./...
FUZZTIME  ?= 30s

.PHONY: all build run test vet fmt-check race fuzz bench conformance cross clean

all: build

build:
	$(GO) build -trimpath -buildvcs=auto -o $(BIN) ./cmd/countersign

## run: the server when COUNTERSIGN_APP_ID is set, else the sandbox (bot + simulated GitHub, no credentials)
run:
	@echo "make run: building $(BIN) (the first build compiles every dependency: minutes, up to 1.3 GB of memory; later builds take seconds)"
	@$(MAKE) --no-print-directory build
	@echo "make run: built $(BIN); starting it"
	./scripts/run.sh

## test: formatting, vet, and every test with the race detector (fuzz seed corpora included)
test: fmt-check vet race

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

race:
	$(GO) test -race -count=1 $(PKGS)

## cross: static binaries (CGO_ENABLED=0) for every release platform into bin/, as .goreleaser.yaml builds them
CROSS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
cross:
	@for p in $(CROSS); do \
	  echo "make cross: $$p"; \
	  CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -buildvcs=auto -o bin/countersign-$${p%/*}-$${p#*/} ./cmd/countersign || exit 1; \
	done

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

## bench: the engine and audit benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## conformance: the simulator against GitHub's published REST and webhook descriptions (npm packages locked in bot/conformance)
conformance:
	@if node bot/conformance/installed.js; then echo "bot/conformance/node_modules is at the locked versions"; \
	else npm ci --prefix bot/conformance --no-audit --no-fund; fi
	CONFORMANCE_NODE_MODULES=$(CURDIR)/bot/conformance/node_modules $(GO) test -tags conformance -count=1 ./bot/conformance/...

clean:
	rm -rf bin
