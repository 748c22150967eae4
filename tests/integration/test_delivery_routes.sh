#!/bin/bash
# End to end: the default route and two tenants with different credentials
# and senders, each on its own real upstream (implicit TLS and STARTTLS, AUTH
# required): every message arrives at its own upstream only, with the
# envelope sender and From: rewritten to the route's sender, the display
# name kept, the original address in Reply-To:, no tenant header, and the
# body byte-exact.  Secrets appear in no log, event or queue file.
. "$(dirname "$0")/lib.sh"

make_ca "$T/ca"
p_default=$(free_port); p_acme=$(free_port); p_globex=$(free_port)
start_upstream default "$p_default" implicit --auth platform:pl4tform-s3cret
start_upstream acme "$p_acme" implicit --auth acme-user:acme-s3cret-pw
start_upstream globex "$p_globex" starttls --auth globex-user:globex-s3cret-pw

TR_PORT=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT
write_conf "$TR_CONF" 'retry = { schedule = [ 1 ]; };'
routes_default_acme "$p_default" "$p_acme" "$T/set1.out"
printf 'globex-s3cret-pw' | tr_ctl tenant set globex --host localhost --port "$p_globex" --tls starttls \
    --username globex-user --password-stdin --sender no-reply@globex.test \
    --domain globex.test --ca-file "$T/ca/ca.pem" --no-test > "$T/set2.out" 2>&1
ok "tenants saved" bash -c '"$0" -c "$1" tenant show globex > /dev/null' "$TR_BIN_CTL" "$TR_CONF"

start_daemon "$TR_CONF"

body=$'First line\r\n.leading dot\r\n..two dots\r\n.\r\n\r\nTrailing spaces   \r\nUTF-8: caf\xc3\xa9\r\n'
mkmsg() {  # mkmsg FILE HEADER-LINES...: a message with these headers and $body
    local f=$1
    shift
    { for h in "$@"; do printf '%s\r\n' "$h"; done; printf '\r\n%s' "$body"; } > "$f"
}
mkmsg "$T/m1" 'From: "Ops, Team" <ops@platform.test>' 'To: user1@example.test' 'Subject: default route'
mkmsg "$T/m2" 'X-Tenant-ID: acme' 'From: =?UTF-8?Q?Ren=C3=A9e?= <renee@platform.test>' \
    'To: user2@example.test' 'Subject: acme by header' 'x-tenant-id:   acme'
mkmsg "$T/m3" 'From: App <app@globex.test>' 'Reply-To: desk@globex.test' 'To: user3@example.test' \
    'Subject: globex by sender domain'
ok "default-route message accepted" relay_send_file app@platform.test user1@example.test "$T/m1"
ok "acme message accepted" relay_send_file app@platform.test user2@example.test "$T/m2"
ok "globex message accepted" relay_send_file app@globex.test user3@example.test "$T/m3"

ok "default route delivered" wait_eml "$T/default.mail" 1 20
ok "acme's route delivered" wait_eml "$T/acme.mail" 1 20
ok "globex's route delivered" wait_eml "$T/globex.mail" 1 20
ok "nothing else went to the default upstream" test "$(count_eml "$T/default.mail")" = 1
ok "acme's upstream got only acme's mail" test "$(count_eml "$T/acme.mail")" = 1
ok "globex's upstream got only globex's mail" test "$(count_eml "$T/globex.mail")" = 1

env_of() { "$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
ok "default: envelope sender rewritten" test "$(env_of "$T/default.mail/000001.json" mail_from)" = notifications@platform.test
ok "default: logged in as the platform" test "$(env_of "$T/default.mail/000001.json" auth_user)" = platform
ok "acme: envelope sender rewritten" test "$(env_of "$T/acme.mail/000001.json" mail_from)" = mailer@acme.test
ok "acme: logged in as acme's user" test "$(env_of "$T/acme.mail/000001.json" auth_user)" = acme-user
ok "globex: envelope sender rewritten" test "$(env_of "$T/globex.mail/000001.json" mail_from)" = no-reply@globex.test
ok "globex: logged in as globex's user over STARTTLS" test "$(env_of "$T/globex.mail/000001.json" auth_user)" = globex-user

ok "default: From: rewritten, quoted display name kept" \
    grep -q '^From: "Ops, Team" <notifications@platform.test>' "$T/default.mail/000001.eml"
ok "default: original address in Reply-To:" grep -qi '^Reply-To: .*ops@platform.test' "$T/default.mail/000001.eml"
ok "acme: encoded-word display name kept" \
    grep -q '^From: =?UTF-8?Q?Ren=C3=A9e?= <mailer@acme.test>' "$T/acme.mail/000001.eml"
ok "globex: existing Reply-To: kept, not duplicated" \
    test "$(grep -ci '^Reply-To:' "$T/globex.mail/000001.eml")" = 1
ok "no tenant header leaves the relay" bash -c '! grep -qi "^X-Tenant-ID" "$0"/*.mail/*.eml' "$T"
ok "a Received: header was added first" \
    bash -c 'head -n 2 "$0" | grep -q "by relay.test (tenantrelay) with ESMTP"' "$T/acme.mail/000001.eml"

# The body after the header section must be byte-exact.
body_ok() {
    "$PYTHON3" - "$1" "$2" <<'PY'
import sys
got = open(sys.argv[1], "rb").read().split(b"\r\n\r\n", 1)[1]
want = open(sys.argv[2], "rb").read().split(b"\r\n\r\n", 1)[1]
sys.exit(0 if got == want else 1)
PY
}
ok "default: body byte-exact" body_ok "$T/default.mail/000001.eml" "$T/m1"
ok "acme: body byte-exact" body_ok "$T/acme.mail/000001.eml" "$T/m2"
ok "globex: body byte-exact" body_ok "$T/globex.mail/000001.eml" "$T/m3"

ok "the queue is empty after delivery" wait_true 10 '[ "$(queue_count)" = 0 ]'
ok "one sent event per message" \
    test "$(grep -c '"status":"sent"' "$T/log/events.jsonl")" = 3
ok "events name tenant and relay" grep -q '"tenant":"acme".*"relay":"127.0.0.1:'"$p_acme"'"' "$T/log/events.jsonl"
ok "delivery is logged with key=value fields" grep -q "tenant=globex relay=localhost:$p_globex tls=TLSv1.3 .* status=sent" "$T/daemon.log"

tr_ctl --json status > "$T/status.json"
ok "status counts sent mail per tenant" "$PYTHON3" -c '
import json,sys
d = json.load(open(sys.argv[1]))
t = {x["id"]: x for x in d["tenants"]}
sys.exit(0 if t["acme"]["sent"] == 1 and t["globex"]["sent"] == 1 and t["default"]["sent"] == 1 else 1)' "$T/status.json"

for secret in pl4tform-s3cret acme-s3cret-pw globex-s3cret-pw; do
    ok "secret $secret absent from logs, events, store, spool" \
        bash -c '! grep -rq -- "$0" "$1/daemon.log" "$1/log" "$1/etc" "$1/spool" "$1/relay.conf"' "$secret" "$T"
done
finish
