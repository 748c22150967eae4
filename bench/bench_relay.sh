#!/bin/bash
# bench_relay.sh - delivered messages per second through tenantrelayd and,
# side by side in the same run, through a private Postfix instance on the
# same path, plus the no-relay limits.  A script, not a test (not run by
# make check).  Loopback only; every loop bounded; everything it starts is
# stopped by PID (Postfix by its own master's pid file: `postfix -c DIR stop`).
#
#   smtp-source (20 sessions, 4 KB) -> RELAY -> stunnel (implicit TLS,
#   syslog = no) -> smtp-sink (announces AUTH, accepts any credentials)
#
# Cases: A, one route (tenantrelayd's default route; Postfix with relayhost,
# connection cache and smtp_tls_connection_reuse through tlsproxy);
# B, 50 tenants resolved by sender domain, each its own credentials
# (Postfix: sender_dependent_relayhost_maps + smtp_sender_dependent_
# authentication, texthash maps).  "Delivered" = the relay's queue is empty
# again, timed from the first connection.
#
# Usage: bench/bench_relay.sh [-k]   (from a configured build directory, or
# set top_builddir); BENCH_MSGS (3000), BENCH_SESSIONS (20), BENCH_SIZE
# (4096), BENCH_LAT (300 sequential sends for the latency figures),
# BENCH_TENANTS (50), BENCH_ONLY (e.g. "relay" to skip Postfix).
# -k keeps the work directory.  PROFILE=perf|callgrind wraps tenantrelayd.
set -u
. "$(dirname "$0")/bench_env.sh"
MSGS=${BENCH_MSGS:-3000}
SESS=${BENCH_SESSIONS:-20}
SIZE=${BENCH_SIZE:-4096}
LAT=${BENCH_LAT:-300}
NT=${BENCH_TENANTS:-50}
ONLY=${BENCH_ONLY:-all}
PF="$T/pf"
PF_UP=0

bench_cleanup() {
    if [ "$PF_UP" = 1 ]; then
        postfix -c "$PF/etc" stop > /dev/null 2>&1
        # The master waits for its children; bounded.
        for _ in $(seq 1 50); do
            [ -s "$PF/queue/pid/master.pid" ] || break
            kill -0 "$(tr -d ' ' < "$PF/queue/pid/master.pid")" 2>/dev/null || break
            sleep 0.1
        done
    fi
    tr_cleanup
}
trap bench_cleanup EXIT

say() { printf '%s\n' "$*" >&2; }

# ---- the upstream: smtp-sink behind stunnel (server), and a client stunnel
# for the "straight to the TLS upstream" limit --------------------------------
make_ca "$T/ca" || { say "cannot make the test CA"; exit 1; }
P_SINK=$(free_port); P_TLS=$(free_port); P_CLI=$(free_port)
P_TR=$(free_port); P_PF=$(free_port)
smtp-sink -u nobody -R "$T" 127.0.0.1:"$P_SINK" 1024 > "$T/sink.log" 2>&1 &
SINK_PID=$!
tr_track $!
cat > "$T/stunnel-server.conf" <<CONF
foreground = yes
pid =
syslog = no
debug = 3
output = $T/stunnel-server.log
[smtps]
accept = 127.0.0.1:$P_TLS
connect = 127.0.0.1:$P_SINK
cert = $T/ca/server.pem
key = $T/ca/server.key
CONF
stunnel "$T/stunnel-server.conf" > /dev/null 2>&1 &
STUNNEL_PID=$!
tr_track $!
cat > "$T/stunnel-client.conf" <<CONF
foreground = yes
pid =
syslog = no
debug = 3
output = $T/stunnel-client.log
[tls-out]
client = yes
accept = 127.0.0.1:$P_CLI
connect = 127.0.0.1:$P_TLS
CAfile = $T/ca/ca.pem
verifyChain = yes
checkHost = localhost
CONF
stunnel "$T/stunnel-client.conf" > /dev/null 2>&1 &
tr_track $!
wait_port "$P_SINK" 10 && wait_port "$P_TLS" 10 && wait_port "$P_CLI" 10 || { say "upstream did not start"; exit 1; }

