#!/bin/bash
# tenantrelay-milter inside a real Sendmail 8.17 (Debian's), beside the
# system's Postfix: sendmail-bin, sendmail-base, sendmail-cf and sasl2-bin
# are fetched with apt-get download (cached) and unpacked with dpkg -x into
# the test's directory, never installed.  A private sendmail.cf is made
# with m4 from sendmail-cf's own m4 files: a loopback port, the README's
# INPUT_MAIL_FILTER line, SMART_HOST relaying to tenantrelayd, which
# delivers to TLS+AUTH upstreams; queue, pid file and SMTP trace (-X) live
# in the test's directory, and Sendmail is stopped by PID.
#
# Sendmail runs in its own mount namespace (unshare -m) where two private
# files are bound over system paths, seen by it alone: /etc/hosts (the
# host's name with a domain, so Sendmail does not wait on DNS to qualify
# it) and /usr/lib/sasl2 (Cyrus SASL's Sendmail.conf, pointing at the
# test's sasldb, for SMTP AUTH: a path libsasl2 always searches, so nothing
# rests on which environment variables Sendmail keeps).  There is no syslog here:
# results are read upstream, in Sendmail's replies, in its -X SMTP trace,
# in its milter debugging (-d64.10 into a file: the negotiation, macros and
# edits as Sendmail saw them) and in the milter's log.
#
# Cases: tenant by header from a trusted client; tenant by sender domain;
# the SMTP AUTH identity through {auth_authen}; an unknown tenant under
# each unknown_tenant; SIGUSR1 reloads during traffic; the milter down
# (F=T: tempfail; and F=R: refused).  Each message that arrives upstream
# is checked for the envelope sender, From:, no tenant header, and the same
# header fields and body as the same message sent straight to tenantrelayd.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "# a private Sendmail (mount namespace, port, queue) needs root here"; exit 77; }
tr_require m4 m4
tr_require unshare util-linux
tr_require apt-get apt
tr_require dpkg dpkg

