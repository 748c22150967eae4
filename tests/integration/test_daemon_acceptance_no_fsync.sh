#!/bin/bash
# Issue #12 item 11: the acceptance path never waits on another message's
# fsync.  The listener hands each message to delivery (under the delivery
# lock) before its 250; the circuit breaker, an operator's hold and the
# scheduler write other messages' state files.  Here those state writes
# stall (an LD_PRELOAD shim blocks the fsync of every state file recording
# "held" while a marker file exists, as a stalled disk would), the breaker
# opens on tenant acme's bad password and tries to hold acme's queue, and
# a platform message sent meanwhile must still get its 250 and be
# delivered.  No time is measured: the stalled write lasts until the test
# ends it (or 60 s), and the 250 must come while it is still stalled.
. "$(dirname "$0")/lib.sh"
tr_require cc gcc

cc -shared -fPIC -O1 -o "$T/fsync_block.so" "$top_srcdir/tests/tools/fsync_block.c" -ldl ||
    { echo "# cannot build the fsync shim" >&2; exit 99; }
make_ca "$T/ca"
p_default=$(free_port); p_acme=$(free_port)
start_upstream default "$p_default" implicit
start_upstream acme "$p_acme" implicit --auth acme-user:the-right-one
TR_PORT=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT TR_CONF
TR_UPSTREAM_PORT=$p_default write_conf "$TR_CONF" \
    'retry = { schedule = [ 1 ]; max_age = 3600; auth_failures_before_hold = 2; };'
tr_ctl key init > "$T/key.out" 2>&1
printf 'a-wrong-password' | tr_ctl tenant set acme --host 127.0.0.1 --port "$p_acme" --tls implicit \
    --username acme-user --password-stdin --sender mailer@acme.test --domain acme.test \
    --ca-file "$T/ca/ca.pem" --no-test > "$T/set.out" 2>&1

# In a directory the daemon (run as its user) may write: the shim says "seen" there.
marker="$T/run/stall-held-writes"
touch "$marker"
# The ASan runtime must come first among libraries; the shim is not
# instrumented, so let ASan accept it after.
FSYNC_BLOCK_MARKER="$marker" LD_PRELOAD="$T/fsync_block.so" \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0" start_daemon "$TR_CONF"

for i in 1 2 3 4 5 6; do
    printf 'From: app@acme.test\r\nSubject: acme %s\r\n\r\nbody\r\n' "$i" > "$T/a$i"
    relay_send_file app@acme.test "u$i@example.test" "$T/a$i"
done
ok "the breaker opens and its held-state write stalls" wait_for 60 test -e "$marker.seen"
# When it did not happen, say what the daemon saw (diagnostics only).
[ -e "$marker.seen" ] || { grep -h "^state " "$T"/spool/queue/*.state | sort | uniq -c; tail -3 "$T/daemon.log"; } | sed "s/^/# /"

# Now, while that write is stalled: a platform message.
"$PYTHON3" - "$TR_PORT" > "$T/platform.out" 2>&1 <<'PY' &
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=45) as s:
    code, resp = s.sendmail("app@platform.test", ["p@example.test"],
                            b"From: app@platform.test\r\nSubject: platform\r\n\r\nbody\r\n") or (250, b"")
print("accepted")
PY
client=$!
tr_track $client
ok "the platform message gets its 250 while the state write is still stalled" \
    wait_for 40 grep -q accepted "$T/platform.out"
ok "  (the write was indeed still stalled then)" test -e "$marker"
ok "  and is delivered" wait_eml "$T/default.mail" 1 30
rm -f "$marker"
ok "once the disk is back, acme's messages are held (never sent by the default route)" \
    wait_true 30 '[ "$(queue_state_count held)" -ge 1 ]'
ok "only the platform message reached the default route" test "$(count_eml "$T/default.mail")" = 1
kill -TERM "$TR_DAEMON_PID"
ok "clean stop" wait_exit "$TR_DAEMON_PID" 30
ok "no sanitizer report" bash -c '! grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$0"' "$T/daemon.log"
finish