# ---- load generators and measurements --------------------------------------
now() { date +%s.%N; }
# source_one PORT SENDER COUNT SESSIONS
source_one() {
    timeout 600 smtp-source -s "$4" -m "$3" -l "$SIZE" -f "$2" -t user@example.test "127.0.0.1:$1" \
        >> "$T/source.log" 2>&1
}
# source_tenants PORT: MSGS messages from NT sender domains, SESS at a time
# (jobs of 20 messages, tenant = job mod NT; smtp-source has one sender).
source_tenants() {
    local port=$1 jobs=$((MSGS / 20)) j
    for j in $(seq 0 $((jobs - 1))); do echo "$((j % NT + 1))"; done | \
        xargs -P "$SESS" -I{} timeout 600 smtp-source -s 1 -m 20 -l "$SIZE" -f "app@t{}.test" \
            -t user@example.test "127.0.0.1:$port" >> "$T/source.log" 2>&1
}
# wait_empty COMMAND: until COMMAND prints nothing (polled every 20 ms, 600 s max).
wait_empty() {
    local i
    for i in $(seq 1 30000); do
        [ -z "$("$@")" ] && return 0
        sleep 0.02
    done
    return 1
}
tr_queue_first() { find "$T/spool/queue" -name '*.env' -print -quit 2>/dev/null; }
pf_queue_first() {
    find "$PF/queue/incoming" "$PF/queue/active" "$PF/queue/deferred" "$PF/queue/maildrop" \
        -type f -print -quit 2>/dev/null
}
# CPU accounting, in clock ticks: the machine's busy time (all cores) and
# one process's user+system time, so each case shows where the cores went.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# relay_ticks: CPU of RELAY_ROOT (the relay's main process, set per case),
# its reaped children (cutime/cstime) and its live children: exact across
# Postfix processes that start or exit during a case.
relay_ticks() {
    local p sum v
    [ -n "${RELAY_ROOT:-}" ] || { echo 0; return; }
    sum=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$RELAY_ROOT/stat" 2>/dev/null || echo 0)
    for p in $(pgrep -P "$RELAY_ROOT" 2>/dev/null); do
        v=$(proc_ticks "$p"); sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}
# timed NAME QUEUE-CHECK LOAD...: run the load, wait for the queue, print msgs/s.
timed() {
    local name=$1 check=$2 t0 t1 ta rate b0 b1 r0 r1 s0 s1 k0 k1
    shift 2
    b0=$(busy_ticks); r0=$(relay_ticks); s0=$(proc_ticks "$STUNNEL_PID"); k0=$(proc_ticks "$SINK_PID")
    t0=$(now)
    "$@"
    ta=$(now)
    if [ "$check" != none ] && ! wait_empty "$check"; then
        say "$name: the queue did not empty"
    fi
    t1=$(now)
    b1=$(busy_ticks); r1=$(relay_ticks); s1=$(proc_ticks "$STUNNEL_PID"); k1=$(proc_ticks "$SINK_PID")
    rate=$(awk -v n="$MSGS" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
    awk -v n="$name" -v hz="$(getconf CLK_TCK)" -v w="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
        -v busy=$((b1 - b0)) -v relay=$((r1 - r0)) -v tls=$((s1 - s0)) -v sink=$((k1 - k0)) -v m="$MSGS" \
        'BEGIN { printf "%s_cpu %.2f %.2f %.2f %.2f %.0f\n", n, busy / hz, relay / hz, tls / hz, sink / hz,
                 relay / hz * 1e6 / m }' >> "$T/results"
    say "$name: $MSGS messages in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s = $rate msgs/s (all accepted after $(awk -v a="$t0" -v b="$ta" 'BEGIN { printf "%.2f", b - a }') s)"
    echo "$name $rate" >> "$T/results"
}
# latency NAME PORT SENDER: p50/p95 connect->250 (after DATA) over LAT sequential sends.
latency() {
    "$PYTHON3" - "$2" "$3" "$LAT" "$SIZE" <<'PY' | while read -r a b; do echo "$1 $a $b" >> "$T/latency"; done
import smtplib, sys, time
port, sender, n, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
body = b"Subject: latency\r\nFrom: <%s>\r\nTo: <user@example.test>\r\n\r\n" % sender.encode()
body += (b"x" * 76 + b"\r\n") * (size // 78)
lat = []
for i in range(n):
    t0 = time.perf_counter()
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.ehlo("bench.test")
    s.sendmail(sender, ["user@example.test"], body)
    lat.append(time.perf_counter() - t0)
    s.quit()
lat.sort()
print("%.2f %.2f" % (lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.95)] * 1000))
PY
}
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
pf_rss() {  # sum and largest VmHWM (kB) over the Postfix master and its children
    local master pids p sum=0 max=0 v
    master=$(tr -d ' ' < "$PF/queue/pid/master.pid" 2>/dev/null)
    [ -n "$master" ] || { echo "0 0 0"; return; }
    pids="$master $(pgrep -P "$master" 2>/dev/null | tr '\n' ' ')"
    for p in $pids; do
        v=$(hwm_kb "$p"); v=${v:-0}
        sum=$((sum + v)); [ "$v" -gt "$max" ] && max=$v
    done
    echo "$sum $max $(echo $pids | wc -w)"
}

