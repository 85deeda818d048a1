# mcpconn — build, test and demo on a fresh Debian machine.
SWIFT       ?= swift
VENV        ?= .venv
PYTHON      := $(VENV)/bin/python
## nginx and openssl: ServeHTTPProxyCLITests runs the TLS proxy recipe (docs/serve-http-nginx.conf) with an nginx
## of its own and certificates it makes; the package's own service is not used (deps stops and disables it where
## systemd started it: a default site on port 80 is not what `make test` should leave behind).
APT_PACKAGES := libsqlite3-dev libsodium-dev libcurl4-openssl-dev python3-venv curl bsdutils time postgresql libpq-dev \
  nginx openssl
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CONFIG      ?= debug

.PHONY: all deps venv build release install uninstall install-check lint format test stress-test test-sanitize fuzz demo bench clean swift-sdk-server

all: build

## deps: install the C libraries and PostgreSQL (apt) when any is missing. The tests run PostgreSQL servers of
## their own (Tests/TestSupport/PostgresServer.swift), so postgresql-common goes in first, told to create no `main`
## cluster: the postgresql package would otherwise make one, and start it on port 5432 where an init system runs.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  if ! dpkg -s postgresql-common >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql-common >/dev/null && \
	    $(SUDO) pg_conftool /etc/postgresql-common/createcluster.conf set create_main_cluster false; \
	  fi && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null && \
	  case "$$missing " in *" nginx "*) \
	    if [ -d /run/systemd/system ]; then $(SUDO) systemctl disable --now nginx >/dev/null 2>&1 || true; fi;; \
	  esac; \
	fi

## venv: Python venvs with the official MCP SDK for the reference test servers: 2.x (modern and handshake
## eras) and FastMCP 4 in $(VENV), 1.x (handshake era only, what most deployed servers run) in $(VENV1).
VENV1       ?= .venv-mcp1
venv: $(VENV)/.installed $(VENV1)/.installed
$(VENV)/.installed: Tests/Servers/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r Tests/Servers/requirements.txt
	touch $@
$(VENV1)/.installed: Tests/Servers/requirements-mcp1.txt
	python3 -m venv $(VENV1)
	$(VENV1)/bin/pip install -q --disable-pip-version-check -r Tests/Servers/requirements-mcp1.txt
	touch $@

build: deps
	$(SWIFT) build -c $(CONFIG)

## release: an optimized binary with the Swift runtime and Foundation linked in (faster start-up, less memory),
## linked by the toolchain's lld with packed relative relocations: the default (gold) leaves 2 MB of them,
## which every start read and applied (~1 ms and ~2 MiB of resident memory).
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld \
  -Xlinker -z -Xlinker pack-relative-relocs
## mcpconn-reaper (plain C) is then built again by the C compiler, static: SwiftPM links every executable with
## the Swift runtime (8 MB here, ~3 ms per start, for a program that starts with every local server); this one
## loads nothing and costs ~1.5 ms (docs/performance.md).
REAPER_CFLAGS := -O2 -Wall -static -I Sources/CProcess/include
release: deps
	$(SWIFT) build $(RELEASE_FLAGS)
	$(CC) $(REAPER_CFLAGS) -o .build/release/mcpconn-reaper Sources/mcpconn-reaper/main.c

## install: the release programs (mcpconn, mcpconn-serve-http, which `serve --http` finds next to it, and
## mcpconn-reaper, which runs every local server from next to it) with
## every symbol and debug section stripped, bash/zsh/fish completions (ArgumentParser writes them) and the man
## page (ArgumentParser's generate-manual, from the same definitions as --help), under $(DESTDIR)$(PREFIX).
PREFIX      ?= /usr/local
BINDIR      := $(DESTDIR)$(PREFIX)/bin
SHAREDIR    := $(DESTDIR)$(PREFIX)/share
INSTALLED   := $(BINDIR)/mcpconn $(BINDIR)/mcpconn-serve-http $(BINDIR)/mcpconn-reaper $(SHAREDIR)/man/man1/mcpconn.1 \
  $(SHAREDIR)/bash-completion/completions/mcpconn $(SHAREDIR)/zsh/site-functions/_mcpconn \
  $(SHAREDIR)/fish/vendor_completions.d/mcpconn.fish
install: release
	$(SWIFT) build --product generate-manual
	install -d $(BINDIR) $(SHAREDIR)/man/man1 $(SHAREDIR)/bash-completion/completions \
	  $(SHAREDIR)/zsh/site-functions $(SHAREDIR)/fish/vendor_completions.d
	for p in mcpconn mcpconn-serve-http mcpconn-reaper; do \
	  strip --strip-all -o $(BINDIR)/.$$p.new .build/release/$$p && chmod 755 $(BINDIR)/.$$p.new && \
	  mv -f $(BINDIR)/.$$p.new $(BINDIR)/$$p || exit 1; \
	done
	$(BINDIR)/mcpconn --generate-completion-script bash > $(SHAREDIR)/bash-completion/completions/mcpconn
	$(BINDIR)/mcpconn --generate-completion-script zsh > $(SHAREDIR)/zsh/site-functions/_mcpconn
	$(BINDIR)/mcpconn --generate-completion-script fish > $(SHAREDIR)/fish/vendor_completions.d/mcpconn.fish
	.build/debug/generate-manual $(BINDIR)/mcpconn --date "$$(git log -1 --format=%cs 2>/dev/null || date +%F)" \
	  -o $(SHAREDIR)/man/man1
	chmod 644 $(SHAREDIR)/man/man1/mcpconn.1 $(SHAREDIR)/bash-completion/completions/mcpconn \
	  $(SHAREDIR)/zsh/site-functions/_mcpconn $(SHAREDIR)/fish/vendor_completions.d/mcpconn.fish

