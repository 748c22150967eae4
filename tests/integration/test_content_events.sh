#!/bin/bash
# Issue 12 item 4 (events are never dropped), against the real daemon and
# real upstreams: a Message-ID with a Latin-1 byte (0xE9) and an upstream
# reply cut in the middle of a UTF-8 character still give one valid JSON
# line per delivery attempt (invalid bytes replaced by U+FFFD, the reply cut
# between characters), and `queue list/show --json` and `status --json`
# stay valid JSON with every message in them.
. "$(dirname "$0")/lib.sh"
tr_require_python aiosmtpd python3-aiosmtpd

make_ca "$T/ca"
p_default=$(free_port); p_acme=$(free_port); p_globex=$(free_port)
long_reply="550 5.7.1 $(printf 'é%.0s' $(seq 1 700))"
start_upstream default "$p_default" implicit
start_upstream acme "$p_acme" implicit --reject-data "$long_reply"
start_upstream globex "$p_globex" implicit --tempfail-data 1000

TR_PORT=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT
TR_UPSTREAM_PORT=$p_default write_conf "$TR_CONF" 'retry = { schedule = [ 3600 ]; };'
tr_ctl key init > "$T/key.out" 2>&1
tr_ctl tenant set acme --host 127.0.0.1 --port "$p_acme" --tls implicit --sender mailer@acme.test \
    --domain acme.test --ca-file "$T/ca/ca.pem" --no-test > "$T/set1.out" 2>&1
tr_ctl tenant set globex --host 127.0.0.1 --port "$p_globex" --tls implicit --sender mailer@globex.test \
    --domain globex.test --ca-file "$T/ca/ca.pem" --no-test > "$T/set2.out" 2>&1
start_daemon "$TR_CONF"

mkmsg() {  # mkmsg FILE MESSAGE-ID (bytes as printf %b reads them)
    printf 'From: app@platform.test\r\nTo: u@example.test\r\nMessage-ID: %b\r\nSubject: s\r\n\r\nbody\r\n' "$2" > "$1"
}
mkmsg "$T/m1" '<one@app.test>'
mkmsg "$T/m2" '<caf\xe9@app.test>'
mkmsg "$T/m3" '<three@app.test>'
ok "message 1 accepted" relay_send_file app@platform.test u1@example.test "$T/m1"
ok "message 2 (Message-ID with byte 0xE9) accepted" relay_send_file app@platform.test u2@example.test "$T/m2"
ok "message 3 accepted" relay_send_file app@platform.test u3@example.test "$T/m3"
ok "three delivered" wait_eml "$T/default.mail" 3 30
ok "three event lines for three deliveries" \
    wait_true 10 '[ "$(grep -c "\"status\":\"sent\"" "$T/log/events.jsonl" 2>/dev/null)" = 3 ]'

mkmsg "$T/m4" '<refused\xe9@acme.test>'
mkmsg "$T/m5" '<deferred\xe9@globex.test>'
ok "message to acme (refused with a long UTF-8 reply) accepted" relay_send_file app@acme.test u4@example.test "$T/m4"
ok "message to globex (tempfailed) accepted" relay_send_file app@globex.test u5@example.test "$T/m5"
ok "five event lines" wait_true 30 '[ "$(wc -l < "$T/log/events.jsonl")" -ge 5 ]'

"$PYTHON3" - "$T/log/events.jsonl" > "$T/events.check" 2>&1 <<'PY'
import json, sys
lines = open(sys.argv[1], "rb").read().splitlines()
events = [json.loads(l.decode("utf-8")) for l in lines]   # strict: valid UTF-8 and JSON
by_id = {e["message_id"]: e for e in events}
assert by_id["<caf\ufffd@app.test>"]["status"] == "sent", by_id
refused = by_id["<refused\ufffd@acme.test>"]
assert refused["status"] == "failed", refused
r = refused["reply"]
assert r.startswith("550 5.7.1 \u00e9"), r[:40]
assert "\ufffd" not in r, "the reply was not cut between characters"
assert set(r[10:]) == {"\u00e9"} and len(r.encode()) <= 1023, (len(r), len(r.encode()))
assert by_id["<deferred\ufffd@globex.test>"]["status"] == "deferred"
print("events ok", len(events))
PY
ok "every event line is valid UTF-8 JSON; 0xE9 replaced; the long reply cut between characters" \
    grep -q '^events ok' "$T/events.check"
cat "$T/events.check" | sed 's/^/# /' | head -5

tr_ctl queue list --json > "$T/queue.json" 2> "$T/queue.err"
ok "queue list --json: valid JSON with the failed and the deferred message" "$PYTHON3" -c '
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
states = sorted(m["state"] for m in d["messages"])
assert states == ["deferred", "failed"], states
for m in d["messages"]:
    if m["state"] == "failed":
        assert "\ufffd" not in m["last_reply"] and m["last_reply"].startswith("550 5.7.1 \u00e9"), m
' "$T/queue.json"
qid=$("$PYTHON3" -c 'import json,sys; print([m["id"] for m in json.load(open(sys.argv[1]))["messages"] if m["state"]=="deferred"][0])' "$T/queue.json")
tr_ctl queue show "$qid" --json > "$T/show.json" 2> "$T/show.err"
ok "queue show --json: the Message-ID carried with U+FFFD" "$PYTHON3" -c '
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
m = d["messages"][0] if "messages" in d else d
assert m["message_id"] == "<deferred\ufffd@globex.test>", m
' "$T/show.json"
tr_ctl status --json > "$T/status.json" 2> "$T/status.err"
ok "status --json: valid JSON, acme's last_error cut between characters" "$PYTHON3" -c '
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
ts = d["tenants"] if isinstance(d, dict) else d
acme = [t for t in ts if t["id"] == "acme"][0]
assert acme["failed"] == 1 and acme["last_error"].startswith("550 5.7.1 \u00e9") and "\ufffd" not in acme["last_error"], acme
' "$T/status.json"
ok "daemon still running" kill -0 "$TR_DAEMON_PID"
finish