# ---- the no-relay limits ---------------------------------------------------
: > "$T/results"; : > "$T/latency"
say "== limits (smtp-source, $SESS sessions, $MSGS x $SIZE bytes)"
RELAY_ROOT=
timed "limit_plain_sink" none source_one "$P_SINK" app@platform.test "$MSGS" "$SESS"
timed "limit_tls_upstream" none source_one "$P_CLI" app@platform.test "$MSGS" "$SESS"

# ---- tenantrelayd ------------------------------------------------------------
if [ "$ONLY" = all ] || [ "$ONLY" = relay ]; then
TR_PORT=$P_TR
TR_CONF="$T/relay.conf"
export TR_PORT TR_CONF
TR_UPSTREAM_PORT=$P_TLS write_conf "$TR_CONF" 'limits = { max_sessions = 1000; };'
tr_ctl key init > "$T/key.out" 2>&1
token=$(printf 'platform-pw' | tr_ctl seal --tenant default --field password)
set_default_route "$TR_CONF" "host = \"127.0.0.1\"; port = $P_TLS; tls = \"implicit\";
  username = \"platform\"; password = \"$token\"; max_connections = 10;
  sender = \"notifications@platform.test\"; ca_file = \"$T/ca/ca.pem\";"
for i in $(seq 1 "$NT"); do
    printf 'pw-%d' "$i" | tr_ctl tenant set "t$i" --host 127.0.0.1 --port "$P_TLS" --tls implicit \
        --username "user$i" --password-stdin --sender "mailer@t$i.test" --domain "t$i.test" \
        --ca-file "$T/ca/ca.pem" --no-test >> "$T/tenants.out" 2>&1 || say "tenant t$i not saved"
done
# The daemon (only it) runs with the environment its systemd unit gives it.
unit_env=()
while IFS= read -r assignment; do
    unit_env+=("$assignment")
done < <(sed -n 's/^Environment=//p' "$top_srcdir/systemd/tenantrelayd.service.in")
case "${PROFILE:-}" in
perf)
    env "${unit_env[@]}" perf record -e cpu-clock -g -o "$T/perf.data" -- "$TR_BIN_DAEMON" -f -c "$TR_CONF" >> "$T/daemon.log" 2>&1 &
    ;;
callgrind)
    env "${unit_env[@]}" valgrind --tool=callgrind --callgrind-out-file="$T/callgrind.out" \
        "$TR_BIN_DAEMON" -f -c "$TR_CONF" >> "$T/daemon.log" 2>&1 &
    ;;
*)
    env "${unit_env[@]}" "$TR_BIN_DAEMON" -f -c "$TR_CONF" >> "$T/daemon.log" 2>&1 &
    ;;