## uninstall: removes what install put under $(DESTDIR)$(PREFIX).
uninstall:
	rm -f $(INSTALLED)

## install-check: installs into a temporary DESTDIR and checks what is there (run by CI), then uninstalls.
install-check:
	@dest=$$(mktemp -d); trap 'rm -rf "$$dest"' EXIT; \
	$(MAKE) --no-print-directory install DESTDIR=$$dest PREFIX=/usr >/dev/null && \
	DESTDIR=$$dest PREFIX=/usr sh scripts/check-install.sh && \
	$(MAKE) --no-print-directory uninstall DESTDIR=$$dest PREFIX=/usr >/dev/null && \
	left=$$(find $$dest -type f | wc -l) && [ "$$left" = 0 ] && echo "install-check: ok" || \
	{ echo "install-check: failed"; exit 1; }

## lint: swift-format (bundled with the toolchain as `swift format`) with the committed .swift-format, strict:
## any finding fails. `make format` rewrites the files the way lint wants them.
FORMATTED := Sources Tests Plugins Fuzz Package.swift
lint:
	$(SWIFT) format lint --strict --configuration .swift-format -r $(FORMATTED)
format:
	$(SWIFT) format format -i --configuration .swift-format -r $(FORMATTED)

## swift-sdk-server: the Swift SDK's conformance server (a server no one here wrote), built from the SDK's
## tagged source into a git-ignored folder; none of its code is committed here. Its docc-plugin dependency
## (branch "main", only for documentation) is dropped so the package resolves from pinned versions.
SWIFT_SDK_TAG := 0.12.1
SWIFT_SDK_DIR := .build-swiftsdk/swift-sdk-$(SWIFT_SDK_TAG)
SDK_SERVER    := $(SWIFT_SDK_DIR)/.build/debug/mcp-everything-server
swift-sdk-server: $(SDK_SERVER)
$(SDK_SERVER):
	rm -rf $(SWIFT_SDK_DIR)
	git clone -q -c advice.detachedHead=false --depth 1 --branch $(SWIFT_SDK_TAG) \
	  https://github.com/modelcontextprotocol/swift-sdk.git $(SWIFT_SDK_DIR)
	sed -i '/swift-docc-plugin/d' $(SWIFT_SDK_DIR)/Package.swift
	cd $(SWIFT_SDK_DIR) && $(SWIFT) build -c debug --product mcp-everything-server

## test: unit and end-to-end tests against real MCP servers started by the tests. Output line-buffered, so
## a log shows every finished test even if the run is stopped.
TEST_ENV = MCPCONN_TEST_PYTHON=$(abspath $(PYTHON)) MCPCONN_TEST_PYTHON1=$(abspath $(VENV1)/bin/python) \
  MCPCONN_TEST_SWIFT_SERVER=$(abspath $(SDK_SERVER))
test: build venv $(SDK_SERVER)
	$(TEST_ENV) MCPCONN_BIN=$(abspath .build/$(CONFIG)/mcpconn) stdbuf -oL $(SWIFT) test -c $(CONFIG)

## stress-test: the whole suite STRESS_RUNS times (default 5) from the current build while one core is kept busy;
## prints each run's failures and how long a job waited for Swift's pool, then "K passed, M failed"
## (scripts/stress-test.sh, docs/testing.md).
STRESS_RUNS ?= 5
stress-test: build venv $(SDK_SERVER)
	$(SWIFT) build -c $(CONFIG) --build-tests
	$(TEST_ENV) CONFIG=$(CONFIG) scripts/stress-test.sh $(STRESS_RUNS)

