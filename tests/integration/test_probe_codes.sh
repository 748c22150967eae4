#!/bin/bash
# tenantrelayctl test --host: one scripted upstream per failure code (a
# closed port, TLS mode mismatches both ways, self-signed / wrong-name /
# expired certificates, no STARTTLS, AUTH not offered, a wrong password,
# Microsoft's 5.7.139, a sender refused at MAIL and one refused after the
# dot with 5.2.252, a recipient refused, a stalling server) and success;
# each asserts the code, the exit status and whether the test message
# arrived.  `--tls auto` finds the mode either way.
. "$(dirname "$0")/lib.sh"
CTL="$TR_BIN_CTL"
PW='Pr0be-S3cret-pw-42'
make_ca "$T/ca" || exit 1
make_selfsigned_cert "$T/ca" self localhost "DNS:localhost,IP:127.0.0.1"
make_cert "$T/ca" wrong other.example "DNS:other.example"
make_expired_cert "$T/ca" old localhost "DNS:localhost,IP:127.0.0.1"
printf '%s\n' "$PW" > "$T/pwfile"; chmod 600 "$T/pwfile"
# The scripted upstreams listen on loopback: a configuration that allows it.
write_conf "$T/probe.conf"

jget() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# probe NAME PORT [test options...]: run the probe (JSON into $T/NAME.json,
# text into $T/NAME.txt) with the password from the file; exit status in $RC.
probe() {
    local name=$1 port=$2
    shift 2
    "$CTL" -c "$T/probe.conf" --json test --host localhost --port "$port" --username u --password-file "$T/pwfile" \
        --sender sender@tenant.test --ca-file "$T/ca/ca.pem" --timeout 3 "$@" > "$T/$name.json" 2> "$T/$name.err"
    RC=$?
    "$CTL" -c "$T/probe.conf" test --host localhost --port "$port" --username u --password-file "$T/pwfile" \
        --sender sender@tenant.test --ca-file "$T/ca/ca.pem" --timeout 3 "$@" > "$T/$name.txt" 2>> "$T/$name.err"
}
code() { jget "$T/$1.json" 'd["code"]'; }
failed_step() { jget "$T/$1.json" '[s["step"] for s in d["steps"] if not s["ok"]][0]'; }

# --- success, STARTTLS on a submission-like port -------------------------------
p=$(free_port); start_upstream ok "$p" starttls --auth "u:$PW"
probe ok "$p" --to rcpt@tenant.test
ok "success: exit 0" test "$RC" = 0
ok "success: code null" test "$(code ok)" = None
ok "success: every step ok, in SPEC order" test "$(jget "$T/ok.json" '",".join(s["step"] for s in d["steps"] if s["ok"])')" = "dns,connect,tls,certificate,ehlo,auth,mail,rcpt,data,message,quit"
ok "success: certificate detail (subject, issuer, expiry, version, cipher)" test "$(jget "$T/ok.json" '[k in d["steps"][3]["detail"] for k in ("subject","issuer","expiry","tls_version","cipher")]')" = "[True, True, True, True, True]"
ok "success: the server's exact reply per step" test "$(jget "$T/ok.json" 'd["steps"][5]["reply"]')" = "235 2.7.0 Authentication successful"
ok "success: AUTH mechanism named" test "$(jget "$T/ok.json" 'd["steps"][5]["detail"]["mechanism"]')" = PLAIN
ok "success: text output has durations and replies" grep -q '^auth *ok *[0-9]* ms  235 2.7.0 Authentication successful' "$T/ok.txt"
ok "success: two test messages arrived (json + text run)" test "$(count_eml "$T/ok.mail")" = 2
m="$T/ok.mail/000001.eml"
ok "message: subject names the test and the time" grep -qE '^Subject: tenantrelay connectivity test .* at 20[0-9-]+T' "$m"
ok "message: Date header" grep -q '^Date: ' "$m"
ok "message: Message-ID header" grep -q '^Message-ID: <probe\.' "$m"
ok "message: From is the sender" grep -q '^From: <sender@tenant.test>' "$m"
ok "message: to --to" test "$(jget "$T/ok.mail/000001.json" 'd["rcpt_tos"]')" = "['rcpt@tenant.test']"
ok "message: sent after AUTH as u" test "$(jget "$T/ok.mail/000001.json" 'd["auth_user"]')" = u
"$CTL" -c "$T/probe.conf" --json test --host localhost --port "$p" --username u --password-file "$T/pwfile" --sender sender@tenant.test \
    --ca-file "$T/ca/ca.pem" --no-send > "$T/nosend.json" 2>&1
