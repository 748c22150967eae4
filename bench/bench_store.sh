#!/bin/bash
# bench_store.sh - the tenant-store benchmark behind the choice of layout.
#
# Builds stores of N tenants (default 100,000) in three layouts -- one
# libconfig file, one file per tenant, 256 hash shards (what tenantrelayctl
# writes) -- and prints for each: load time (tenant_store_load, what the
# daemon does on start and reload), lookups per second by id and by sender,
# and on the sharded store the time of one `tenantrelayctl tenant set`.
# Each load is timed with libconfig alone and with the fast reader of the
# canonical layout (what the programs use; libconfig remains the fallback).
# Not part of `make check` (it needs ~500 MB of scratch space and minutes).
#   bench/bench_store.sh [BUILD_DIR] [N]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
n=${2:-100000}
work=$(mktemp -d /tmp/tr-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The bench helper links the project's own library.
cc -O2 -I"$src/include" -I"$build" "$src/bench/bench_store.c" "$build/libtenantrelay.a" \
    $(pkg-config --libs libconfig libsodium) -lpthread -o "$work/bench_store"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
echo "# $n tenants; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for layout in single pertenant sharded; do
    /usr/bin/python3 "$src/bench/gen_store.py" "$layout" "$n" "$work/$layout"
    size=$(du -sh "$work/$layout" | cut -f1)
    for run in 1 2; do
        printf '%-10s %5s run %d: ' "$layout" "$size" "$run"
        "$work/bench_store" "$work/$layout" 1000000 libconfig
        printf '%-10s %5s run %d: ' "$layout" "$size" "$run"
        "$work/bench_store" "$work/$layout" 1000000
    done
    [ "$layout" = sharded ] || rm -rf "$work/$layout"
done
# The same sharded store with 1 tenant in 100 an OAuth2 route (a PostgreSQL
# node's spool snapshot is written in this layout and read this way): the
# fast reader takes OAuth2 records too; libconfig alone beside it is what
# every shard holding one cost when the fast reader declined them.
/usr/bin/python3 "$src/bench/gen_store.py" sharded "$n" "$work/sharded-oauth" 100
for run in 1 2; do
    printf '%-10s %5s run %d: ' sharded "$(du -sh "$work/sharded" | cut -f1)" "$run"
    "$work/bench_store" "$work/sharded" 1000000
    printf '%-10s %5s run %d: ' "1% oauth2" "$(du -sh "$work/sharded-oauth" | cut -f1)" "$run"
    "$work/bench_store" "$work/sharded-oauth" 1000000
    printf '%-10s %5s run %d: ' "1% oauth2" "$(du -sh "$work/sharded-oauth" | cut -f1)" "$run"
    "$work/bench_store" "$work/sharded-oauth" 1000000 libconfig
done
rm -rf "$work/sharded-oauth"

# One tenant set on the sharded store, through the real command.
printf 'key be42ee6cc598 primary 2026-01-01T00:00:00Z AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n' > "$work/master.key"
chmod 600 "$work/master.key"
cat > "$work/tr.conf" <<CONF
tenant_store = "$work/sharded";
change_log = "$work/changes.log";
key_file = "$work/master.key";
default_route = { host = "smtp.platform.example"; sender = "n@platform.example"; };
CONF
ctl="$build/tenantrelayctl"
for run in 1 2 3; do
    t0=$(date +%s%N)
    "$ctl" -c "$work/tr.conf" tenant set t004242 --rate-limit "$run" --no-test > /dev/null 2>&1
    echo "tenant set (update, 1 field)                 run $run: $(ms "$t0") ms"
done
for run in 1 2 3; do
    t0=$(date +%s%N)
    printf 'pw%s\n' "$run" | "$ctl" -c "$work/tr.conf" tenant set "new-$run" --host smtp.new.example \
        --sender "n@new$run.example" --domain "new$run.example" --address "x$run@new.example" \
        --username u --password-stdin --no-test > /dev/null 2>&1
    echo "tenant set (new tenant, domain, password)    run $run: $(ms "$t0") ms"
done
t0=$(date +%s%N)
"$ctl" -c "$work/tr.conf" tenant set clash --host h.example --sender n@clash.example \
    --domain t000042.example.com --no-test > /dev/null 2>&1 || true
echo "tenant set refused (domain claimed elsewhere):       $(ms "$t0") ms"
t0=$(date +%s%N)
"$ctl" -c "$work/tr.conf" tenant show t004242 > /dev/null
echo "tenant show (full load):                             $(ms "$t0") ms"
