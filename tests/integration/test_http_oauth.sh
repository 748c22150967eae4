#!/bin/bash
# PUT /v1/tenants/{id} with "auth": "xoauth2" and an "oauth" object (SPEC
# §8, §9), against a local HTTPS token endpoint and an XOAUTH2-only SMTP
# server (oauth_upstream.py): a wrong client secret is 422 at the token
# step with the provider's error, nothing saved; the right one is 200 with
# the token step and AUTH XOAUTH2, the secret sealed under its own field,
# GET shows which secrets are set and never a token; the tenant's mail is
# delivered with a token the daemon fetched; no secret anywhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"
make_ca "$T/ca" || exit 1
start_ms_provider --mailbox box@acme.test || exit 1
http_relay_start || { cat "$T/daemon.log"; exit 1; }
j() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
body() {
    printf '{"host": "localhost", "port": %d, "tls": "implicit", "ca_file": "%s", "username": "box@acme.test", "sender": "box@acme.test", "domains": ["acme.test"], "auth": "xoauth2", "oauth": {"provider": "microsoft", "token_url": "%s", "client_id": "%s", "client_secret": "%s"}}' \
        "$sp" "$T/ca/ca.pem" "$URL" "$CID" "$1"
}
put() { curl -s -o "$1" -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" --data-binary "$2" "$U/v1/tenants/acme"; }

before=$(store_sum)
ok "a wrong client secret: 422" test "$(put "$T/bad.json" "$(body not-the-secret)")" = 422
ok "  at the token step, with the provider's code" test "$(j "$T/bad.json" 'd["step"], d["probe"]["code"]')" = "token oauth_invalid_client"
ok "  nothing saved" test "$(store_sum)" = "$before"
ok "the right client secret: 200" test "$(put "$T/good.json" "$(body "$SECRET")")" = 200
ok "  the token step passed, then AUTH XOAUTH2" \
    test "$(j "$T/good.json" '[s["step"] for s in d["probe"]["steps"]][:7], [s for s in d["probe"]["steps"] if s["step"] == "auth"][0]["detail"]["mechanism"]')" = "['dns', 'connect', 'tls', 'certificate', 'ehlo', 'token', 'auth'] XOAUTH2"
ok "  the fields changed, the secret named but not shown" bash -c 'grep -q "oauth.client_secret" "$0"' "$T/good.json"
ok "  the store holds the secret sealed under its own field" grep -rq 'client_secret = "trv1:' "$T/etc/tenants"
curl -s -o "$T/get.json" -H "Authorization: Bearer $TOKEN" "$U/v1/tenants/acme"
ok "GET: auth, provider, client id, which secret is set" \
    test "$(j "$T/get.json" 'd["auth"], d["oauth"]["provider"], d["oauth"]["client_id"], d["oauth"]["client_secret_set"]')" = "xoauth2 microsoft $CID True"
wait_true 10 'grep -q "reloaded configuration" "$T/daemon.log"'
relay_send app@platform.test user@example.test --header 'X-Tenant-ID: acme'
ok "acme's mail is delivered with a token the daemon fetched" wait_true 30 '[ "$(count_eml "$T/ms.mail")" -ge 2 ]'
ok "switching back to a password without one: 400" \
    test "$(put "$T/back.json" '{"auth": "password", "test": false, "username": "box@acme.test"}')" = 400
ok "no client secret or API token in any reply, log, store or event" \
    bash -c '! grep -r -l -F -e "$0" -e "$1" "$2"/*.json "$2/daemon.log" "$2/etc/tenants" "$2/log"' "$SECRET" "$TOKEN" "$T"
finish
