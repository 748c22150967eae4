#!/bin/bash
# Issue #12 item 9: bounded and never skipped.
#  - a queued message whose envelope is malformed is not skipped at
#    start-up: it is failed at once with its reason, shown by `queue`;
#  - one whose envelope cannot be read (permissions) is retried, then
#    failed with its reason once max_age passed, never retried forever;
#  - one whose delivery state cannot be read is failed with its reason;
#  - none of them leaves by any route (their tenant is unknown);
#  - what the listener accepts can be read back: a message with 20,000
#    recipients of 211-octet addresses (a 4.4 MB envelope, over the old
#    4 MiB read cap) is delivered to every recipient.
. "$(dirname "$0")/lib.sh"

p_up=$(free_port)
TR_UPSTREAM_PORT=$p_up relay_conf 'retry = { schedule = [ 1 ]; max_age = 8; };' \
    'limits = { max_recipients = 20000; };' 'delivery = { connect_timeout = 2; command_timeout = 120; };'
start_daemon "$TR_CONF"

# Three messages queued while the upstream is down.
for i in 1 2 3; do
    printf 'Subject: m%s\r\n\r\nbody %s\r\n' "$i" "$i" > "$T/m$i"
    relay_send_file app@platform.test "u$i@example.test" "$T/m$i"
done
ok "three messages queued" wait_true 10 '[ "$(queue_count)" = 3 ]'
kill -TERM "$TR_DAEMON_PID"
wait_exit "$TR_DAEMON_PID" 30
mapfile -t ids < <(ls "$T/spool/queue" | sed -n 's/\.env$//p' | sort)
bad=${ids[0]} locked=${ids[1]} nostate=${ids[2]}
printf 'this is not an envelope\n' > "$T/spool/queue/$bad.env"
rootonly=0
if [ "$(id -u)" = 0 ]; then
    # The daemon runs as nobody: a root-only file is unreadable to it.
    rootonly=1
    chown root "$T/spool/queue/$locked.env" && chmod 600 "$T/spool/queue/$locked.env"
    printf 'garbage' > "$T/spool/queue/$nostate.state"
    chown root "$T/spool/queue/$nostate.state" && chmod 600 "$T/spool/queue/$nostate.state"
fi
start_upstream up "$p_up" implicit --pipelining
start_daemon "$TR_CONF"

qstate() {  # qstate QID: its state per `queue list --json`
    "$TR_BIN_CTL" -c "$TR_CONF" queue list --json 2>/dev/null | "$PYTHON3" -c '
import json, sys
for m in json.load(sys.stdin)["messages"]:
    if m["id"] == sys.argv[1]:
        print(m["state"], "|", m["last_reply"])' "$1"
}
ok "start-up names the malformed envelope (not skipped silently)" grep -q "$bad.*cannot read envelope" "$T/daemon.log"
ok "the malformed one is failed at once" wait_true 20 '[[ "$(qstate "$bad")" == failed* ]]'
ok "  shown by queue list with its reason" bash -c '[[ "$0" == *"not an envelope file"* ]]' "$(qstate "$bad")"
if [ "$rootonly" = 1 ]; then
    ok "the unreadable envelope is deferred with its reason" \
        wait_true 20 '[[ "$(qstate "$locked")" == *"Permission denied"* ]]'
    ok "  then failed once max_age passed" wait_true 30 '[[ "$(qstate "$locked")" == failed* ]]'
    ok "the message whose state cannot be read is failed with its reason" \
        wait_true 20 '[[ "$(qstate "$nostate")" == failed*"cannot read the delivery state"* ]]'
fi
ok "queue list still lists the whole queue" test "$("$TR_BIN_CTL" -c "$TR_CONF" queue list --json | grep -c '"id"')" = 3
ok "a failed event for each" wait_true 10 '[ "$(grep -c "\"status\":\"failed\"" "$T/log/events.jsonl")" -ge $((1 + 2 * rootonly)) ]'
ok "none of them left by a route" test "$(count_eml "$T/up.mail")" = 0

# The envelope size cap matches what the listener accepts.
"$PYTHON3" - "$TR_PORT" > "$T/big.out" 2>&1 <<'PY'
import smtplib, sys
# Local parts are at most 64 octets: the length is in the domain.
dom = ".".join(c * 63 for c in "abc") + ".example.test"
rcpts = ["r%05d@%s" % (i, dom) for i in range(20000)]
print("envelope recipient lines: %d bytes" % sum(len("recipient %s\n" % r) for r in rcpts))
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=120) as s:
    s.ehlo("app.test")
    s.mail("app@platform.test")
    for r in rcpts:
        code, _ = s.rcpt(r)
        if code != 250:
            print("rcpt refused", code); sys.exit(1)
    code, resp = s.data(b"Subject: many\r\n\r\nto many\r\n")
    print(code, resp.decode())
PY
ok "a message to 20,000 long addresses is accepted" grep -q "^250 " "$T/big.out"
sed "s/^/# /" "$T/big.out" | tail -3
ok "  its envelope is over 4 MiB (the old read cap)" \
    test "$(sed -n 's/^envelope recipient lines: \([0-9]*\) bytes/\1/p' "$T/big.out")" -gt 4194304
ok "  and it is delivered to all of them" wait_eml "$T/up.mail" 1 120
ok "  every recipient" test "$("$PYTHON3" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rcpt_tos"]))' "$T/up.mail/000001.json")" = 20000
kill -TERM "$TR_DAEMON_PID"
ok "clean stop" wait_exit "$TR_DAEMON_PID" 30
ok "no sanitizer report" bash -c '! grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$0"' "$T/daemon.log"
finish
