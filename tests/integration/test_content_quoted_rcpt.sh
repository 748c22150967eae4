#!/bin/bash
# Issue 12 item 10, against the real daemon and a real aiosmtpd upstream:
# what the listener accepts, the client can send.  Quoted local parts with
# '<', '>' and spaces are accepted at RCPT and reach the upstream as they
# were written, together with the ordinary recipient of the same message
# (before: the client refused them and failed the whole message).
. "$(dirname "$0")/lib.sh"
tr_require_python aiosmtpd python3-aiosmtpd

make_ca "$T/ca"
p_default=$(free_port)
start_upstream default "$p_default" implicit

TR_PORT=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT
TR_UPSTREAM_PORT=$p_default write_conf "$TR_CONF" 'retry = { schedule = [ 1 ]; };'
tr_ctl key init > "$T/key.out" 2>&1
start_daemon "$TR_CONF"

"$PYTHON3" - "$TR_PORT" > "$T/session.out" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        l = f.readline().decode()
        lines.append(l.strip())
        if l[3:4] != "-":
            return lines
print(reply()[-1])
for cmd in ["EHLO app.test", "MAIL FROM:<app@platform.test>", 'RCPT TO:<"a>b"@example.test>',
            'RCPT TO:<"x <y"@example.test>', "RCPT TO:<plain@example.test>", "DATA"]:
    s.sendall((cmd + "\r\n").encode())
    print(cmd, "->", reply()[-1])
s.sendall(b"From: app@platform.test\r\nSubject: quoted\r\n\r\nbody\r\n.\r\n")
print("DOT ->", reply()[-1])
s.sendall(b"QUIT\r\n")
PY
ok "RCPT with '>' in a quoted local part accepted" grep -q '^RCPT TO:<"a>b"@example.test> -> 250' "$T/session.out"
ok "RCPT with '<' and a space in a quoted local part accepted" grep -q '^RCPT TO:<"x <y"@example.test> -> 250' "$T/session.out"
ok "message accepted" grep -q '^DOT -> 250' "$T/session.out"
ok "delivered" wait_eml "$T/default.mail" 1 30
ok "every recipient reached the upstream, quoted as written" "$PYTHON3" -c '
import json, sys
m = json.load(open(sys.argv[1]))
want = ["\"a>b\"@example.test", "\"x <y\"@example.test", "plain@example.test"]
sys.exit(0 if sorted(m["rcpt_tos"]) == sorted(want) else 1)' "$T/default.mail/000001.json"
ok "the event says sent" wait_true 10 'grep -q "\"status\":\"sent\"" "$T/log/events.jsonl"'
ok "no failure" bash -c '! grep -q "\"status\":\"failed\"" "$0"' "$T/log/events.jsonl"
ok "daemon still running" kill -0 "$TR_DAEMON_PID"
finish
