#!/bin/bash
# README command 1 stays true: the demo (with the build at hand) relays a
# platform message and a tenant message end to end, each to its own upstream.
. "$(dirname "$0")/lib.sh"

up=$(free_port)
while ! "$PYTHON3" -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', $up + 1))" 2>/dev/null; do
    up=$(free_port)
done
DEMO_ONESHOT=1 DEMO_BUILD_DIR="$(cd "$top_builddir" && pwd)" DEMO_PORT=$(free_port) DEMO_UPSTREAM_PORT=$up \
    DEMO_HTTP_PORT=$(free_port) \
    DEMO_DIR="$T/demo" timeout 120 bash "$top_srcdir/scripts/demo.sh" > "$T/demo.out" 2>&1
ok "the demo exits 0" test $? = 0
ok "the platform's message left as the platform's sender" \
    grep -q "envelope from=notifications@platform.demo.test auth_user=platform tls=True" "$T/demo.out"
ok "acme's message left through acme's server as acme's sender" \
    grep -q "envelope from=notifications@acme.demo.test auth_user=acme-relay tls=True" "$T/demo.out"
ok "acme was saved through the API after its connectivity test" \
    bash -c 'grep -q "PUT /v1/tenants/acme -> HTTP 200, saved=True" "$0" && grep -q "^ *quit  *ok" "$0"' "$T/demo.out"
ok "the metrics are shown" grep -q 'tenantrelay_delivery_attempts_total{result="sent"} 2' "$T/demo.out"
ok "the page's address is printed" grep -q 'http://127.0.0.1:[0-9]*/ui/' "$T/demo.out"
ok "status shows both" bash -c 'grep -q "^acme  *1 " "$0" && grep -q "^default  *1 " "$0"' "$T/demo.out"
finish
