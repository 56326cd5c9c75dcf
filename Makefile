# The two commands: `make run` and `make test`. Everything else is a helper.
BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
FUZZ_DIR   ?= build-fuzz
JOBS       ?= $(shell nproc)
CTEST_ARGS ?= --output-on-failure
PREFIX     ?= /usr/local

.PHONY: all deps test-deps build run test test-release asan test-asan clean bench bench-smoke \
        fuzz test-fuzz fuzz-build test-builds format install faults \
        web-timings

all: build

# scripts/deps.sh keeps a stamp keyed on its package list in $(BUILD_DIR):
# once everything was found, later runs query nothing.
deps:
	@BUILD_DIR=$(BUILD_DIR) scripts/deps.sh

test-deps:
	@BUILD_DIR=$(BUILD_DIR) scripts/deps.sh --test

# Configure and build output goes to a log, shown only when a step fails.
# $(1): build directory, $(2): extra `cmake --build` arguments.
define quiet_build
	@cmake --build $(1) -j $(JOBS) $(2) > $(1)/build.log 2>&1 || { cat $(1)/build.log; exit 1; }
endef

define quiet_configure
	@mkdir -p $(1) && cmake -S . -B $(1) $(2) > $(1)/configure.log 2>&1 || \
	  { cat $(1)/configure.log; exit 1; }
endef

$(BUILD_DIR)/Makefile: CMakeLists.txt
	@echo "configuring $(BUILD_DIR) (log: $(BUILD_DIR)/configure.log)"
	$(call quiet_configure,$(BUILD_DIR),-DCMAKE_BUILD_TYPE=Release -DPERISCOPE_WERROR=ON)

build: deps $(BUILD_DIR)/Makefile
	@echo "building $(BUILD_DIR) (log: $(BUILD_DIR)/build.log)"
	$(call quiet_build,$(BUILD_DIR))

# Only the server: nothing else to wait for when nothing changed.
run: deps $(BUILD_DIR)/Makefile
	$(call quiet_build,$(BUILD_DIR),--target periscope)
	@exec $(BUILD_DIR)/periscope serve

# PREFIX=/usr/local by default; DESTDIR is honoured (packaging).
install: deps $(BUILD_DIR)/Makefile
	$(call quiet_build,$(BUILD_DIR),--target periscope)
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# The sanitizer and fuzz trees are built, then the sanitizer unit tests
# run, while the Release tests run, at the lowest CPU priority: the
# Release tests mostly wait (on servers, Postgres, timeouts) and the
# sanitizer work takes only the cycles they leave, so neither the tests'
# timing nor what they check changes. That work's output goes to
# $(BUILD_DIR)/test-builds.log: its test summary is shown, the whole log
# when it fails. The fuzz targets run last, on the whole machine.
test: test-deps build
	@$(MAKE) --no-print-directory test-builds > $(BUILD_DIR)/test-builds.log 2>&1 & builds=$$!; \
	  $(MAKE) --no-print-directory test-release; rc=$$?; \
	  wait $$builds; brc=$$?; \
	  [ $$brc -eq 0 ] || { cat $(BUILD_DIR)/test-builds.log; exit 1; }; \
	  echo "sanitizer build ($(ASAN_DIR)):"; \
	  grep -E 'tests passed|Total Test time' $(BUILD_DIR)/test-builds.log; \
	  [ $$rc -eq 0 ] || exit $$rc; \
	  $(MAKE) --no-print-directory test-fuzz

test-builds:
	nice -n 19 $(MAKE) --no-print-directory asan fuzz-build
	nice -n 19 $(MAKE) --no-print-directory test-asan

# Tests are independent (free ports, their own data directories and
# databases); the load tests hold the `load` lock and count for two slots
# (CMakeLists.txt), so they never overlap each other.
CTEST_JOBS ?= 4
test-release:
	cd $(BUILD_DIR) && ctest $(CTEST_ARGS) -j $(CTEST_JOBS)

$(ASAN_DIR)/Makefile: CMakeLists.txt
	$(call quiet_configure,$(ASAN_DIR),-DCMAKE_BUILD_TYPE=Debug -DPERISCOPE_ASAN=ON -DPERISCOPE_WERROR=ON)