ok "--no-send: exit 0, data and message skipped" test "$?:$(jget "$T/nosend.json" '[s["detail"].get("skipped","")[:9] for s in d["steps"] if s["step"] in ("data","message")]')" = "0:['--no-send', '--no-send']"
ok "--no-send: no message" test "$(count_eml "$T/ok.mail")" = 2
printf '%s' "$PW" | "$CTL" -c "$T/probe.conf" test --host localhost --port "$p" --username u --password-stdin --sender sender@tenant.test \
    --ca-file "$T/ca/ca.pem" > "$T/stdin.txt" 2>&1
ok "--password-stdin works too" test "$?:$(count_eml "$T/ok.mail")" = "0:3"

# --- connect_refused: a closed port -------------------------------------------
closed=$(free_port)
probe closed "$closed"
ok "closed port: connect_refused, exit 1" test "$(code closed):$RC" = "connect_refused:1"
ok "closed port: the connect step failed" test "$(failed_step closed)" = connect

# --- dns_failed ----------------------------------------------------------------
"$CTL" -c "$T/probe.conf" --json test --host no-such-host.invalid --port 25 --sender s@tenant.test --timeout 3 > "$T/dns.json" 2>&1
RC=$?
ok "unknown host: dns_failed, exit 1" test "$(code dns):$RC" = "dns_failed:1"

# --- tls_mode_mismatch both ways, and auto --------------------------------------
pi=$(free_port); start_upstream impl "$pi" implicit --auth "u:$PW"
probe impl_as_starttls "$pi" --tls starttls
ok "implicit server probed with STARTTLS: tls_mode_mismatch" test "$(code impl_as_starttls):$RC" = "tls_mode_mismatch:1"
ok "  hint says which mode the port speaks" grep -q 'speaks implicit TLS, so set --tls implicit' "$T/impl_as_starttls.txt"
ok "  hint names the usual ports" grep -q 'port 465 expects implicit TLS, 587 and 25 STARTTLS' "$T/impl_as_starttls.txt"
probe starttls_as_impl "$p" --tls implicit
ok "STARTTLS server probed with implicit TLS: tls_mode_mismatch" test "$(code starttls_as_impl):$RC" = "tls_mode_mismatch:1"
ok "  hint: set --tls starttls" grep -q 'set --tls starttls' "$T/starttls_as_impl.txt"
ok "mismatches sent no message" test "$(count_eml "$T/impl.mail"):$(count_eml "$T/ok.mail")" = "0:3"
probe auto_impl "$pi" --tls auto
ok "--tls auto finds implicit TLS on a non-465 port" test "$RC:$(jget "$T/auto_impl.json" 'd["steps"][2]["detail"]["mode"]')" = "0:implicit"
probe auto_starttls "$p" --tls auto
ok "--tls auto finds STARTTLS" test "$RC:$(jget "$T/auto_starttls.json" 'd["steps"][2]["detail"]["mode"]')" = "0:starttls"

# --- starttls_not_offered -------------------------------------------------------
pn=$(free_port); start_upstream nostarttls "$pn" starttls --fault no-starttls --auth "u:$PW"
probe nostarttls "$pn" --tls starttls
ok "no STARTTLS: starttls_not_offered" test "$(code nostarttls):$RC" = "starttls_not_offered:1"
ok "  AUTH never sent in plaintext" bash -c '! grep -q "cmd AUTH" "$0"' "$T/nostarttls.log"

