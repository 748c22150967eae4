#!/bin/bash
# bench_store_pg.sh - the PostgreSQL tenant store at 100,000 tenants, beside
# the file store: `store import` time, whole-store load from the file store
# (the peer), from PostgreSQL and from the spool snapshot, lookups per
# second, memory per tenant, and the propagation delay of single-tenant
# changes through the live store (commit -> NOTIFY -> reconcile -> load ->
# installed), p50/p99/max.  Goals (issue #16): load < 2 s from the
# database, < 1 s from the snapshot, propagation p99 < 1 s.
# A private PostgreSQL 15 in a temporary directory (as nobody when run as
# root), stopped by PID at the end; never the system cluster.
# Not part of `make check` (minutes, ~1 GB of scratch space).
#   bench/bench_store_pg.sh [BUILD_DIR] [N] [CHANGES]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
n=${2:-100000}
changes=${3:-30}
pgbin=/usr/lib/postgresql/15/bin
[ -x "$pgbin/initdb" ] || { echo "needs the Debian package postgresql-15" >&2; exit 1; }
work=$(mktemp -d /tmp/tr-bench-pg.XXXXXX)
chmod 755 "$work"
pgpid=
cleanup() {
    [ -n "$pgpid" ] && kill -INT "$pgpid" 2>/dev/null && wait "$pgpid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cc -O2 -I"$src/include" -I"$src/src/store" -I"$build" "$src/bench/bench_store_pg.c" \
    $(pkg-config --cflags libpq) "$build/libtenantrelay.a" $(pkg-config --libs libconfig libsodium jansson libpq) -lpthread \
    -o "$work/bench_store_pg"

as=()
if [ "$(id -u)" = 0 ]; then
    as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    mkdir -p "$work/pg" && chown nobody:nogroup "$work/pg"
fi
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as[@]}" "$pgbin/initdb" -D "$work/pg/data" -U trelay --auth=trust -E UTF8 --no-sync > "$work/initdb.log" 2>&1
# The server as a production one would run it (fsync on), on loopback.
"${as[@]}" "$pgbin/postgres" -D "$work/pg/data" -k "$work/pg" -p "$port" -c listen_addresses=127.0.0.1 \
    > "$work/pg.log" 2>&1 &
pgpid=$!
for i in $(seq 1 100); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done
uri="postgresql://trelay@127.0.0.1:$port/postgres"

echo "# $n tenants; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 "$src/bench/gen_store.py" sharded "$n" "$work/tenants"
cat > "$work/tr.conf" <<CONF
tenant_store = "$uri";
change_log = "$work/changes.log";
key_file = "$work/master.key";
default_route = { host = "smtp.platform.example"; sender = "n@platform.example"; };
CONF
"$build/tenantrelayctl" -c "$work/tr.conf" store init > /dev/null
t0=$(date +%s%N)
"$build/tenantrelayctl" -c "$work/tr.conf" store import "$work/tenants"
echo "store import (one transaction):        $(( ($(date +%s%N) - t0) / 1000000 )) ms"
for run in 1 2 3; do
    t0=$(date +%s%N)
    "$build/tenantrelayctl" -c "$work/tr.conf" tenant set t004242 --rate-limit "$run" --no-test > /dev/null 2>&1
    echo "tenant set (update, 1 field)           run $run: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
    t0=$(date +%s%N)
    "$build/tenantrelayctl" -c "$work/tr.conf" tenant set "new-$run" --host smtp.new.example \
        --sender "n@new$run.example" --domain "new$run.example" --no-test > /dev/null 2>&1
    echo "tenant set (new tenant with a domain)  run $run: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
done
mkdir -p "$work/spool"
"$work/bench_store_pg" "$uri" "$work/tenants" "$work/spool" "$changes"