asan: deps $(ASAN_DIR)/Makefile
	@echo "building $(ASAN_DIR) (log: $(ASAN_DIR)/build.log)"
	$(call quiet_build,$(ASAN_DIR))

# The sanitizer build runs the C unit tests (the end-to-end suite runs on the
# Release build above).
test-asan: asan
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest $(CTEST_ARGS) -j $(CTEST_JOBS) -R '^test_'

# The fault scenarios (tests/e2e/test_faults.py) at full length: 20 s
# outages of a Postgres cluster of their own (fsync on) by stop and by
# SIGSTOP, in both ack modes, SQLite locked from outside, damaged files.
# The short versions run in `make test`. One table row per scenario goes to
# $(BUILD_DIR)/faults-report.md.
faults: build
	@rm -f $(BUILD_DIR)/faults-report.md
	cd tests/e2e && FAULTS_FULL=1 FAULTS_REPORT=$(abspath $(BUILD_DIR))/faults-report.md \
	  PERISCOPE_BIN=$(abspath $(BUILD_DIR))/periscope python3 -m unittest -v test_faults
	@echo "| scenario | acknowledged | lost | client-visible answers | recovery | peak RSS |"
	@cat $(BUILD_DIR)/faults-report.md

# Issue 18's two web timings with 100,000 issues on Postgres (`make test`
# takes them on SQLite, tests/e2e/test_web.py), on a throwaway cluster of
# their own; WEB_TIMINGS_BACKENDS="postgres sqlite" for both. The medians go
# to $(BUILD_DIR)/screenshots/timings.json, as the suite's do.
WEB_TIMINGS_BACKENDS ?= postgres
web-timings: test-deps build
	@rm -rf $(BUILD_DIR)/web-timings-pg
	@tests/pg_cluster.sh start $(BUILD_DIR)/web-timings-pg $(BUILD_DIR)/periscope > /dev/null
	@cd tests/e2e && PERISCOPE_BIN=$(abspath $(BUILD_DIR))/periscope \
	  PERISCOPE_TEST_PG_ENV=$(abspath $(BUILD_DIR))/web-timings-pg/env \
	  python3 web_timings.py $(WEB_TIMINGS_BACKENDS); rc=$$?; \
	  cd ../.. && tests/pg_cluster.sh stop $(BUILD_DIR)/web-timings-pg > /dev/null; exit $$rc

bench: build
	$(call quiet_build,$(BUILD_DIR),--target bench_programs)
	bench/run.sh

# Every bench case for 3 s and the results file checked: that the benchmark
# still runs, without measuring anything (not part of `make test`).
bench-smoke: build
	$(call quiet_build,$(BUILD_DIR),--target bench_programs)
	PERISCOPE_BIN=$(BUILD_DIR)/periscope python3 bench/test_smoke.py -v

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=Debug -DPERISCOPE_FUZZ=ON -DPERISCOPE_WERROR=ON
	cmake --build $(FUZZ_DIR) -j $(JOBS)
	tests/fuzz/run.sh $(FUZZ_DIR)

# Every libFuzzer target under ASan for 30 s, two at a time, seeded from
# the events in spec/fixtures (only the targets are built).
$(FUZZ_DIR)/Makefile: CMakeLists.txt
	$(call quiet_configure,$(FUZZ_DIR),-DCMAKE_BUILD_TYPE=Debug -DPERISCOPE_FUZZ=ON \
	  -DPERISCOPE_WERROR=ON -DCMAKE_C_COMPILER=clang)

fuzz-build: deps $(FUZZ_DIR)/Makefile
	@echo "building $(FUZZ_DIR) (log: $(FUZZ_DIR)/build.log)"
	$(call quiet_build,$(FUZZ_DIR),--target fuzz_all)

# 20 s a target in `make test` (a smoke run from the seed corpus; `make
# fuzz` runs longer).
test-fuzz: fuzz-build
	FUZZ_SECONDS=20 FUZZ_JOBS=2 tests/fuzz/run.sh $(FUZZ_DIR)

format:
	clang-format -i $$(find src tests bench -name '*.[ch]' -type f)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
