#!/bin/bash
# OAuth2, Microsoft style, against a local HTTPS token endpoint (its
# certificate from the test CA, trusted through the route's ca_file) and an
# SMTP server that offers only XOAUTH2 (PLAIN and LOGIN excluded, as
# Exchange Online does):
#   - tenant set with a client secret, and with a certificate (the JWT
#     client assertion verified by the endpoint), each passing its probe;
#   - 200 messages from 4 senders arrive with ONE token request;
#   - a token the server forgets is refetched once and the message delivered;
#   - expires_in of 5 s: messages over 30 s keep arriving, no failed AUTH;
#   - HTTP 429 with Retry-After is honoured (no request inside the window);
#   - a revoked secret: probe code oauth_invalid_client with the AADSTS
#     text; delivery deferred, then held by the breaker after a bounded
#     number of token requests;
#   - the client secret, the private key and every access token are absent
#     from the store, the spool, logs, events, ps and the probe's JSON.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"
tr_require openssl openssl

make_ca "$T/ca" || exit 1
# The app's certificate credential (its public part registered with the provider).
make_app_cert || exit 1
start_ms_provider --client-cert "$T/app.pem" --mailbox box@acme.test --mailbox cert@beta.test || exit 1

TR_PORT=$(free_port)
TR_CONF="$T/tr.conf"
write_conf "$TR_CONF" 'retry = { schedule = [ 1 ]; max_age = 3600; auth_failures_before_hold = 3; };
delivery = { idle_timeout = 1; };'
tr_ctl key init > /dev/null 2>&1
jget() { "$PYTHON3" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
OAUTH=(--auth xoauth2 --oauth-provider microsoft --oauth-token-url "$URL" --oauth-client-id "$CID")

# --- oauth instructions: the admin's steps with the ids filled in -----------------
tr_ctl oauth instructions --provider microsoft --directory contoso.onmicrosoft.com --client-id "$CID" \
    --mailbox box@acme.test > "$T/instr.out"
ok "oauth instructions: the admin-consent URL" \
    grep -qF "https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=$CID" "$T/instr.out"
ok "  New-ServicePrincipal, Add-MailboxPermission and the RBAC lines, filled in" \
    bash -c 'grep -q "New-ServicePrincipal -AppId $1 " "$0" && grep -q "Add-MailboxPermission -Identity \"box@acme.test\"" "$0" && grep -q "New-ManagementRoleAssignment -App OBJECT_ID -Role \"Application SMTP.SendAsApp\"" "$0"' "$T/instr.out" "$CID"
tr_ctl oauth instructions --provider google --client-id 104000000000000000001 --mailbox box@g.test > "$T/instrg.out"
ok "  google: the domain-wide delegation step with the client id and scope" \
    bash -c 'grep -q "Client ID:    104000000000000000001" "$0" && grep -q "OAuth scopes: https://mail.google.com/" "$0"' "$T/instrg.out"

tr_ctl tenant set acme --host localhost --oauth-secret not-the-secret > "$T/argv.out" 2> "$T/argv.err"
ok "a client secret on the command line is refused (64)" \
    bash -c '[ "$0" = 64 ] && grep -q "never taken from the command line" "$1"' $? "$T/argv.err"

# --- tenant set with a client secret: the probe's token step, then XOAUTH2 ----
printf '%s\n' "$SECRET" | tr_ctl tenant set acme --host localhost --port "$sp" --tls implicit \
    --ca-file "$T/ca/ca.pem" --username box@acme.test --sender box@acme.test --domain acme.test \
    "${OAUTH[@]}" --oauth-secret-stdin > "$T/set.out" 2> "$T/set.err"
ok "tenant set (client secret) passes its probe" test $? = 0
ok "  the probe shows the token step" grep -q '^token *ok' "$T/set.out"
ok "  and AUTH XOAUTH2" grep -q 'mechanism=XOAUTH2' "$T/set.out"
ok "  the store holds the secret sealed under its own field" \
    grep -q 'client_secret = "trv1:' "$T/etc/tenants"* -r
tr_ctl --json tenant show acme > "$T/show.json" 2>&1
ok "  tenant show: provider, client id, key id, the secret opens" \
    test "$(jget "$T/show.json" 'd["oauth"]["provider"], d["oauth"]["client_id"], d["oauth"]["client_secret"]["opens"], len(d["oauth"]["client_secret"]["key_id"])')" = "microsoft $CID True 12"

# --- tenant set with a certificate: the endpoint verifies the assertion ----------
tr_ctl tenant set beta --host localhost --port "$sp" --tls implicit --ca-file "$T/ca/ca.pem" \
    --username cert@beta.test --sender cert@beta.test --domain beta.test "${OAUTH[@]}" \
    --oauth-key-file "$T/app.key" --oauth-cert-file "$T/app.pem" > "$T/setc.out" 2> "$T/setc.err"
ok "tenant set (certificate) passes its probe" test $? = 0
ok "  the endpoint verified a PS256 assertion with x5t#S256" test "$(provider_stat "$hp" 'd.get("assertion_algs")')" = "['PS256']"
ok "  the private key is sealed (client_key), the certificate by path" \
    bash -c 'grep -rq "client_key = \"trv1:" "$0"/etc/tenants* && grep -rq "client_cert_file = \"$0/app.pem\"" "$0"/etc/tenants*' "$T"
tr_ctl --json audit > "$T/audit.json" 2>&1
ok "  audit reports the OAuth2 tenants; its only finding: the certificate expires within 30 days" \
    "$PYTHON3" -c 'import json,sys; d=json.load(open(sys.argv[1])); t={x["id"]:x for x in d["tenants"]}; assert t["beta"]["oauth"]["client_key"]["opens"] and t["acme"]["oauth"]["provider"]=="microsoft"; f=[(f["tenant"],f["code"]) for f in d["findings"] if f.get("tenant") in ("acme","beta")]; assert f==[("beta","oauth_certificate_expiring")], f' "$T/audit.json"

# --- 200 messages from 4 senders, one token request -------------------------------
before=$(provider_stat "$hp" 'd["token_requests"]')
start_daemon "$TR_CONF" || { cat "$T/daemon.log"; exit 1; }
send_many 200 4 app@acme.test someone@example.net
ok "200 messages from 4 senders arrive" wait_eml "$T/ms.mail" 200 120
ok "  the endpoint saw one token request for them" test "$(provider_stat "$hp" "d['token_requests'] - $before")" = 1
ok "  no AUTH failed" test "$(provider_stat "$hp" 'd["auth_failed"]')" = 0
ok "  every message authenticated as the mailbox" \
    test "$(grep -l '"auth_user": "box@acme.test"' "$T"/ms.mail/*.json | wc -l)" -ge 200

# --- the certificate route delivers too (its own token, its own assertion) --------
n=$(count_eml "$T/ms.mail")
send_many 5 1 app@beta.test someone@example.net
ok "certificate route: 5 messages arrive" wait_eml "$T/ms.mail" $((n + 5)) 60
ok "  authenticated as its mailbox with a token from a verified assertion" \
    test "$(grep -l '"auth_user": "cert@beta.test"' "$T"/ms.mail/*.json | wc -l):$(provider_stat "$hp" 'len(d["assertion_algs"])')" = "6:2"

tr_ctl tenant set gamma --host localhost --port "$sp" --tls implicit --ca-file "$T/ca/ca.pem" \
    --username cert@beta.test --sender cert@beta.test "${OAUTH[@]}" --oauth-key-file "$T/app.key" \
    --oauth-cert-file "$T/app.pem" --oauth-assertion-alg RS256 > "$T/setg.out" 2> "$T/setg.err"
ok "an RS256 certificate assertion is accepted too" \
    test "$?:$(provider_stat "$hp" 'd["assertion_algs"][-1]')" = "0:RS256"

# --- a token the server forgets: one refetch, the message delivered ---------------
sleep 2                                 # idle_timeout 1: the next message opens a session
provider_admin "$hp" forget
before=$(provider_stat "$hp" 'd["token_requests"]')
n=$(count_eml "$T/ms.mail")
send_many 1 1 app@acme.test someone@example.net
ok "forgotten token: the message is delivered" wait_eml "$T/ms.mail" $((n + 1)) 30
ok "  after exactly one refetch" test "$(provider_stat "$hp" "d['token_requests'] - $before")" = 1
ok "  and one refused AUTH" test "$(provider_stat "$hp" 'd["auth_failed"]')" = 1
ok "  the daemon says why it fetched again" grep -q 'oauth token refused .*fetching a new one' "$T/daemon.log"

# --- expires_in 5 s: messages over 30 s, no failed AUTH --------------------------
provider_admin "$hp" 'expires_in?n=5'
sleep 2
provider_admin "$hp" forget
send_many 1 1 app@acme.test someone@example.net     # picks up a 5 s token (one refused AUTH)
n=$(( $(count_eml "$T/ms.mail") + 1 ))
wait_eml "$T/ms.mail" "$n" 30
failed=$(provider_stat "$hp" 'd["auth_failed"]')
before=$(provider_stat "$hp" 'd["token_requests"]')
for i in $(seq 1 15); do                # 15 messages, one every 2 s: a fresh session each
    send_many 1 1 app@acme.test someone@example.net
    sleep 2
done
ok "expires_in 5: 15 messages over 30 s arrive" wait_eml "$T/ms.mail" $((n + 15)) 30
ok "  with no failed AUTH" test "$(provider_stat "$hp" 'd["auth_failed"]')" = "$failed"
req=$(provider_stat "$hp" "d['token_requests'] - $before")
ok "  tokens were refreshed before they expired (requests: $req, 4..20)" test "$req" -ge 4 -a "$req" -le 20
provider_admin "$hp" 'expires_in?n=3600'

# --- 429 with Retry-After ------------------------------------------------------------
sleep 2
provider_admin "$hp" 'ratelimit?n=1&retry_after=4'
provider_admin "$hp" forget
before=$(provider_stat "$hp" 'd["token_requests"]')
n=$(count_eml "$T/ms.mail")
send_many 1 1 app@acme.test someone@example.net
ok "429: the message is delivered once the endpoint allows it" wait_eml "$T/ms.mail" $((n + 1)) 40
ok "  with two token requests (the 429'd one and the next after Retry-After)" \
    test "$(provider_stat "$hp" "d['token_requests'] - $before")" = 2
ok "  the deferral named oauth_rate_limited" grep -q 'status=deferred (auth_failed: oauth token: oauth_rate_limited\|status=deferred (local: oauth token: oauth_rate_limited\|oauth_rate_limited' "$T/daemon.log"

provider_admin "$hp" 'ratelimit?n=1&retry_after=7'
tr_ctl --json test acme --no-send > "$T/limited.json" 2> "$T/limited.err"
ok "429 in the probe: code oauth_rate_limited with the Retry-After in the token step" \
    test "$(jget "$T/limited.json" 'd["code"], [s["detail"].get("retry_after") for s in d["steps"] if s["step"]=="token"][0]')" = "oauth_rate_limited 7"

# --- a revoked secret ----------------------------------------------------------------
provider_admin "$hp" revoke
provider_admin "$hp" forget
tr_ctl --json test acme --no-send > "$T/revoked.json" 2> "$T/revoked.err"
ok "revoked secret: test exits 1" test $? = 1
ok "  code oauth_invalid_client" test "$(jget "$T/revoked.json" 'd["code"]')" = oauth_invalid_client
ok "  the token step's detail has the AADSTS text" \
    test "$(jget "$T/revoked.json" '[s["detail"]["error"] for s in d["steps"] if s["step"]=="token"][0].count("AADSTS7000215")')" = 1
ok "  the hint names the admin step" grep -q 'Certificates & secrets' "$T/revoked.json"
sleep 2
before=$(provider_stat "$hp" 'd["token_requests"]')
send_many 3 1 app@acme.test someone@example.net
ok "  delivery: deferred, then held by the breaker" wait_true 60 '[ "$(queue_state_count held)" -ge 1 ]'
req=$(provider_stat "$hp" "d['token_requests'] - $before")
ok "  after a bounded number of token requests ($req <= 2)" test "$req" -le 2
ok "  the deferral carried the code" grep -q 'oauth_invalid_client' "$T/log/events.jsonl"

# --- the initial response, and a token too long for the AUTH line (RFC 4954) -------
ok "tokens of 1,200 bytes went as AUTH XOAUTH2's initial response" \
    test "$(provider_stat "$hp" 'd["auth_initial"] > 0 and d["auth_after_334"] == 0')" = True
lp=$(free_port); lh=$(free_port)
start_provider long "$lp" "$lh" --client-id "$CID" --client-secret-file "$T/secret" --mailbox box@long.test \
    --token-length 10000 || exit 1
printf '%s\n' "$SECRET" | tr_ctl tenant set long --host localhost --port "$lp" --tls implicit \
    --ca-file "$T/ca/ca.pem" --username box@long.test --sender box@long.test --auth xoauth2 \
    --oauth-provider microsoft --oauth-token-url "https://localhost:$lh/dir/oauth2/v2.0/token" \
    --oauth-client-id "$CID" --oauth-secret-stdin > "$T/setl.out" 2> "$T/setl.err"
ok "a 10,000-byte token: tenant set passes" test $? = 0
ok "  the response went after a 334, never as a too-long AUTH line" \
    test "$(provider_stat "$lh" 'd["auth_after_334"] == 1 and d["auth_initial"] == 0')" = True
provider_stat "$lh" '"\n".join(d["issued"])' >> "$T/needles.long"

# --- secrets absent everywhere ------------------------------------------------------
provider_stat "$hp" '"\n".join(d["issued"])' > "$T/needles"
printf '%s\n' "$SECRET" >> "$T/needles"
cat "$T/needles.long" >> "$T/needles"
sed -n '2p;10p' "$T/app.key" >> "$T/needles"        # lines of the private key's body
ok "the needles list holds tokens, the secret and key lines" test "$(wc -l < "$T/needles")" -ge 10
ps -eo args > "$T/ps.txt"
tr -d '\0' < "/proc/$TR_DAEMON_PID/cmdline" >> "$T/ps.txt"
ok "no secret or token in the store, spool, logs, events, change log, ps, probe output" \
    absent_everywhere "$T/needles" "$T/etc" "$T/spool" "$T/log" "$T/daemon.log" "$T/ps.txt" \
    "$T/set.out" "$T/set.err" "$T/setc.out" "$T/show.json" "$T/audit.json" "$T/revoked.json" "$T/revoked.err" "$T/limited.json" "$T/limited.err" "$T/setc.err" "$T/setl.out" "$T/setl.err" "$T/setg.out" "$T/setg.err"
finish