# --- certificates -------------------------------------------------------------
ps_=$(free_port); start_upstream selfsigned "$ps_" implicit --cert "$T/ca/self.pem" --key "$T/ca/self.key" --auth "u:$PW"
probe selfsigned "$ps_" --tls implicit
ok "self-signed: cert_untrusted at the certificate step" test "$(code selfsigned):$(failed_step selfsigned)" = "cert_untrusted:certificate"
ok "  the certificate is still described" test "$(jget "$T/selfsigned.json" 'd["steps"][3]["detail"]["subject"]')" = "CN=localhost"
pw_=$(free_port); start_upstream wrongname "$pw_" starttls --cert "$T/ca/wrong.pem" --key "$T/ca/wrong.key" --auth "u:$PW"
probe wrongname "$pw_" --tls starttls
ok "wrong name: cert_name_mismatch" test "$(code wrongname):$RC" = "cert_name_mismatch:1"
pe=$(free_port); start_upstream expired "$pe" implicit --cert "$T/ca/old.pem" --key "$T/ca/old.key" --auth "u:$PW"
probe expired "$pe" --tls implicit
ok "expired: cert_expired" test "$(code expired):$RC" = "cert_expired:1"
ok "  expiry in the detail" test "$(jget "$T/expired.json" 'd["steps"][3]["detail"]["expiry"][:10]')" = 2020-02-01
ok "no AUTH sent to a bad certificate" bash -c '! grep -q "cmd AUTH" "$0" "$1" "$2"' "$T/selfsigned.log" "$T/wrongname.log" "$T/expired.log"
ok "certificate failures: no message" test "$(count_eml "$T/selfsigned.mail")$(count_eml "$T/wrongname.mail")$(count_eml "$T/expired.mail")" = 000
"$CTL" -c "$T/probe.conf" --json test --host localhost --port "$ps_" --tls implicit --sender s@tenant.test --no-tls-verify \
    --username u --password-file "$T/pwfile" > "$T/noverify.json" 2>&1
ok "--no-tls-verify: the self-signed server passes (verification off in the detail)" test "$?:$(jget "$T/noverify.json" 'd["steps"][3]["detail"]["verification"]')" = "0:False"

# --- AUTH -----------------------------------------------------------------------
pa=$(free_port); start_upstream noauth "$pa" starttls --no-auth-advertise --auth "u:$PW"
probe noauth "$pa"
ok "AUTH not advertised: auth_not_offered" test "$(code noauth):$(failed_step noauth)" = "auth_not_offered:auth"
printf 'not-the-password\n' > "$T/badpw"
"$CTL" -c "$T/probe.conf" --json test --host localhost --port "$p" --username u --password-file "$T/badpw" --sender sender@tenant.test \
    --ca-file "$T/ca/ca.pem" > "$T/badpw.json" 2>&1
RC=$?
ok "wrong password: auth_failed, exit 1" test "$(code badpw):$RC" = "auth_failed:1"
ok "  the server's own text in the hint" grep -q '535 5.7.8 Authentication credentials invalid' "$T/badpw.json"
pm=$(free_port)
start_upstream m365 "$pm" starttls --auth "u:other" \
    --auth-fail-reply "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [AM0PR01CA0001.eurprd01.prod.exchangelabs.com]"
probe m365 "$pm"
ok "Microsoft 5.7.139: auth_failed" test "$(code m365)" = auth_failed
ok "  hint points to XOAUTH2, provider text passed through" test "$(jget "$T/m365.json" '("XOAUTH2" in d["hint"], "basic authentication is disabled" in d["hint"])')" = "(True, True)"
ok "AUTH failures: no message" test "$(count_eml "$T/noauth.mail")$(count_eml "$T/m365.mail")" = 00

