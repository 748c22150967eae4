#!/bin/bash
# tenantrelay-milter through miltertest (Lua, the MTA side of the milter
# protocol) against the real milter binary: default route, sender-domain
# tenant, trusted tenant header, untrusted header removed and ignored,
# {auth_authen}, conflicting headers, every copy removed, unknown and
# disabled tenants under each unknown_tenant (switched by SIGUSR1 reloads),
# and a message in flight keeping the snapshot it started with.  miltertest
# cannot see an envelope-sender change: the milter's log line shows it here
# and test_milter_postfix.sh proves it through a real Postfix.
. "$(dirname "$0")/lib.sh"

tr_require miltertest miltertest

mkdir -p "$T/etc"
cat > "$T/etc/tenants" <<'STORE'
tenants = (
  { id = "acme"; host = "127.0.0.1"; sender = "mailer@acme.test"; domains = [ "acme.test" ]; },
  { id = "beta"; host = "127.0.0.1"; sender = "n@beta.test"; enabled = false; domains = [ "beta.test" ]; },
  { id = "zed"; host = "127.0.0.1"; sender = "n@zed.test"; }
);
STORE
mport=$(free_port)
write_conf "$T/milter.conf" "milter = { socket = \"inet:$mport@127.0.0.1\"; trusted_networks = [ \"127.0.0.0/8\" ]; };
tenant_resolution = [ \"header\", \"sender\", \"auth\" ];
unknown_tenant = \"default\";"
set_default_route "$T/milter.conf" 'host = "127.0.0.1"; port = 2465; tls = "implicit"; sender = "notifications@platform.test";'
chown -R "${TR_USER:-nobody}" "$T/etc" 2>/dev/null

"$TR_BIN_MILTER" -f -c "$T/milter.conf" > "$T/milter.log" 2>&1 &
mpid=$!
tr_track "$mpid"
ok "milter listens" wait_port "$mport" 10
ok "milter loaded the tenant store" grep -q "tenant store loaded path=.* tenants=3" "$T/milter.log"

# run_phase NAME: the Lua cases of that phase, each PASS/FAIL line one check.
run_phase() {
    local line out
    out=$(timeout 120 miltertest -D sock="inet:$mport@127.0.0.1" -D phase="$1" -D dir="$T" \
        -s "$TR_TESTS/milter_cases.lua" 2>&1)
    echo "$out" >> "$T/miltertest.log"
    ok "miltertest phase $1 ran to the end" grep -q '^DONE' <<< "$out"
    while IFS= read -r line; do
        case "$line" in
            PASS\ *) ok "${line#PASS }" true ;;
            FAIL\ *) ok "${line#FAIL }" false ;;
            *error*|*Error*) ok "miltertest: $line" false ;;
        esac
    done <<< "$out"
}

# reload_to MODE: unknown_tenant = MODE, SIGUSR1, wait for the reload line.
reload_to() {
    local before
    before=$(grep -c "reloaded configuration" "$T/milter.log")
    sed -i "s/^unknown_tenant = .*/unknown_tenant = \"$1\";/" "$T/milter.conf"
    kill -USR1 "$mpid"
    wait_for 10 bash -c '[ "$(grep -c "reloaded configuration" "$0")" -gt "$1" ]' "$T/milter.log" "$before"
}

run_phase main
log() { grep -q "$1" "$T/milter.log"; }
ok "log: default route, envelope sender to the default sender" \
    log 'DEFAULT1: rewritten client=\[127.0.0.1\] trusted=yes from=<app@platform.test> sender=<notifications@platform.test> tenant=- source=none removed=0 from=rewritten'
ok "log: sender domain resolves acme, envelope sender acme's" \
    log 'SENDER1: rewritten client=\[192.0.2.10\] trusted=no from=<app@acme.test> sender=<mailer@acme.test> tenant=acme source=sender'
ok "log: trusted header resolves acme" log 'HEADER1: rewritten .* tenant=acme source=header removed=1'
ok "log: untrusted header removed, default route" \
    log 'UNTRUSTED1: rewritten client=\[192.0.2.10\] trusted=no .* sender=<notifications@platform.test> tenant=- source=none removed=1'
ok "log: authenticated client trusted" log 'AUTH1: rewritten client=\[192.0.2.10\] trusted=yes .* tenant=zed source=header'
ok "log: auth source" log 'AUTH2: rewritten .* sender=<n@zed.test> tenant=zed source=auth'
ok "log: every copy removed (3)" log 'COPIES1: rewritten .* tenant=acme source=header removed=3'
ok "log: conflicting headers refused 550 5.7.1" \
    log 'CONFLICT1: refused .*conflicting tenant headers .*reply="550 5.7.1 Error: conflicting X-Tenant-ID headers'
ok "log: two From: headers refused 550 5.6.0" \
    log 'TWOFROM1: refused .*reply="550 5.6.0 Error: message has more than one From: header"'
