# The two commands: `make run` and `make test`. Everything else is a helper.
BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
FUZZ_DIR   ?= build-fuzz
JOBS       ?= $(shell nproc)
CTEST_ARGS ?= --output-on-failure

.PHONY: all deps test-deps build run test test-release asan test-asan test-fuzz clean bench fuzz format

all: build

deps:
	@scripts/deps.sh

test-deps:
	@scripts/deps.sh --test

$(BUILD_DIR)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD_DIR)/Makefile
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/periscope serve

test: test-deps build test-release test-asan test-fuzz

test-release:
	cd $(BUILD_DIR) && ctest $(CTEST_ARGS) -j 2

asan: deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DPERISCOPE_ASAN=ON
	cmake --build $(ASAN_DIR) -j $(JOBS)

# The sanitizer build runs the C unit tests (the end-to-end suite runs on the
# Release build above).
test-asan: asan
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest $(CTEST_ARGS) -R '^test_'

bench: build
	bench/run.sh

fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=Debug -DPERISCOPE_FUZZ=ON
	cmake --build $(FUZZ_DIR) -j $(JOBS)
	tests/fuzz/run.sh $(FUZZ_DIR)

# Every libFuzzer target under ASan for 30 s, two at a time, seeded from
# the events in spec/fixtures (only the targets are built).
test-fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=Debug -DPERISCOPE_FUZZ=ON
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_all
	FUZZ_SECONDS=30 FUZZ_JOBS=2 tests/fuzz/run.sh $(FUZZ_DIR)

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'bench/*.c')

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
