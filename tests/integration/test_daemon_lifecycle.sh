#!/bin/bash
# tenantrelayd -f: binds loopback, drops root, reloads on SIGHUP (keeping the
# old configuration when the new one is broken), stops cleanly on SIGTERM.
. "$(dirname "$0")/lib.sh"

relay_conf
start_daemon "$T/relay.conf"
ok "daemon listens on its loopback port" kill -0 "$TR_DAEMON_PID"
ok "startup is logged with key=value fields" wait_for 10 grep -q "listening on address=127.0.0.1 port=$TR_PORT" "$T/daemon.log"

if [ "$(id -u)" = 0 ]; then
    ok "privileges dropped to the configured user" \
        bash -c '[ "$(ps -o user= -p "$0" | tr -d " ")" = nobody ]' "$TR_DAEMON_PID"
fi

# A broken configuration on SIGHUP is refused and the daemon keeps serving.
cp "$T/relay.conf" "$T/relay.conf.good"
echo 'limits = { max_sessions = 0; };' >> "$T/relay.conf"
kill -HUP "$TR_DAEMON_PID"
ok "broken reload is refused with FILE:LINE:" \
    wait_for 10 grep -q "reload refused, keeping the running configuration: $T/relay.conf:[0-9]*: key 'max_sessions'" "$T/daemon.log"
ok "daemon still runs after the broken reload" kill -0 "$TR_DAEMON_PID"
ok "daemon still accepts connections" wait_port "$TR_PORT" 5

cp "$T/relay.conf.good" "$T/relay.conf"
kill -HUP "$TR_DAEMON_PID"
ok "a good reload is applied" wait_for 10 grep -q "reloaded configuration from $T/relay.conf" "$T/daemon.log"

kill -TERM "$TR_DAEMON_PID"
ok "SIGTERM stops the daemon" wait_exit "$TR_DAEMON_PID" 10
ok "clean exit status 0" test "${TR_EXIT:-1}" = 0
ok "stop is logged" grep -q "daemon stopped" "$T/daemon.log"
ok "the port is released" bash -c '! "$0" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex((\"127.0.0.1\", $1)))"' "$PYTHON3" "$TR_PORT"

# Milter: starts, and SIGUSR1 reloads rather than stops.
mport=$(free_port)
write_conf "$T/milter.conf" "milter = { socket = \"inet:$mport@127.0.0.1\"; };"
"$TR_BIN_MILTER" -f -c "$T/milter.conf" > "$T/milter.log" 2>&1 &
mpid=$!
tr_track "$mpid"
ok "milter listens" wait_port "$mport" 10
kill -USR1 "$mpid"
ok "milter reloads on SIGUSR1" wait_for 10 grep -q "reloaded configuration" "$T/milter.log"
ok "milter still runs after SIGUSR1" kill -0 "$mpid"
kill -TERM "$mpid"
ok "milter stops on SIGTERM" wait_exit "$mpid" 10
finish
