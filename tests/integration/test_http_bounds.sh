#!/bin/bash
# The HTTP server's bounds: no more than http.max_connections at once (the
# next one waits in the kernel's backlog until one goes), an idle connection is closed after
# http.timeout, a body over http.max_body is 413 whatever Content-Length
# claims, and the server answers again once the hogs are gone.
. "$(dirname "$0")/lib.sh"
tr_require curl curl
make_ca "$T/ca" || exit 1
TR_PORT=$(free_port); HP=$(free_port)
TR_CONF="$T/tr.conf"
write_conf "$TR_CONF" "http = { listen = ( { address = \"127.0.0.1\"; port = $HP; } ); api_tokens = \"$T/etc/api-tokens\"; max_connections = 2; timeout = 3; max_body = 1024; };"
tr_ctl key init > /dev/null 2>&1
TOKEN=$(tr_ctl api-token add ops 2>/dev/null)
start_daemon "$TR_CONF" || { cat "$T/daemon.log"; exit 1; }
wait_port "$HP" 10
"$PYTHON3" - "$HP" > "$T/bounds.out" 2>&1 <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s
hogs = [conn(), conn()]          # two idle connections: the limit
third = conn()                   # accepted by the kernel, not by the server
third.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
# The server closes idle connections only after 3 s: within the first
# second the third cannot have been served, however slow the machine.
third.settimeout(1)
try:
    data = third.recv(4096)
except socket.timeout:
    data = None
print("third while the limit is reached:", "waiting" if data is None else "answered")
# The idle hogs are closed by the server's timeout (bounded wait: 15 s).
closed = 0
for h in hogs:
    h.settimeout(15)
    try:
        closed += h.recv(1) == b""
    except OSError:
        closed += 1
print("idle closed:", closed)
third.settimeout(15)
try:
    data = third.recv(4096)
except OSError:
    data = b""
print("third once they are gone:", "answered" if data.startswith(b"HTTP/1.1 200") else "not answered")
PY
ok "a third connection over max_connections = 2 waits" grep -q '^third while the limit is reached: waiting' "$T/bounds.out"
ok "idle connections are closed after the timeout" grep -q '^idle closed: 2' "$T/bounds.out"
ok "  and is served once they are gone" grep -q '^third once they are gone: answered' "$T/bounds.out"
ok "then it answers again" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/healthz")" = 200
head -c 5000 /dev/zero | tr '\0' a > "$T/big"
ok "a body over max_body = 1024: 413" test "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" --data-binary @"$T/big" "http://127.0.0.1:$HP/v1/tenants/acme")" = 413
ok "  also when sent chunked (no Content-Length)" test "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" -H 'Transfer-Encoding: chunked' --data-binary @"$T/big" "http://127.0.0.1:$HP/v1/tenants/acme")" = 413
ok "the daemon is still up" kill -0 "$TR_DAEMON_PID"
finish