# ---- Debian's Sendmail, unpacked, never installed ---------------------------
SM_PKGS="sendmail-bin sendmail-base sendmail-cf sasl2-bin"
SM_CACHE=${TR_DEB_CACHE:-/var/tmp/tenantrelay-debs}
mkdir -p "$SM_CACHE"
sm_missing() {
    local p out=""
    for p in $SM_PKGS; do
        compgen -G "$SM_CACHE/${p}_*.deb" > /dev/null || out="$out $p"
    done
    echo "$out"
}
missing=$(sm_missing)
if [ -n "$missing" ]; then
    # apt-get download needs the package lists: refresh them only when it
    # fails.  Into a private directory first, then renamed into the cache,
    # so a concurrent run never sees half a file.
    dl="$SM_CACHE/.download.$$"
    mkdir -p "$dl"
    (cd "$dl" && apt-get download $missing) > "$T/apt.log" 2>&1 ||
        { apt-get update -qq && (cd "$dl" && apt-get download $missing); } >> "$T/apt.log" 2>&1
    for f in "$dl"/*.deb; do [ -e "$f" ] && mv -f "$f" "$SM_CACHE/"; done
    rm -rf "$dl"
    missing=$(sm_missing)
    if [ -n "$missing" ]; then
        echo "# SKIP: cannot obtain the Debian packages$missing (apt-get download failed):"
        sed 's/^/#   /' "$T/apt.log" | tail -5
        exit 77
    fi
fi
SM="$T/sm"
SMR="$SM/root"
mkdir -p "$SMR"
for p in $SM_PKGS; do
    deb=$(ls "$SM_CACHE/${p}"_*.deb | sort -V | tail -1)
    dpkg -x "$deb" "$SMR" || { echo "# cannot unpack $deb" >&2; exit 99; }
done
SENDMAIL="$SMR/usr/libexec/sendmail/sendmail"
if ldd "$SENDMAIL" "$SMR/usr/sbin/saslpasswd2" | grep -q 'not found'; then
    echo "# MISSING PREREQUISITE: libraries of Sendmail or saslpasswd2 not found:" >&2
    ldd "$SENDMAIL" "$SMR/usr/sbin/saslpasswd2" | grep 'not found' >&2
    exit 99
fi
# A private mount namespace.  Inside a bare chroot (a throwaway root built
# for CI, whose "/" is no mount point) making "/" private fails with EINVAL;
# there the namespace keeps the propagation it has: the binds below then
# land only on paths inside that throwaway root.  On an installed machine
# "/" is a mount point and the namespace is private.
SM_PROPAGATION=private
if ! unshare --mount --propagation private true 2> "$T/unshare.err"; then
    if ! mountpoint -q / && unshare --mount --propagation unchanged true 2>> "$T/unshare.err"; then
        SM_PROPAGATION=unchanged
        echo "# / is no mount point (a chroot): mount namespace with propagation unchanged"
    else
        echo "# cannot make a mount namespace for Sendmail (unshare --mount: $(cat "$T/unshare.err")); needs root with CAP_SYS_ADMIN" >&2
        exit 99
    fi
fi
[ -d /usr/lib/sasl2 ] || { echo "# MISSING PREREQUISITE: /usr/lib/sasl2 (Debian package libsasl2-modules)" >&2; exit 99; }
if [ ! -f /etc/hosts ]; then
    # Every installed machine has one; a bare chroot may not.  Only there
    # (see above) is an empty one made, for the private one to be bound over.
    if [ "$SM_PROPAGATION" = unchanged ]; then
        : > /etc/hosts
    else
        echo "# this machine has no /etc/hosts for the private Sendmail's to be bound over" >&2
        exit 99
    fi
fi
ok "Debian's Sendmail 8.17 unpacked" bash -c '"$0" -d0.1 -bt < /dev/null 2>&1 | grep -q "^Version 8\.17"' "$SENDMAIL"

# ---- tenantrelayd, the milter and the upstreams -------------------------------
milter_relay_start 'tenant_resolution = [ "header", "sender", "auth" ];
unknown_tenant = "default";'
ok "milter listens" wait_port "$MPORT" 10
# A second tenant's upstream: beta joins the store during traffic.
P_BETA=$(free_port)
start_upstream beta "$P_BETA" implicit --auth beta-user:beta-s3cret-pw

# ---- the private Sendmail ----------------------------------------------------
P_SM=$(free_port)
SM_NAME=sm.milter.test
mkdir -p "$SM/queue" "$SM/sasl2"
chmod 700 "$SM/queue"
printf 'hosts files\npasswd files\naliases files\n' > "$SM/service.switch"
printf '127.0.0.1 localhost %s %s\n::1 localhost %s %s\n' "$SM_NAME" "$(hostname)" "$SM_NAME" "$(hostname)" > "$SM/hosts"
printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\nmech_list: PLAIN LOGIN\n' \
    "$SM/sasldb2" > "$SM/sasl2/Sendmail.conf"
# SMTP AUTH user "acme" (a tenant id: resolution by {auth_authen}).
printf 'sm-auth-pw' | "$SMR/usr/sbin/saslpasswd2" -p -c -f "$SM/sasldb2" -u "$SM_NAME" acme
ok "sasldb written" test -s "$SM/sasldb2"

# sm_make_cf FLAG: sendmail.mc with the README's filter line (F=FLAG), made
# into sendmail.cf by m4 from sendmail-cf's own files.
sm_make_cf() {
    cat > "$SM/sendmail.mc" <<MC
divert(-1)
# tenantrelay test: a private Sendmail relaying through the milter to tenantrelayd.
divert(0)dnl
VERSIONID(\`tenantrelay test_milter_sendmail')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$SM_NAME')dnl
define(\`QUEUE_DIR', \`$SM/queue')dnl
define(\`confPID_FILE', \`$SM/sendmail.pid')dnl
define(\`STATUS_FILE', \`$SM/statistics')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`HELP_FILE', \`')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM/service.switch')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl
define(\`SMART_HOST', \`relay:[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $TR_PORT')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $TR_PORT')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Port=$P_SM, Addr=127.0.0.1, Name=MTA')dnl
INPUT_MAIL_FILTER(\`tenantrelay', \`S=inet:$MPORT@127.0.0.1, F=$1, T=S:30s;R:60s;E:5m')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
MC
    m4 -D_CF_DIR_="$CFDIR/" "$CFDIR/m4/cf.m4" "$SM/sendmail.mc" > "$SM/sendmail.cf" 2> "$SM/m4.err" &&
        [ -s "$SM/sendmail.cf" ] && [ ! -s "$SM/m4.err" ]
}

# sm_start: Sendmail as a daemon in the foreground (-bD), so $! is Sendmail
# itself (unshare and sh exec into it) and is stopped by that PID ($SM_PID);
# returns once it accepts connections.
sm_start() {
    unshare --mount --propagation "$SM_PROPAGATION" sh -c '
        mount --bind "$1/hosts" /etc/hosts &&
        mount --bind "$1/sasl2" /usr/lib/sasl2 &&
        exec "$2" -C "$1/sendmail.cf" -bD -X "$1/trace" -D "$1/debug" -d64.10' sh "$SM" "$SENDMAIL" >> "$SM/out.log" 2>&1 &
    SM_PID=$!
    tr_track "$SM_PID"
    wait_port "$P_SM" 30
}

# sm_stop: SIGTERM to Sendmail's PID, until it is gone.
sm_stop() {
    kill -TERM "$SM_PID" && wait_exit "$SM_PID" 15
}

CFDIR="$SMR/usr/share/sendmail/cf"
ok "sendmail.cf generated by m4" sm_make_cf T
ok "sendmail.cf has the README's filter line" \
    grep -q "^Xtenantrelay, S=inet:$MPORT@127.0.0.1, F=T, T=S:30s;R:60s;E:5m\$" "$SM/sendmail.cf"

if ! sm_start; then
    ok "private Sendmail listens" false
    sed 's/^/# sendmail: /' "$SM/out.log"
    finish
fi
ok "private Sendmail listens" true
ok "Sendmail's pid file names the PID we stop" wait_true 10 '[ "$(head -1 "$SM/sendmail.pid" 2>/dev/null)" = "$SM_PID" ]'

sm_send() { mta_send "$P_SM" "$@"; }

# next_eml DIR N: waits for message number N at DIR (counted before it was
# sent); its path without .eml in $EML.
next_eml() {
    EML=$(printf '%s/%06d' "$1" "$2")
    wait_eml "$1" "$2" 60
}
# same_headers EML DIRECT: the header sections (Received: aside) of a message
# through Sendmail+milter and of the same message straight through
# tenantrelayd hold the same fields in the same order, except Reply-To:,
# which Sendmail gets at the end (the milter adds it there: Sendmail has no
# reliable insert position, see milter_callbacks.c).
# (Each field on one line for the comparison: folds shown as "\n".)
fields_of() { awk '/^[ \t]/ { printf "\\n%s", $0; next } NR > 1 { print "" } { printf "%s", $0 } END { print "" }' "$1"; }
same_headers() {
    eml_headers "$1.eml" > "$1.h" && eml_headers "$2.eml" > "$2.h" &&
        fields_of "$1.h" > "$1.f" && fields_of "$2.h" > "$2.f" &&
        diff -u <(grep -v '^Reply-To:' "$2.f") <(grep -v '^Reply-To:' "$1.f") &&
        diff -u <(grep '^Reply-To:' "$2.f") <(grep '^Reply-To:' "$1.f")
}
same_body() { cmp <(eml_body "$1.eml") <(eml_body "$2.eml"); }
no_tenant_header() { ! grep -qi '^x-tenant-id' "$1.eml"; }

H_DATE='Date: Wed, 25 Nov 2026 06:00:00 +0000'
mta_mkmsg "$T/m_hdr" 'X-Tenant-ID: acme' 'From: =?UTF-8?Q?Ren=C3=A9e?= <renee@platform.test>' \
    'To: user@example.test' 'Subject: acme by header' "$H_DATE" 'Message-ID: <sm-hdr@app.test>' 'x-tenant-id: ACME'
# Folded fields (From: too): Sendmail passes folds to the milter and keeps them.
mta_mkmsg "$T/m_domain" 'From: "App, with a display name long enough to fold"' '	<app@acme.test>' \
    'To: user@example.test' 'Subject: acme by sender domain,' ' folded over two lines' \
    "$H_DATE" 'Message-ID: <sm-domain@app.test>'
mta_mkmsg "$T/m_auth" 'From: "Ops, Team" <ops@platform.test>' 'To: user@example.test' 'Subject: acme by AUTH' \
    "$H_DATE" 'Message-ID: <sm-auth@app.test>'
mta_mkmsg "$T/m_unknown" 'X-Tenant-ID: nosuch' 'From: Ops <ops@platform.test>' 'To: user@example.test' \
    'Subject: unknown tenant' "$H_DATE" 'Message-ID: <sm-unknown@app.test>'

# through_sendmail LABEL UPSTREAM ENVELOPE-FROM FILE SENDER UPSTREAM-USER FROM-LINE DIRECT-FROM [SMTP-USER PASSWORD]:
# FILE through Sendmail (with AUTH when given) must arrive at UPSTREAM
# with SENDER as envelope sender, delivered as UPSTREAM-USER, FROM-LINE in
# its header, no tenant header; then the same FILE straight into
# tenantrelayd (envelope sender DIRECT-FROM) must arrive there with the same
# header fields and body.  The first message's path (no .eml) in $CASE.
through_sendmail() {
    local label=$1 up=$2 envfrom=$3 file=$4 sender=$5 upuser=$6 fromline=$7 direct=$8 r n
    shift 8
    n=$(count_eml "$T/$up.mail")
    r=$(sm_send "$envfrom" "$file" "$@")
    ok "$label: accepted by Sendmail ($r)" test "$r" = "250 accepted"
    ok "$label: $up's upstream received it" next_eml "$T/$up.mail" $((n + 1))
    CASE=$EML
    ok "$label: envelope sender is $sender" test "$(eml_meta "$CASE.json" mail_from)" = "$sender"
    ok "$label: delivered with $upuser's credentials" test "$(eml_meta "$CASE.json" auth_user)" = "$upuser"
    ok "$label: $fromline" grep -qF -- "$fromline" "$CASE.eml"
    ok "$label: no tenant header upstream" no_tenant_header "$CASE"
    ok "$label: came through Sendmail" grep -q "by $SM_NAME (8.17" "$CASE.eml"
    relay_send_file "$direct" user@example.test "$file"
    ok "$label: the same message straight through tenantrelayd arrived" next_eml "$T/$up.mail" $((n + 2))
    ok "$label: same header fields as straight through tenantrelayd" same_headers "$CASE" "$EML"
    ok "$label: same body" same_body "$CASE" "$EML"
}

# set_unknown MODE: unknown_tenant = MODE, reloaded by the milter (SIGUSR1)
# and tenantrelayd; returns once the milter logged the reload.
set_unknown() {
    local n
    sed -i "s/^unknown_tenant = .*/unknown_tenant = \"$1\";/" "$TR_CONF"
    n=$(grep -c 'reloaded configuration' "$T/milter.log")
    kill -USR1 "$MPID"
    wait_true 10 "[ \$(grep -c 'reloaded configuration' '$T/milter.log') -gt $n ]" &&
        tr_ctl reload >> "$T/reload.out" 2>&1
}

