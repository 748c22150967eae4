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

milter_relay_start
ok "tenant acme saved" tr_ctl tenant show acme > /dev/null
ok "milter listens" wait_port "$MPORT" 10
P_PF=$(free_port)

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

pf_send() { mta_send "$P_PF" "$@"; }

mta_mkmsg "$T/m_acme" 'X-Tenant-ID: acme' 'From: =?UTF-8?Q?Ren=C3=A9e?= <renee@platform.test>' \
    'To: user@example.test' 'Subject: acme by header' 'Date: Wed, 25 Nov 2026 06:00:00 +0000' \
    'Message-ID: <acme-1@app.test>' 'x-tenant-id: ACME'
mta_mkmsg "$T/m_default" 'From: "Ops, Team" <ops@platform.test>' 'To: user@example.test' \
    'Subject: default route' 'Date: Wed, 25 Nov 2026 06:00:00 +0000' 'Message-ID: <default-1@app.test>'
mta_mkmsg "$T/m_domain" 'From: App <app@acme.test>' 'To: user@example.test' 'Subject: acme by sender domain' \
    'Date: Wed, 25 Nov 2026 06:00:00 +0000' 'Message-ID: <acme-2@app.test>'
mta_mkmsg "$T/m_conflict" 'X-Tenant-ID: acme' 'X-Tenant-ID: other' 'From: a@platform.test' \
    'To: user@example.test' 'Subject: conflict'

ok "tenant message accepted by Postfix" test "$(pf_send app@platform.test "$T/m_acme")" = "250 accepted"
ok "acme's upstream received it" wait_eml "$T/acme.mail" 1 60
ok "default-route message accepted by Postfix" test "$(pf_send app@platform.test "$T/m_default")" = "250 accepted"
ok "the default upstream received it" wait_eml "$T/default.mail" 1 60
r=$(pf_send app@platform.test "$T/m_conflict")
ok "conflicting tenant headers: the milter's 550 5.7.1 through Postfix ($r)" \
    grep -q '^550 5.7.1 Error: conflicting X-Tenant-ID headers' <<< "$r"

a=$T/acme.mail/000001
d=$T/default.mail/000001
ok "tenant: envelope sender is the tenant's sender" test "$(eml_meta "$a.json" mail_from)" = mailer@acme.test
ok "tenant: delivered with the tenant's credentials" test "$(eml_meta "$a.json" auth_user)" = acme-user
ok "tenant: From: rewritten, display name kept" grep -q '^From: =?UTF-8?Q?Ren=C3=A9e?= <mailer@acme.test>' "$a.eml"
ok "tenant: the original author in Reply-To:" grep -q '^Reply-To: =?UTF-8?Q?Ren=C3=A9e?= <renee@platform.test>' "$a.eml"
ok "tenant: no tenant header upstream (the client's and the stamp)" bash -c '! grep -qi "^x-tenant-id" "$0"' "$a.eml"
ok "tenant: came through Postfix" grep -q 'by pf.milter.test (Postfix)' "$a.eml"
ok "default: envelope sender is the default sender" test "$(eml_meta "$d.json" mail_from)" = notifications@platform.test
ok "default: delivered with the platform's credentials" test "$(eml_meta "$d.json" auth_user)" = platform
ok "default: From: rewritten" grep -q '^From: "Ops, Team" <notifications@platform.test>' "$d.eml"
ok "nothing of the tenant's went to the default upstream" test "$(count_eml "$T/default.mail")" = 1

ok "sender-domain message accepted by Postfix" test "$(pf_send app@acme.test "$T/m_domain")" = "250 accepted"
ok "acme's upstream received the sender-domain message" wait_eml "$T/acme.mail" 2 60
ok "sender domain: envelope sender is acme's" test "$(eml_meta "$T/acme.mail/000002.json" mail_from)" = mailer@acme.test
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
eml_headers "$a.eml" > "$T/h_milter"
eml_headers "$T/acme.mail/000003.eml" > "$T/h_direct"
ok "same header section through Postfix+milter as through tenantrelayd alone" diff -u "$T/h_direct" "$T/h_milter"
ok "same body" cmp <(eml_body "$a.eml") <(eml_body "$T/acme.mail/000003.eml")

# One header grammar through Postfix too (issue 12 items 2, 3): a tenant
# header with a space before the colon routes to acme and is removed; a
# second From: written with a space is refused 5.6.0.
mta_mkmsg "$T/m_space" 'X-Tenant-ID : acme' 'From: App <app@platform.test>' 'To: user@example.test' \
    'Subject: space before the colon'
mta_mkmsg "$T/m_twofrom" 'From: a@platform.test' 'From : ceo@bank.example' 'To: user@example.test' \
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
wait_exit "$MPID" 15
ok "milter stopped cleanly on SIGTERM (exit ${TR_EXIT:-none})" \
    bash -c '[ "$0" = 0 ] && grep -q "milter stopped" "$1"' "${TR_EXIT:-none}" "$T/milter.log"
r=$(pf_send app@platform.test "$T/m_default")
ok "milter down: Postfix tempfails ($r)" grep -q '^451 4' <<< "$r"

ok "no secret in any log" bash -c '! grep -rq "acme-s3cret-pw\|pl4tform-s3cret" "$0"/*.log "$1/maillog"' "$T" "$PF"
pf_stop
finish
