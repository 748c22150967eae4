#!/bin/bash
# A reused upstream session that the server closed while it was idle (its
# own idle timeout, shorter than ours) costs the next message nothing: the
# RSET that opens the message finds the session gone, and the message
# goes at once on a new session (no deferral, no retry later), with and
# without PIPELINING at the upstream.
. "$(dirname "$0")/lib.sh"

make_ca "$T/ca"
for mode in pipelining plain; do
    p_up=$(free_port)
    extra=()
    [ "$mode" = pipelining ] && extra=(--pipelining)
    start_upstream "up-$mode" "$p_up" implicit --auth user:pw --log-sessions --idle-timeout 1 "${extra[@]}"

    TR_PORT=$(free_port)
    TR_CONF="$T/relay-$mode.conf"
    export TR_PORT TR_CONF
    # Our sessions stay open 30 s: longer than the upstream's 1 s.
    write_conf "$TR_CONF" 'delivery = { idle_timeout = 30; };'
    tr_ctl key init > "$T/key-$mode.out" 2>&1
    token=$(printf 'pw' | tr_ctl seal --tenant default --field password)
    set_default_route "$TR_CONF" "host = \"127.0.0.1\"; port = $p_up; tls = \"implicit\";
      username = \"user\"; password = \"$token\"; sender = \"notifications@platform.test\";
      ca_file = \"$T/ca/ca.pem\";"
    : > "$T/daemon.log"
    start_daemon "$TR_CONF"

    ok "$mode: first message accepted" relay_send app@platform.test one@example.test
    ok "$mode: first message delivered" wait_eml "$T/up-$mode.mail" 1 20
    # The upstream closes the session after 1 s idle (its TLS close_notify
    # waits in our socket: we are not reading while idle).
    ok "$mode: the upstream timed the idle session out" \
        wait_true 20 'grep -q "^idle-timeout" "$T/up-$mode.log"'
    sessions=$(grep -c ' connect ' "$T/up-$mode.log")
    ok "$mode: second message accepted" relay_send app@platform.test two@example.test
    ok "$mode: second message delivered" wait_eml "$T/up-$mode.mail" 2 20
    ok "$mode: delivered at the first attempt (no deferral)" \
        bash -c '! grep -q "status=deferred" "$0"' "$T/daemon.log"
    ok "$mode: on a new connection" \
        test "$(grep -c ' connect ' "$T/up-$mode.log")" = $((sessions + 1))
    ok "$mode: both logged as sent" test "$(grep -c 'status=sent' "$T/daemon.log")" = 2
    kill -TERM "$TR_DAEMON_PID"
    wait_exit "$TR_DAEMON_PID" 20
done
finish
