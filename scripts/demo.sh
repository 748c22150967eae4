#!/bin/bash
# The demo: installs dependencies, builds, starts a local TLS upstream that
# requires AUTH (standing in for the platform's SMTP service), and runs
# tenantrelayd in the foreground on 127.0.0.1:10025 in front of it; sends one
# message for the platform (default route) and one for the demo tenant
# "acme", whose own SMTP server is down: both are accepted and spooled
# ("250 2.0.0 Ok: queued as ID"); the first reaches the upstream mailbox, the
# second waits in the queue (`tenantrelayctl queue list`), deferred and never
# sent by the default route instead.  Ctrl-C stops everything.
#
#   DEMO_ONESHOT=1     stop after the demo message instead of staying up
#   DEMO_BUILD_DIR=D   use an existing build instead of building in build-demo
#   DEMO_PORT, DEMO_UPSTREAM_PORT, DEMO_DIR   override the defaults
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
port=${DEMO_PORT:-10025}
up_port=${DEMO_UPSTREAM_PORT:-10465}
dir=${DEMO_DIR:-/tmp/tenantrelay-demo}

if [ -z "${DEMO_BUILD_DIR:-}" ]; then
    [ "$(id -u)" = 0 ] && bash scripts/install-deps.sh
    ./autogen.sh > /dev/null
    mkdir -p build-demo
    (cd build-demo && "$top/configure" --sysconfdir=/etc --localstatedir=/var --runstatedir=/run \
        > configure.out && make -j"$(nproc)" > make.out)
    bin="$top/build-demo"
else
    bin=$DEMO_BUILD_DIR
fi

rm -rf "$dir"
mkdir -p "$dir"/{ca,spool,run,log,etc,upstream}
chmod 755 "$dir"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# A private CA and the upstream's certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=tenantrelay demo CA" \
    -keyout "$dir/ca/ca.key" -out "$dir/ca/ca.pem" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/ca/server.key" \
    -out "$dir/ca/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$dir/ca/server.ext"
openssl x509 -req -in "$dir/ca/server.csr" -CA "$dir/ca/ca.pem" -CAkey "$dir/ca/ca.key" \
    -CAcreateserial -days 30 -extfile "$dir/ca/server.ext" -out "$dir/ca/server.pem" 2>/dev/null

/usr/bin/python3 tests/integration/upstream.py --port "$up_port" --tls implicit \
    --cert "$dir/ca/server.pem" --key "$dir/ca/server.key" --maildir "$dir/upstream" \
    --ready-file "$dir/upstream.ready" > "$dir/upstream.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$dir/upstream.ready" ] && break; sleep 0.1; done

user=nobody
[ "$(id -u)" = 0 ] && chown "$user" "$dir/spool" "$dir/run" "$dir/log"
# One demo tenant, recognised by the X-Tenant-ID header or its sender
# domain, whose own server (a closed port here) is down.
acme_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$dir/etc/tenants" <<STORE
tenants = (
  { id = "acme"; host = "127.0.0.1"; port = $acme_port; tls = "implicit"; ca_file = "$dir/ca/ca.pem";
    sender = "notifications@acme.demo.test"; domains = [ "acme.demo.test" ]; }
);
STORE
cat > "$dir/tenantrelay.conf" <<CONF
hostname = "relay.demo.test";
user = "$user";
listen = ( { address = "127.0.0.1"; port = $port; } );
spool_directory = "$dir/spool";
control_socket = "$dir/run/control.sock";
events_file = "$dir/log/events.jsonl";
tenant_store = "$dir/etc/tenants";
change_log = "$dir/log/tenant-changes.log";
key_file = "$dir/etc/master.key";
default_route = { host = "127.0.0.1"; port = $up_port; tls = "implicit";
  sender = "notifications@platform.demo.test"; ca_file = "$dir/ca/ca.pem"; };
CONF
"$bin/tenantrelayd" -t -c "$dir/tenantrelay.conf"
"$bin/tenantrelayd" -f -c "$dir/tenantrelay.conf" &
pids+=($!)
for _ in $(seq 1 100); do
    /usr/bin/python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$port)))" && break
    sleep 0.1
done

echo
echo "tenantrelayd is listening on 127.0.0.1:$port (config: $dir/tenantrelay.conf)."
echo "Send it mail, for example:"
echo "  swaks --server 127.0.0.1:$port --from app@platform.demo.test --to someone@example.test --header 'X-Tenant-ID: acme'"
echo
send() {  # send FROM [swaks options]: the last replies of the dialogue
    swaks --server "127.0.0.1:$port" --from "$1" --to someone@example.test "${@:2}" \
        --header "Subject: tenantrelay demo" --body "Hello from the demo." \
        --timeout 10 2>&1 | grep -E '^ *(<-|<~|<\*\*|\*\*\*) ' | tail -n 2 | head -n 1 || true
}
echo "1. A platform message (no tenant: the default route):"
send app@platform.demo.test
echo "2. A message of tenant acme (X-Tenant-ID: acme), whose own server is down:"
send app@platform.demo.test --header "X-Tenant-ID: acme"
qid=$(ls -t "$dir/spool/queue" | grep '\.msg$' | head -n 1 | sed 's/\.msg$//')
if [ -n "$qid" ]; then
    echo
    echo "Spooled $qid.msg (tenant header removed, Received: added):"
    sed -n '1,7p' "$dir/spool/queue/$qid.msg" | tr -d '\r' | sed 's/^/    /'
fi
for _ in $(seq 1 50); do
    [ "$(ls "$dir/upstream" | grep -c '\.eml$' || true)" -ge 1 ] && break
    sleep 0.1
done
echo
echo "Upstream mailbox ($dir/upstream): $(ls "$dir/upstream" | grep -c '\.eml$' || true) message(s) (the platform's)."
echo "The queue (tenantrelayctl -c $dir/tenantrelay.conf queue list): acme's message waits for acme's server."
"$bin/tenantrelayctl" -c "$dir/tenantrelay.conf" queue list
if [ "${DEMO_ONESHOT:-0}" = 1 ]; then
    exit 0
fi
echo "Ctrl-C to stop."
wait "${pids[1]}"
