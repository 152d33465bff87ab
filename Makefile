# Tranche: the two set-up commands are `make demo` and `make test`. Each installs what is missing (Debian packages,
# quietly when all is there), configures, builds and runs.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
CMAKE_FLAGS := -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -Wno-dev

.PHONY: all deps build build-asan test test-unit test-asan demo bench fuzz chaos crash-campaign soak format clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: deps $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/build.ninja: | deps
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug -DTRANCHE_SANITIZE=ON -DTRANCHE_BENCH=OFF >/dev/null

build-asan: deps $(ASAN_BUILD)/build.ninja
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# Every test of the release build, then the unit and property tests again under ASan + UBSan.
test: build build-asan
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) -E '^golden/' -LE e2e --output-on-failure -j $(JOBS)

demo: build
	@./scripts/demo.sh $(BUILD)/bin/tranche

# Benchmarks write Google Benchmark JSON to bench-results/.
bench: build
	@./scripts/bench.sh $(BUILD)

# Every fault at once on every venue, CHAOS_SEEDS seeds (default 1,000) across every algo: docs/chaos.md.
CHAOS_SEEDS ?= 1000
chaos: build
	@$(BUILD)/tests/chaos --seeds $(CHAOS_SEEDS)

# kill -9 of tranche serve at random moments, CRASH_KILLS times over FIX and as many through the Binance gateway,
# with its venues in tranche exchange; exact agreement of the exchange and the journal: docs/oms.md.
CRASH_KILLS ?= 100
crash-campaign: build
	@node tests/fix/crash_campaign.js $(BUILD)/bin/tranche $(BUILD)/share/FIX44-tranche.xml --protocol fix --kills $(CRASH_KILLS)
	@node tests/fix/crash_campaign.js $(BUILD)/bin/tranche $(BUILD)/share/FIX44-tranche.xml --protocol binance --kills $(CRASH_KILLS)

# tranche serve under a continuous flow of parents for SOAK_MINUTES (default 30), the recording replayed lap after
# lap: resident memory and decision latency flat after warm-up: docs/serve.md.
SOAK_MINUTES ?= 30
soak: build
	@node tests/fix/soak.js $(BUILD)/bin/tranche $(BUILD)/share/FIX44-tranche.xml --minutes $(SOAK_MINUTES)

# Every fuzz target under libFuzzer (clang-14, build-fuzz/), FUZZ_SECONDS each (default 60): docs/fuzzing.md.
fuzz: deps
	@./scripts/fuzz.sh

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	@rm -rf $(BUILD) $(ASAN_BUILD)