esac
TR_DAEMON_PID=$!
tr_track "$TR_DAEMON_PID"
wait_port "$P_TR" 60 || { say "tenantrelayd did not start"; cat "$T/daemon.log" >&2; exit 1; }
# The daemon drops root: let it write its profile at exit.
[ -n "${PROFILE:-}" ] && chown nobody "$T"/perf.data "$T"/callgrind.out 2>/dev/null
DPID=$TR_DAEMON_PID
[ -n "${PROFILE:-}" ] && DPID=$(pgrep -P "$TR_DAEMON_PID" tenantrelayd || echo "$TR_DAEMON_PID")
say "== tenantrelayd (pid $DPID)"
RELAY_ROOT=$TR_DAEMON_PID
timed "relay_A" tr_queue_first source_one "$P_TR" app@platform.test "$MSGS" "$SESS"
echo "relay_A_rss $(hwm_kb "$DPID")" >> "$T/results"
timed "relay_B" tr_queue_first source_tenants "$P_TR"
echo "relay_B_rss $(hwm_kb "$DPID")" >> "$T/results"
latency relay_A "$P_TR" app@platform.test
latency relay_B "$P_TR" app@t7.test
wait_empty tr_queue_first
echo "relay_sent $(grep -c 'status=sent' "$T/daemon.log")" >> "$T/results"
echo "relay_final_rss $(hwm_kb "$DPID")" >> "$T/results"
kill -TERM "$TR_DAEMON_PID"; wait_exit "$TR_DAEMON_PID" 30
fi

# ---- Postfix -------------------------------------------------------------------
# pf_config A|B: a private instance's main.cf and master.cf.
pf_config() {
    pf_private_config "$PF" "$P_PF" pf.bench.test
    echo "tlsproxy  unix  -       -       n       -       0       tlsproxy" >> "$PF/etc/master.cf"
    cat >> "$PF/etc/main.cf" <<CONF
smtp_tls_wrappermode = yes
smtp_tls_security_level = encrypt
smtp_tls_CAfile = $T/ca/ca.pem
smtp_tls_connection_reuse = yes
smtp_connection_cache_on_demand = yes
smtp_connection_cache_destinations = [127.0.0.1]:$P_TLS
smtp_sasl_auth_enable = yes
smtp_sasl_security_options = noanonymous
smtp_sasl_tls_security_options = noanonymous
CONF
    : > "$PF/etc/sasl"
    if [ "$1" = A ]; then
        printf 'relayhost = [127.0.0.1]:%s\nsmtp_sasl_password_maps = texthash:%s/etc/sasl\n' \
            "$P_TLS" "$PF" >> "$PF/etc/main.cf"
        printf '[127.0.0.1]:%s platform:platform-pw\n' "$P_TLS" > "$PF/etc/sasl"
    else
        : > "$PF/etc/relays"
        for i in $(seq 1 "$NT"); do
            printf '@t%d.test [127.0.0.1]:%s\n' "$i" "$P_TLS" >> "$PF/etc/relays"
            printf '@t%d.test user%d:pw-%d\n' "$i" "$i" "$i" >> "$PF/etc/sasl"
        done
        cat >> "$PF/etc/main.cf" <<CONF
relayhost = [127.0.0.1]:$P_TLS
sender_dependent_relayhost_maps = texthash:$PF/etc/relays
smtp_sender_dependent_authentication = yes
smtp_sasl_password_maps = texthash:$PF/etc/sasl
CONF
    fi
}
pf_start() {
    postfix -c "$PF/etc" start >> "$T/postfix.out" 2>&1 || { cat "$T/postfix.out" >&2; return 1; }
    PF_UP=1
    wait_port "$P_PF" 30
}
pf_stop() {
    postfix -c "$PF/etc" stop >> "$T/postfix.out" 2>&1
    for _ in $(seq 1 100); do
        [ -s "$PF/queue/pid/master.pid" ] || break
        kill -0 "$(tr -d ' ' < "$PF/queue/pid/master.pid")" 2>/dev/null || break
        sleep 0.1
    done
    PF_UP=0
}
if [ "$ONLY" = all ] || [ "$ONLY" = postfix ]; then
    say "== Postfix $(postconf -d -h mail_version) (private instance in $PF)"
    pf_config A && pf_start || exit 1
    RELAY_ROOT=$(tr -d ' ' < "$PF/queue/pid/master.pid")
    timed "postfix_A" pf_queue_first source_one "$P_PF" app@platform.test "$MSGS" "$SESS"
    latency postfix_A "$P_PF" app@platform.test
    wait_empty pf_queue_first
    echo "postfix_A_rss $(pf_rss)" >> "$T/results"
    pf_stop
    pf_config B && pf_start || exit 1
    RELAY_ROOT=$(tr -d ' ' < "$PF/queue/pid/master.pid")
    timed "postfix_B" pf_queue_first source_tenants "$P_PF"
    latency postfix_B "$P_PF" app@t7.test
    wait_empty pf_queue_first
    echo "postfix_B_rss $(pf_rss)" >> "$T/results"
    echo "postfix_sent $(grep -c 'status=sent' "$PF/maillog")" >> "$T/results"
    echo "postfix_reuse $(grep -c 'status=sent' "$PF/maillog") $(grep -c 'conn_use=' "$PF/maillog")" >> "$T/results"
    pf_stop
