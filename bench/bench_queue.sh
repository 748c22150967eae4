#!/bin/bash
# bench_queue.sh - issue #12 item 11 figures, side by side in one run.  A
# script, not a test (not run by make check).  Loopback only; every loop
# bounded; everything it starts is stopped by PID.
#
#   1. acceptance msgs/s (smtp-source, BENCH_SESSIONS sessions, BENCH_MSGS
#      messages of 2 KB, delivered to smtp-sink) with an empty queue, then
#      with BENCH_DEFERRED (100,000) deferred messages in the queue (a
#      tenant whose server is down; next attempt in a day);
#   2. `tenantrelayctl status --json` wall time (median of 5) with one
#      tenant and with BENCH_TENANTS (100,000) tenants, both with the
#      deferred queue in place (status used to cost tenants x messages).
#
# Usage: bench/bench_queue.sh [-k]   (from a configured build directory, or
# set top_builddir).  -k keeps the work directory.
set -u
. "$(dirname "$0")/bench_env.sh"
tr_require smtp-source postfix
tr_require smtp-sink postfix
tr_require curl curl
MSGS=${BENCH_MSGS:-5000}
SESS=${BENCH_SESSIONS:-10}
NDEF=${BENCH_DEFERRED:-100000}
NT=${BENCH_TENANTS:-100000}
say() { printf '%s\n' "$*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

p_sink=$(free_port); p_dead=$(free_port)
smtp-sink -u nobody -R "$T" 127.0.0.1:"$p_sink" 1024 > "$T/sink.log" 2>&1 &
tr_track $!
wait_port "$p_sink" 10 || exit 1
TR_PORT=$(free_port); HP=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT TR_CONF
conf() {
    write_conf "$TR_CONF" "limits = { max_sessions = 64; };
      http = { listen = ( { address = \"127.0.0.1\"; port = $HP; } ); api_tokens = \"$T/etc/api-tokens\"; };"
    set_default_route "$TR_CONF" "host = \"127.0.0.1\"; port = $p_sink; tls = \"none\";
      insecure_plaintext = true; sender = \"notifications@platform.test\"; max_connections = 8;"
}
stop_daemon() {
    kill -TERM "$TR_DAEMON_PID"
    wait_exit "$TR_DAEMON_PID" 60
}
accept_rate() {  # msgs/s of smtp-source into the relay (after a warm-up of 500)
    local t0 t1
    smtp-source -s "$SESS" -m 500 -l 2048 -f app@platform.test -t user@example.test \
        "127.0.0.1:$TR_PORT" > /dev/null 2>&1
    t0=$(now_ms)
    smtp-source -s "$SESS" -m "$MSGS" -l 2048 -f app@platform.test -t user@example.test \
        "127.0.0.1:$TR_PORT" > /dev/null 2>&1 || say "smtp-source failed"
    t1=$(now_ms)
    echo "$(( MSGS * 1000 / (t1 - t0 + 1) ))"
}
status_ms() {  # median wall time of `status --json` over 5 runs
    local i t0 t1 v=()
    for i in 1 2 3 4 5; do
        t0=$(now_ms)
        "$TR_BIN_CTL" -c "$TR_CONF" status --json > "$T/status.json" 2>/dev/null
        t1=$(now_ms)
        v+=($((t1 - t0)))
    done
    printf '%s\n' "${v[@]}" | sort -n | sed -n 3p
}

raw_status_ms() {  # the daemon's answer alone (socket to last byte), median of ${1:-5}
    "$PYTHON3" - "$T/run/control.sock" "${1:-5}" <<'PY'
import socket, sys, time
v = []
for _ in range(int(sys.argv[2])):
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(b'{"cmd": "status"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        b = s.recv(1 << 20)
        if not b:
            break
        buf += b
    s.close()
    v.append((time.monotonic() - t0) * 1000)
print(int(sorted(v)[len(v) // 2]))
PY
}

metrics_us() {  # a /metrics scrape (queue gauges), microseconds, median of 5
    local i v=()
    for i in 1 2 3 4 5; do
        v+=("$(curl -s -o /dev/null --max-time 60 -w '%{time_total}' "http://127.0.0.1:$HP/metrics" |
               awk '{ printf "%d", $1 * 1000000 }')")
    done
    printf '%s\n' "${v[@]}" | sort -n | sed -n 3p
}

# Two spools: one empty, one holding the deferred backlog; the daemon runs
# on each in turn, three rounds (the machine is shared: figures of one round
# move with the neighbours' load, the median of three less).
conf
CONF0=$TR_CONF
cp "$TR_CONF" "$TR_CONF.empty"
sed "s|spool_directory = \"$T/spool\";|spool_directory = \"$T/spool-full\";|" "$TR_CONF" > "$TR_CONF.full"
mkdir -p "$T/spool-full/queue" "$T/spool-full/tmp"
tr_ctl tenant set down --host 127.0.0.1 --port "$p_dead" --tls implicit --sender x@down.test \
    --no-test > /dev/null 2>&1 || say "cannot save tenant down"
say "writing $NDEF deferred messages into the spool ..."
"$PYTHON3" - "$T/spool-full/queue" "$NDEF" <<'PY'
import os, sys, time
q, n = sys.argv[1], int(sys.argv[2])
now = int(time.time())
body = b"Subject: deferred\r\n\r\n" + b"x" * 1000 + b"\r\n"
for i in range(n):
    qid = "D%015d" % i
    with open(f"{q}/{qid}.msg", "wb") as f:
        f.write(body)
    with open(f"{q}/{qid}.state", "w") as f:
        f.write(f"tenantrelay-state 1\nstate deferred\nattempts 1\nnext_attempt {now + 86400}\n"
                f"last_attempt {now}\nlast_reply 421 4.4.0 down\n")
    with open(f"{q}/{qid}.env", "w") as f:
        f.write(f"tenantrelay-envelope 1\nid {qid}\ntenant down\ntenant_source header\n"
                f"sender app@platform.test\narrival {now}\nflags 0\nsize {len(body)}\n"
                f"recipient someone@example.test\n")
PY
[ "$(id -u)" = 0 ] && chown -R nobody "$T/spool-full"
rates_empty=(); rates_full=()
full_queued() { [ "$(find "$T/spool-full/queue" -name '*.env' | wc -l)" = "$NDEF" ]; }
for round in 1 2 3; do
    TR_CONF="$CONF0.empty"
    start_daemon "$TR_CONF" || exit 1
    rates_empty+=("$(accept_rate)")
    wait_true 120 '[ "$(queue_count)" = 0 ]'
    stop_daemon
    TR_CONF="$CONF0.full"
    t0=$(now_ms)
    start_daemon "$TR_CONF" || exit 1
    t1=$(now_ms)
    rates_full+=("$(accept_rate)")
    wait_for 120 full_queued
    [ "$round" = 1 ] && { status_one=$(status_ms); raw_one=$(raw_status_ms); }
    stop_daemon
    say "round $round: empty ${rates_empty[-1]} msgs/s, with $NDEF deferred ${rates_full[-1]} msgs/s"
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
rate_empty=$(median "${rates_empty[@]}")
rate_full=$(median "${rates_full[@]}")
TR_CONF="$CONF0.full"

# ---- 2. status with NT tenants (and the deferred queue) ----
say "writing a store of $NT tenants ..."
rm -rf "$T/etc/tenants"
"$PYTHON3" "$here/gen_store.py" sharded "$NT" "$T/etc/tenants"
[ "$(id -u)" = 0 ] && chown -R nobody "$T/etc"
start_daemon "$TR_CONF" || exit 1
wait_for 120 full_queued
# The first answer after start builds every tenant's entry (the daemon
# keeps them serialised between changes); the medians below are the
# steady state.
raw_first=$(raw_status_ms 1)
status_many=$(status_ms)
raw_many=$(raw_status_ms)
scrape_us=$(metrics_us)
ntenants=$("$PYTHON3" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["tenants"]))' "$T/status.json")
stop_daemon

printf '\n%-58s %10s\n' "figure" "value"
printf '%-58s %10s\n' "acceptance, empty queue (msgs/s, median of 3)" "$rate_empty"
printf '%-58s %10s\n' "acceptance, $NDEF deferred in the queue (msgs/s, median of 3)" "$rate_full"
printf '%-58s %10s\n' "  rounds, empty" "${rates_empty[*]}"
printf '%-58s %10s\n' "  rounds, $NDEF deferred" "${rates_full[*]}"
printf '%-58s %9s%%\n' "  ratio" "$(( rate_full * 100 / (rate_empty > 0 ? rate_empty : 1) ))"
printf '%-58s %10s\n' "start-up with $NDEF queued (ms, to accepting)" "$((t1 - t0))"
printf '%-58s %10s\n' "status --json, 1 tenant, $NDEF queued (ms, median of 5)" "$status_one"
printf '%-58s %10s\n' "status --json, $ntenants entries, $NDEF queued (ms, median of 5)" "$status_many"
printf '%-58s %10s\n' "  the daemon's answer alone, 1 tenant (ms)" "$raw_one"
printf '%-58s %10s\n' "  the daemon's answer alone, $ntenants entries (ms)" "$raw_many"
printf '%-58s %10s\n' "  the same, first answer after start (ms)" "$raw_first"
printf '%-58s %10s\n' "GET /metrics, $NDEF queued (µs, median of 5)" "$scrape_us"
