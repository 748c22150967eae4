#!/bin/bash
# The whole test suite: installs what it needs, then
#   1. a -Werror build and `make check` (unit + integration against real parts),
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer,
#   3. every libFuzzer harness, deterministically: its corpus and regressions
#      replayed, then a fixed number of runs from a fixed seed (tests/fuzz/run.sh),
#   4. `make distcheck` (packaging: dist, VPATH build, install, uninstall),
# and prints one closing line "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
if [ "$(id -u)" = 0 ]; then
    bash scripts/install-deps.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }
fi

passed=0
failed=0
results=()
step() {  # step NAME COMMAND...
    local name=$1 t0=$SECONDS
    shift
    echo "=== $name"
    if "$@"; then
        passed=$((passed + 1)); results+=("PASS $name ($((SECONDS - t0))s)")
    else
        failed=$((failed + 1)); results+=("FAIL $name ($((SECONDS - t0))s)")
    fi
}

# Count the automake test results of a build directory into the totals.
count_suite() {
    local dir=$1 label=$2 log p f
    log="$dir/test-suite.log"
    [ -f "$log" ] || { failed=$((failed + 1)); results+=("FAIL $label: no test-suite.log"); return; }
    p=$(grep -c '^PASS: ' <(grep -h '^:test-result: PASS' "$dir"/tests/*/*.trs 2>/dev/null | sed 's/^:test-result: /PASS: /'))
    f=$(grep -h '^:test-result: \(FAIL\|ERROR\|XPASS\)' "$dir"/tests/*/*.trs 2>/dev/null | wc -l)
    passed=$((passed + p)); failed=$((failed + f))
    results+=("$label: $p test programs passed, $f failed")
    if [ "$f" -gt 0 ]; then
        grep -l '^:test-result: \(FAIL\|ERROR\)' "$dir"/tests/*/*.trs | while read -r trs; do
            echo "----- ${trs%.trs}.log"; tail -n 40 "${trs%.trs}.log"
        done
    fi
}

build() {  # build DIR CONFIGURE-FLAGS...
    local dir=$1
    shift
    mkdir -p "$dir" && cd "$dir" && "$top/configure" --sysconfdir=/etc --localstatedir=/var \
        --runstatedir=/run "$@" > configure.out 2>&1 && make -j"$(nproc)" > make.out 2>&1
    local rc=$?
    [ $rc = 0 ] || { tail -n 40 "$dir/configure.out" "$dir/make.out" 2>/dev/null; }
    cd "$top"
    return $rc
}

step "autogen" ./autogen.sh
step "build (-Werror)" build "$top/build" --enable-werror
# configure builds without cmocka (for packagers); the test command does not.
step "unit tests enabled (libcmocka-dev)" bash -c '! grep -q "cmocka not found" "$0/build/configure.out" || { echo "libcmocka-dev is missing: the unit tests would not run"; exit 1; }' "$top"
(cd build && make -j"$(nproc)" check > check.out 2>&1)
count_suite "$top/build" "make check"

step "build (ASan+UBSan, -Werror)" build "$top/build-asan" --enable-werror --enable-sanitizers
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 make -j"$(nproc)" check > check.out 2>&1)
count_suite "$top/build-asan" "make check under sanitizers"

# libFuzzer harnesses (clang): the same inputs on every run of a commit
# (long random fuzzing is `make fuzz-long` in build-fuzz, not part of this).
step "build (clang libFuzzer)" build "$top/build-fuzz" CC=clang --enable-fuzzers
step "fuzzing (corpus + regressions + seed 1)" bash tests/fuzz/run.sh "$top/build-fuzz"

# Packaging only: the suite already ran twice above.
step "make distcheck" bash -c 'cd build && make distcheck TESTS= > distcheck.out 2>&1 || { tail -n 40 distcheck.out; exit 1; }'

echo
printf '%s\n' "${results[@]}"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