# ---- the dialogue, as Sendmail's milter debugging (-d64.10) records it ------
# (after the first message: Sendmail negotiates per connection)
sm_dialogue() { grep -qF -- "$1" "$SM/debug"; }

# ---- case: tenant by header from a trusted client ----------------------------
through_sendmail "header" acme app@platform.test "$T/m_hdr" mailer@acme.test acme-user \
    'From: =?UTF-8?Q?Ren=C3=A9e?= <mailer@acme.test>' app@platform.test
ok "header: the original author in Reply-To:" grep -q '^Reply-To: =?UTF-8?Q?Ren=C3=A9e?= <renee@platform.test>' "$CASE.eml"
ok "header: Reply-To: is the last field (added at the end in Sendmail)" \
    bash -c '[ "$(tail -1 "$0.f")" = "Reply-To: =?UTF-8?Q?Ren=C3=A9e?= <renee@platform.test>" ]' "$CASE"
ok "header: the milter resolved acme from the trusted header, both copies removed" \
    grep -q 'rewritten client=\[127.0.0.1\] trusted=yes from=<app@platform.test> sender=<mailer@acme.test> tenant=acme source=header removed=2' "$T/milter.log"
ok "header: the milter logs Sendmail's queue id (i at end of message)" \
    grep -Eq ' [0-9A-Za-z]{14}: rewritten .*source=header' "$T/milter.log"
