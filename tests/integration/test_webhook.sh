#!/bin/bash
# Event webhooks against a real HTTPS receiver (cert from the tests' CA)
# that verifies every signature: events arrive signed with their ids; the
# receiver is down for 20 s while 500 messages are delivered (delivery does
# not wait for it) and afterwards every event arrives, deduplicated by id;
# tenantrelayd killed with -9 mid-backlog resumes from its cursor (it
# resends at most the batch in flight, never the whole file).
. "$(dirname "$0")/lib.sh"
tr_require smtp-source postfix
tr_require_python ssl python3
make_ca "$T/ca" || exit 1
TR_PORT=$(free_port); TR_UPSTREAM_PORT=$(free_port); WP=$(free_port)
TR_CONF="$T/tr.conf"
head -c 32 /dev/urandom | base64 | tr -d '\n=' > "$T/secret"
write_conf "$T/tr.conf.base"
tr_ctl() { "$TR_BIN_CTL" -c "$T/tr.conf.base" "$@"; local rc=$?; [ "$(id -u)" = 0 ] && chown -R "${TR_USER:-nobody}" "$T/etc"; return $rc; }
tr_ctl key init > /dev/null 2>&1
SEALED=$(tr_ctl seal --tenant default --field webhook_secret < "$T/secret")
ok "the webhook secret seals" test -n "$SEALED"
BATCH=50
write_conf "$TR_CONF" "webhook = { url = \"https://localhost:$WP/hook\"; secret = \"$SEALED\"; ca_file = \"$T/ca/ca.pem\"; batch_size = $BATCH; max_backoff = 2; timeout = 5; };"
start_upstream def "$TR_UPSTREAM_PORT" implicit || exit 1

start_receiver() { # start_receiver [options]: the receiver, appending to $T/hook.jsonl
    rm -f "$T/hook.ready"
    "$PYTHON3" "$TR_TESTS/webhook_receiver.py" --port "$WP" --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
        --secret-file "$T/secret" --out "$T/hook.jsonl" --ready-file "$T/hook.ready" "$@" >> "$T/hook.log" 2>&1 &
    RECV=$!
    tr_track "$RECV"
    wait_for 15 test -s "$T/hook.ready"
}
stop_receiver() { kill "$RECV"; wait_exit "$RECV" 10; }
events_lines() { wc -l < "$T/log/events.jsonl" 2>/dev/null || echo 0; }
unique_ids() { "$PYTHON3" -c 'import json,sys; print(len({json.loads(l)["event_id"] for l in open(sys.argv[1])}))' "$T/hook.jsonl" 2>/dev/null || echo 0; }
received() { wc -l < "$T/hook.jsonl" 2>/dev/null || echo 0; }
send() { smtp-source -s 5 -m "$1" -f app@platform.test -t user@example.test "127.0.0.1:$TR_PORT" >> "$T/source.log" 2>&1; }
# Every id of the events file at the receiver, each signature good.
all_arrived() {
    "$PYTHON3" - "$T/log/events.jsonl" "$T/hook.jsonl" <<'PY'
import json, sys
want = {"%s.%d" % (e["queue_id"], e["attempt"]) for e in map(json.loads, open(sys.argv[1]))}
got = [json.loads(l) for l in open(sys.argv[2])]
ids = {g["event_id"] for g in got}
bad = [g for g in got if not g["sig_ok"]]
missing = want - ids
print("want=%d got_unique=%d received=%d missing=%d bad_sig=%d" % (len(want), len(ids), len(got), len(missing), len(bad)))
sys.exit(0 if not missing and not bad and want else 1)
PY
}

start_receiver || exit 1
start_daemon "$TR_CONF" || { cat "$T/daemon.log"; exit 1; }
send 5
ok "5 messages delivered" wait_eml "$T/def.mail" 5 30
ok "their 5 events arrive at the receiver" wait_true 30 '[ "$(unique_ids)" -ge 5 ]'
ok "  every signature verified, every id there" all_arrived
ok "  each carries its delivery status" grep -q '"status": "sent"' "$T/hook.jsonl"

