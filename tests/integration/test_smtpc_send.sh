#!/bin/bash
# The SMTP client (src/smtpc) against real aiosmtpd upstreams, through the
# smtpc_send tool: implicit TLS and STARTTLS with AUTH PLAIN and LOGIN, the
# body arriving byte for byte (dots, 8-bit, long lines; from a buffer and
# from an fd), refusals at each stage, a wrong password whose text comes
# back and that never shows in the output, and a refused connection.
. "$(dirname "$0")/lib.sh"

make_ca "$T/ca"
p_imp=$(free_port)
p_st=$(free_port)
p_noauth=$(free_port)
p_r451=$(free_port)
p_r550=$(free_port)
p_m553=$(free_port)
start_upstream imp "$p_imp" implicit --auth alice:secret-a --line-length-limit 70000
start_upstream st "$p_st" starttls --auth bob:secret-b --line-length-limit 70000
start_upstream noauth "$p_noauth" starttls --no-auth-advertise
start_upstream r451 "$p_r451" implicit --auth alice:secret-a --reject-data "451 4.3.0 try again later"
start_upstream r550 "$p_r550" implicit --auth alice:secret-a --reject-rcpt "550 5.1.1 no such user here"
start_upstream m553 "$p_m553" starttls --auth bob:secret-b --reject-mail "553 5.7.1 sender not allowed"

printf 'secret-a\n' > "$T/pass-a"
printf 'secret-b\n' > "$T/pass-b"
printf 'wrong-password-XYZ\n' > "$T/pass-wrong"

# A message exercising transparency: dots at line starts, a lone dot, a
# line of two dots, 8-bit UTF-8, a 20,000-byte line, no final CRLF issue.
"$PYTHON3" - "$T/msg.eml" <<'PY'
import sys
body = (b"From: Sender <s@example.test>\r\nTo: r@example.test\r\nSubject: transparency\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        b".starts with a dot\r\n.\r\n..\r\n...three\r\n"
        b"caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9e\r\n"
        + b"L" * 20000 + b"\r\n"
        + b"last line\r\n")
open(sys.argv[1], "wb").write(body)
PY

common=(--ca-file "$T/ca/ca.pem" --from s@example.test --to r@example.test --timeout 10000)
n_imp=0
n_st=0
for mech in plain login; do
    for how in --message --message-fd; do
        smtpc_send --host localhost --port "$p_imp" --tls implicit --user alice --password-file "$T/pass-a" \
            --mech "$mech" "${common[@]}" "$how" "$T/msg.eml" > "$T/imp-$mech$how.out" 2>&1
        rc=$?
        n_imp=$((n_imp + 1))
        ok "implicit TLS, AUTH $mech, $how: exit 0" test "$rc" = 0
        ok "implicit TLS, AUTH $mech, $how: mechanism used" \
            grep -q "\"step\":\"auth\",\"ok\":true.*\"mech\":\"${mech^^}\"" "$T/imp-$mech$how.out"
        ok "implicit TLS, AUTH $mech, $how: body byte-exact" cmp -s "$T/msg.eml" "$T/imp.mail/$(printf %06d $n_imp).eml"
        ok "implicit TLS, AUTH $mech, $how: BODY=8BITMIME sent" \
            grep -q '"BODY=8BITMIME"' "$T/imp.mail/$(printf %06d $n_imp).json"

        smtpc_send --host 127.0.0.1 --port "$p_st" --tls starttls --user bob --password-file "$T/pass-b" \
            --mech "$mech" "${common[@]}" "$how" "$T/msg.eml" > "$T/st-$mech$how.out" 2>&1
        rc=$?
        n_st=$((n_st + 1))
        ok "STARTTLS, AUTH $mech, $how: exit 0" test "$rc" = 0
        ok "STARTTLS, AUTH $mech, $how: body byte-exact" cmp -s "$T/msg.eml" "$T/st.mail/$(printf %06d $n_st).eml"
        ok "STARTTLS, AUTH $mech, $how: authenticated as bob over TLS" \
            grep -q '"auth_user": "bob", "tls": true' "$T/st.mail/$(printf %06d $n_st).json"
    done
done
ok "the TLS step reports version, cipher and certificate" \
    grep -q '"step":"tls","ok":true.*"version":"TLSv1\.[23]".*"subject":"CN=localhost".*"issuer":"CN=tenantrelay test CA"' \
    "$T/st-plain--message.out"

# A 7-bit message does not claim 8BITMIME; several recipients, pipelined.
printf 'Subject: plain\r\n\r\nhello\r\n' > "$T/seven.eml"
smtpc_send --host localhost --port "$p_imp" --tls implicit --user alice --password-file "$T/pass-a" \
    --ca-file "$T/ca/ca.pem" --from s@example.test --to r1@example.test --to r2@example.test \
    --message "$T/seven.eml" --rset > "$T/seven.out" 2>&1
ok "two recipients and RSET: exit 0" test $? = 0
n_imp=$((n_imp + 1))
ok "both recipients reached the upstream" \
    grep -q '"rcpt_tos": \["r1@example.test", "r2@example.test"\]' "$T/imp.mail/$(printf %06d $n_imp).json"
ok "no BODY=8BITMIME for a 7-bit message" \
    bash -c '! grep -q BODY "$1"' _ "$T/imp.mail/$(printf %06d $n_imp).json"