fi

# ---- the table -------------------------------------------------------------------
"$PYTHON3" - "$T/results" "$T/latency" "$MSGS" "$SESS" "$SIZE" "$NT" "$LAT" <<'PY'
import sys
res, lat = {}, {}
for line in open(sys.argv[1]):
    f = line.split()
    res[f[0]] = f[1:]
for line in open(sys.argv[2]):
    f = line.split()
    lat[f[0]] = (f[1], f[2])
msgs, sess, size, nt, lat_n = sys.argv[3:8]
def rate(k):
    return float(res[k][0]) if k in res else None
print("tenantrelay bench: %s messages x %s bytes, %s smtp-source sessions, %s tenants in case B" % (msgs, size, sess, nt))
print()
print("| path | msgs/s | vs Postfix | p50 connect->250 | p95 | peak RSS |")
print("|---|---:|---:|---:|---:|---:|")
for case in ("A", "B"):
    r, p = rate("relay_" + case), rate("postfix_" + case)
    if r is not None:
        ratio = "%.1fx" % (r / p) if p else "-"
        l = lat.get("relay_" + case, ("-", "-"))
        rss = res.get("relay_%s_rss" % case, ["?"])[0]
        print("| tenantrelayd, case %s | %.0f | %s | %s ms | %s ms | %.1f MiB (VmHWM) |" % (case, r, ratio, l[0], l[1], int(rss) / 1024))
    if p is not None:
        l = lat.get("postfix_" + case, ("-", "-"))
        rs = res.get("postfix_%s_rss" % case, ["0", "0", "0"])
        print("| Postfix, case %s | %.0f | 1.0x | %s ms | %s ms | %.1f MiB sum over %s processes (largest %.1f) |" % (
            case, p, l[0], l[1], int(rs[0]) / 1024, rs[2], int(rs[1]) / 1024))
for k, name in (("limit_tls_upstream", "smtp-source -> stunnel -> TLS upstream (no relay)"),
                ("limit_plain_sink", "smtp-source -> smtp-sink, plaintext (no relay)")):
    if k in res:
        print("| %s | %.0f | | | | |" % (name, rate(k)))
cpu = [(k[:-4], res[k]) for k in ("limit_plain_sink_cpu", "limit_tls_upstream_cpu", "relay_A_cpu",
                                    "relay_B_cpu", "postfix_A_cpu", "postfix_B_cpu") if k in res]
if cpu:
    print()
    print("CPU seconds per case (2 cores: busy can reach 2 x wall time; 'rest' is the load generator, kernel threads and others):")
    print()
    print("| case | machine busy | relay | stunnel (TLS upstream) | smtp-sink | rest | relay CPU per message |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, f in cpu:
        busy, relay, tls, sink, per = (float(x) for x in f)
        print("| %s | %.2f s | %.2f s | %.2f s | %.2f s | %.2f s | %s |" % (
            name, busy, relay, tls, sink, busy - relay - tls - sink, "%.0f us" % per if relay else "-"))
print()
print("Case A: one route (tenantrelayd default route; Postfix relayhost + connection cache + smtp_tls_connection_reuse/tlsproxy).")
print("Case B: %s tenants by sender domain, each its own credentials (Postfix sender_dependent_relayhost_maps + smtp_sender_dependent_authentication)." % nt)
if "relay_sent" in res:
    print("tenantrelayd logged %s deliveries status=sent (expected %d: both cases and the latency sends)." % (res["relay_sent"][0], 2 * int(msgs) + 2 * int(lat_n)))
if "postfix_sent" in res:
    print("Postfix logged %s deliveries status=sent over both of its cases and its latency sends." % res["postfix_sent"][0])
PY
