#!/bin/bash
# The demo: installs dependencies, builds, starts two local TLS upstreams
# that require AUTH (the platform's SMTP service, and tenant acme's own
# server), creates a keyring, seals the platform's password, and runs
# tenantrelayd in the foreground on 127.0.0.1:10025 in front of them with
# its HTTP API on 127.0.0.1:10080; saves acme through the API (PUT
# /v1/tenants/acme, which runs the connectivity test first, as the
# platform's settings page would); sends a platform message and an acme
# message and shows where each arrived, as which envelope sender, From: and
# login, then the events, `tenantrelayctl status`, some metrics and the
# address of the reference settings page.  Ctrl-C stops everything.
#
#   DEMO_ONESHOT=1     stop after the demo message instead of staying up
#   DEMO_BUILD_DIR=D   use an existing build instead of building in build-demo
#   DEMO_PORT, DEMO_UPSTREAM_PORT, DEMO_HTTP_PORT, DEMO_DIR   override the defaults
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
port=${DEMO_PORT:-10025}
up_port=${DEMO_UPSTREAM_PORT:-10465}
http_port=${DEMO_HTTP_PORT:-10080}
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

# Two real upstreams (aiosmtpd, implicit TLS, AUTH required): the
# platform's own SMTP service, and the server tenant "acme" registered.
start_upstream() {  # start_upstream NAME PORT USER:PASSWORD
    mkdir -p "$dir/$1"
    /usr/bin/python3 tests/integration/upstream.py --port "$2" --tls implicit --auth "$3" \
        --cert "$dir/ca/server.pem" --key "$dir/ca/server.key" --maildir "$dir/$1" \
        --ready-file "$dir/$1.ready" > "$dir/$1.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do [ -s "$dir/$1.ready" ] && break; sleep 0.1; done
}
acme_port=$((up_port + 1))
start_upstream upstream "$up_port" "platform:platform-demo-password"
start_upstream acme-upstream "$acme_port" "acme-relay:acme-demo-password"

user=nobody
[ "$(id -u)" = 0 ] && chown "$user" "$dir/spool" "$dir/run" "$dir/log"
conf="$dir/tenantrelay.conf"
write_conf() {  # write_conf DEFAULT-ROUTE-EXTRA
    cat > "$conf" <<CONF
hostname = "relay.demo.test";
user = "$user";
listen = ( { address = "127.0.0.1"; port = $port; } );
spool_directory = "$dir/spool";
control_socket = "$dir/run/control.sock";
events_file = "$dir/log/events.jsonl";
tenant_store = "$dir/etc/tenants";
change_log = "$dir/log/tenant-changes.log";
key_file = "$dir/etc/master.key";
retry = { schedule = [ 5, 30, 60 ]; };
# The demo's tenant upstream listens on loopback: allow it explicitly.
tenant_route_policy = { extra_networks = [ "127.0.0.0/8" ]; ports = [ ]; };
http = { listen = ( { address = "127.0.0.1"; port = $http_port; } ); api_tokens = "$dir/etc/api-tokens";
         ui = true; ui_directory = "$top/ui"; };
default_route = { host = "127.0.0.1"; port = $up_port; tls = "implicit";
  sender = "notifications@platform.demo.test"; ca_file = "$dir/ca/ca.pem"; $1 };
CONF
}
ctl() { "$bin/tenantrelayctl" -c "$conf" "$@"; }
write_conf ""
echo "== keyring, the platform's sealed password, an API token for the platform"
ctl key init
token=$(printf 'platform-demo-password' | ctl seal --tenant default --field password)
write_conf "username = \"platform\"; password = \"$token\";"
api_token=$(ctl api-token add platform)
[ "$(id -u)" = 0 ] && chown -R "$user" "$dir/etc"
"$bin/tenantrelayd" -t -c "$conf"
"$bin/tenantrelayd" -f -c "$conf" &
pids+=($!)
for p in "$port" "$http_port"; do
    for _ in $(seq 1 100); do
        /usr/bin/python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$p)))" && break
        sleep 0.1
    done
done

