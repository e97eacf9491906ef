# Vigie's Makefile. The two commands a newcomer needs: `make run`, `make test`.
GO       ?= go
BIN      := bin/vigie
DATA     ?= ./data
ADDR     ?= :8080
# The demo's administrator token; set your own in production.
VIGIE_ADMIN_TOKEN ?= demo-admin-token
export VIGIE_ADMIN_TOKEN

# make test must stay under 15 minutes on a 2-core machine.
TEST_TIMEOUT ?= 14m

.PHONY: all build run test bench soak eval lint fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/vigie

## run: build and start Vigie with embedded defaults and the live demo feed.
run: build
	@echo ""
	@echo "  Vigie: http://127.0.0.1$(ADDR)"
	@echo "  API token (Authorization: Bearer ...): $(VIGIE_ADMIN_TOKEN)"
	@echo "  Data directory: $(DATA)"
	@echo ""
	./$(BIN) serve --demo --addr $(ADDR) --data $(DATA)

# A private ClickHouse for the tests (Debian's clickhouse-server, installed
# when missing), on its own port and data directory.
CH := sh deploy/clickhouse/test-server.sh

## test: every test, including the real ClickHouse and browser tests.
test:
	bash deploy/ci/install-chromium.sh
	$(GO) vet ./...
	$(CH) start >/dev/null
	VIGIE_TEST_CLICKHOUSE=$$($(CH) dsn) $(GO) test -race -timeout $(TEST_TIMEOUT) ./... ; s=$$?; $(CH) stop; exit $$s

## bench: the product end to end (vigie bench, embedded archive and
## ClickHouse, against raw Bleve and raw clickhouse-go in the same run), the hot
## path, websocket fan-out against a bare gorilla server, and the parts.
bench: build
	$(CH) start >/dev/null
	VIGIE_TEST_CLICKHOUSE=$$($(CH) dsn) sh -c '\
	  ./$(BIN) bench --duration 30s --clickhouse "$$VIGIE_TEST_CLICKHOUSE" && \
	  ./$(BIN) bench --duration 30s --half --limits=false && \
	  $(GO) test -run "^$$" -bench "HotPath|Fanout" -benchtime 1x -timeout 30m ./cmd/vigie/ && \
	  $(GO) test -run "^$$" -bench . -benchtime 3x ./archive/ && \
	  $(GO) test -run "^$$" -bench . ./intake/ ./router/ ./offer/'; s=$$?; $(CH) stop; exit $$s

## soak: 30 minutes at half the sustained rate, the agents resolving every
## ticket 5 minutes after it appears; memory, goroutines, lags and latency
## printed every minute (not in CI).
soak: build
	./$(BIN) bench --duration 30m --half --resolve-after 5m --sample 1m --limits=false

## eval: language, sentiment and intent quality on ../shared/data, beside VADER.
eval:
	$(GO) run ./cmd/vigie eval --data ../shared/data

## lint: vet, formatting and staticcheck.
lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@2025.1.1 ./...

## fuzz: every parser of outside input, FUZZTIME each (make test runs their
## seed corpora only).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
