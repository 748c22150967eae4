#!/bin/bash
# bench_sessions.sh - memory per idle SMTP session: N sessions (default
# 1,000) held open on tenantrelayd and, side by side in the same run, on a
# peer (the aiosmtpd server the tests use as an upstream, one process, an
# event loop).  Each holds N connections from 127.0.0.1 that got their
# greeting and then stay silent; the figure is the server's resident memory
# (VmRSS, and Pss from smaps_rollup) with them open minus before, over N.
# A script, not a test (not run by make check).  Loopback only; every wait
# bounded; everything it starts is stopped by PID.
#
# Usage: bench/bench_sessions.sh [-k]   (from a configured build directory, or
# set top_builddir); BENCH_SESSIONS (1000).  -k keeps the work directory.
set -u
. "$(dirname "$0")/bench_env.sh"
N=${BENCH_SESSIONS:-1000}
ulimit -n $((N * 2 + 256)) 2>/dev/null || { echo "cannot raise the open-file limit to $((N * 2 + 256))" >&2; exit 1; }

kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/${3:-status}"; }
mem() {  # mem PID: "RSS_KB PSS_KB THREADS"
    echo "$(kb "$1" VmRSS) $(kb "$1" Pss smaps_rollup) $(kb "$1" Threads)"
}

# hold PORT NAME: N connections that read their greeting, then stay silent
# until $T/NAME.stop appears (at most 300 s).
hold() {
    "$PYTHON3" - "$1" "$N" "$T/$2.ready" "$T/$2.stop" > "$T/$2.hold.log" 2>&1 <<'PY' &
import os, socket, sys, time
port, n, ready, stop = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    line = s.makefile("rb").readline()
    if not line.startswith(b"220"):
        print("session %d: %r" % (i, line)); sys.exit(1)
    socks.append(s)
open(ready, "w").write("%d\n" % len(socks))
t0 = time.time()
while not os.path.exists(stop) and time.time() - t0 < 300:
    time.sleep(0.2)
PY
    HOLD_PID=$!
    tr_track "$HOLD_PID"
    wait_for 120 test -s "$T/$2.ready" || { echo "# $2: the sessions did not open" >&2; cat "$T/$2.hold.log" >&2; return 1; }
    sleep 2     # let the server settle (threads started, buffers allocated)
}
release() { touch "$T/$1.stop"; wait_exit "$HOLD_PID" 20 2>/dev/null || kill "$HOLD_PID" 2>/dev/null; sleep 2; }

make_ca "$T/ca" || exit 1
TR_PORT=$(free_port); export TR_PORT
write_conf "$T/relay.conf" "limits = { max_sessions = $((N + 100)); max_sessions_per_client = 0;
  stress_command_timeout = 0; command_timeout = 300; };"
start_daemon "$T/relay.conf" || { echo "tenantrelayd did not start" >&2; exit 1; }
p_peer=$(free_port)
start_upstream peer "$p_peer" none || exit 1
PEER_PID=${TR_PIDS[${#TR_PIDS[@]}-1]}

report() {  # report NAME PID before after
    local name=$1 b=($3) a=($4)
    printf '%-26s %9s %9s %9s %9s %11s %11s %8s\n' "$name" "${b[0]}" "${a[0]}" "${b[1]}" "${a[1]}" \
        "$(( (a[0] - b[0]) * 1024 / N ))" "$(( (a[1] - b[1]) * 1024 / N ))" "${a[2]}"
}
before=$(mem "$TR_DAEMON_PID"); hold "$TR_PORT" relay || exit 1; after=$(mem "$TR_DAEMON_PID")
open_sessions=$(grep -c 'connect from' "$T/daemon.log"); release relay; gone=$(mem "$TR_DAEMON_PID")
pbefore=$(mem "$PEER_PID"); hold "$p_peer" peer || exit 1; pafter=$(mem "$PEER_PID"); release peer

echo "# $N idle sessions from 127.0.0.1 (greeted, then silent); memory in KiB, per session in bytes"
printf '%-26s %9s %9s %9s %9s %11s %11s %8s\n' server rss_before rss_open pss_before pss_open \
    rss/session pss/session threads
report "tenantrelayd" "$TR_DAEMON_PID" "$before" "$after"
report "aiosmtpd (peer)" "$PEER_PID" "$pbefore" "$pafter"
echo "# tenantrelayd sessions opened: $open_sessions; after they closed: rss $(echo "$gone" | cut -d' ' -f1) KiB, threads $(echo "$gone" | cut -d' ' -f3)"
