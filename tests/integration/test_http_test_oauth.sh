#!/bin/bash
# POST /v1/test with "auth": "xoauth2" and an "oauth" object (SPEC §9:
# settings probed without saving, PUT's field names), against a local
# HTTPS token endpoint and an XOAUTH2-only SMTP server (oauth_upstream.py),
# as `tenantrelayctl test --host ... --auth xoauth2` does it:
#   - the right client secret: 200, the probe passes with its token step
#     and AUTH XOAUTH2; so does a certificate (client_key + client_cert_file);
#   - a wrong one: 200, the probe fails at the token step with the
#     provider's code (oauth_invalid_client) and AUTH never runs;
#   - settings the route rules refuse: 400 naming the rule;
#   - nothing is saved; no secret in any reply, the daemon log, the events
#     file or the store, not even in the answer to a body that is not JSON.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"
tr_require openssl openssl
make_ca "$T/ca" || exit 1
make_app_cert || exit 1
WRONG="Wr0ng~$(openssl rand -hex 16)"
start_ms_provider --client-cert "$T/app.pem" --mailbox box@acme.test || exit 1
http_relay_start || { cat "$T/daemon.log"; exit 1; }
j() { "$PYTHON3" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# settings [OAUTH-FIELDS...]: the route, with the oauth object's own fields
settings() {
    printf '{"host": "localhost", "port": %d, "tls": "implicit", "ca_file": "%s", "username": "box@acme.test", "sender": "box@acme.test", "auth": "xoauth2", "oauth": {"provider": "microsoft", "token_url": "%s", "client_id": "%s"%s}}' \
        "$sp" "$T/ca/ca.pem" "$URL" "$CID" "$1"
}
# post FILE BODY: POST /v1/test, the reply in FILE, the status out.
post() { curl -s -o "$1" -w '%{http_code}' --max-time 60 -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data-binary "$2" "$U/v1/test"; }
steps() { j "$1" '" ".join("%s:%s" % (s["step"], s["ok"]) for s in d["steps"])'; }
before=$(store_sum)

ok "the right client secret: 200" test "$(post "$T/good.json" "$(settings ", \"client_secret\": \"$SECRET\"")")" = 200
ok "  the probe passed: token step, then AUTH XOAUTH2" \
    test "$(j "$T/good.json" 'd["ok"], d["code"]'):$(steps "$T/good.json")" = "True None:dns:True connect:True tls:True certificate:True ehlo:True token:True auth:True mail:True rcpt:True data:True message:True quit:True"
ok "  the mechanism and the token URL reported" \
    test "$(j "$T/good.json" '[s for s in d["steps"] if s["step"] == "auth"][0]["detail"]["mechanism"], [s for s in d["steps"] if s["step"] == "token"][0]["detail"]["token_url"]')" = "XOAUTH2 $URL"
ok "  the provider issued the token, its SMTP server took it" \
    test "$(provider_stat "$hp" 'd["token_issued"], d["auth_ok"]')" = "(1, 1)"
ok "  the test message arrived" wait_true 10 '[ "$(count_eml "$T/ms.mail")" -ge 1 ]'

ok "a wrong client secret: 200 (the probe ran)" \
    test "$(post "$T/bad.json" "$(settings ", \"client_secret\": \"$WRONG\"")")" = 200
ok "  it failed at the token step with the provider's code" \
    test "$(j "$T/bad.json" 'd["ok"], d["code"]'):$(steps "$T/bad.json")" = "False oauth_invalid_client:dns:True connect:True tls:True certificate:True ehlo:True token:False"
ok "  the provider's own error text in the token step's detail" \
    bash -c 'grep -q AADSTS "$0"' "$T/bad.json"

KEY_JSON=$("$PYTHON3" -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$T/app.key")
ok "a certificate (client_key + client_cert_file): 200, the probe passed" \
    test "$(post "$T/cert.json" "$(settings ", \"client_key\": $KEY_JSON, \"client_cert_file\": \"$T/app.pem\"")"):$(j "$T/cert.json" 'd["ok"]')" = "200:True"

ok "xoauth2 without a secret: 400 naming the rule" \
    test "$(post "$T/r400a.json" "$(settings "")"):$(j "$T/r400a.json" 'd["error"]')" = "400:invalid"
ok "  the rule" grep -q "needs either 'client_secret' or 'client_key'" "$T/r400a.json"
ok "an oauth object without \"auth\": \"xoauth2\": 400" \
    test "$(post "$T/r400b.json" "$(settings ", \"client_secret\": \"$SECRET\"" | sed 's/"auth": "xoauth2", //')")" = 400
ok "xoauth2 with a password too: 400" \
    test "$(post "$T/r400c.json" "$(settings ", \"client_secret\": \"$SECRET\"" | sed "s/\"auth\"/\"password\": \"$SECRET\", \"auth\"/")")" = 400
ok "a plain http:// token URL: 400" \
    test "$(post "$T/r400d.json" "$(settings ", \"client_secret\": \"$SECRET\"" | sed 's#"https://#"http://#')")" = 400
# A tab inside the string: jansson's own message would quote '"Sx8Q~1...'.
ok "a body that is not JSON: 400" \
    test "$(post "$T/r400e.json" "$(printf '{"oauth": {"client_secret": "%s\t"}}' "${SECRET:0:12}")")" = 400
ok "  its detail quotes nothing of it" bash -c '! grep -q "Sx8Q" "$0"' "$T/r400e.json"

ok "nothing saved" test "$(store_sum)" = "$before"
curl -s -o "$T/list.json" -H "Authorization: Bearer $TOKEN" "$U/v1/tenants"
ok "  GET /v1/tenants: none" test "$(j "$T/list.json" 'len(d["tenants"])')" = 0
ok "the requests are logged, without their bodies" grep -q "http method=POST path=/v1/test status=200" "$T/daemon.log"
touch "$T/log/events.jsonl"
ok "no client secret, wrong secret, key or API token in any reply, the log, the events or the store" \
    bash -c '! grep -r -l -F -e "$0" -e "$1" -e "$2" -e "$3" "$4"/*.json "$4/daemon.log" "$4/log" "$4/etc/tenants"' \
    "$SECRET" "$WRONG" "$(sed -n 2p "$T/app.key")" "$TOKEN" "$T"
finish
