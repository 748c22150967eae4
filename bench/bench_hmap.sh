#!/bin/bash
# bench_hmap.sh - the tenant store's lookups on the one hash table
# (src/common/hmap.c, chained) side by side with a peer build (e.g. the
# commit before it, whose store had its own open-addressing tables): the
# same bench_store.c linked against each library, run alternately on the
# same sharded store of N tenants (default 100,000).
# Not part of `make check`.
#   bench/bench_hmap.sh BUILD_DIR PEER_BUILD_DIR [N]
# PEER_BUILD_DIR: a configured build of the other tree with
# libtenantrelay.a made (its bench_store.c and headers are used for it).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?BUILD_DIR}" && pwd)
peer=$(cd "${2:?PEER_BUILD_DIR}" && pwd)
peer_src=$(cd "$peer" && sed -n 's/^abs_top_srcdir = //p' Makefile)
n=${3:-100000}
work=$(mktemp -d /tmp/tr-bench-hmap.XXXXXX)
trap 'rm -rf "$work"' EXIT

link() {    # link SRC_TREE BUILD_DIR OUT
    cc -O2 -I"$1/include" -I"$2" "$1/bench/bench_store.c" "$2/libtenantrelay.a" \
        $(pkg-config --libs libconfig libsodium) -lpthread -o "$3"
}
link "$src" "$build" "$work/this"
link "$peer_src" "$peer" "$work/peer"
echo "# $n tenants; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$src/bench/gen_store.py" sharded "$n" "$work/sharded"
for run in 1 2 3; do
    printf 'this run %d: ' "$run"
    "$work/this" "$work/sharded" 1000000
    printf 'peer run %d: ' "$run"
    "$work/peer" "$work/sharded" 1000000
done
