# `make demo` and `make test` do everything on a fresh Debian 12 machine: install what is
# missing, configure, build in Release with both cores, and run.
BUILD ?= build
JOBS  ?= 2
CMAKE_FLAGS ?=
LAUNCHER := $(shell command -v ccache >/dev/null 2>&1 && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)

.PHONY: all deps configure build test demo bench clean
all: build

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(LAUNCHER) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j$(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

demo: build
	BUILD=$(BUILD) bash scripts/demo.sh

bench: build
	./$(BUILD)/bench/fermata_bench --benchmark_counters_tabular=true

clean:
	rm -rf $(BUILD)