# A message without a final CRLF gets one (never a lone dot glued to text).
printf 'Subject: x\r\n\r\nno final newline' > "$T/nofinal.eml"
smtpc_send --host localhost --port "$p_imp" --tls implicit --user alice --password-file "$T/pass-a" \
    "${common[@]}" --message "$T/nofinal.eml" > "$T/nofinal.out" 2>&1
n_imp=$((n_imp + 1))
ok "a body without final CRLF arrives with one" \
    bash -c 'printf "Subject: x\r\n\r\nno final newline\r\n" | cmp -s - "$1"' _ "$T/imp.mail/$(printf %06d $n_imp).eml"

# Wrong password: auth_failed with the server's own text; never echoed.
smtpc_send --host 127.0.0.1 --port "$p_st" --tls starttls --user bob --password-file "$T/pass-wrong" \
    "${common[@]}" --message "$T/seven.eml" > "$T/wrong.out" 2>&1
ok "wrong password: exit 1" test $? = 1
ok "wrong password: auth_failed with the 535 text" \
    grep -q '"step":"auth","ok":false,"err":"auth_failed".*"code":535,"enhanced":"5.7.8","reply":"535 5.7.8 Authentication credentials invalid"' "$T/wrong.out"
ok "wrong password: the password is not in the output" bash -c '! grep -q "wrong-password-XYZ" "$1"' _ "$T/wrong.out"
ok "wrong password: nor in base64" \
    bash -c '! grep -q "$(printf "wrong-password-XYZ" | base64)" "$1"' _ "$T/wrong.out"
ok "wrong password: nothing delivered" test ! -e "$T/st.mail/$(printf %06d $((n_st + 1))).eml"
# The password from stdin works too, and also never shows.
printf 'secret-b' | smtpc_send --host 127.0.0.1 --port "$p_st" --tls starttls --user bob --password-stdin \
    "${common[@]}" --message "$T/seven.eml" > "$T/stdin.out" 2>&1
ok "password on stdin: delivered" test $? = 0
ok "no step output holds a password" bash -c '! cat "$@" | grep -q "secret-[ab]"' _ "$T"/*.out

# AUTH not offered by the server (it requires none) but credentials given.
smtpc_send --host 127.0.0.1 --port "$p_noauth" --tls starttls --user bob --password-file "$T/pass-b" \
    "${common[@]}" --message "$T/seven.eml" > "$T/noauth.out" 2>&1
ok "AUTH not offered: auth_not_offered" grep -q '"step":"auth","ok":false,"err":"auth_not_offered"' "$T/noauth.out"
ok "AUTH not offered: no AUTH command sent" bash -c '! grep -q "cmd AUTH" "$1"' _ "$T/noauth.log"

# Refusals: 451 after the dot, 550 at RCPT, 553 at MAIL.
smtpc_send --host localhost --port "$p_r451" --tls implicit --user alice --password-file "$T/pass-a" \
    "${common[@]}" --message "$T/seven.eml" > "$T/r451.out" 2>&1
ok "451 after the data: reply_4xx with the reply" \
    grep -q '"step":"data","ok":false,"err":"reply_4xx","stage":"dot".*"code":451,"enhanced":"4.3.0","reply":"451 4.3.0 try again later"' "$T/r451.out"
smtpc_send --host localhost --port "$p_r550" --tls implicit --user alice --password-file "$T/pass-a" \
    "${common[@]}" --message "$T/seven.eml" > "$T/r550.out" 2>&1
ok "550 at RCPT: reply_5xx for the envelope" \
    grep -q '"step":"mail","ok":false,"err":"reply_5xx","stage":"rcpt".*"code":550' "$T/r550.out"
ok "550 at RCPT: the recipient's own result" \
    grep -q '"step":"rcpt","rcpt":"r@example.test","ok":false,"err":"reply_5xx","code":550,"enhanced":"5.1.1"' "$T/r550.out"
smtpc_send --host 127.0.0.1 --port "$p_m553" --tls starttls --user bob --password-file "$T/pass-b" \
    "${common[@]}" --message "$T/seven.eml" > "$T/m553.out" 2>&1
ok "553 at MAIL: reply_5xx at stage mail" \
    grep -q '"step":"mail","ok":false,"err":"reply_5xx","stage":"mail".*"code":553,"enhanced":"5.7.1"' "$T/m553.out"

# SMTPUTF8 needed and offered (aiosmtpd offers it): an internationalised recipient.
smtpc_send --host localhost --port "$p_imp" --tls implicit --user alice --password-file "$T/pass-a" \
    --ca-file "$T/ca/ca.pem" --from s@example.test --to "j$(printf '\xc3\xb6')rg@example.test" \
    --message "$T/seven.eml" > "$T/utf8.out" 2>&1
ok "an SMTPUTF8 recipient is delivered with SMTPUTF8" test $? = 0
n_imp=$((n_imp + 1))
ok "the MAIL command carried SMTPUTF8" grep -q '"SMTPUTF8"' "$T/imp.mail/$(printf %06d $n_imp).json"

# Nobody listening.
p_closed=$(free_port)
smtpc_send --host 127.0.0.1 --port "$p_closed" --tls implicit "${common[@]}" --message "$T/seven.eml" > "$T/closed.out" 2>&1
ok "closed port: connect_refused" grep -q '"step":"connect","ok":false,"err":"connect_refused"' "$T/closed.out"
# tls none needs insecure_plaintext.
smtpc_send --host 127.0.0.1 --port "$p_noauth" --tls none "${common[@]}" --message "$T/seven.eml" > "$T/none.out" 2>&1
ok "tls none without insecure_plaintext is refused locally" grep -q '"err":"local"' "$T/none.out"
finish