ok "header: envelope sender changed inside Sendmail (smfi_chgfrom), the stamp trusted by tenantrelayd" \
    grep -q 'queued client=\[127.0.0.1\] from=<mailer@acme.test> .*tenant=acme source=header message-id=<sm-hdr@app.test>' "$T/daemon.log"

ok "dialogue: protocol 6; Sendmail offers every action (0x1ff) and step (0x1fffff)" \
    sm_dialogue 'milter_negotiate(tenantrelay): send: version 6, fflags 0x1ff, pflags 0x1fffff'
ok "dialogue: the milter takes ADDHDRS|CHGHDRS|CHGFROM|SETSYMLIST (0x151) and no body (0x10)" \
    sm_dialogue 'milter_negotiate(tenantrelay): received: version 6, fflags 0x151, pflags 0x10'
ok "dialogue: Sendmail honours the milter's macro lists (v at connect, i at MAIL and end of message)" \
    bash -c 'grep -q "milter_send_macros(tenantrelay, C): v=8\.17" "$0" && grep -q "milter_send_macros(tenantrelay, M): i=" "$0" &&
             grep -q "milter_send_macros(tenantrelay, E): i=" "$0"' "$SM/debug"
ok "dialogue: Reply-To: added at the end, nothing inserted by position" \
    bash -c 'grep -q "milter_addheader: Add Reply-To:" "$0" && ! grep -q "milter_insheader" "$0"' "$SM/debug"
