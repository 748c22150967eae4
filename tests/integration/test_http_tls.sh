#!/bin/bash
# The http group's rules at -t (FILE:LINE, exit 78): an address off
# loopback needs tls_cert and tls_key; unknown keys and a webhook without
# its secret are refused.  With tls_cert/tls_key the API speaks HTTPS only
# (the key read before privileges are dropped), verified with the tests' CA.
. "$(dirname "$0")/lib.sh"
tr_require curl curl
make_ca "$T/ca" || exit 1
TR_PORT=$(free_port); HP=$(free_port)
check_t() { # check_t NAME EXTRA-CONF EXPECTED-STATUS MESSAGE
    write_conf "$T/$1.conf" "$2"
    "$TR_BIN_DAEMON" -t -c "$T/$1.conf" > "$T/$1.out" 2>&1
    local rc=$?
    ok "-t $1: exit $3" test "$rc" = "$3"
    [ -n "$4" ] && ok "  says: $4" grep -q -- "$4" "$T/$1.out"
}
check_t offloop 'http = { listen = ( { address = "0.0.0.0"; port = 8025; } ); };' 78 \
    'offloop.conf:[0-9]*: http listen address "0.0.0.0" is not loopback: set tls_cert and tls_key'
check_t offloop-tls "http = { listen = ( { address = \"0.0.0.0\"; port = 8025; } ); tls_cert = \"$T/ca/server.pem\"; tls_key = \"$T/ca/server.key\"; };" 0 ""
check_t unknown 'http = { listn = ( ); };' 78 "unknown.conf:[0-9]*: .*listn"
check_t halftls "http = { tls_cert = \"$T/ca/server.pem\"; };" 78 "keys 'tls_cert' and 'tls_key' go together"
check_t nosecret 'webhook = { url = "https://platform.example/hook"; };' 78 'the webhook group needs url and secret'
check_t plainhook 'webhook = { url = "http://platform.example/hook"; secret = "x"; };' 78 "must be https://"
check_t badmax 'http = { max_body = 10; };' 78 "max_body"

chmod 600 "$T/ca/server.key"
TR_CONF="$T/tls.conf"
write_conf "$TR_CONF" "http = { listen = ( { address = \"127.0.0.1\"; port = $HP; } ); api_tokens = \"$T/etc/api-tokens\"; tls_cert = \"$T/ca/server.pem\"; tls_key = \"$T/ca/server.key\"; };"
tr_ctl key init > /dev/null 2>&1
TOKEN=$(tr_ctl api-token add ops 2>/dev/null)
start_daemon "$TR_CONF" || { cat "$T/daemon.log"; exit 1; }
wait_port "$HP" 10
ok "HTTPS with the CA: /healthz 200" test "$(curl -s --cacert "$T/ca/ca.pem" -o /dev/null -w '%{http_code}' "https://localhost:$HP/healthz")" = 200
ok "  /v1 with the token: 200" test "$(curl -s --cacert "$T/ca/ca.pem" -H "Authorization: Bearer $TOKEN" -o /dev/null -w '%{http_code}' "https://localhost:$HP/v1/tenants")" = 200
ok "  the certificate is the configured one (verification passes, name checked)" \
    bash -c 'curl -s -v --cacert "$0/ca/ca.pem" "https://localhost:$1/healthz" 2>&1 | grep -q "subject: CN=localhost"' "$T" "$HP"
ok "plain HTTP to the TLS port gets no API answer" bash -c '! curl -s --max-time 5 "http://127.0.0.1:$0/healthz" | grep -q ok' "$HP"
finish
