#!/bin/bash
# bench_oauth.sh - delivered messages per second through an XOAUTH2 route,
# side by side in the same run with a password route to the SAME upstream
# (tests/integration/oauth_upstream.py: aiosmtpd with implicit TLS offering
# XOAUTH2 and PLAIN, and its HTTPS token endpoint; messages counted, not
# stored).  A script, not a test (not run by make check).  Loopback only;
# every loop bounded; everything it starts is stopped by PID.
#
# Cases, each run for both routes, alternating (password, xoauth2,
# password, xoauth2) so that drift hits both alike:
#   reuse  - the daemon's defaults: sessions reused, one AUTH per session;
#   fresh  - messages_per_session = 1: a new session and AUTH per message,
#            where the token (from the cache) and the password (opened
#            from the vault) are on every message's path.
# "Delivered" = the relay's queue is empty again, timed from the first
# message sent; three rounds per route, the median shown with all three.
# On a shared machine wall time is noisy, so the daemon's own CPU time per
# message (utime + stime from /proc, summed over the rounds) is printed too.
# The closing lines give the xoauth2/password ratios.
#
# Usage: bench/bench_oauth.sh [-k]   (from a configured build directory, or
# set top_builddir); BENCH_MSGS (1000), BENCH_SENDERS (4).
set -u
. "$(dirname "$0")/bench_env.sh"
. "$top_srcdir/tests/integration/oauth_lib.sh"
MSGS=${BENCH_MSGS:-1000}
SENDERS=${BENCH_SENDERS:-4}
say() { printf '%s\n' "$*" >&2; }

make_ca "$T/ca" || { say "cannot make the test CA"; exit 1; }
SECRET="bench-$(openssl rand -hex 16)"
printf '%s\n' "$SECRET" > "$T/secret"
CID=22222222-3333-4444-5555-666666666666
sp=$(free_port); hp=$(free_port)
start_provider up "$sp" "$hp" --client-id "$CID" --client-secret-file "$T/secret" --mailbox box@ox.test \
    --password "box@pw.test:$SECRET" --no-store || exit 1

TR_PORT=$(free_port)
TR_CONF="$T/tr.conf"

conf() {   # conf MESSAGES_PER_SESSION
    write_conf "$TR_CONF" "delivery = { messages_per_session = $1; idle_timeout = 10; };"
}
conf 100
tr_ctl key init > /dev/null 2>&1
printf '%s\n' "$SECRET" | tr_ctl tenant set pw --host localhost --port "$sp" --tls implicit \
    --ca-file "$T/ca/ca.pem" --username box@pw.test --password-stdin --sender box@pw.test --domain pw.test \
    > "$T/set-pw.out" 2>&1 || { say "tenant set pw failed"; cat "$T/set-pw.out" >&2; exit 1; }
printf '%s\n' "$SECRET" | tr_ctl tenant set ox --host localhost --port "$sp" --tls implicit \
    --ca-file "$T/ca/ca.pem" --username box@ox.test --sender box@ox.test --domain ox.test --auth xoauth2 \
    --oauth-provider microsoft --oauth-token-url "https://localhost:$hp/dir/oauth2/v2.0/token" \
    --oauth-client-id "$CID" --oauth-secret-stdin > "$T/set-ox.out" 2>&1 \
    || { say "tenant set ox failed"; cat "$T/set-ox.out" >&2; exit 1; }

now_ms() { date +%s%3N; }
# The daemon's CPU time so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$TR_DAEMON_PID/stat"; }
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }

# run ROUTE-DOMAIN: MSGS messages from SENDERS senders; prints msgs/s.
run() {
    local dom=$1 t0 t1
    t0=$(now_ms)
    send_many "$MSGS" "$SENDERS" "app@$dom" someone@example.net
    # The queue drains: bounded at 10 minutes.
    for _ in $(seq 1 6000); do
        [ "$(queue_count)" -eq 0 ] && break
        sleep 0.1
    done
    t1=$(now_ms)
    [ "$(queue_count)" -eq 0 ] || { say "queue did not drain for $dom"; echo 0; return; }
    "$PYTHON3" -c "print('%.0f' % ($MSGS * 1000.0 / max(1, $t1 - $t0)))"
}

declare -A R C
hz=$(getconf CLK_TCK)
for case in reuse fresh; do
    if [ "$case" = fresh ]; then conf 1; else conf 100; fi
    start_daemon "$TR_CONF" || { say "daemon did not start"; exit 1; }
    C[$case.pw.test]=0
    C[$case.ox.test]=0
    for round in 1 2 3; do
        for dom in pw.test ox.test; do
            c0=$(cpu_ticks)
            R[$case.$dom.$round]=$(run "$dom")
            C[$case.$dom]=$(( C[$case.$dom] + $(cpu_ticks) - c0 ))
            say "  $case $dom round $round: ${R[$case.$dom.$round]} msgs/s"
        done
    done
    kill -TERM "$TR_DAEMON_PID"
    wait_exit "$TR_DAEMON_PID" 30
done
tokens=$(provider_stat "$hp" 'd["token_requests"]')
delivered=$(provider_stat "$hp" 'd.get("delivered", 0)')

printf '\n%-7s %-24s %-24s %-9s %-22s %s\n' case "password msgs/s" "xoauth2 msgs/s" "ratio" \
    "CPU us/msg pw | xoauth2" "ratio"
for case in reuse fresh; do
    p=$(median3 "${R[$case.pw.test.1]}" "${R[$case.pw.test.2]}" "${R[$case.pw.test.3]}")
    o=$(median3 "${R[$case.ox.test.1]}" "${R[$case.ox.test.2]}" "${R[$case.ox.test.3]}")
    cp=$(( C[$case.pw.test] * 1000000 / hz / (3 * MSGS) ))
    co=$(( C[$case.ox.test] * 1000000 / hz / (3 * MSGS) ))
    printf '%-7s %-24s %-24s %-9s %-22s %s\n' "$case" \
        "$p (${R[$case.pw.test.1]},${R[$case.pw.test.2]},${R[$case.pw.test.3]})" \
        "$o (${R[$case.ox.test.1]},${R[$case.ox.test.2]},${R[$case.ox.test.3]})" \
        "$("$PYTHON3" -c "print('%.2f' % ($o / max(1, $p)))")" "$cp | $co" \
        "$("$PYTHON3" -c "print('%.2f' % ($co / max(1, $cp)))")"
done
printf '\n%s messages per run, %s senders; the upstream counted %s messages; token requests: %s (the probe'"'"'s, then one per daemon start)\n' \
    "$MSGS" "$SENDERS" "$delivered" "$tokens"