ok "dialogue: both tenant headers deleted by index, From: changed in place" \
    bash -c 'grep -q "Delete X-Tenant-ID: ACME" "$0" && grep -q "Delete X-Tenant-ID: acme" "$0" && grep -q "Change From: from " "$0"' "$SM/debug"
ok "dialogue: smfi_chgfrom applied by Sendmail" sm_dialogue 'milter_chgfrom: <mailer@acme.test>'

# ---- case: tenant by sender domain -------------------------------------------
through_sendmail "sender domain" acme app@acme.test "$T/m_domain" mailer@acme.test acme-user \
    'From: "App, with a display name long enough to fold" <mailer@acme.test>' app@acme.test
ok "sender domain: the milter resolved acme from the sender" \
    grep -q 'from=<app@acme.test> sender=<mailer@acme.test> tenant=acme source=sender' "$T/milter.log"

# ---- case: SMTP AUTH identity through {auth_authen} --------------------------
# The same file straight into tenantrelayd resolves acme by sender domain:
# the header section must come out the same.
through_sendmail "AUTH" acme app@platform.test "$T/m_auth" mailer@acme.test acme-user \
    'From: "Ops, Team" <mailer@acme.test>' app@acme.test acme sm-auth-pw
ok "AUTH: Sendmail accepted the SASL login" grep -q '>>> 235 2.0.0 OK Authenticated' "$SM/trace"
ok "AUTH: Sendmail sent {auth_authen} at MAIL" sm_dialogue 'milter_send_macros(tenantrelay, M): {auth_authen}=acme'
ok "AUTH: the milter resolved acme from {auth_authen}" \
    grep -q 'rewritten client=\[127.0.0.1\] trusted=yes from=<app@platform.test> sender=<mailer@acme.test> tenant=acme source=auth' "$T/milter.log"

# ---- case: unknown tenant under each unknown_tenant --------------------------
through_sendmail "unknown tenant, default" default app@platform.test "$T/m_unknown" \
    notifications@platform.test platform 'From: Ops <notifications@platform.test>' app@platform.test
n_default=$(count_eml "$T/default.mail")
n_acme=$(count_eml "$T/acme.mail")
ok "unknown_tenant = reject: milter reloaded" set_unknown reject
r=$(sm_send app@platform.test "$T/m_unknown")
ok "unknown tenant, reject: the milter's 550 5.7.1 through Sendmail ($r)" grep -q '^550 5\.7\.1 ' <<< "$r"
ok "unknown_tenant = tempfail: milter reloaded" set_unknown tempfail
r=$(sm_send app@platform.test "$T/m_unknown")
ok "unknown tenant, tempfail: the milter's 451 4.x.x through Sendmail ($r)" grep -q '^451 4\.[0-9.]* ' <<< "$r"
ok "unknown_tenant = default again" set_unknown default
ok "refused messages left nothing in Sendmail's queue" bash -c '[ -z "$(ls "$0" | grep "^qf")" ]' "$SM/queue"


# ---- case: reloads (SIGUSR1) during traffic ----------------------------------
# 20 messages of acme's through Sendmail one after the other while the
# milter reloads five times and tenant beta joins the store: every one is
# accepted and arrives rewritten; then beta's mail goes to beta.
mta_mkmsg "$T/m_traffic" 'X-Tenant-ID: acme' 'From: App <app@platform.test>' 'To: user@example.test' \
    'Subject: traffic' "$H_DATE" 'Message-ID: <sm-traffic@app.test>'
mta_mkmsg "$T/m_beta" 'X-Tenant-ID: beta' 'From: App <app@platform.test>' 'To: user@example.test' \
    'Subject: beta after the reload' "$H_DATE" 'Message-ID: <sm-beta@app.test>'
