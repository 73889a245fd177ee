# blcheck: build, test, lint, bench.
GO       ?= go
BIN      ?= bin/blcheck
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)

.PHONY: all build test test-short lint bench fuzz clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/blcheck

# Every test: unit, in-process CLI, and end-to-end against rbldnsd (skipped with a
# message when rbldnsd is missing, unless CI=true).
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

test-short:
	$(GO) test -short ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt wants: $$out"; exit 1; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Run each fuzz target for a short while (FUZZTIME=1m make fuzz for longer).
FUZZTIME ?= 20s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseTarget$$' -fuzztime $(FUZZTIME) ./pkg/dnsbl
	$(GO) test -run '^$$' -fuzz '^FuzzClassify$$' -fuzztime $(FUZZTIME) ./pkg/dnsbl
	$(GO) test -run '^$$' -fuzz '^FuzzQueryName$$' -fuzztime $(FUZZTIME) ./pkg/dnsbl
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./pkg/catalog

clean:
	rm -rf bin
