#!/bin/bash
# Run every libFuzzer harness of a fuzz build for a bounded time, starting
# from its seed corpus; exit non-zero on any finding (crash, leak, UB).
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_EACH]
set -uo pipefail
build=$1
seconds=${2:-30}
src=$(cd "$(dirname "$0")" && pwd)
status=0
for fuzzer in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$fuzzer" ] || continue
    name=$(basename "$fuzzer")
    work=$(mktemp -d /tmp/tr-fuzz.XXXXXX)
    # New inputs go to a scratch copy; the seed corpus in the repo stays as is.
    cp -r "$src/corpus/$name/." "$work/" 2>/dev/null || true
    echo "=== $name (${seconds}s)"
    if "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$build/tests/fuzz/$name-" "$work" > "$build/tests/fuzz/$name.out" 2>&1; then
        tail -n 1 "$build/tests/fuzz/$name.out"
    else
        echo "FINDING in $name:"; tail -n 40 "$build/tests/fuzz/$name.out"
        status=1
    fi
    rm -rf "$work"
done
exit $status
