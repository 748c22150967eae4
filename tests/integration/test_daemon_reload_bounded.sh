#!/bin/bash
# Issue #12 item 8: reloads free what they replace (keyring in locked
# memory, TLS contexts, retired routes, the old store).  1,000 reloads,
# with messages delivered by a tenant's route and the default route
# between them and tenants added and removed, leave RSS and VmLck within
# 10% of their values after the first 10.  A memory bound, not a timing one.
# Under ASan (CI's second pass) the figures are not the program's: ASan
# makes mlock a no-op (VmLck 0) and its own bookkeeping (quarantine, stack
# depot, per-thread state) grows RSS.  There the test checks what ASan can:
# freeing each replaced keyring and TLS context while sessions may still
# hold the previous generation causes no use-after-free over 1,000 reloads,
# and LeakSanitizer finds nothing at exit; the figures are printed only.
. "$(dirname "$0")/lib.sh"

make_ca "$T/ca"
p_default=$(free_port); p_acme=$(free_port)
start_upstream default "$p_default" implicit --auth platform:pl4tform-s3cret
start_upstream acme "$p_acme" implicit --auth acme-user:acme-s3cret-pw
TR_PORT=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT TR_CONF
write_conf "$TR_CONF" 'retry = { schedule = [ 1 ]; };' 'delivery = { idle_timeout = 2; };'
routes_default_acme "$p_default" "$p_acme"
asan=0
ldd "$TR_BIN_DAEMON" 2>/dev/null | grep -q libasan && asan=1
start_daemon "$TR_CONF"

field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$TR_DAEMON_PID/status"; }
sent=0
send_pair() {
    printf 'From: a@acme.test\r\nSubject: r\r\n\r\nbody\r\n' > "$T/a.msg"
    relay_send_file app@acme.test u@example.test "$T/a.msg" &&
        relay_send_file app@platform.test u@example.test "$T/a.msg" && sent=$((sent + 1))
}
reloads_ok=0
reload_n() {
    local i
    for i in $(seq 1 "$1"); do
        "$TR_BIN_CTL" -c "$TR_CONF" reload > /dev/null 2>&1 && reloads_ok=$((reloads_ok + 1))
    done
}
send_pair
wait_eml "$T/acme.mail" 1 20
reload_n 10
send_pair
wait_eml "$T/acme.mail" 2 20
rss10=$(field VmRSS); lck10=$(field VmLck)
echo "# after 10 reloads: VmRSS ${rss10} kB, VmLck ${lck10} kB"
for round in $(seq 1 18); do
    reload_n 55; [ -n "${TR_TRACE_RSS:-}" ] && echo "# round $round VmRSS $(field VmRSS)"
    send_pair
    # A tenant that comes and goes: its route is retired at the next reload.
    if [ $((round % 2)) = 1 ]; then
        tr_ctl tenant set "t$round" --host 127.0.0.1 --port "$p_acme" --tls implicit \
            --sender "x@t$round.test" --ca-file "$T/ca/ca.pem" --no-test > /dev/null 2>&1
    else
        tr_ctl tenant remove "t$((round - 1))" > /dev/null 2>&1
    fi
done
ok "1,000 reloads, every one accepted" test "$reloads_ok" = 1000
ok "mail went by both routes throughout" wait_true 60 '[ "$(count_eml "$T/acme.mail")" = "$sent" ] && [ "$(count_eml "$T/default.mail")" = "$sent" ]'
# Let idle sessions (and the generations they pin) end.
sleep 3
rss=$(field VmRSS); lck=$(field VmLck)
echo "# after 1,000 reloads: VmRSS ${rss} kB, VmLck ${lck} kB"
if [ "$asan" = 0 ]; then
    ok "RSS within 10% of its value after 10 reloads" test "$rss" -le $((rss10 * 110 / 100))
    ok "VmLck within 10% of its value after 10 reloads" test "$lck" -le $((lck10 * 110 / 100))
    ok "the keyring is in locked memory (VmLck > 0)" test "$lck10" -gt 0
else
    echo "# ASan build: RSS and VmLck are ASan's, not asserted (see the top of this file)"
fi
kill -TERM "$TR_DAEMON_PID"
ok "clean stop" wait_exit "$TR_DAEMON_PID" 30
ok "  exit status 0" test "${TR_EXIT:-1}" = 0
ok "no sanitizer report" bash -c '! grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$0"' "$T/daemon.log"
ok "no secret in the log" bash -c '! grep -q -e pl4tform-s3cret -e acme-s3cret-pw "$0"' "$T/daemon.log"
finish