echo
echo "== tenant acme saved through the HTTP API: the connectivity test runs first"
cat > "$dir/acme.json" <<JSON
{"host": "127.0.0.1", "port": $acme_port, "tls": "implicit", "username": "acme-relay",
 "password": "acme-demo-password", "sender": "notifications@acme.demo.test",
 "domains": ["acme.demo.test"], "ca_file": "$dir/ca/ca.pem"}
JSON
code=$(curl -s -o "$dir/acme-put.json" -w '%{http_code}' -X PUT -H "Authorization: Bearer $api_token" \
    -H 'Content-Type: application/json' --data-binary @"$dir/acme.json" "http://127.0.0.1:$http_port/v1/tenants/acme")
rm -f "$dir/acme.json"           # it held the password in clear
/usr/bin/python3 - "$dir/acme-put.json" "$code" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("  PUT /v1/tenants/acme -> HTTP %s, saved=%s" % (sys.argv[2], d.get("saved")))
for s in d.get("probe", {}).get("steps", []):
    print("    %-12s %-6s %4d ms  %s" % (s["step"], "ok" if s["ok"] else "FAILED", s["ms"], (s["reply"] or "").split("\n")[-1]))
if d.get("hint"):
    print("  hint:", d["hint"])
PY
[ "$code" = 200 ] || { echo "acme was not saved" >&2; exit 1; }
ctl reload > /dev/null       # waits until the daemon runs with the saved tenant
ctl tenant list

echo
echo "tenantrelayd is listening on 127.0.0.1:$port (config: $conf)."
echo "Send it mail, for example:"
echo "  swaks --server 127.0.0.1:$port --from app@platform.demo.test --to someone@example.test --header 'X-Tenant-ID: acme'"
echo
echo "== sending two messages: one of the platform's own, one for tenant acme"
swaks --server "127.0.0.1:$port" --from app@platform.demo.test --to someone@example.test \
    --header "From: Platform App <app@platform.demo.test>" --header "Subject: platform notice" \
    --body "Hello from the platform." --timeout 10 2>&1 | grep -E '^ *<- +250 2.0.0' || true
swaks --server "127.0.0.1:$port" --from app@platform.demo.test --to someone@example.test \
    --header "X-Tenant-ID: acme" --header "From: Jane (via Platform) <jane@platform.demo.test>" \
    --header "Subject: a new comment for acme" --body "Hello from the demo." \
    --timeout 10 2>&1 | grep -E '^ *<- +250 2.0.0' || true
for _ in $(seq 1 100); do     # 2 messages + the connectivity test's
    [ "$(ls "$dir/upstream" "$dir/acme-upstream" | grep -c '\.eml$')" -ge 3 ] && break
    sleep 0.1
done
show_mailbox() {  # show_mailbox NAME
    local f
    for f in "$dir/$1"/*.json; do
        [ -e "$f" ] || continue
        echo "  $f:"
        /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("    envelope from=%s auth_user=%s tls=%s" % (d["mail_from"], d["auth_user"], d["tls"]))' "$f"
        grep -E '^(From|Reply-To|Subject):' "${f%.json}.eml" | tr -d '\r' | sed 's/^/    /'
    done
}
echo
echo "== the platform's upstream ($dir/upstream):"
show_mailbox upstream
echo "== acme's own upstream ($dir/acme-upstream):"
show_mailbox acme-upstream
echo
echo "== events ($dir/log/events.jsonl):"
sed 's/^/  /' "$dir/log/events.jsonl" 2>/dev/null || true
echo
echo "== tenantrelayctl status:"
ctl status
echo
echo "== metrics (http://127.0.0.1:$http_port/metrics), a few of them:"
curl -s "http://127.0.0.1:$http_port/metrics" | \
    grep -E '^tenantrelay_(messages_received_total|delivery_attempts_total|queue_messages)' | sed 's/^/  /'
echo
echo "== the reference SMTP settings page: http://127.0.0.1:$http_port/ui/"
echo "   (paste this API token into it; it is shown only here: $api_token)"
if [ "${DEMO_ONESHOT:-0}" = 1 ]; then
    exit 0
fi
echo "Ctrl-C to stop."
wait "${pids[1]}"
