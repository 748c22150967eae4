# pg_nodes.sh - sourced by the PostgreSQL store tests (after lib.sh): the
# nodes of a shared store, each a tenantrelayd with its own $T/X.conf and
# $T/X/daemon.log, started and stopped by PID, and mail into them.

# node_conf X PORT DEFAULT-PORT [MILTER-PORT]: node X's configuration
# $T/X.conf, its own spool, log and control socket (and milter socket when
# MILTER-PORT is given); the store ($URI) and the keyring are shared.
node_conf() {
    local x=$1 port=$2 def=$3 milter=
    [ -n "${4:-}" ] && milter="milter = { socket = \"inet:$4@127.0.0.1\"; };"
    mkdir -p "$T/$x/spool" "$T/$x/run" "$T/$x/log"
    cat > "$T/$x.conf" <<CONF
hostname = "node-$x.test";
user = "nobody";
listen = ( { address = "127.0.0.1"; port = $port; } );
spool_directory = "$T/$x/spool";
control_socket = "$T/$x/run/control.sock";
events_file = "$T/$x/log/events.jsonl";
tenant_store = "$URI";
tenant_store_poll = 2;
change_log = "$T/$x/log/changes.log";
key_file = "$T/etc/master.key";
retry = { schedule = [ 1 ]; };
$milter
# The test upstreams listen on loopback: allowed explicitly (tenant route policy).
tenant_route_policy = { extra_networks = [ "127.0.0.0/8", "::1/128" ]; ports = [ ]; };
default_route = { host = "127.0.0.1"; port = $def; tls = "implicit";
  sender = "notifications@platform.test"; ca_file = "$T/ca/ca.pem"; };
CONF
    [ "$(id -u)" = 0 ] && chown -R nobody "$T/$x"
}

# start_node X: tenantrelayd -f for node X; waits until it has started.
start_node() {
    local x=$1 port before pid
    port=$(sed -n 's/^listen = .*port = \([0-9]*\);.*/\1/p' "$T/$x.conf")
    before=$(grep -c "daemon started" "$T/$x/daemon.log" 2>/dev/null)
    "$TR_BIN_DAEMON" -f -c "$T/$x.conf" >> "$T/$x/daemon.log" 2>&1 &
    pid=$!
    tr_track "$pid"
    eval "PID_$x=$pid"
    wait_port "$port" 20 &&
        wait_for 20 bash -c '[ "$(grep -c "daemon started" "$0")" -gt "$1" ]' "$T/$x/daemon.log" "${before:-0}"
}
stop_node() {
    local pid
    eval "pid=\$PID_$1"
    kill -TERM "$pid"
    wait_exit "$pid" 30
}
# send PORT TENANT: one message with that tenant header into a node; prints
# the final reply code (250 accepted, 451 ...).
send() {
    "$PYTHON3" - "$1" "$2" <<'PY'
import smtplib, sys
port, tenant = int(sys.argv[1]), sys.argv[2]
msg = "From: app@platform.test\r\nTo: user@example.test\r\nX-Tenant-ID: %s\r\nSubject: via %d\r\n\r\nhello\r\n" % (tenant, port)
try:
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.sendmail("app@platform.test", ["user@example.test"], msg)
    print(250)
except smtplib.SMTPResponseException as e:
    print(e.smtp_code)
except smtplib.SMTPRecipientsRefused as e:
    print(list(e.recipients.values())[0][0])
PY
}
jget() { "$PYTHON3" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
