#!/bin/bash
# OAuth2, Google style: a service account with domain-wide delegation, its
# JSON key sealed (oauth_service_account), exchanged through the RS256
# jwt-bearer grant with sub = the mailbox (the endpoint verifies the
# signature, kid, iss, aud, scope and sub).  Google's error path: a refused
# token gets a 334 with base64 JSON, answered with an empty line (XOAUTH2)
# or %x01 (OAUTHBEARER, RFC 7628), and the decoded JSON shows in the
# probe's detail and the daemon's log.  A server offering only OAUTHBEARER
# gets OAUTHBEARER.  The key never shows anywhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oauth_lib.sh"

make_ca "$T/ca" || exit 1
mkdir -p "$T/sa"
make_service_account "$T/sa/sa.json" || exit 1
sp=$(free_port); hp=$(free_port)
start_provider g "$sp" "$hp" --service-account "$T/sa/sa.json" --mailbox box@g.test --error-style google || exit 1
bp=$(free_port); bh=$(free_port)
start_provider gb "$bp" "$bh" --service-account "$T/sa/sa.json" --mailbox box@g.test --error-style google \
    --mech OAUTHBEARER || exit 1

TR_PORT=$(free_port)
TR_CONF="$T/tr.conf"
write_conf "$TR_CONF" 'retry = { schedule = [ 1 ]; max_age = 3600; auth_failures_before_hold = 100; };
delivery = { idle_timeout = 1; };'
tr_ctl key init > /dev/null 2>&1
jget() { "$PYTHON3" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
route() {   # route PORT HTTPS-PORT USER
    echo --host localhost --port "$1" --tls implicit --ca-file "$T/ca/ca.pem" --username "$3" --sender "$3" \
        --auth xoauth2 --oauth-provider google --oauth-token-url "https://localhost:$2/token" \
        --oauth-key-file "$T/sa/sa.json"
}

# --- tenant set: jwt-bearer with sub, then XOAUTH2 -------------------------------------
tr_ctl tenant set gt $(route "$sp" "$hp" box@g.test) --domain g.test > "$T/set.out" 2> "$T/set.err"
ok "google: tenant set passes its probe" test $? = 0
ok "  token step then AUTH XOAUTH2" bash -c 'grep -q "^token *ok" "$0" && grep -q "mechanism=XOAUTH2" "$0"' "$T/set.out"
ok "  the JSON key is sealed as service_account" grep -rq 'service_account = "trv1:' "$T/etc"
ok "  the test message arrived as the mailbox" test "$(jget "$T/g.mail/000001.json" 'd["auth_user"]')" = box@g.test

# --- a mailbox outside the delegation: the token step says so -------------------------
tr_ctl --json test $(route "$sp" "$hp" other@g.test) --no-send > "$T/nodeleg.json" 2> "$T/nodeleg.err"
ok "undelegated mailbox: code oauth_invalid_grant" test "$(jget "$T/nodeleg.json" 'd["code"]')" = oauth_invalid_grant
ok "  with Google's own words in the token step's detail" grep -q 'Invalid email or User ID' "$T/nodeleg.json"

# --- the 334 JSON error path --------------------------------------------------------------
provider_admin "$hp" smtp_refuse
tr_ctl --json test gt --no-send > "$T/refused.json" 2> "$T/refused.err"
ok "refused token: test exits 1 with oauth_token_refused" \
    test "$?:$(jget "$T/refused.json" 'd["code"]')" = 1:oauth_token_refused
ok "  the auth step's detail holds the decoded challenge" \
    test "$(jget "$T/refused.json" '[s["detail"]["challenge"] for s in d["steps"] if s["step"]=="auth"][0]')" = \
    '{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}'
ok "  the challenge was answered with an empty line" test "$(provider_stat "$hp" 'd["challenge_answers"]')" = "['']"
ok "  the reply is the final 535" grep -q '535 5.7.8' "$T/refused.json"

# The default route over OAuth2 too (its key sealed for the reserved tenant "default").
sa_tok=$(tr_ctl seal --tenant default --field oauth_service_account < "$T/sa/sa.json")
set_default_route "$TR_CONF" "host = \"localhost\"; port = $sp; tls = \"implicit\"; ca_file = \"$T/ca/ca.pem\";
  sender = \"box@g.test\"; username = \"box@g.test\"; auth = \"xoauth2\";
  oauth = { provider = \"google\"; token_url = \"https://localhost:$hp/token\"; service_account = \"$sa_tok\"; };"
"$TR_BIN_DAEMON" -t -c "$TR_CONF" > "$T/t1.out" 2>&1
ok "a default route with an oauth group passes -t" test $? = 0
start_daemon "$TR_CONF" || { cat "$T/daemon.log"; exit 1; }
send_many 1 1 app@g.test someone@example.net
ok "delivery: deferred" wait_for 30 grep -q 'status=deferred (535-5.7.8' "$T/daemon.log"
ok "  the decoded challenge is in the log" \
    grep -q 'oauth AUTH refused .*challenge={"status":"400","schemes":"Bearer"' "$T/daemon.log"
provider_admin "$hp" 'smtp_refuse?on=0'
ok "  delivered once the server accepts the token" wait_eml "$T/g.mail" 2 60

n=$(count_eml "$T/g.mail")
send_many 1 1 app@unknown.test someone@example.net
ok "the default route delivers over OAuth2" wait_eml "$T/g.mail" $((n + 1)) 60

# --- OAUTHBEARER where only it is offered ------------------------------------------------
tr_ctl tenant set gb $(route "$bp" "$bh" box@g.test) > "$T/setb.out" 2> "$T/setb.err"
ok "OAUTHBEARER-only server: tenant set passes" test $? = 0
ok "  AUTH OAUTHBEARER was used" test "$(provider_stat "$bh" 'd["mechanisms"]')" = "['OAUTHBEARER']"
provider_admin "$bh" smtp_refuse
tr_ctl --json test gb --no-send > "$T/refusedb.json" 2> "$T/refusedb.err"
ok "  a refused token: the 334 is answered with %x01 (RFC 7628)" \
    test "$(provider_stat "$bh" 'd["challenge_answers"]')" = "['\\x01']"

# --- key rotate re-seals the OAuth2 secrets under their own fields ----------------------
old=$(tr_ctl --json key list | "$PYTHON3" -c 'import json,sys; print([k["id"] for k in json.load(sys.stdin)["keys"] if k["state"]=="primary"][0])')
tr_ctl key rotate > "$T/rotate.out" 2> "$T/rotate.err"
ok "key rotate re-seals both service-account keys and the default route's" \
    grep -q "re-sealed 2 tenant secrets and the default route's OAuth2 secrets" "$T/rotate.out"
tr_ctl key retire "$old" > "$T/retire.out" 2> "$T/retire.err"
ok "  the old key can then be retired" test $? = 0
tr_ctl --json test gt --no-send > "$T/rotated.json" 2> "$T/rotated.err"
ok "  and the re-sealed key still gets a token" test "$(jget "$T/rotated.json" 'd["ok"]')" = True
ok "  the default route's sealed key was rewritten in the config" \
    bash -c '! grep -qF "$1" "$0" && grep -q "service_account = \"trv1:" "$0"' "$TR_CONF" "$sa_tok"
"$TR_BIN_DAEMON" -t -c "$TR_CONF" > "$T/t2.out" 2>&1
ok "  and the config still passes -t" test $? = 0
tr_ctl reload > /dev/null 2>&1
n=$(count_eml "$T/g.mail")
send_many 1 1 app@unknown.test someone@example.net
ok "  after reload the default route still delivers" wait_eml "$T/g.mail" $((n + 1)) 60

# --- the key appears nowhere -------------------------------------------------------------
"$PYTHON3" -c 'import json,sys; k=json.load(open(sys.argv[1]))["private_key"].splitlines(); print("\n".join(k[2:6]))' \
    "$T/sa/sa.json" > "$T/needles"
provider_stat "$hp" '"\n".join(d["issued"])' >> "$T/needles"
provider_stat "$bh" '"\n".join(d["issued"])' >> "$T/needles"
ps -eo args > "$T/ps.txt"
ok "no key line or token in the store, spool, logs, events, ps, probe output" \
    absent_everywhere "$T/needles" "$T/etc" "$T/spool" "$T/log" "$T/daemon.log" "$T/ps.txt" "$T"/*.out \
    "$T"/*.err "$T"/*.json
finish