# --- sender, recipient, message -------------------------------------------------------
pr=$(free_port); start_upstream badsender "$pr" starttls --auth "u:$PW" --reject-mail "553 5.7.1 Sender address rejected: not owned by user"
probe badsender "$pr"
ok "553 at MAIL: sender_rejected at the mail step" test "$(code badsender):$(failed_step badsender)" = "sender_rejected:mail"
ok "  hint: validate it there" grep -q 'did not accept this sender address: validate it there' "$T/badsender.txt"
ok "  the reply passed through" grep -q '553 5.7.1 Sender address rejected' "$T/badsender.txt"
pd=$(free_port); start_upstream sendas "$pd" starttls --auth "u:$PW" \
    --reject-data "554 5.2.252 SendAsDenied; u@tenant.test not allowed to send as sender@tenant.test; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied"
probe sendas "$pd"
ok "554 5.2.252 after the dot: sender_rejected at the message step" test "$(code sendas):$(failed_step sendas)" = "sender_rejected:message"
ok "  hint: validate it there" grep -q 'validate it there' "$T/sendas.txt"
pc=$(free_port); start_upstream badrcpt "$pc" starttls --auth "u:$PW" --reject-rcpt "550 5.1.1 <nobody@tenant.test>: Recipient address rejected"
probe badrcpt "$pc" --to nobody@tenant.test
ok "550 at RCPT: recipient_rejected" test "$(code badrcpt):$(failed_step badrcpt)" = "recipient_rejected:rcpt"
pj=$(free_port); start_upstream content "$pj" starttls --auth "u:$PW" --reject-data "550 5.7.1 Message rejected as spam by content filtering"
probe content "$pj"
ok "550 after the dot (not about the sender): message_rejected" test "$(code content):$(failed_step content)" = "message_rejected:message"
ok "refusals: no message stored" test "$(count_eml "$T/badsender.mail")$(count_eml "$T/sendas.mail")$(count_eml "$T/badrcpt.mail")$(count_eml "$T/content.mail")" = 0000

# --- timeout: a server that accepts and never speaks --------------------------------
pt=$(free_port); start_upstream stall "$pt" implicit --fault stall
probe stall "$pt" --tls implicit --timeout 2
ok "stalling server: timeout" test "$(code stall):$RC" = "timeout:1"
probe stall_st "$pt" --tls starttls --timeout 2
ok "stalling server, STARTTLS: timeout (no TLS handshake either)" test "$(code stall_st):$RC" = "timeout:1"
probe stall_auto "$pt" --tls auto --timeout 1
ok "stalling server, auto: timeout" test "$(code stall_auto):$RC" = "timeout:1"

# --- usage and secrets -----------------------------------------------------------
"$CTL" -c "$T/probe.conf" test --host localhost --sender s@tenant.test --password "$PW" > /dev/null 2>&1
ok "password on argv refused (64)" test $? = 64
"$CTL" -c "$T/probe.conf" test --host localhost > /dev/null 2>&1
ok "--host without --sender: 64" test $? = 64
( sleep 2; printf '%s\n' "$PW" ) | "$CTL" -c "$T/probe.conf" test --host localhost --port "$p" --username u --password-stdin \
    --sender sender@tenant.test --ca-file "$T/ca/ca.pem" > "$T/ps-run.txt" 2>&1 &
pid=$!; tr_track $pid
sleep 0.5
# Every process but the test upstreams (whose --auth USER:PASSWORD is the fixture's).
ps -eo args | grep -v upstream.py > "$T/ps.out"
ok "probe is running while we look" grep -q -- "--password-stdin" "$T/ps.out"
ok "password not in the process list" bash -c '! grep -q -e "$0" "$1"' "$PW" "$T/ps.out"
wait_exit $pid 20
ok "the waiting probe passed" test "${TR_EXIT:-1}" = 0
ok "password in no output and no upstream log" bash -c '! grep -rq -e "$0" "$1"/*.json "$1"/*.txt "$1"/*.err "$1"/*.log' "$PW" "$T"

finish
