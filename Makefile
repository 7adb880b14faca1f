# seer — the usual tasks. `make help` lists them.
GO      ?= go
SHARED  ?= ../shared/data
PKGS    ?= ./...
FUZZTIME ?= 20s

.PHONY: help build test test-short lint bench eval demo fuzz tidy ui

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/seer
	$(GO) build -o bin/seer ./cmd/seer

test: ## the whole suite with the race detector (the README's test command)
	$(GO) test -race $(PKGS)

test-short: ## the fast suite, no race detector
	$(GO) test -short $(PKGS)

lint: ## gofmt, go vet, staticcheck, go mod tidy leaves no diff
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	$(GO) mod tidy -e -diff

bench: ## every benchmark once, with allocations
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1s $(PKGS)

eval: build ## the public benchmarks in ../shared/data
	./bin/seer eval rca --data $(SHARED)/rca --json
	./bin/seer eval nab --data $(SHARED)/nab
	./bin/seer eval nab --data $(SHARED)/nab --cv
	./bin/seer eval tsad --data $(SHARED)/tsad

demo: ## the newcomer's first run
	$(GO) run ./cmd/seer demo

fuzz: ## each fuzz target for FUZZTIME (20s; CI runs 2000x: a count dodges golang/go#75804)
	@for p in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$p 2>/dev/null | grep '^Fuzz'); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p || exit 1; done; done

ui: ## build the web UI (ui/, npm) into internal/ui/dist, which the binary embeds
	cd ui && npm ci --no-audit --no-fund && npm run build

tidy: ## go mod tidy
	$(GO) mod tidy -e
