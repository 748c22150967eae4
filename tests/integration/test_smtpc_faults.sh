#!/bin/bash
# The SMTP client against upstreams that misbehave: one that accepts and
# never greets (the client must give up within its configured timeout), and
# one that drops the connection in the middle of DATA (a connection-class
# error, never a success).
. "$(dirname "$0")/lib.sh"

make_ca "$T/ca"
p_stall=$(free_port)
p_drop_i=$(free_port)
p_drop_s=$(free_port)
start_upstream stall "$p_stall" implicit --fault stall
start_upstream dropi "$p_drop_i" implicit --auth bob:secret-b --fault drop-data
start_upstream drops "$p_drop_s" starttls --auth bob:secret-b --fault drop-data
printf 'secret-b\n' > "$T/pass"
"$PYTHON3" -c 'import sys; sys.stdout.buffer.write(b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 3000)' > "$T/big.eml"

# Stalled server, plaintext greeting wait (tls none) and TLS handshake wait
# (implicit): both end as "timeout" within the 1.5 s bound (the check
# only bounds the wall time generously, it does not measure it).
for mode in none implicit; do
    smtpc_send --host 127.0.0.1 --port "$p_stall" --tls "$mode" --insecure-plaintext \
        --ca-file "$T/ca/ca.pem" --from s@example.test --to r@example.test --message "$T/big.eml" \
        --timeout 1500 > "$T/stall-$mode.out" 2>&1 &
    pid=$!
    tr_track "$pid"
    ok "stalled server ($mode): the client gives up in bounded time" wait_exit "$pid" 20
    ok "stalled server ($mode): exit 1" test "${TR_EXIT:-0}" = 1
    ok "stalled server ($mode): timeout" grep -q '"ok":false,"err":"timeout"' "$T/stall-$mode.out"
done
ok "stalled server: the stage is the greeting, then the handshake" \
    bash -c 'grep -q "\"stage\":\"greeting\"" "$1/stall-none.out" && grep -q "\"step\":\"tls\",\"ok\":false,\"err\":\"timeout\"" "$1/stall-implicit.out"' _ "$T"
smtpc_send --host 127.0.0.1 --port "$p_stall" --tls starttls --ca-file "$T/ca/ca.pem" \
    --from s@example.test --to r@example.test --message "$T/big.eml" --timeout 1000 > "$T/stall-st.out" 2>&1
ok "stalled server (starttls): timeout at the greeting" grep -q '"err":"timeout","stage":"greeting"' "$T/stall-st.out"

# Connection dropped mid-DATA, over implicit TLS and over STARTTLS, from a
# buffer and from an fd.
for v in "dropi implicit --message" "drops starttls --message-fd"; do
    set -- $v
    smtpc_send --host localhost --port "$( [ "$1" = dropi ] && echo "$p_drop_i" || echo "$p_drop_s")" \
        --tls "$2" --ca-file "$T/ca/ca.pem" --user bob --password-file "$T/pass" \
        --from s@example.test --to r@example.test "$3" "$T/big.eml" --timeout 5000 > "$T/$1.out" 2>&1
    ok "dropped mid-DATA ($2): exit 1" test $? = 1
    ok "dropped mid-DATA ($2): connection_lost in the data step" \
        grep -q '"step":"data","ok":false,"err":"connection_lost"' "$T/$1.out"
    ok "dropped mid-DATA ($2): the server did drop it" grep -q "dropping the connection mid-DATA" "$T/$1.log"
done
finish
