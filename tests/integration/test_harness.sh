#!/bin/bash
# The harness itself: a test CA, real upstreams (aiosmtpd) with implicit TLS
# and with STARTTLS, both requiring AUTH, receiving mail from swaks, and
# cleanup by PID.
. "$(dirname "$0")/lib.sh"
tr_require_swaks_tls

make_ca "$T/ca"
ok "test CA signs a server certificate" \
    openssl verify -CAfile "$T/ca/ca.pem" "$T/ca/server.pem"

p_impl=$(free_port)
p_start=$(free_port)
start_upstream implicit "$p_impl" implicit --auth alice:secret-a
start_upstream starttls "$p_start" starttls --auth bob:secret-b

swaks_base=(swaks --server 127.0.0.1 --from sender@example.test --to rcpt@example.test
            --header "Subject: harness" --body "hello harness" --timeout 10)
ok "implicit TLS upstream accepts an authenticated message" \
    "${swaks_base[@]}" --port "$p_impl" --tlsc --auth PLAIN --auth-user alice --auth-password secret-a \
        --tls-ca-path "$T/ca/ca.pem" >"$T/swaks1.log" 2>&1
ok "the message is stored with its envelope" \
    grep -q '"auth_user": "alice"' "$T/implicit.mail/000001.json"
ok "the stored body is the one sent" grep -q "hello harness" "$T/implicit.mail/000001.eml"

ok "STARTTLS upstream accepts an authenticated message" \
    "${swaks_base[@]}" --port "$p_start" -tls --auth LOGIN --auth-user bob --auth-password secret-b \
        >"$T/swaks2.log" 2>&1
ok "the STARTTLS message is stored" grep -q '"rcpt_tos": \["rcpt@example.test"\]' "$T/starttls.mail/000001.json"

ok "a wrong password is refused" \
    bash -c '! "$@"' _ "${swaks_base[@]}" --port "$p_start" -tls --auth LOGIN --auth-user bob \
        --auth-password wrong >"$T/swaks3.log" 2>&1
ok "AUTH is not offered before STARTTLS" \
    bash -c '! "$@"' _ swaks --server 127.0.0.1 --port "$p_start" --from a@example.test --to b@example.test \
        --auth LOGIN --auth-user bob --auth-password secret-b --timeout 10 >"$T/swaks4.log" 2>&1

# Cleanup ends what the harness started, by PID.
pids=("${TR_PIDS[@]}")
tr_cleanup_check() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p"; done
    for p in "${pids[@]}"; do wait_exit "$p" 10 || return 1; done
}
ok "upstreams stop on SIGTERM" tr_cleanup_check
finish