## test-sanitize: the test suite under ThreadSanitizer, then AddressSanitizer, each built in its own scratch path
## (.build-tsan, .build-asan); the CLI tests run that sanitized build's binary. Slow: two more full builds.
## LeakSanitizer stays on for the mcpconn processes the CLI tests run (their environment is the sandbox's), and
## is off for the test runner itself, which keeps its test servers and sandboxes until it exits.
## Tests/tsan-suppressions.txt: swift-subprocess's Mutex-guarded state, which ThreadSanitizer cannot see locked.
## At most 6 tests at once (Swift Testing's SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH): under the sanitizers'
## slowdown, all 302 at once kept Swift's 2 pool threads in the runtime's metadata locks for up to 10 s (the pool
## probe) and 2-5 requests timed out in each of three runs; with 6, ThreadSanitizer's run passed, its longest pool wait
## 0.25 s, in 284 s instead of 210 s (docs/testing.md).
SANITIZE_WIDTH ?= 6
test-sanitize: deps venv $(SDK_SERVER)
	$(SWIFT) build --sanitize=thread --scratch-path .build-tsan
	$(TEST_ENV) SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(SANITIZE_WIDTH) \
	  MCPCONN_BIN=$(abspath .build-tsan/debug/mcpconn) TSAN_OPTIONS=suppressions=$(abspath Tests/tsan-suppressions.txt) \
	  stdbuf -oL $(SWIFT) test --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) build --sanitize=address --scratch-path .build-asan
	$(TEST_ENV) SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(SANITIZE_WIDTH) \
	  MCPCONN_BIN=$(abspath .build-asan/debug/mcpconn) ASAN_OPTIONS=detect_leaks=0 \
	  LSAN_OPTIONS=suppressions=$(abspath Tests/lsan-suppressions.txt):print_suppressions=0 \
	  stdbuf -oL $(SWIFT) test --sanitize=address --scratch-path .build-asan

## fuzz: libFuzzer targets for the parsers of untrusted bytes (Fuzz/, docs/fuzzing.md), each run FUZZ_SECONDS
## (default 60) in turn from a copy of its seed corpus (scripts/fuzz.sh). Fails when a target crashes or breaks
## an invariant, naming the input it wrote to .build-fuzz/artifacts. A target is built by compiling the Swift
## files it needs (FUZZ_SRC_*) with swiftc, not SwiftPM: those files need neither GRDB nor libcurl, so a clean
## build takes seconds, only the code under test is instrumented, and internal API is reachable (one module).
SWIFTC       ?= swiftc
FUZZ_SECONDS ?= 60
FUZZ_DIR     := .build-fuzz
FUZZ_TARGETS := json sse jsonrpc terminal config der
# -package-name: the JSON module's `package` declarations (the parser's pieces) need one, as SwiftPM gives.
FUZZ_FLAGS   := -sanitize=fuzzer,address -parse-as-library -O -g -use-ld=lld -package-name mcpconn
CORE         := Sources/MCPConnCore
FUZZ_SRC_json     := Fuzz/JSONFuzz.swift Sources/JSON/JSONValue.swift Sources/JSON/JSONParser.swift \
  Sources/JSON/JSONSerialization+Value.swift
FUZZ_SRC_sse      := Fuzz/SSEFuzz.swift Sources/MCP/Transport/SSEParser.swift
FUZZ_SRC_terminal := Fuzz/TerminalTextFuzz.swift $(CORE)/Output/TerminalText.swift $(CORE)/Support/ByteBuffer.swift
FUZZ_SRC_config   := Fuzz/ClientConfigFuzz.swift $(filter-out Fuzz/%,$(FUZZ_SRC_json)) \
  $(CORE)/ClientConfig/JSONComments.swift $(CORE)/ClientConfig/Substitution.swift $(CORE)/ClientConfig/TOMLTableHeader.swift
FUZZ_SRC_jsonrpc  := Fuzz/JSONRPCFuzz.swift $(filter-out Fuzz/%,$(FUZZ_SRC_json) $(FUZZ_SRC_terminal)) \
  $(wildcard Sources/MCP/Protocol/*.swift) $(CORE)/Output/TextTable.swift $(CORE)/Output/CallResultText.swift \
  $(CORE)/History/SurfaceDiff.swift
FUZZ_SRC_der      := Fuzz/DERFuzz.swift $(CORE)/Pins/CertificateDER.swift
# Longest input tried: the SSE target's default cap is 4096 bytes, so its inputs must be able to pass it.
FUZZ_MAX_LEN_json := 8192
FUZZ_MAX_LEN_sse := 8192
FUZZ_MAX_LEN_jsonrpc := 8192
FUZZ_MAX_LEN_terminal := 2048
FUZZ_MAX_LEN_config := 4096
FUZZ_MAX_LEN_der := 4096
fuzz: $(foreach t,$(FUZZ_TARGETS),$(FUZZ_DIR)/$(t)-fuzz)
	FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(foreach t,$(FUZZ_TARGETS),$(t):$(FUZZ_MAX_LEN_$(t)))

.SECONDEXPANSION:
$(FUZZ_DIR)/%-fuzz: Fuzz/FuzzSupport.swift $$(FUZZ_SRC_$$*)
	@mkdir -p $(FUZZ_DIR)
	$(SWIFTC) $(FUZZ_FLAGS) -module-name fuzz_$* $^ -o $@

## demo: start a reference MCP server, add it, verify it, call a tool.
demo: build venv
	MCPCONN_BIN=$(abspath .build/$(CONFIG)/mcpconn) PYTHON=$(abspath $(PYTHON)) scripts/demo.sh

## bench: measurements for docs/performance.md.
bench: release venv
	MCPCONN_BIN=$(abspath .build/release/mcpconn) PYTHON=$(abspath $(PYTHON)) bench/run.sh

clean:
	rm -rf .build .build-swiftsdk $(VENV) $(VENV1)
