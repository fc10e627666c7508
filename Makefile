# Thin wrapper over CMake; see README.md.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all build deps run test test-faults bench clean format image test-image

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

deps:
	scripts/install-deps.sh

run: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target pgrt
	scripts/run-local.sh

test: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: deps build
	$(BUILD)/pgrt_bench
	$(BUILD)/pgrt_bench replication
	$(BUILD)/pgrt_bench pooling
	$(BUILD)/pgrt_bench loop
	$(BUILD)/pgrt_bench lifecycle
	$(BUILD)/pgrt_bench ha
	$(BUILD)/pgrt_bench sleep
	$(BUILD)/pgrt_bench ui

# The container image (deploy/Containerfile) with podman, or docker when a docker engine
# answers; no registry is contacted. See docs/container.md.
image:
	scripts/build-image.sh

# The slow fault matrix: 30 kill -9 trials in synchronous mode, 10 bank-workload trials of
# each HA fault, every HA fault test, and 100 sleep/wake cycles of a node that sleeps. The
# test binary itself, one test after another: ctest's per-test limit (300 s, set where the
# tests are registered) would cut the long trials short, whatever --timeout says.
test-faults: build
	cd $(BUILD) && PGRT_HA_SYNC_TRIALS=30 PGRT_HA_BANK_TRIALS=10 PGRT_SLEEP_CYCLES=100 \
	  timeout 14400 ./pgrt_integration_tests --gtest_filter='Ha*:Sleep*'

# Builds the image and runs it for real: primary + replica, clean stop, restart, timings.
test-image: deps
	scripts/test-image.sh

clean:
	rm -rf $(BUILD)

format:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'src/*.cpp' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 'bench/*.h')
