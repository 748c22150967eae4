#!/bin/bash
# Never an open relay: a listener whose allowed_networks do not cover the
# client refuses it at the greeting (554 5.7.1) and closes, whatever the
# client then tries (the open-relay battery: quoted recipients, the %
# hack, u@dest@relay, source routes, bang paths), and queues nothing.
. "$(dirname "$0")/lib.sh"

make_ca "$T/ca"
TR_PORT=$(free_port)
export TR_PORT
# Listen on 127.0.0.2; only 127.0.0.3 may send.  The client comes from 127.0.0.1.
TR_LISTEN_ADDR=127.0.0.2 write_conf "$T/relay.conf" 'allowed_networks = [ "127.0.0.3/32" ];'
start_daemon "$T/relay.conf" 2>/dev/null   # its wait_port looks at 127.0.0.1
wait_for 15 "$PYTHON3" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.2', $TR_PORT)))"
ok "daemon listens on 127.0.0.2" kill -0 "$TR_DAEMON_PID"

battery=(
    '<"victim@dest.example"@relay.test>'
    '<victim%dest.example@relay.test>'
    '<victim@dest.example@relay.test>'
    '<@relay.test:victim@dest.example>'
    '<@relay.test,@hop.test:victim@dest.example>'
    '<dest.example!victim>'
    '<dest.example!victim@relay.test>'
    '<victim@dest.example>'
)
for rcpt in "${battery[@]}"; do
    "$PYTHON3" - "$TR_PORT" "$rcpt" > "$T/out" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.2", int(sys.argv[1])), timeout=10, source_address=("127.0.0.1", 0))
s.settimeout(5)
out = b""
try:
    s.sendall(("EHLO attacker.test\r\nMAIL FROM:<spam@attacker.test>\r\nRCPT TO:%s\r\nDATA\r\nSubject: relay\r\n\r\nspam\r\n.\r\nQUIT\r\n" % sys.argv[2]).encode())
except OSError:
    pass
while True:
    try:
        b = s.recv(4096)
    except OSError:
        break
    if not b:
        break
    out += b
print(out.decode(errors="replace"))
PY
    ok "relay attempt $rcpt: 554 5.7.1 at the greeting" grep -q '^554 5.7.1 relay.test Access denied' "$T/out"
    ok "relay attempt $rcpt: no command is ever answered" bash -c '! grep -Eq "^(250|354|221)" "$0"' "$T/out"
done
ok "nothing queued" test "$(queue_count)" = 0
ok "refusals are logged with the client address" grep -q 'reject=connect client=\[127.0.0.1\] reason=not_in_allowed_networks' "$T/daemon.log"

# The allowed address is served (and the same battery then meets the
# address checks: only well-formed mailboxes are accepted).
"$PYTHON3" - "$TR_PORT" > "$T/allowed" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.2", int(sys.argv[1])), timeout=10, source_address=("127.0.0.3", 0))
f = s.makefile("rb")
print(f.readline().decode().strip())
s.sendall(b"EHLO app.test\r\nMAIL FROM:<app@platform.test>\r\nRCPT TO:<victim@dest.example@relay.test>\r\nRCPT TO:<@relay.test:victim@dest.example>\r\nRCPT TO:<dest.example!victim>\r\nQUIT\r\n")
print(s.makefile("rb").read().decode())
PY
ok "an allowed client gets 220" grep -q '^220 relay.test ESMTP' "$T/allowed"
ok "from the allowed client too: u@dest@relay, source route, bang path -> 501" test "$(grep -c '^501 5.1.3' "$T/allowed")" = 3
ok "daemon still running" kill -0 "$TR_DAEMON_PID"
finish
