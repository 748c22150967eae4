#!/bin/bash
# The listener with real clients (swaks, smtplib, smtp-source): strict
# ESMTP, pipelining, 100 recipients, 8-bit and dot lines byte-exact in the
# spool, the refusals of bad commands, and `tenantrelayctl queue`.
. "$(dirname "$0")/lib.sh"
tr_require smtp-source postfix

make_ca "$T/ca"
TR_PORT=$(free_port)
export TR_PORT
write_conf "$T/relay.conf" 'limits = { max_message_size = 1048576; };'
start_daemon "$T/relay.conf"
CTL() { "$TR_BIN_CTL" -c "$T/relay.conf" "$@"; }

# swaks: a plain message; the reply carries the queue id.
swaks --server "127.0.0.1:$TR_PORT" --from app@platform.test --to user@example.test \
    --header "Subject: hello" --body "Hello." --timeout 10 > "$T/swaks1" 2>&1
ok "swaks: 250 2.0.0 Ok: queued as ID" grep -Eq '<- +250 2.0.0 Ok: queued as [0-9A-Z]{16}' "$T/swaks1"
qid=$(grep -Eo 'queued as [0-9A-Z]{16}' "$T/swaks1" | awk '{print $3}')
ok "the message is in queue/ (.msg and .env)" test -s "$T/spool/queue/$qid.msg" -a -s "$T/spool/queue/$qid.env"
# (tmp/ keeps emptied files of delivered messages for reuse, and delivery
# may be saving a .state through it: only message data counts)
ok "no data of the message is left in tmp/ after the commit" \
    bash -c '[ -z "$(find "$0" -type f -name "f*" ! -empty)" ]' "$T/spool/tmp"
ok "EHLO advertises PIPELINING" grep -q '250-PIPELINING' "$T/swaks1"
for ext in 'SIZE 1048576' 8BITMIME SMTPUTF8 ENHANCEDSTATUSCODES; do
    ok "EHLO advertises $ext" grep -q "250[- ]$ext" "$T/swaks1"
done
ok "Received: is the first header, with id and for" \
    bash -c 'head -n 3 "$0" | tr -d "\r" | tr "\n" " " | grep -Eq "^Received: from [^ ]+ \(\[127.0.0.1\]\)\s+by relay.test \(tenantrelay\) with ESMTP id $1\s+for <user@example.test>; [A-Z][a-z]{2}, "' \
    "$T/spool/queue/$qid.msg" "$qid"

