#!/bin/bash
# Run every libFuzzer harness of a fuzz build.
#
#   tests/fuzz/run.sh BUILD_DIR                 deterministic (CI, the README's test command)
#   tests/fuzz/run.sh --long BUILD_DIR SECONDS  random seeds for SECONDS each (`make fuzz-long`)
#
# Deterministic mode, for each harness fuzz_NAME:
#   1. replays every input of corpus/fuzz_NAME and regressions/fuzz_NAME once;
#   2. fuzzes from that corpus with a fixed seed (-seed=1) for a fixed number
#      of runs (runs.conf, default 200000): the same commit runs the same
#      inputs on every machine, so a finding is never CI luck.
# Long mode starts from the same corpora with a random seed and a time bound;
# a finding is left as BUILD_DIR/tests/fuzz/fuzz_NAME-crash-* (or leak-*,
# timeout-*): fix it and add that file to regressions/fuzz_NAME/ in the same
# commit as the fix.
#
# Exit status: non-zero on any finding (crash, leak, UB, timeout).
set -uo pipefail
mode=det
if [ "${1:-}" = "--long" ]; then
    mode=long
    shift
fi
build=${1:?usage: run.sh [--long] BUILD_DIR [SECONDS]}
seconds=${2:-600}
src=$(cd "$(dirname "$0")" && pwd)
status=0

runs_for() {  # runs_for NAME: the fixed run count of a harness
    local n
    n=$(awk -v h="$1" '$1 == h { print $2 }' "$src/runs.conf" 2>/dev/null)
    echo "${n:-${FUZZ_RUNS:-200000}}"
}

# Suppressions (fuzz_store.c) match function names: without a symbolizer a
# report has none, and a known libconfig leak would fail the run on one
# machine and pass on another.
command -v llvm-symbolizer > /dev/null || {
    echo "run.sh: llvm-symbolizer not found; install the Debian package llvm" >&2; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for fuzzer in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$fuzzer" ] && [ -f "$fuzzer" ] || continue
    name=$(basename "$fuzzer")
    case $name in *.*|*-*) continue ;; esac   # outputs and artifacts
    out="$build/tests/fuzz/$name.out"
    work=$(mktemp -d /tmp/tr-fuzz.XXXXXX)
    # New inputs go to a scratch copy; the corpus in the repo stays as is.
    cp -r "$src/corpus/$name/." "$work/" 2>/dev/null || true
    inputs=()
    for d in "$src/corpus/$name" "$src/regressions/$name"; do
        [ -d "$d" ] || continue
        while IFS= read -r -d '' f; do inputs+=("$f"); done < <(find "$d" -type f -print0 | sort -z)
    done
    if [ "$mode" = det ]; then
        runs=$(runs_for "$name")
        echo "=== $name: replay ${#inputs[@]} inputs, then $runs runs from seed 1"
        ok=1
        if [ ${#inputs[@]} -gt 0 ] && ! "$fuzzer" -timeout=10 -rss_limit_mb=2048 "${inputs[@]}" > "$out.replay" 2>&1; then
            echo "FINDING in $name (replay of corpus/regressions):"; tail -n 40 "$out.replay"
            ok=0
        fi
        # The run count bounds the work; the time bound only stops a harness
        # gone wrong (and then fails it, so no run is ever silently shorter).
        if [ $ok = 1 ] && ! timeout 900 "$fuzzer" -seed=1 -runs="$runs" -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$build/tests/fuzz/$name-" "$work" > "$out" 2>&1; then
            echo "FINDING in $name (seed 1):"; tail -n 40 "$out"
            ok=0
        fi
        if [ $ok = 1 ]; then grep -h "^Done" "$out" || tail -n 1 "$out"; else status=1; fi
    else
        echo "=== $name: random seed, ${seconds}s"
        if "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$build/tests/fuzz/$name-" "$work" > "$out" 2>&1; then
            tail -n 1 "$out"
        else
            echo "FINDING in $name: add $build/tests/fuzz/$name-* to tests/fuzz/regressions/$name/ with the fix"
            tail -n 40 "$out"
            status=1
        fi
    fi
    rm -rf "$work"
done
exit $status
