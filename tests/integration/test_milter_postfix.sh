#!/bin/bash
# tenantrelay-milter inside a real Postfix: a private instance (own
# config, queue and data directories, own loopback port; never the system
# instance) with smtpd_milters = inet:127.0.0.1:PORT and relayhost =
# tenantrelayd, which delivers to real TLS+AUTH upstreams.  A tenant's
# message leaves through the tenant's upstream with the tenant's sender as
# envelope sender and From:, the milter's tenant stamp consumed by
# tenantrelayd (absent upstream); a default-route message reaches the
# default upstream; conflicting headers get the milter's 5.7.1 through
# Postfix; and the header section that arrives upstream is the one
# tenantrelayd alone produces for the same message.
. "$(dirname "$0")/lib.sh"

tr_require postfix postfix
[ "$(id -u)" = 0 ] || { echo "# a private Postfix instance needs root here"; exit 77; }

make_ca "$T/ca"
p_default=$(free_port); p_acme=$(free_port)
start_upstream default "$p_default" implicit --auth platform:pl4tform-s3cret
start_upstream acme "$p_acme" implicit --auth acme-user:acme-s3cret-pw

TR_PORT=$(free_port)
MPORT=$(free_port)
P_PF=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT
# One file for both daemons, as an installation would have it.
write_conf "$TR_CONF" "retry = { schedule = [ 1 ]; };
milter = { socket = \"inet:$MPORT@127.0.0.1\"; trusted_networks = [ \"127.0.0.0/8\" ]; };"
tr_ctl key init > "$T/key.out" 2>&1
token=$(printf 'pl4tform-s3cret' | tr_ctl seal --tenant default --field password)
set_default_route "$TR_CONF" "host = \"127.0.0.1\"; port = $p_default; tls = \"implicit\";
  username = \"platform\"; password = \"$token\";
  sender = \"notifications@platform.test\"; ca_file = \"$T/ca/ca.pem\";"
printf 'acme-s3cret-pw' | tr_ctl tenant set acme --host 127.0.0.1 --port "$p_acme" --tls implicit \
    --username acme-user --password-stdin --sender mailer@acme.test --domain acme.test \
    --ca-file "$T/ca/ca.pem" --no-test > "$T/set.out" 2>&1
ok "tenant acme saved" tr_ctl tenant show acme > /dev/null

start_daemon "$TR_CONF"
"$TR_BIN_MILTER" -f -c "$TR_CONF" > "$T/milter.log" 2>&1 &
MPID=$!
tr_track "$MPID"
ok "milter listens" wait_port "$MPORT" 10

# ---- the private Postfix instance -------------------------------------------
PF="$T/pf"
pf_private_config "$PF" "$P_PF" pf.milter.test
cat >> "$PF/etc/main.cf" <<CONF
smtpd_peername_lookup = no
relayhost = [127.0.0.1]:$TR_PORT
smtp_tls_security_level = none
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
CONF
PF_UP=0
pf_stop() {
    [ "$PF_UP" = 1 ] || return 0
    postfix -c "$PF/etc" stop >> "$T/postfix.out" 2>&1
    for _ in $(seq 1 100); do
        [ -s "$PF/queue/pid/master.pid" ] || break
        kill -0 "$(tr -d ' ' < "$PF/queue/pid/master.pid")" 2>/dev/null || break
        sleep 0.1
    done
    PF_UP=0
}
# Postfix's master is not our child: stop it by its own command, before
# lib.sh's cleanup ends the milter and tenantrelayd.
trap 'pf_stop; tr_cleanup' EXIT
postfix -c "$PF/etc" start >> "$T/postfix.out" 2>&1 && PF_UP=1
ok "private Postfix started" wait_port "$P_PF" 30

# pf_send FROM FILE: the exact bytes of FILE into Postfix; prints the last reply.
pf_send() {
    "$PYTHON3" - "$P_PF" "$1" "$2" <<'PY' 2>&1
import smtplib, sys
port, sender, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
try:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("app.test")
        s.sendmail(sender, ["user@example.test"], data)
    print("250 accepted")
except smtplib.SMTPResponseException as e:
    print(e.smtp_code, e.smtp_error.decode())
except smtplib.SMTPRecipientsRefused as e:
    print(list(e.recipients.values())[0])
PY
}

mkmsg() {  # mkmsg FILE HEADER-LINES...: CRLF message, fixed Date and Message-ID
    local f=$1
    shift
    { for h in "$@"; do printf '%s\r\n' "$h"; done; printf '\r\nBody line one.\r\n.leading dot\r\n'; } > "$f"
}
mkmsg "$T/m_acme" 'X-Tenant-ID: acme' 'From: =?UTF-8?Q?Ren=C3=A9e?= <renee@platform.test>' \
    'To: user@example.test' 'Subject: acme by header' 'Date: Wed, 25 Nov 2026 06:00:00 +0000' \
    'Message-ID: <acme-1@app.test>' 'x-tenant-id: ACME'
mkmsg "$T/m_default" 'From: "Ops, Team" <ops@platform.test>' 'To: user@example.test' \
    'Subject: default route' 'Date: Wed, 25 Nov 2026 06:00:00 +0000' 'Message-ID: <default-1@app.test>'
mkmsg "$T/m_domain" 'From: App <app@acme.test>' 'To: user@example.test' 'Subject: acme by sender domain' \
    'Date: Wed, 25 Nov 2026 06:00:00 +0000' 'Message-ID: <acme-2@app.test>'
mkmsg "$T/m_conflict" 'X-Tenant-ID: acme' 'X-Tenant-ID: other' 'From: a@platform.test' \
    'To: user@example.test' 'Subject: conflict'

ok "tenant message accepted by Postfix" test "$(pf_send app@platform.test "$T/m_acme")" = "250 accepted"
ok "acme's upstream received it" wait_eml "$T/acme.mail" 1 60
ok "default-route message accepted by Postfix" test "$(pf_send app@platform.test "$T/m_default")" = "250 accepted"
ok "the default upstream received it" wait_eml "$T/default.mail" 1 60
r=$(pf_send app@platform.test "$T/m_conflict")
ok "conflicting tenant headers: the milter's 550 5.7.1 through Postfix ($r)" \
    grep -q '^550 5.7.1 Error: conflicting X-Tenant-ID headers' <<< "$r"

env_of() { "$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
a=$T/acme.mail/000001
d=$T/default.mail/000001
ok "tenant: envelope sender is the tenant's sender" test "$(env_of "$a.json" mail_from)" = mailer@acme.test
ok "tenant: delivered with the tenant's credentials" test "$(env_of "$a.json" auth_user)" = acme-user
ok "tenant: From: rewritten, display name kept" grep -q '^From: =?UTF-8?Q?Ren=C3=A9e?= <mailer@acme.test>' "$a.eml"
ok "tenant: the original author in Reply-To:" grep -q '^Reply-To: =?UTF-8?Q?Ren=C3=A9e?= <renee@platform.test>' "$a.eml"
ok "tenant: no tenant header upstream (the client's and the stamp)" bash -c '! grep -qi "^x-tenant-id" "$0"' "$a.eml"
ok "tenant: came through Postfix" grep -q 'by pf.milter.test (Postfix)' "$a.eml"
ok "default: envelope sender is the default sender" test "$(env_of "$d.json" mail_from)" = notifications@platform.test
ok "default: delivered with the platform's credentials" test "$(env_of "$d.json" auth_user)" = platform
ok "default: From: rewritten" grep -q '^From: "Ops, Team" <notifications@platform.test>' "$d.eml"
ok "nothing of the tenant's went to the default upstream" test "$(count_eml "$T/default.mail")" = 1

ok "sender-domain message accepted by Postfix" test "$(pf_send app@acme.test "$T/m_domain")" = "250 accepted"
ok "acme's upstream received the sender-domain message" wait_eml "$T/acme.mail" 2 60
ok "sender domain: envelope sender is acme's" test "$(env_of "$T/acme.mail/000002.json" mail_from)" = mailer@acme.test
ok "log: the milter stamped acme (header)" grep -q 'rewritten client=\[127.0.0.1\] trusted=yes from=<app@platform.test> sender=<mailer@acme.test> tenant=acme source=header removed=2' "$T/milter.log"
# tenantrelayd's listener logs the envelope sender Postfix relayed: the
# milter's smfi_chgfrom (the upstream's is delivery's own rewrite).
ok "envelope sender changed in Postfix (tenant)" \
    grep -q 'queued client=\[127.0.0.1\] from=<mailer@acme.test> .*message-id=<acme-1@app.test>' "$T/daemon.log"
ok "envelope sender changed in Postfix (default route)" \
    grep -q 'queued client=\[127.0.0.1\] from=<notifications@platform.test> .*tenant=- .*message-id=<default-1@app.test>' "$T/daemon.log"
ok "log: the milter logs Postfix's queue id" \
    grep -Eq '^[^ ]+ tenantrelay-milter\[[0-9]+\]: [0-9A-F]{6,}: rewritten' "$T/milter.log"
ok "log: tenantrelayd trusted the stamp from Postfix" grep -q 'queued client=\[127.0.0.1\] from=<mailer@acme.test> .*tenant=acme source=header message-id=<acme-1@app.test>' "$T/daemon.log"
ok "log: Postfix logged the milter's refusal" grep -q 'milter-reject: END-OF-MESSAGE .*5.7.1 Error: conflicting' "$PF/maillog"

# The same message straight into tenantrelayd: the header section that
# arrives upstream must be the same (Received: lines aside).
relay_send_file app@platform.test user@example.test "$T/m_acme"
ok "direct message delivered" wait_eml "$T/acme.mail" 3 60
headers_of() {  # the header section without Received: fields
    "$PYTHON3" - "$1" <<'PY'
import sys
hdr = open(sys.argv[1], "rb").read().split(b"\r\n\r\n", 1)[0].split(b"\r\n")
out, skip = [], False
for line in hdr:
    if line[:1] in (b" ", b"\t"):
        if not skip:
            out.append(line)
        continue
    skip = line.lower().startswith(b"received:")
    if not skip:
        out.append(line)
sys.stdout.write("\n".join(l.decode("utf-8", "replace") for l in out) + "\n")
PY
}
headers_of "$a.eml" > "$T/h_milter"
headers_of "$T/acme.mail/000003.eml" > "$T/h_direct"
ok "same header section through Postfix+milter as through tenantrelayd alone" diff -u "$T/h_direct" "$T/h_milter"
ok "same body" cmp <(sed '1,/^\r$/d' "$a.eml") <(sed '1,/^\r$/d' "$T/acme.mail/000003.eml")

# One header grammar through Postfix too (issue 12 items 2, 3): a tenant
# header with a space before the colon routes to acme and is removed; a
# second From: written with a space is refused 5.6.0.
mkmsg "$T/m_space" 'X-Tenant-ID : acme' 'From: App <app@platform.test>' 'To: user@example.test' \
    'Subject: space before the colon'
mkmsg "$T/m_twofrom" 'From: a@platform.test' 'From : ceo@bank.example' 'To: user@example.test' \
    'Subject: two froms'
ok "'X-Tenant-ID : acme' accepted by Postfix" test "$(pf_send app@platform.test "$T/m_space")" = "250 accepted"
ok "... and delivered by acme's server" wait_eml "$T/acme.mail" 4 60
ok "... without the tenant header" bash -c '! grep -qi "^x-tenant-id" "$0"' "$T/acme.mail/000004.eml"
ok "... with one From:, acme's" test "$(grep -ci '^From *:' "$T/acme.mail/000004.eml")" = 1
ok "nothing more by the default route" test "$(count_eml "$T/default.mail")" = 1
r=$(pf_send app@platform.test "$T/m_twofrom")
ok "'From : x' after a From: is a second From: ($r)" grep -q '^550 5.6.0' <<< "$r"

# The milter down: Postfix answers tempfail (milter_default_action), and
# nothing leaves unrewritten.
kill -TERM "$MPID"
wait_exit "$MPID" 10
r=$(pf_send app@platform.test "$T/m_default")
ok "milter down: Postfix tempfails ($r)" grep -q '^451 4' <<< "$r"

ok "no secret in any log" bash -c '! grep -rq "acme-s3cret-pw\|pl4tform-s3cret" "$0"/*.log "$1/maillog"' "$T" "$PF"
pf_stop
finish