# --- the receiver down for 20 s while 500 messages are delivered ---------------------
stop_receiver
down_at=$(date +%s)
send 500
ok "500 messages delivered while the receiver is down" wait_eml "$T/def.mail" 505 120
ok "  nothing reached the receiver meanwhile" test "$(unique_ids)" = 5
while [ $(( $(date +%s) - down_at )) -lt 20 ]; do sleep 1; done
start_receiver || exit 1
ok "after it comes back every event arrives" wait_true 120 'all_arrived > /dev/null'
all_arrived > "$T/check1.txt"
ok "  deduplicated by id: one id per event" grep -q 'want=505 got_unique=505' "$T/check1.txt"
ok "  the daemon logged the outage once and the recovery" test "$(grep -c 'webhook post failed' "$T/daemon.log"):$(grep -c 'webhook delivering again' "$T/daemon.log")" = "1:1"

# --- kill -9 mid-backlog: resume from the cursor -----------------------------------------
stop_receiver
send 300
ok "300 more delivered with the receiver down" wait_eml "$T/def.mail" 805 120
before=$(received)
start_receiver --delay 0.3 || exit 1
ok "the backlog starts to drain" wait_true 60 '[ "$(received)" -ge $((before + BATCH)) ]'
kill -KILL "$TR_DAEMON_PID"; wait_exit "$TR_DAEMON_PID" 10
mid=$(received)
ok "killed mid-backlog (some of the 300 sent, not all)" test "$mid" -lt $((before + 300))
cursor=$(awk '{print $1}' "$T/spool/webhook.cursor")
ok "  the cursor is past the start of the backlog" test "$cursor" -gt 0
start_daemon "$TR_CONF" || { cat "$T/daemon.log"; exit 1; }
ok "after the restart every event arrives" wait_true 120 'all_arrived > /dev/null'
all_arrived > "$T/check2.txt"
ok "  deduplicated by id: one id per event" grep -q 'want=805 got_unique=805' "$T/check2.txt"
dups=$(( $(received) - 805 ))
ok "  resumed from the cursor: at most the batch in flight resent ($dups)" test "$dups" -le "$BATCH"
ok "  the restart logged its cursor" grep -q "webhook started url=https://localhost:$WP/hook cursor=[1-9]" "$T/daemon.log"
# --- key rotate re-seals the webhook secret in the config; the old key retires ----
old_key=$(sed -n 's/.*secret = "trv1:\([^:]*\):.*/\1/p' "$TR_CONF" | head -1)
"$TR_BIN_CTL" -c "$TR_CONF" key retire "$old_key" > "$T/retire1.out" 2>&1
ok "key retire of the key the webhook secret uses is refused" test $? != 0
"$TR_BIN_CTL" -c "$TR_CONF" key rotate > "$T/rotate.out" 2>&1
ok "key rotate: 0, and says it re-sealed the webhook secret" test "$?:$(grep -c 'and the webhook secret' "$T/rotate.out")" = "0:1"
ok "  the config's webhook token names the new key" bash -c '! grep -q "secret = \"trv1:$0:" "$1"' "$old_key" "$TR_CONF"
"$TR_BIN_CTL" -c "$TR_CONF" key retire "$old_key" > "$T/retire2.out" 2>&1
ok "  the old key retires now" test $? = 0
[ "$(id -u)" = 0 ] && chown -R "${TR_USER:-nobody}" "$T/etc"
kill "$TR_DAEMON_PID"; wait_exit "$TR_DAEMON_PID" 30
start_daemon "$TR_CONF" || { cat "$T/daemon.log"; exit 1; }
send 1
ok "after a restart with the new key, events still arrive signed with the same secret" \
    wait_true 60 'all_arrived > /dev/null && [ "$(unique_ids)" = 806 ]'
ok "the secret is in no log, event or config" bash -c '! grep -r -l -F "$(cat "$0")" "$1/daemon.log" "$1/log" "$1/tr.conf" "$1/spool"' "$T/secret" "$T"
finish
