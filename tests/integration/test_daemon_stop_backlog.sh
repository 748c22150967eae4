#!/bin/bash
# Issue #12 item 6: SIGTERM during a 2,000-message backlog, with delivery
# workers in flight to an upstream that waits 1 s per message and clients
# still sending.  The stop order (listener, then delivery, then the spool
# the daemon owns) leaves no use-after-free: no sanitizer report (CI's
# second pass runs this under ASan/UBSan) and a clean exit.  After the
# restart every acknowledged message arrives; a duplicate is allowed only
# for a message in flight at the stop (the at-least-once window), so at
# most max_connections of them.
. "$(dirname "$0")/lib.sh"
tr_require smtp-source postfix

p_up=$(free_port)
TR_UPSTREAM_PORT=$p_up relay_conf 'retry = { schedule = [ 1 ]; };' \
    'limits = { max_sessions = 64; };' 'delivery = { connect_timeout = 5; command_timeout = 30; };'
sed -i 's/ca_file = /max_connections = 20; ca_file = /' "$TR_CONF"
start_upstream slow "$p_up" implicit --data-delay 1
slow_pid=${TR_PIDS[${#TR_PIDS[@]}-1]}
start_daemon "$TR_CONF"

# Clients: 8 connections of 250 messages each; every 250 reply's queue id
# is recorded (the acknowledged messages).
"$PYTHON3" - "$TR_PORT" "$T/acked" > "$T/clients.log" 2>&1 <<'PY' &
import smtplib, sys, threading
port, out = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
def client(k):
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=60)
        s.ehlo("app.test")
        for i in range(250):
            s.mail("app@platform.test")
            s.rcpt("user%d@example.test" % k)
            code, resp = s.data(b"Subject: backlog %d-%d\r\n\r\nmessage %d of client %d\r\n" % (k, i, i, k))
            if code == 250:
                with lock, open(out, "a") as f:
                    f.write(resp.decode().split()[-1] + "\n")
            else:
                return
        s.quit()
    except Exception as e:
        print("client %d stopped: %s" % (k, e))
ts = [threading.Thread(target=client, args=(k,)) for k in range(8)]
for t in ts: t.start()
for t in ts: t.join()
PY
clients=$!
tr_track $clients
acked() { [ -f "$T/acked" ] && wc -l < "$T/acked" || echo 0; }
ok "a backlog of 2,000 messages is acknowledged while the upstream is slow" wait_true 180 '[ "$(acked)" -ge 2000 ]'
# Slow start opens one more connection per second here (each first message
# takes 1 s): wait until many workers hold a message at the upstream.
ok "delivery is under way, workers in flight" wait_true 60 '[ "$(count_eml "$T/slow.mail")" -ge 40 ]'
kill -TERM "$TR_DAEMON_PID"
ok "the daemon stops within its bounds" wait_exit "$TR_DAEMON_PID" 60
ok "  with exit status 0" test "${TR_EXIT:-1}" = 0
ok "no sanitizer report" bash -c '! grep -E "AddressSanitizer|LeakSanitizer|runtime error:|heap-use-after-free" "$0"' "$T/daemon.log"
wait_exit "$clients" 60 || kill "$clients" 2>/dev/null
sort -u "$T/acked" > "$T/acked.ids"
nacked=$(wc -l < "$T/acked.ids")
echo "# acknowledged: $nacked, delivered before the stop: $(count_eml "$T/slow.mail")"
ok "2,000 messages acknowledged" test "$nacked" -ge 2000

# A fast upstream on the same port (its own maildir), then the restart.
kill -TERM "$slow_pid"
wait_exit "$slow_pid" 20
start_upstream fast "$p_up" implicit
start_daemon "$TR_CONF"
ids_at() { cat "$T"/slow.mail/*.eml "$T"/fast.mail/*.eml 2>/dev/null | grep -ao 'with E*SMTP[SA]* id [0-9A-Z]*' | awk '{print $NF}'; }
all_arrived() { ids_at | sort -u > "$T/arrived.ids"; [ -z "$(comm -23 "$T/acked.ids" "$T/arrived.ids")" ]; }
ok "after the restart every acknowledged message arrives" wait_for 240 all_arrived
echo "# missing: $(comm -23 "$T/acked.ids" "$T/arrived.ids" | wc -l)"
dups=$(ids_at | sort | uniq -d | wc -l)
echo "# duplicates: $dups (allowed: those in flight at the stop, at most max_connections = 20)"
ok "duplicates only within the at-least-once window (<= 20)" test "$dups" -le 20
ok "the queue empties" wait_true 60 '[ "$(queue_count)" = 0 ]'
kill -TERM "$TR_DAEMON_PID"
ok "the second stop is clean too" wait_exit "$TR_DAEMON_PID" 60
ok "  with exit status 0" test "${TR_EXIT:-1}" = 0
ok "no sanitizer report in either run" bash -c '! grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$0"' "$T/daemon.log"
finish
