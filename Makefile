# wsslab: see README.md.
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all deps build test demo vet clean

all: test

deps:
	@./scripts/deps.sh

## build: the CLI, and wsslab-server static (the container backend copies it into a FROM scratch image)
build:
	$(GO) build -o bin/wsslab ./cmd/wsslab
	CGO_ENABLED=0 $(GO) build -o bin/wsslab-server ./cmd/wsslab-server

## test: install the browser if needed, then run every test (the browser column really runs)
test: deps
	$(GO) vet ./...
	$(GO) test ./...

## demo: the matrix, browser vs Postman, side by side
demo: deps build
	./bin/wsslab run

clean:
	rm -rf bin
