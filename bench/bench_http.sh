#!/bin/bash
# bench_http.sh - does the HTTP side cost delivery throughput?  The same
# load through tenantrelayd in two configurations, alternated in one run:
#   plain : no http group, no webhook
#   http  : /metrics scraped every second (curl, Prometheus's cadence is
#           usually slower) + event webhooks to an HTTPS receiver that
#           verifies every signature (tests/integration/webhook_receiver.py)
# and prints delivered msgs/s side by side (goal: http within 5 % of plain).
# A script, not a test: `make check` does not run it.
#
#   cd build && bash ../bench/bench_http.sh          # ~2-3 minutes
#   BENCH_MSGS=3000 BENCH_SESSIONS=20 BENCH_SIZE=4096 BENCH_ROUNDS=3 bash ../bench/bench_http.sh [-k]
#
# Loopback only; upstream: smtp-sink (plaintext, default route tls = "none"
# with insecure_plaintext, so TLS to the upstream does not drown the
# difference); "delivered" = the spool's queue is empty again, timed from the
# start of the load.  Everything started here is stopped by PID.
set -u
top_builddir=${top_builddir:-$(pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
export top_builddir top_srcdir
KEEP=0; [ "${1:-}" = -k ] && KEEP=1
MSGS=${BENCH_MSGS:-20000}
SESS=${BENCH_SESSIONS:-20}
SIZE=${BENCH_SIZE:-4096}
ROUNDS=${BENCH_ROUNDS:-3}
. "$top_srcdir/tests/integration/lib.sh"
TR_KEEP=$KEEP
tr_require smtp-sink postfix
tr_require smtp-source postfix
tr_require curl curl
make_ca "$T/ca" || exit 1
P_SINK=$(free_port); TR_PORT=$(free_port); HP=$(free_port); WP=$(free_port)
smtp-sink -u nobody -R "$T" 127.0.0.1:"$P_SINK" 1024 > "$T/sink.log" 2>&1 &
tr_track $!
wait_port "$P_SINK" 10 || exit 1
head -c 32 /dev/urandom | base64 | tr -d '\n=' > "$T/secret"
ROUTE="default_route = { host = \"127.0.0.1\"; port = $P_SINK; tls = \"none\"; insecure_plaintext = true; sender = \"n@platform.test\"; max_connections = 10; };"
TR_CONF="$T/plain.conf"
write_conf "$T/plain.conf" "$ROUTE"
"$TR_BIN_CTL" -c "$T/plain.conf" key init > /dev/null 2>&1
SEALED=$("$TR_BIN_CTL" -c "$T/plain.conf" seal --tenant default --field webhook_secret < "$T/secret")
[ "$(id -u)" = 0 ] && chown -R nobody "$T/etc"
write_conf "$T/http.conf" "$ROUTE
http = { listen = ( { address = \"127.0.0.1\"; port = $HP; } ); api_tokens = \"$T/etc/api-tokens\"; };
webhook = { url = \"https://localhost:$WP/hook\"; secret = \"$SEALED\"; ca_file = \"$T/ca/ca.pem\"; cursor_file = \"$T/spool/webhook-http.cursor\"; };"
# Each configuration its own events file and cursor: the webhook posts only
# its own rounds' events, resuming where its previous round stopped.
sed -i "s|^events_file = .*|events_file = \"$T/log/events-http.jsonl\";|" "$T/http.conf"
# The two parts alone (BENCH_CASES="plain metrics webhook http" shows which costs what).
grep -v '^webhook = ' "$T/http.conf" | sed "s|events-http.jsonl|events-metrics.jsonl|" > "$T/metrics.conf"
grep -v '^http = ' "$T/http.conf" | sed "s|events-http.jsonl|events-webhook.jsonl|; s|webhook-http.cursor|webhook-webhook.cursor|" > "$T/webhook.conf"

"$PYTHON3" "$TR_TESTS/webhook_receiver.py" --port "$WP" --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
    --secret-file "$T/secret" --out "$T/hook.jsonl" --ready-file "$T/hook.ready" > "$T/hook.log" 2>&1 &
RECV=$!
tr_track $RECV
wait_for 15 test -s "$T/hook.ready" || exit 1

queue_empty() { [ -z "$(find "$T/spool/queue" -name '*.env' -print -quit 2>/dev/null)" ]; }
now() { date +%s.%N; }
# CPU seconds (user + system) of a process so far, from /proc.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
run_case() { # run_case NAME CONF: prints "msgs/s relay-CPU-us-per-message receiver-CPU-s"
    local name=$1 conf=$2 t0 t1 scraper="" rc0 rc1 dc
    start_daemon "$conf" > /dev/null || { echo "daemon did not start" >&2; exit 1; }
    if [ "$name" = http ] || [ "$name" = metrics ]; then
        wait_port "$HP" 10
        ( trap - EXIT; for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$HP/metrics"; sleep 1; done ) &
        scraper=$!
        tr_track "$scraper"
    fi
    rc0=$(cpu_of "$RECV")
    t0=$(now)
    timeout 600 smtp-source -s "$SESS" -m "$MSGS" -l "$SIZE" -f app@platform.test -t user@example.test \
        "127.0.0.1:$TR_PORT" > "$T/source.$name.log" 2>&1
    wait_for 600 queue_empty
    t1=$(now)
    dc=$(cpu_of "$TR_DAEMON_PID")
    rc1=$(cpu_of "$RECV")
    if [ -n "$scraper" ]; then kill "$scraper"; wait "$scraper" 2>/dev/null; tr_untrack "$scraper"; fi
    kill "$TR_DAEMON_PID"; wait_exit "$TR_DAEMON_PID" 30
    "$PYTHON3" -c "print('%.1f %.0f %.2f' % ($MSGS / ($t1 - $t0), $dc * 1e6 / $MSGS, $rc1 - $rc0))"
}

CASES=${BENCH_CASES:-plain http}
echo "tenantrelay HTTP bench: $MSGS x $SIZE bytes, $SESS smtp-source sessions, $ROUNDS rounds, cases alternated: $CASES"
declare -A res cpus rcpus
for r in $(seq 1 "$ROUNDS"); do
    line="round $r:"
    for c in $CASES; do
        read -r v cpu rcpu <<< "$(run_case "$c" "$T/$c.conf")"
        res[$c]="${res[$c]:-} $v"
        cpus[$c]="${cpus[$c]:-} $cpu"
        rcpus[$c]="${rcpus[$c]:-} $rcpu"
        line="$line  $c $v msgs/s ($cpu us CPU/msg)"
    done
    echo "$line"
done
sent=$(grep -c 'status=sent' "$T/daemon.log")
events=$(cat "$T/log/events-http.jsonl" 2>/dev/null | wc -l)
webhooked=$("$PYTHON3" -c 'import json,sys; print(len({json.loads(l)["event_id"] for l in open(sys.argv[1])}))' "$T/hook.jsonl" 2>/dev/null || echo 0)
badsig=$(grep -c '"sig_ok": false' "$T/hook.jsonl" 2>/dev/null)
args=()
for c in $CASES; do args+=("$c:${res[$c]}:${cpus[$c]}:${rcpus[$c]}"); done
"$PYTHON3" - "${args[@]}" <<'PY'
import statistics, sys
names = {"plain": "plain (no http, no webhook)", "http": "http (/metrics every 1 s + webhook)",
         "metrics": "/metrics every 1 s only", "webhook": "webhook only"}
rows = [(a.split(":")[0], [float(x) for x in a.split(":")[1].split()], [float(x) for x in a.split(":")[2].split()],
         [float(x) for x in a.split(":")[3].split()]) for a in sys.argv[1:]]
base = {r[0]: r for r in rows}.get("plain")
print("| case | msgs/s per round | median | vs plain | tenantrelayd CPU per message (median) | receiver CPU per round |")
print("|---|---|---|---|---|---|")
for name, v, cpu, rcpu in rows:
    m = statistics.median(v)
    rel = "%+.1f %%" % (100.0 * (m - statistics.median(base[1])) / statistics.median(base[1])) if base and name != "plain" else ""
    print("| %s | %s | %.1f | %s | %.0f us | %s |" % (names.get(name, name), " / ".join("%.1f" % x for x in v), m, rel,
          statistics.median(cpu), " / ".join("%.2f s" % x for x in rcpu)))
print("goal: http no worse than -5 % of plain")
PY
echo "status=sent lines: $sent (both cases); events of the http rounds: $events; received by the webhook (unique ids): $webhooked; bad signatures: ${badsig:-0}"
