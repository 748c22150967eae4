#!/bin/bash
# The SMTP client's TLS policy against real upstreams: self-signed,
# wrong-name and expired certificates, STARTTLS not offered, bytes injected
# after the 220 to STARTTLS, TLS mode mismatches.  Each failure must have
# its own class, and no AUTH may reach the server (its log and maildir).
. "$(dirname "$0")/lib.sh"

make_ca "$T/ca"
make_selfsigned_cert "$T/ca" self localhost "DNS:localhost,IP:127.0.0.1"
make_cert "$T/ca" wrongname mail.other.test "DNS:mail.other.test"
make_expired_cert "$T/ca" expired localhost "DNS:localhost,IP:127.0.0.1"
ok "the expired certificate is signed by the test CA and out of date" \
    bash -c 'openssl verify -CAfile "$1/ca.pem" "$1/expired.pem" 2>&1 | grep -q "certificate has expired"' _ "$T/ca"

p_self=$(free_port)
p_wrong=$(free_port)
p_exp=$(free_port)
p_nost=$(free_port)
p_inj=$(free_port)
p_good=$(free_port)
p_impl=$(free_port)
start_upstream self "$p_self" starttls --auth bob:secret-b --cert "$T/ca/self.pem" --key "$T/ca/self.key"
start_upstream wrong "$p_wrong" implicit --auth bob:secret-b --cert "$T/ca/wrongname.pem" --key "$T/ca/wrongname.key"
start_upstream exp "$p_exp" starttls --auth bob:secret-b --cert "$T/ca/expired.pem" --key "$T/ca/expired.key"
start_upstream nost "$p_nost" starttls --auth bob:secret-b --fault no-starttls
start_upstream inj "$p_inj" starttls --auth bob:secret-b --fault starttls-inject
start_upstream good "$p_good" starttls --auth bob:secret-b
start_upstream impl "$p_impl" implicit --auth bob:secret-b

printf 'secret-b\n' > "$T/pass"
printf 'Subject: tls\r\n\r\nhello\r\n' > "$T/m.eml"
send() {  # send NAME PORT MODE [extra...]
    local name=$1 port=$2 mode=$3
    shift 3
    smtpc_send --host localhost --port "$port" --tls "$mode" --ca-file "$T/ca/ca.pem" \
        --user bob --password-file "$T/pass" --from s@example.test --to r@example.test \
        --message "$T/m.eml" --timeout 3000 "$@" > "$T/$name.out" 2>&1
}
no_auth_sent() {  # the upstream NAME saw no AUTH and stored nothing
    ! grep -q "cmd AUTH" "$T/$1.log" && [ -z "$(ls -A "$T/$1.mail" 2>/dev/null)" ]
}

send self "$p_self" starttls
ok "self-signed: cert_untrusted" grep -q '"step":"tls","ok":false,"err":"cert_untrusted"' "$T/self.out"
ok "self-signed: the certificate is still reported" grep -q '"subject":"CN=localhost","issuer":"CN=localhost"' "$T/self.out"
ok "self-signed: no AUTH sent, nothing stored" no_auth_sent self

send wrong "$p_wrong" implicit
ok "wrong name: cert_name_mismatch" grep -q '"step":"tls","ok":false,"err":"cert_name_mismatch"' "$T/wrong.out"
ok "wrong name: no AUTH sent, nothing stored" no_auth_sent wrong

send exp "$p_exp" starttls
ok "expired: cert_expired" grep -q '"step":"tls","ok":false,"err":"cert_expired"' "$T/exp.out"
ok "expired: the expiry date is reported" grep -q '"not_after":"2020-02-01T00:00:00Z"' "$T/exp.out"
ok "expired: no AUTH sent, nothing stored" no_auth_sent exp

# An IP literal is checked against the IP SAN (no SNI): the wrong-name
# certificate has none, the good one has 127.0.0.1.
smtpc_send --host 127.0.0.1 --port "$p_wrong" --tls implicit --ca-file "$T/ca/ca.pem" \
    --from s@example.test --to r@example.test --message "$T/m.eml" > "$T/wrongip.out" 2>&1
ok "IP literal against a certificate without that IP: cert_name_mismatch" \
    grep -q '"err":"cert_name_mismatch"' "$T/wrongip.out"

# The system trust store (no ca_file) does not know the test CA.
smtpc_send --host localhost --port "$p_good" --tls starttls --user bob --password-file "$T/pass" \
    --from s@example.test --to r@example.test --message "$T/m.eml" > "$T/systore.out" 2>&1
ok "system trust store: the private CA is untrusted" grep -q '"err":"cert_untrusted"' "$T/systore.out"
ok "system trust store: no AUTH sent" no_auth_sent good

# tls_verify = false (per route) accepts the self-signed certificate.
send selfnv "$p_self" starttls --no-verify
ok "verification off: delivered to the self-signed server" grep -q '"step":"quit","ok":true' "$T/selfnv.out"
ok "verification off: reported as unverified" grep -q '"verified":false' "$T/selfnv.out"

send nost "$p_nost" starttls
ok "STARTTLS not offered: starttls_not_offered" \
    grep -q '"step":"tls","ok":false,"err":"starttls_not_offered"' "$T/nost.out"
ok "STARTTLS not offered: no AUTH although offered in plaintext, nothing stored" no_auth_sent nost
ok "STARTTLS not offered: no MAIL either" bash -c '! grep -q "^cmd MAIL" "$1"' _ "$T/nost.log"

send inj "$p_inj" starttls
ok "bytes after the 220 to STARTTLS: aborted (protocol)" \
    grep -q '"step":"tls","ok":false,"err":"protocol".*after its 220 to STARTTLS' "$T/inj.out"
ok "bytes after the 220 to STARTTLS: no EHLO or AUTH after it" \
    bash -c '[ "$(grep -c "^cmd " "$1")" = 2 ] && grep -q "^cmd STARTTLS" "$1"' _ "$T/inj.log"

send mm1 "$p_good" implicit
ok "implicit TLS against a STARTTLS port: tls_mode_mismatch" \
    grep -q '"step":"tls","ok":false,"err":"tls_mode_mismatch"' "$T/mm1.out"
send mm2 "$p_impl" starttls --timeout 1500
ok "STARTTLS against an implicit-TLS port: timeout waiting for the greeting" \
    grep -q '"step":"tls","ok":false,"err":"timeout","stage":"greeting".*implicit TLS' "$T/mm2.out"
ok "mode mismatches: no AUTH sent" bash -c 'for n in good impl; do ! grep -q "cmd AUTH" "$1/$n.log" || exit 1; done' _ "$T"

# The same good server accepts the right mode, as a control.
send control "$p_good" starttls
ok "control: the STARTTLS server delivers with the test CA" grep -q '"step":"quit","ok":true' "$T/control.out"
finish
