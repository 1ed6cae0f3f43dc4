# Convenience front end to CMake. `make` builds build/gnomon; `make run`, `make test`, `make fuzz` and
# `make bench` install what is missing first (see scripts/install-deps.sh).
JOBS ?= $(shell nproc)
PORT ?= 4400
DATA ?= ./gnomon-data
FUZZ_SECONDS ?= 600

.PHONY: all build deps test-deps bench-deps cluster-deps deb-deps run cluster deb chaos test test-normal test-asan test-tsan screenshots fuzz sim bench clean

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

cluster-deps:
	@scripts/install-deps.sh cluster

# HA on loopback: three ZooKeeper nodes, PostgreSQL, three servers (ports PORT, PORT+1, PORT+2) and two agents;
# prints the UI addresses and the leader; Ctrl-C stops everything (scripts/cluster.py).
cluster: cluster-deps build
	scripts/cluster.py --port $(PORT)

deb-deps:
	@scripts/install-deps.sh deb

# The Debian package, from the release build in build/ (scripts/make-deb.sh): build/gnomon_VERSION_ARCH.deb.
deb: deb-deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@scripts/make-deb.sh build

test: test-deps test-normal test-asan test-tsan

# Each ctest run goes through tests/support/ctest_guard.py: a test running for 5 minutes is named with the
# processes under ctest, and a run past its limit (seconds; CI gives the whole of `make test` 90 minutes) is
# stopped with that report instead of hanging on. LIMIT_NORMAL=0 (and so on) lifts a limit.
LIMIT_NORMAL ?= 1800
LIMIT_ASAN ?= 2100
LIMIT_TSAN ?= 900
GUARD = python3 $(CURDIR)/tests/support/ctest_guard.py

test-normal:
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS)
	cd build && $(GUARD) --limit $(LIMIT_NORMAL) -- ctest --output-on-failure -j $(JOBS)

test-asan:
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGNOMON_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(GUARD) --limit $(LIMIT_ASAN) -- ctest --output-on-failure -j $(JOBS)

# ThreadSanitizer: the tests labelled "threads" (code that runs threads of its own), in a build of their own.
test-tsan:
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGNOMON_TSAN=ON >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp \
		$(GUARD) --limit $(LIMIT_TSAN) -- ctest -L threads --output-on-failure -j $(JOBS)

# The README's pictures (docs/screenshots/*.png), taken by the browser tests; `make test` writes its own under
# build/tests/screenshots and leaves these alone.
screenshots: test-deps build
	cd tests/browser && GNOMON_BIN=$(CURDIR)/build/gnomon GNOMON_SCREENSHOTS=$(CURDIR)/docs/screenshots \
		node --test --test-reporter=spec ui.test.mjs history.test.mjs cluster.test.mjs

# The engine's deterministic simulation over more seeds than make test runs (40 of 300 jobs for a week on the
# in-memory backend, 2 on SQLite): make sim SEEDS=200 [FIRST=1] [DAYS=7] [SIM_JOBS=1000] [SIM_ARGS=--sqlite]. A
# failure prints its seed and the command that replays it.
SEEDS ?= 20
FIRST ?= 1
DAYS ?= 7
SIM_JOBS ?= 1000
sim: build
	@cmake --build build -j $(JOBS) --target gnomon_sim
	build/tests/gnomon_sim --seeds $(SEEDS) --first $(FIRST) --days $(DAYS) --jobs $(SIM_JOBS) $(SIM_ARGS)

# Long fuzzing runs: each libFuzzer target for FUZZ_SECONDS (make fuzz FUZZ_SECONDS=3600); the corpus is kept in
# build/tests/fuzz/corpus, crashes go to build/tests/fuzz/artifacts.
fuzz: test-deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS) --target fuzz_schedule_bin fuzz_tzif_bin fuzz_http_bin fuzz_job_bin fuzz_executor_bin fuzz_agent_wire_bin fuzz_net_response_bin fuzz_crontab_bin fuzz_config_bin
	python3 tests/fuzz/run.py --bin-dir build/tests/fuzz --seconds $(FUZZ_SECONDS)

# The fault suite (tests/chaos/run.py, as root): DURATION seconds of faults against a cluster in network
# namespaces, then the checker; its report, picture and logs go to build/chaos/UTC-TIME (a failure keeps the
# nodes' data too and prints where); FAULTS=KIND,KIND makes only those kinds of fault. Its 150 s schedule is the
# ctest test chaos/short, in `make test`'s normal build (README, "Fault suite"; docs/chaos/ has the latest 30-minute run).
DURATION ?= 1800
chaos: test-deps build
	python3 tests/chaos/run.py --duration $(DURATION) --bin build/gnomon --out build/chaos/$$(date -u +%Y%m%dT%H%M%SZ) \
		$(if $(FAULTS),--faults $(FAULTS))

bench: bench-deps build
	bench/run-all

clean:
	rm -rf build build-asan build-tsan
