#!/bin/bash
# Issue 12 items 2 and 3, against the real daemon and real upstreams: the
# one header grammar (SPEC §4) reads "Name : value" as the field Name.
#  - "X-Tenant-ID : acme" routes to acme's own server, never the default
#    route; the header never reaches the upstream; the header section does
#    not end there (no From: added on top, Subject: still a header).
#  - "From : ceo@bank.example" after a From: is a second From: (5.6.0),
#    never relayed with only the first rewritten.
. "$(dirname "$0")/lib.sh"
tr_require swaks swaks
tr_require_python aiosmtpd python3-aiosmtpd

make_ca "$T/ca"
p_default=$(free_port); p_acme=$(free_port)
start_upstream default "$p_default" implicit
start_upstream acme "$p_acme" implicit --auth acme-user:acme-s3cret-pw

TR_PORT=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT
TR_UPSTREAM_PORT=$p_default write_conf "$TR_CONF" 'retry = { schedule = [ 1 ]; };'
tr_ctl key init > "$T/key.out" 2>&1
printf 'acme-s3cret-pw' | tr_ctl tenant set acme --host 127.0.0.1 --port "$p_acme" --tls implicit \
    --username acme-user --password-stdin --sender mailer@acme.test \
    --ca-file "$T/ca/ca.pem" --no-test > "$T/set.out" 2>&1
ok "tenant acme saved" bash -c '"$0" -c "$1" tenant show acme > /dev/null' "$TR_BIN_CTL" "$TR_CONF"
start_daemon "$TR_CONF"

mkmsg() {  # mkmsg FILE HEADER-LINES...
    local f=$1
    shift
    { for h in "$@"; do printf '%s\r\n' "$h"; done; printf '\r\nbody line\r\n'; } > "$f"
}
mkmsg "$T/m1" 'From: App <app@platform.test>' 'X-Tenant-ID : acme' 'To: u1@example.test' 'Subject: space before colon'
mkmsg "$T/m2" 'From: App <app@platform.test>' $'X-Tenant-ID\t: acme' 'To: u2@example.test' 'Subject: tab before colon'
ok "message with 'X-Tenant-ID : acme' accepted" relay_send_file app@platform.test u1@example.test "$T/m1"
ok "message with 'X-Tenant-ID<TAB>: acme' accepted" relay_send_file app@platform.test u2@example.test "$T/m2"
ok "both delivered by acme's server" wait_eml "$T/acme.mail" 2 30
ok "nothing went by the default route" test "$(count_eml "$T/default.mail")" = 0

check_eml() {  # check_eml FILE SUBJECT: one From: (acme's sender), no tenant header, Subject a header
    "$PYTHON3" - "$1" "$2" <<'PY'
import email, email.policy, sys
raw = open(sys.argv[1], "rb").read()
m = email.message_from_bytes(raw, policy=email.policy.compat32)
froms = m.get_all("From") or []
assert len(froms) == 1 and "mailer@acme.test" in froms[0], froms
assert b"tenant-id" not in raw.lower(), "tenant header relayed"
assert m["Subject"] == sys.argv[2], m["Subject"]
assert m.get_payload().strip() == "body line"
PY
}
ok "message 1: one From: (acme's), no tenant header, Subject: still a header" check_eml "$T/acme.mail/000001.eml" "space before colon"
ok "message 2: the same" check_eml "$T/acme.mail/000002.eml" "tab before colon"

# Item 3: a second From: written with a space.
mkmsg "$T/m3" 'From: app@platform.test' 'From : ceo@bank.example' 'To: u3@example.test' 'Subject: two froms'
smtp_try app@platform.test u3@example.test "$T/m3" > "$T/m3.out"
ok "'From : ceo@bank.example' is a second From: -> 550 5.6.0" grep -q '^refused 550 5.6.0' "$T/m3.out"
sleep 1
ok "the two-From: message reached no upstream" \
    bash -c '! grep -qs "ceo@bank.example" "$0"/*.mail/*.eml' "$T"
ok "daemon still running" kill -0 "$TR_DAEMON_PID"
finish
