# wsslab: see README.md.
GO ?= go
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all deps build test demo vet clean bench soak race parallel-check fuzz-chrome

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

## bench: speed figures (full matrix incl. Chromium start, browser per scenario, Go clients;
## doctor's differential test per generated case)
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime=10x ./scenarios
	$(GO) test -run '^$$' -bench DifferentialChrome -benchtime=1000x ./doctor
	$(GO) test -run '^$$' -bench . -benchtime=5x ./harness/container

## soak: the full matrix N times (fresh browser each); fails on any outcome that differs.
## LOAD=1 keeps the other core busy with a go build loop meanwhile.
N ?= 20
soak: deps
	@if [ "$(LOAD)" = 1 ]; then (while :; do $(GO) build -a -o /dev/null ./... >/dev/null 2>&1; done) & echo $$! > .soak-load.pid; fi; \
	WSSLAB_SOAK=$(N) $(GO) test -count=1 -run 'TestSoak' -timeout 60m -v ./scenarios; rc=$$?; \
	if [ -f .soak-load.pid ]; then pkill -P $$(cat .soak-load.pid) 2>/dev/null; kill $$(cat .soak-load.pid) 2>/dev/null; rm -f .soak-load.pid; fi; exit $$rc

## race: the tests under the race detector (slower; not part of make test)
race: deps
	$(GO) test -race ./...

## parallel-check: two full container runs at once in separate PID namespaces
## sharing the Docker engine, plus a third run meanwhile: all pass, nothing left (root)
parallel-check: deps
	./scripts/parallel-check.sh

## fuzz-chrome: differential test of doctor against real Chrome: N generated
## endpoints (default 1000), SEED= replays a run (default: the time); prints
## the cost per case in bare Chromium start+quit cycles measured in the same
## run (goal: 1000 cases under 30) and ends with
## "differential: N cases, D disagree, seed S, T s"
FUZZ_N ?= 1000
SEED ?= $(shell date +%s)
fuzz-chrome: deps
	@out=$$(mktemp); WSSLAB_DIFF_N=$(if $(filter command line,$(origin N)),$(N),$(FUZZ_N)) WSSLAB_DIFF_SEED=$(SEED) \
	$(GO) test -count=1 -v -timeout 60m -run '^TestDifferentialChrome$$' ./doctor >$$out 2>&1; rc=$$?; \
	grep -v -e '^differential: ' -e '^=== RUN' -e '^--- PASS' -e '^PASS' -e '^ok ' $$out | grep -v '^\s*$$' | grep -v 'differential_test.go:[0-9]*: differential:' ; \
	grep '^differential: ' $$out | tail -1; rm -f $$out; exit $$rc
