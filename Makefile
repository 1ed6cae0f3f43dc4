# Convenience front end to CMake. `make` builds build/gnomon; `make run`, `make test` and `make bench` install
# what is missing first (see scripts/install-deps.sh).
JOBS ?= $(shell nproc)
PORT ?= 4400
DATA ?= ./gnomon-data

.PHONY: all build deps test-deps bench-deps run test test-normal test-asan screenshots bench clean

all: build

build:
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS)

deps:
	@scripts/install-deps.sh build

test-deps:
	@scripts/install-deps.sh test

bench-deps:
	@scripts/install-deps.sh bench

run: deps build
	./build/gnomon server --http-port $(PORT) --data-dir $(DATA)

test: test-deps test-normal test-asan

test-normal:
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS)
	cd build && ctest --output-on-failure -j $(JOBS)

test-asan:
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGNOMON_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

# The README's pictures (docs/screenshots/*.png), taken by the browser tests; `make test` writes its own under
# build/tests/screenshots and leaves these alone.
screenshots: test-deps build
	cd tests/browser && GNOMON_BIN=$(CURDIR)/build/gnomon GNOMON_SCREENSHOTS=$(CURDIR)/docs/screenshots \
		node --test --test-reporter=spec ui.test.mjs

bench: bench-deps build
	bench/run-all

clean:
	rm -rf build build-asan
