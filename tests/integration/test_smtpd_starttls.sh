#!/bin/bash
# STARTTLS on the listener (tls_cert/tls_key of the listen entry): offered
# in EHLO, TLS 1.2 at least, the session restarts after the handshake
# (EHLO again), plaintext pipelined behind STARTTLS is discarded, and the
# Received: header says ESMTPS.
. "$(dirname "$0")/lib.sh"
tr_require_swaks_tls

make_ca "$T/ca"
# The daemon reads the key after dropping root: let the service user read it.
chmod 644 "$T/ca/server.key"
TR_PORT=$(free_port)
export TR_PORT
write_conf "$T/relay.conf"
sed -i "s|^listen = .*|listen = ( { address = \"127.0.0.1\"; port = $TR_PORT; tls_cert = \"$T/ca/server.pem\"; tls_key = \"$T/ca/server.key\"; } );|" "$T/relay.conf"
start_daemon "$T/relay.conf"
ok "the listener says starttls=yes" wait_for 10 grep -q "port=$TR_PORT starttls=yes" "$T/daemon.log"

swaks --server "127.0.0.1:$TR_PORT" --tls --from app@platform.test --to user@example.test \
    --timeout 10 > "$T/swaks" 2>&1
ok "EHLO offers STARTTLS" grep -q '250-STARTTLS' "$T/swaks"
ok "swaks --tls: queued over TLS" grep -q '250 2.0.0 Ok: queued as' "$T/swaks"
qid=$(grep -Eo 'queued as [0-9A-Z]{16}' "$T/swaks" | awk '{print $3}')
ok "Received: says ESMTPS" grep -q 'with ESMTPS id' "$T/spool/queue/$qid.msg"
ok "the session log names the TLS protocol" grep -Eq 'TLS established protocol=TLSv1\.[23]' "$T/daemon.log"

"$PYTHON3" - "$TR_PORT" "$T/ca/ca.pem" > "$T/inject" 2>&1 <<'PY'
import socket, ssl, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
f.readline()
s.sendall(b"EHLO inject.test\r\n")
while not f.readline().startswith(b"250 "):
    pass
# A command injected behind STARTTLS in the same packet.
s.sendall(b"STARTTLS\r\nMAIL FROM:<injected@attacker.test>\r\n")
print("starttls:", f.readline().decode().strip())
ctx = ssl.create_default_context(cafile=sys.argv[2])
t = ctx.wrap_socket(s, server_hostname="localhost")
print("version:", t.version())
tf = t.makefile("rb")
t.sendall(b"MAIL FROM:<a@platform.test>\r\n")
print("first:", tf.readline().decode().strip())
t.sendall(b"EHLO inject.test\r\n")
lines = []
while True:
    l = tf.readline().decode().strip()
    lines.append(l)
    if l.startswith("250 "):
        break
print("ehlo2:", " ".join(lines))
t.sendall(b"QUIT\r\n")
print("quit:", tf.readline().decode().strip())
PY
ok "STARTTLS answered 220" grep -q '^starttls: 220 2.0.0 Ready to start TLS' "$T/inject"
ok "TLS 1.2 or newer" grep -Eq '^version: TLSv1\.[23]$' "$T/inject"
ok "the injected MAIL was discarded and EHLO is required again" grep -q '^first: 503 5.5.1 Error: send EHLO' "$T/inject"
ok "STARTTLS is not offered again inside TLS" bash -c '! grep "^ehlo2:" "$0" | grep -q STARTTLS' "$T/inject"
ok "the TLS session ends cleanly" grep -q '^quit: 221' "$T/inject"
ok "daemon still running" kill -0 "$TR_DAEMON_PID"
finish