ok "log: unknown tenant to the default route" log "UNKNOWN1: rewritten .* tenant=- source=none removed=1"
ok "log: the aborted message left no trace" bash -c '! grep -q "ABORTED1" "$0"' "$T/milter.log"
ok "log: header section over 1 MiB refused 552 5.3.4" log 'BIG1: refused .*header section larger than'

# An MTA that cannot change the envelope sender: the milter refuses the
# negotiation (the connection closes, no options reply), so the MTA's own
# default action applies; with every action offered it answers.
negotiate() {  # negotiate ACTIONS: the reply's command byte, or EOF
    "$PYTHON3" - "$mport" "$1" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
body = b"O" + struct.pack(">III", 6, int(sys.argv[2], 0), 0xff)
s.sendall(struct.pack(">I", len(body)) + body)
data = s.recv(4096)
print(data[4:5].decode() if data else "EOF")
PY
}
ok "negotiation: every action offered, options returned" test "$(negotiate 0x1ff)" = O
ok "negotiation: no SMFIF_CHGFROM, connection refused" test "$(negotiate 0x1bf)" = EOF
ok "log: why the negotiation was refused" log 'the MTA does not offer the needed actions'

ok "reload: unknown_tenant = reject" reload_to reject
run_phase reject
ok "log: unknown tenant rejected 550 5.7.1" log "UNKNOWN2: refused .*reply=\"550 5.7.1 Error: tenant 'nope' is unknown\""
ok "log: disabled tenant rejected 550 5.7.1" log "DISABLED2: refused .*reply=\"550 5.7.1 Error: tenant 'beta' is disabled\""
ok "reload: unknown_tenant = tempfail" reload_to tempfail
run_phase tempfail
ok "log: unknown tenant deferred 451 4.7.1" log "UNKNOWN3: refused .*reply=\"451 4.7.1 Error: tenant 'nope' is unknown, try again later\""

# A message pinned under tempfail, a reload to reject while it is in flight.
rm -f "$T/pinned" "$T/reloaded"
run_phase inflight > "$T/inflight.out" 2>&1 &
bg=$!
ok "in flight: the message passed MAIL FROM" wait_for 30 test -s "$T/pinned"
ok "in flight: reloaded to reject" reload_to reject
touch "$T/reloaded"
wait "$bg"
while IFS= read -r line; do echo "$line"; done < "$T/inflight.out"
ok "in flight: both checks passed" bash -c '[ "$(grep -c "^ok" "$0")" -ge 3 ] && ! grep -q "^not ok" "$0"' "$T/inflight.out"
ok "log: the in-flight message kept tempfail" log 'INFLIGHT1: refused .*reply="451 4.7.1'
ok "log: the next message got reject" log 'AFTER1: refused .*reply="550 5.7.1'

# A tenant store that no longer loads: the reload is refused and the
# running snapshot (acme included) stays.
cp "$T/etc/tenants" "$T/tenants.good"
echo 'tenants = ( { id = "broken"; ' >> "$T/etc/tenants"
before=$(grep -c "reload refused" "$T/milter.log")
kill -USR1 "$mpid"
ok "bad tenant store: reload refused" \
    wait_for 10 bash -c '[ "$(grep -c "reload refused" "$0")" -gt "$1" ]' "$T/milter.log" "$before"
ok "bad tenant store: the error names the store" log 'reload refused, keeping the running configuration: tenant store: '
out=$(timeout 60 miltertest -D sock="inet:$mport@127.0.0.1" -D phase=acme -D label=kept -D dir="$T" \
    -s "$TR_TESTS/milter_cases.lua" 2>&1)
ok "bad tenant store: the running snapshot still routes acme" grep -q '^PASS kept: acme stamped' <<< "$out"
cp "$T/tenants.good" "$T/etc/tenants"

# A unix socket with socket_mode, created before the privileges go.
upath="$T/run/milter.sock"
sed -e "s|inet:$mport@127.0.0.1|unix:$upath|" -e 's|^milter = { |milter = { socket_mode = "0660"; |' \
    "$T/milter.conf" > "$T/milter-unix.conf"
"$TR_BIN_MILTER" -f -c "$T/milter-unix.conf" > "$T/milter-unix.log" 2>&1 &
upid=$!
tr_track "$upid"
ok "unix socket created" wait_for 10 test -S "$upath"
ok "unix socket mode 0660" test "$(stat -c %a "$upath")" = 660
out=$(timeout 60 miltertest -D sock="unix:$upath" -D phase=acme -D label=unix -D dir="$T" \
    -s "$TR_TESTS/milter_cases.lua" 2>&1)
ok "unix socket: a message rewritten" grep -q '^PASS unix: acme stamped' <<< "$out"
kill -TERM "$upid"
ok "unix-socket milter stops" wait_exit "$upid" 10

ok "no internal error was logged" bash -c '! grep -q "internal error\|deferred$" "$0"' "$T/milter.log"
ok "milter still runs" kill -0 "$mpid"
kill -TERM "$mpid"
ok "milter stops on SIGTERM" wait_exit "$mpid" 10
finish