n_acme=$(count_eml "$T/acme.mail")
n_reloads=$(grep -c 'reloaded configuration' "$T/milter.log")
(for i in $(seq 1 20); do sm_send app@platform.test "$T/m_traffic"; done > "$T/traffic.out") &
traffic=$!
tr_track "$traffic"
for i in 1 2 3 4 5; do
    if [ "$i" = 3 ]; then
        printf 'beta-s3cret-pw' | tr_ctl tenant set beta --host 127.0.0.1 --port "$P_BETA" --tls implicit \
            --username beta-user --password-stdin --sender n@beta.test --domain beta.test \
            --ca-file "$T/ca/ca.pem" --no-test >> "$T/set.out" 2>&1
        tr_ctl reload >> "$T/reload.out" 2>&1
    fi
    kill -USR1 "$MPID"
    sleep 0.3
done
ok "traffic: the sender finished" wait_exit "$traffic" 180
ok "traffic: the milter reloaded five times" \
    wait_true 10 '[ "$(grep -c "reloaded configuration" "$T/milter.log")" -ge $((n_reloads + 5)) ]'
ok "traffic: Sendmail accepted all 20 ($(sort "$T/traffic.out" | uniq -c | tr -s ' \n' ' '))" \
    test "$(grep -c '^250 accepted$' "$T/traffic.out")" = 20
ok "traffic: all 20 arrived at acme's upstream" wait_eml "$T/acme.mail" $((n_acme + 20)) 120
traffic_ok() {
    local i f
    for i in $(seq $((n_acme + 1)) $((n_acme + 20))); do
        f=$(printf '%s/%06d' "$T/acme.mail" "$i")
        [ "$(eml_meta "$f.json" mail_from)" = mailer@acme.test ] || return 1
        grep -q '^From: App <mailer@acme.test>' "$f.eml" || return 1
        grep -qi '^x-tenant-id' "$f.eml" && return 1
    done
    return 0
}
ok "traffic: each rewritten (envelope sender, From:, no tenant header)" traffic_ok
ok "traffic: nothing went to another upstream" \
    test "$(count_eml "$T/default.mail")" = "$n_default" -a "$(count_eml "$T/beta.mail")" = 0
through_sendmail "beta after the reload" beta app@platform.test "$T/m_beta" n@beta.test beta-user \
    'From: App <n@beta.test>' app@platform.test

# ---- case: the milter down (F=T) ---------------------------------------------
kill -TERM "$MPID"
ok "milter stopped" wait_exit "$MPID" 15
ok "milter stopped cleanly on SIGTERM (exit ${TR_EXIT:-none}, not killed by the signal)" \
    bash -c '[ "${0}" = 0 ] && grep -q "milter stopped" "$1"' "${TR_EXIT:-none}" "$T/milter.log"
n_all=$(($(count_eml "$T/acme.mail") + $(count_eml "$T/default.mail") + $(count_eml "$T/beta.mail")))
r=$(sm_send app@platform.test "$T/m_hdr")
ok "milter down: Sendmail tempfails (F=T) ($r)" grep -q '^451 4\.' <<< "$r"
r=$(sm_send app@platform.test "$T/m_auth" acme sm-auth-pw)
ok "milter down: an authenticated client too, refused at AUTH ($r)" grep -q "^454 4\\." <<< "$r"
ok "milter down: nothing in Sendmail's queue" bash -c '[ -z "$(ls "$0" | grep "^qf")" ]' "$SM/queue"
ok "milter down: nothing more reached any upstream" \
    test "$(($(count_eml "$T/acme.mail") + $(count_eml "$T/default.mail") + $(count_eml "$T/beta.mail")))" = "$n_all"

# The same with F=R: Sendmail rejects instead of deferring.
ok "Sendmail stopped by its PID" sm_stop
ok "sendmail.cf with F=R" sm_make_cf R
ok "Sendmail with F=R listens" sm_start
r=$(sm_send app@platform.test "$T/m_hdr")
ok "milter down, F=R: Sendmail refuses the session at the greeting ($r)" grep -q '^554 ' <<< "$r"
ok "milter down, F=R: nothing in Sendmail's queue" bash -c '[ -z "$(ls "$0" | grep "^qf")" ]' "$SM/queue"
ok "Sendmail stopped by its PID again" sm_stop

# Under --enable-sanitizers the milter's exit (SIGTERM above) runs the leak check.
ok "no sanitizer report from the milter or tenantrelayd" \
    bash -c '! grep -q "Sanitizer\|runtime error" "$0/milter.log" "$0/daemon.log"' "$T"
ok "no tenantrelay secret in any log or trace" \
    bash -c '! grep -rqa "acme-s3cret-pw\|pl4tform-s3cret\|beta-s3cret-pw" "$0"/*.log "$0"/*.out "$1/trace" "$1/debug" "$1/out.log"' "$T" "$SM"

finish