# smtplib with pipelining, 100 recipients, an 8-bit body and the dot lines.
"$PYTHON3" - "$TR_PORT" > "$T/py1" 2>&1 <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.ehlo("client.test")
assert s.has_extn("pipelining") and s.has_extn("8bitmime") and s.has_extn("smtputf8")
rcpts = ["r%d@example.test" % i for i in range(100)]
body = ("From: app@platform.test\r\nSubject: dots\r\n\r\n.\r\n..\r\n.x\r\ncaf\u00e9 \u00fcber\r\nend\r\n").encode("utf-8")
refused = s.sendmail("app@platform.test", rcpts, body, mail_options=["BODY=8BITMIME"])
print("refused=%d" % len(refused))
s.quit()
PY
ok "smtplib: 100 recipients accepted" grep -q 'refused=0' "$T/py1"
py_env=$(grep -l '^recipient r99@example.test$' "$T"/spool/queue/*.env | head -n 1)
ok "the envelope lists the 100 recipients" test "$(grep -c '^recipient ' "$py_env")" = 100
ok "the envelope records 8BITMIME" grep -q '^flags 1$' "$py_env"
py_msg=${py_env%.env}.msg
"$PYTHON3" - "$py_msg" > "$T/py2" 2>&1 <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
body = data.split(b"\r\n\r\n", 1)[1]
want = ".\r\n..\r\n.x\r\n" + "caf\u00e9 \u00fcber\r\nend\r\n"
print("exact" if body == want.encode("utf-8") else "differs: %r" % body)
PY
ok "dot lines '.', '..', '.x' and the 8-bit body are byte-exact in the spool" grep -q '^exact$' "$T/py2"

# Pipelining with a raw client: every reply, in order, in one flight.
printf '%s' 'EHLO pipe.test\r\nMAIL FROM:<a@platform.test>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<c@example.test>\r\nDATA\r\nSubject: p\r\n\r\npipelined\r\n.\r\nQUIT\r\n' \
    | smtp_raw "$TR_PORT" > "$T/pipe"
ok "pipelined: MAIL, RCPT x2, DATA, 250 queued, QUIT" \
    bash -c 'tr -d "\r" < "$0" | grep -E "^(250 2|354|221)" | cut -c1-9 | tr "\n" "," | grep -q "^250 2.1.0,250 2.1.5,250 2.1.5,354 End d,250 2.0.0,221 2.0.0,$"' "$T/pipe"

# Refusals.
printf '%s' 'EHLO x.test\r\nVRFY root\r\nEXPN staff\r\nHELP\r\nMAIL FROM:<a@platform.test> SIZE=abc\r\nMAIL FROM:<a@platform.test> SIZE=99999999\r\nMAIL FROM:<a@platform.test>\r\nRCPT TO:<b\x00@example.test>\r\nQUIT\r\n' \
    | smtp_raw "$TR_PORT" > "$T/refusals"
ok "VRFY refused with 502 5.5.1" grep -q '^502 5.5.1 VRFY' "$T/refusals"
ok "EXPN refused with 502 5.5.1" grep -q '^502 5.5.1 EXPN' "$T/refusals"
ok "HELP answers 214" grep -q '^214 ' "$T/refusals"
ok "SIZE=abc -> 501" grep -q '^501 5.5.4 Bad SIZE' "$T/refusals"
ok "SIZE over the limit -> 552" grep -q '^552 5.3.4' "$T/refusals"
ok "NUL in RCPT -> 501" grep -q '^501 5.5.2' "$T/refusals"

# Overlong command lines: 500, and the rest of the line is never a command.
"$PYTHON3" -c 'import sys; sys.stdout.write("EHLO x.test\\r\\nNOOP " + "a"*600 + "\\r\\n" + "X"*20000 + " MAIL FROM:<a@platform.test>\\r\\nMAIL FROM:<a@platform.test> " + "Z"*700 + "\\r\\nQUIT\\r\\n")' \
    | smtp_raw "$TR_PORT" > "$T/long"
ok "a 600-byte NOOP -> 500" bash -c '[ "$(grep -c "^500 5.5.2 Error: line too long" "$0")" = 3 ]' "$T/long"
ok "the tail of an overlong line is not run as MAIL" bash -c '! grep -q "^250 2.1.0" "$0"' "$T/long"
ok "the session goes on after overlong lines" grep -q '^221 ' "$T/long"

# smtp-source (Postfix): 20 messages over 4 sessions, pipelined.
before=$(queue_count)
timeout 60 smtp-source -s 4 -m 20 -l 2000 -f app@platform.test -t dest@example.test "127.0.0.1:$TR_PORT" > "$T/source" 2>&1
ok "smtp-source exits 0" test $? = 0
ok "smtp-source: 20 more messages queued" test "$(( $(queue_count) - before ))" = 20

# tenantrelayctl queue list / show.
CTL queue list --json > "$T/list.json"
ok "queue list --json: SPEC §6 fields" "$PYTHON3" -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = [x for x in d["messages"] if x["id"] == sys.argv[2]][0]
assert set(m) == {"id","tenant","sender","recipients","arrival","attempts","next_attempt","state","last_reply"}, m
assert m["sender"] == "app@platform.test" and m["recipients"] == ["user@example.test"]
# delivery may already have tried the (absent) upstream of this test
assert m["state"] in ("queued", "deferred") and isinstance(m["attempts"], int) and m["tenant"] is None
import re; assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", m["arrival"])
' "$T/list.json" "$qid"
ok "queue list (text) shows the id" bash -c '"$0" -c "$1" queue list | grep -q "^$2 "' "$TR_BIN_CTL" "$T/relay.conf" "$qid"
ok "queue show --json" bash -c '"$0" -c "$1" queue show "$2" --json | grep -q "\"client_addr\": \"127.0.0.1\""' "$TR_BIN_CTL" "$T/relay.conf" "$qid"
ok "queue show of an unknown id -> 65" bash -c '"$0" -c "$1" queue show 0000000000000000 2>/dev/null; [ $? = 65 ]' "$TR_BIN_CTL" "$T/relay.conf"
ok "queue show of a path -> 64" bash -c '"$0" -c "$1" queue show ../../x 2>/dev/null; [ $? = 64 ]' "$TR_BIN_CTL" "$T/relay.conf"
# The operator's actions go through the daemon (its upstream is down here).
state_is() {
    "$TR_BIN_CTL" -c "$T/relay.conf" queue show "$1" --json | "$PYTHON3" -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["messages"][0]["state"] in sys.argv[1:] else 1)' "${@:2}"
}
ok "queue hold QID" "$TR_BIN_CTL" -c "$T/relay.conf" queue hold "$qid"
ok "held" state_is "$qid" held
ok "queue release QID" "$TR_BIN_CTL" -c "$T/relay.conf" queue release "$qid"
ok "released" wait_for 10 state_is "$qid" queued deferred
ok "queue retry --all" "$TR_BIN_CTL" -c "$T/relay.conf" queue retry --all
ok "queue delete QID" "$TR_BIN_CTL" -c "$T/relay.conf" queue delete "$qid"
ok "deleted" bash -c '"$0" -c "$1" queue show "$2" 2>/dev/null; [ $? = 65 ]' "$TR_BIN_CTL" "$T/relay.conf" "$qid"
ok "queue delete of an unknown id -> 65" bash -c '"$0" -c "$1" queue delete 0000000000000000 2>/dev/null; [ $? = 65 ]' "$TR_BIN_CTL" "$T/relay.conf"
ok "queue delete --all is refused -> 64" bash -c '"$0" -c "$1" queue delete --all 2>/dev/null; [ $? = 64 ]' "$TR_BIN_CTL" "$T/relay.conf"
ok "daemon still running" kill -0 "$TR_DAEMON_PID"
finish
