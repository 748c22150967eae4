# lib.sh - the integration test harness, sourced by every tests/integration/*.sh.
#
# Gives each test a private directory ($T), free loopback ports, a test CA,
# programs started in the background with their PIDs recorded, waits with
# bounded time, and a cleanup that ends exactly the processes it started
# (by PID, never by name) however the test exits.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PYTHON3=${PYTHON3:-/usr/bin/python3}
TR_BIN_DAEMON="$top_builddir/tenantrelayd"
TR_BIN_MILTER="$top_builddir/tenantrelay-milter"
TR_BIN_CTL="$top_builddir/tenantrelayctl"
TR_TESTS="$top_srcdir/tests/integration"

# TR_TMPDIR: where the private directories go (default /tmp).
T=$(mktemp -d "${TR_TMPDIR:-/tmp}/tr-test.XXXXXX")
chmod 755 "$T"
TR_PIDS=()
TR_FAILURES=0
TR_CHECKS=0

tr_cleanup() {
    local pid i
    for pid in "${TR_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${TR_PIDS[@]}"; do
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "${TR_KEEP:-0}" = 1 ]; then
        echo "# kept $T"
    else
        rm -rf "$T"
    fi
}
trap tr_cleanup EXIT
trap 'exit 130' INT TERM

# Record a PID that cleanup must end.
tr_track() { TR_PIDS+=("$1"); }

# Forget a PID (the test ended it itself).
tr_untrack() {
    local keep=() p
    for p in "${TR_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    TR_PIDS=("${keep[@]}")
}

# tr_require COMMAND PACKAGE: a missing tool is a failed test that names the
# Debian package to install, never a wrong result or a silent skip.
tr_require() {
    command -v "$1" > /dev/null 2>&1 && return 0
    echo "# MISSING PREREQUISITE: '$1' not found; install the Debian package $2 (scripts/install-deps.sh does)" >&2
    exit 99
}

# tr_require_python MODULE PACKAGE: the same for a module of Debian's /usr/bin/python3.
tr_require_python() {
    "$PYTHON3" -c "import $1" > /dev/null 2>&1 && return 0
    echo "# MISSING PREREQUISITE: python module '$1' not found for $PYTHON3; install the Debian package $2" >&2
    exit 99
}

# tr_require_swaks_tls: swaks speaks TLS only with its Recommends installed.
tr_require_swaks_tls() {
    tr_require swaks swaks
    swaks --support 2>&1 | grep -q '^=== TLS supported' && return 0
    echo "# MISSING PREREQUISITE: swaks has no TLS; install the Debian packages libnet-ssleay-perl libio-socket-ssl-perl" >&2
    exit 99
}

# A free TCP port on the loopback (the kernel's choice).
free_port() {
    "$PYTHON3" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
    local port=$1 limit=${2:-10} i
    for i in $(seq 1 $((limit * 10))); do
        if "$PYTHON3" -c "import socket,sys
s = socket.socket(); s.settimeout(0.5)
sys.exit(0 if s.connect_ex(('127.0.0.1', $port)) == 0 else 1)" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "# nothing listening on port $port after ${limit}s" >&2
    return 1
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds, bounded.
wait_for() {
    local limit=$1 i
    shift
    for i in $(seq 1 $((limit * 10))); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# wait_exit PID SECONDS: until PID is gone; its status in $TR_EXIT.
wait_exit() {
    local pid=$1 limit=$2 i
    for i in $(seq 1 $((limit * 10))); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            TR_EXIT=$?
            tr_untrack "$pid"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# ok CONDITION-DESCRIPTION COMMAND...: one check, TAP-like output.
ok() {
    local what=$1
    shift
    TR_CHECKS=$((TR_CHECKS + 1))
    if "$@"; then
        echo "ok $TR_CHECKS - $what"
    else
        echo "not ok $TR_CHECKS - $what"
        TR_FAILURES=$((TR_FAILURES + 1))
    fi
}

# The test's exit status: 0 when every check passed.
finish() {
    echo "# $TR_CHECKS checks, $TR_FAILURES failed"
    [ "$TR_FAILURES" -eq 0 ] && [ "$TR_CHECKS" -gt 0 ]
    exit $?
}

# make_ca DIR: a test CA and certificates signed by it, for localhost and
# 127.0.0.1: DIR/ca.pem, DIR/server.pem + server.key.  Further
# certificates (self-signed, wrong name, expired) come from make_cert.
make_ca() {
    tr_require openssl openssl
    local d=$1
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=tenantrelay test CA" \
        -keyout "$d/ca.key" -out "$d/ca.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        2>/dev/null || return 1
    make_cert "$d" server "localhost" "DNS:localhost,IP:127.0.0.1"
}

# make_cert DIR NAME CN SAN [DAYS]: DIR/NAME.pem and DIR/NAME.key signed by DIR/ca.
make_cert() {
    local d=$1 name=$2 cn=$3 san=$4 days=${5:-30}
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$d/$name.key" \
        -out "$d/$name.csr" 2>/dev/null || return 1
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" > "$d/$name.ext"
    openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
        -days "$days" -extfile "$d/$name.ext" -out "$d/$name.pem" 2>/dev/null
}

# start_upstream NAME PORT TLS [upstream.py options...]: a real SMTP server
# writing to $T/NAME.mail; waits until it accepts connections.
start_upstream() {
    local name=$1 port=$2 tls=$3
    shift 3
    tr_require_python aiosmtpd python3-aiosmtpd
    "$PYTHON3" "$TR_TESTS/upstream.py" --port "$port" --tls "$tls" \
        --cert "$T/ca/server.pem" --key "$T/ca/server.key" \
        --maildir "$T/$name.mail" --ready-file "$T/$name.ready" "$@" \
        > "$T/$name.log" 2>&1 &
    tr_track $!
    wait_for 15 test -s "$T/$name.ready" || { echo "# upstream $name did not start" >&2; cat "$T/$name.log" >&2; return 1; }
}

# write_conf FILE [extra libconfig lines]: a test configuration whose paths
# all live under $T; the listener port is $TR_PORT.
write_conf() {
    local file=$1
    shift
    mkdir -p "$T/spool" "$T/run" "$T/log" "$T/etc"
    # An empty tenant store, as tenantrelayctl key init makes it: the daemon
    # refuses a missing one (SPEC §5).  TR_NO_STORE=1 leaves it out.
    if [ "${TR_NO_STORE:-0}" != 1 ] && [ ! -e "$T/etc/tenants" ]; then
        mkdir -m 0750 "$T/etc/tenants"
        [ "$(id -u)" = 0 ] && chown "${TR_USER:-nobody}" "$T/etc/tenants"
    fi
    cat > "$file" <<CONF
hostname = "relay.test";
user = "${TR_USER:-nobody}";
listen = ( { address = "${TR_LISTEN_ADDR:-127.0.0.1}"; port = ${TR_PORT:-2525}; } );
spool_directory = "$T/spool";
control_socket = "$T/run/control.sock";
events_file = "$T/log/events.jsonl";
tenant_store = "$T/etc/tenants";
change_log = "$T/log/changes.log";
key_file = "$T/etc/master.key";
$*
CONF
    # The daemon drops root for this user: let it own its writable places.
    if [ "$(id -u)" = 0 ]; then
        chown "${TR_USER:-nobody}" "$T/spool" "$T/run" "$T/log"
    fi
    # The test upstreams listen on loopback at free ports, which the tenant
    # route policy refuses by default: allow them explicitly (a test of the
    # policy itself passes its own tenant_route_policy line).
    if ! grep -q '^tenant_route_policy' "$file"; then
        printf '%s\n' 'tenant_route_policy = { extra_networks = [ "127.0.0.0/8", "::1/128" ]; ports = [ ]; };' >> "$file"
    fi
    if ! grep -q '^default_route' "$file"; then
        cat >> "$file" <<CONF
default_route = { host = "127.0.0.1"; port = ${TR_UPSTREAM_PORT:-2465}; tls = "implicit";
  sender = "notifications@platform.test"; ca_file = "$T/ca/ca.pem"; };
CONF
    fi
}

# relay_conf [LINES...]: the usual start of a one-relay test: the test CA,
# a free port $TR_PORT, $TR_CONF = $T/relay.conf written by write_conf with
# LINES (its default route to $TR_UPSTREAM_PORT, as write_conf's);
# TR_PORT and TR_CONF exported.
relay_conf() {
    make_ca "$T/ca"
    TR_PORT=$(free_port)
    TR_CONF="$T/relay.conf"
    export TR_PORT TR_CONF
    write_conf "$TR_CONF" "$@"
}

# start_daemon CONF: tenantrelayd -f in the background, log in $T/daemon.log;
# returns once it accepts connections and has logged that it started (the
# port accepts as soon as it is bound, a little before the start-up lines).
start_daemon() {
    local before
    before=$(grep -c "daemon started" "$T/daemon.log" 2>/dev/null)
    "$TR_BIN_DAEMON" -f -c "$1" >> "$T/daemon.log" 2>&1 &
    TR_DAEMON_PID=$!
    tr_track "$TR_DAEMON_PID"
    wait_port "${TR_PORT:-2525}" 15 &&
        wait_for 15 bash -c '[ "$(grep -c "daemon started" "$0")" -gt "$1" ]' "$T/daemon.log" "${before:-0}"
}

# make_selfsigned_cert DIR NAME CN SAN: DIR/NAME.pem + .key, self-signed
# (valid dates and names, but no CA vouches for it).
make_selfsigned_cert() {
    local d=$1 name=$2 cn=$3 san=$4
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$cn" \
        -keyout "$d/$name.key" -out "$d/$name.pem" \
        -addext "subjectAltName=$san" -addext "basicConstraints=CA:FALSE" \
        -addext "extendedKeyUsage=serverAuth" 2>/dev/null
}

# make_expired_cert DIR NAME CN SAN: DIR/NAME.pem + .key signed by DIR/ca
# with a validity period entirely in the past (openssl ca -startdate/-enddate,
# which Debian 12's OpenSSL 3.0 supports where x509 -req cannot).
make_expired_cert() {
    local d=$1 name=$2 cn=$3 san=$4 db
    db="$d/$name.cadb"
    mkdir -p "$db"
    : > "$db/index.txt"
    printf '1000\n' > "$db/serial"
    cat > "$db/ca.cnf" <<CNF
[ ca ]
default_ca = test
[ test ]
database = $db/index.txt
serial = $db/serial
new_certs_dir = $db
default_md = sha256
policy = anything
copy_extensions = none
unique_subject = no
[ anything ]
commonName = supplied
[ ext ]
subjectAltName = $san
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
CNF
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$d/$name.key" \
        -out "$d/$name.csr" 2>/dev/null || return 1
    openssl ca -batch -config "$db/ca.cnf" -cert "$d/ca.pem" -keyfile "$d/ca.key" \
        -startdate 20200101000000Z -enddate 20200201000000Z -extensions ext \
        -in "$d/$name.csr" -out "$d/$name.pem" -notext 2>/dev/null
}

# smtpc_send ARGS...: the SMTP client test tool (one JSON line per step).
smtpc_send() {
    "$top_builddir/tests/tools/smtpc_send" "$@"
}

# ---- helpers of the listener's tests ----

# smtp_raw PORT [HOST]: send stdin's bytes (a Python bytes literal body, e.g.
# 'EHLO x\r\nQUIT\r\n') to HOST:PORT and print every reply until the server
# closes or goes quiet for 3 seconds.
smtp_raw() {
    local port=$1 host=${2:-127.0.0.1}
    "$PYTHON3" -c '
import socket, sys, time
data = eval("b\x27" + sys.stdin.read().replace("\x27", "\\\x27") + "\x27")
s = socket.create_connection((sys.argv[2], int(sys.argv[1])), timeout=10)
s.settimeout(3)
s.sendall(data)
out = b""
deadline = time.time() + 20
while time.time() < deadline:
    try:
        b = s.recv(65536)
    except (socket.timeout, ConnectionResetError):
        break
    if not b:
        break
    out += b
sys.stdout.write(out.decode("utf-8", "replace"))
' "$port" "$host"
}

# smtp_try FROM TO FILE: the bytes of FILE as one message into the relay at
# $TR_PORT; prints "accepted", or "refused CODE TEXT" when its data is refused.
smtp_try() {
    "$PYTHON3" - "$TR_PORT" "$@" 2>&1 <<'PY'
import smtplib, sys
port, sender, rcpt, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
try:
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.sendmail(sender, [rcpt], open(path, "rb").read())
    print("accepted")
except smtplib.SMTPDataError as e:
    print("refused", e.smtp_code, e.smtp_error.decode())
PY
}

# queue_count: messages (envelopes) in the test spool.
queue_count() {
    find "$T/spool/queue" -name '*.env' 2>/dev/null | wc -l
}

# ---- delivery helpers -------------------------------------------------------

# tr_ctl ARGS...: tenantrelayctl with $TR_CONF; what it writes under $T/etc
# (keyring, tenant store) is then handed to the daemon's user, as an
# installation would with the service user's group.
tr_ctl() {
    "$TR_BIN_CTL" -c "$TR_CONF" "$@"
    local rc=$?
    if [ "$(id -u)" = 0 ]; then
        chown -R "${TR_USER:-nobody}" "$T/etc" 2>/dev/null
    fi
    return $rc
}

# store_sum: a checksum of every file of the test's tenant store ($T/etc/tenants,
# as write_conf places it) and of its change log: unchanged means byte-identical.
store_sum() { (cd "$T/etc" && find tenants -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum; sha256sum "$T/log/changes.log" 2>/dev/null) | sha256sum; }

# count_eml DIR: how many messages an upstream stored.
count_eml() {
    local n
    n=$(ls "$1" 2>/dev/null | grep -c '\.eml$')
    echo "${n:-0}"
}

# wait_eml DIR N SECONDS: until the upstream at DIR stored N messages.
wait_eml() {
    wait_for "$3" bash -c '[ "$(ls "$0" 2>/dev/null | grep -c "\.eml$")" -ge "$1" ]' "$1" "$2"
}

# relay_send FROM TO [swaks options...]: one message into the relay at $TR_PORT.
relay_send() {
    tr_require swaks swaks
    local from=$1 to=$2
    shift 2
    swaks --server 127.0.0.1 --port "$TR_PORT" --from "$from" --to "$to" --timeout 20 "$@" \
        >> "$T/swaks.log" 2>&1
}

# queue_state_count STATE: messages in that state per `tenantrelayctl queue list --json`.
queue_state_count() {
    "$TR_BIN_CTL" -c "$TR_CONF" queue list --json 2>/dev/null | \
        "$PYTHON3" -c 'import json,sys; d=json.load(sys.stdin); print(sum(1 for m in d["messages"] if m["state"]==sys.argv[1]))' "$1"
}

# set_default_route CONF LIBCONFIG-GROUP-BODY: replace the default_route of a
# test configuration (written by write_conf) with the given one.
set_default_route() {
    local file=$1
    shift
    sed -i '/^default_route = {/,/};/d' "$file"
    printf 'default_route = { %s };\n' "$*" >> "$file"
}

# relay_send_file FROM TO FILE: the exact bytes of FILE (CRLF lines) as one
# message into the relay at $TR_PORT, through Python's smtplib.
relay_send_file() {
    "$PYTHON3" - "$TR_PORT" "$1" "$2" "$3" >> "$T/smtplib.log" 2>&1 <<'PY'
import smtplib, sys
port, sender, rcpt, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
data = open(path, "rb").read()
with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
    s.ehlo("app.test")
    opts = ["BODY=8BITMIME"] if any(b > 127 for b in data) else []
    s.sendmail(sender, rcpt.split(","), data, mail_options=opts)
PY
}

# wait_true SECONDS 'SHELL EXPRESSION': until the expression, evaluated
# afresh each time (functions of this file usable), is true; bounded.
wait_true() {
    local limit=$1 i
    shift
    for i in $(seq 1 $((limit * 10))); do
        eval "$*" && return 0
        sleep 0.1
    done
    return 1
}

# pf_private_config DIR PORT NAME: the base of a private Postfix instance
# under DIR (etc/, queue/, data/): smtpd on 127.0.0.1:PORT, myhostname NAME,
# chroot off, relaying for 127.0.0.0/8 only, nothing delivered locally,
# logging to DIR/maillog.  Never the system instance.  Callers append their
# own main.cf lines (relayhost, TLS, milters) and master.cf services.
pf_private_config() {
    local dir=$1 port=$2 name=$3
    mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
    chown postfix "$dir/data"
    sed -e 's/^\([a-z0-9]*[[:space:]]\+\(unix\|unix-dgram\|fifo\|pass\|inet\)[[:space:]]\+[-yn][[:space:]]\+[-yn][[:space:]]\+\)y/\1n/' \
        -e "s/^smtp      inet/127.0.0.1:$port inet/" \
        -e '/^submission\|^smtps\|^#/d' /etc/postfix/master.cf > "$dir/etc/master.cf"
    cat > "$dir/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = $name
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
CONF
}

# pg_start DIR PORT: a private PostgreSQL 15 for one test, never the
# system's cluster: initdb into DIR/data on first use (as nobody when run as
# root: the data directory must belong to an unprivileged user), then the
# server on 127.0.0.1:PORT and a unix socket in DIR, started in the
# background with its PID in $TR_PG_PID (tracked).  Superuser "trelay",
# trust authentication on loopback only.  Its URI: pg_uri DIR PORT.
TR_PG_BIN=/usr/lib/postgresql/15/bin
pg_as_user() {
    if [ "$(id -u)" = 0 ]; then setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; else "$@"; fi
}
pg_start() {
    local dir=$1 port=$2
    tr_require "$TR_PG_BIN/initdb" postgresql-15
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown nobody:nogroup "$dir"
    if [ ! -d "$dir/data" ]; then
        pg_as_user "$TR_PG_BIN/initdb" -D "$dir/data" -U trelay --auth=trust -E UTF8 --no-sync \
            > "$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    fi
    # Durability settings off: a test database, thrown away afterwards.
    # setpriv execs the server: $! is the postmaster's own PID.
    local as=()
    [ "$(id -u)" = 0 ] && as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    "${as[@]}" "$TR_PG_BIN/postgres" -D "$dir/data" -k "$dir" -p "$port" -c listen_addresses=127.0.0.1 \
        -c fsync=off -c full_page_writes=off -c synchronous_commit=off >> "$dir/server.log" 2>&1 &
    TR_PG_PID=$!
    tr_track "$TR_PG_PID"
    wait_port "$port" 20 || { cat "$dir/server.log" >&2; return 1; }
    # The port opens before the server accepts sessions ("the database
    # system is starting up"): wait until it really answers.
    wait_for 30 "$TR_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U trelay ||
        { echo "# PostgreSQL did not become ready" >&2; cat "$dir/server.log" >&2; return 1; }
}
# pg_stop: a fast shutdown (SIGINT) of the server pg_start started last.
pg_stop() {
    kill -INT "$TR_PG_PID" 2>/dev/null
    wait_exit "$TR_PG_PID" 30
}
pg_uri() { echo "postgresql://trelay@127.0.0.1:$2/postgres"; }
# pg_sql DIR PORT SQL: one statement through psql, unaligned output.
pg_sql() { "$TR_PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$2" -U trelay -d postgres -c "$3"; }

# routes_default_acme DEFAULT-PORT ACME-PORT [OUTPUT]: the two routes many
# delivery tests share, in $TR_CONF (written by write_conf): a keyring
# (key init, output in $T/key.out); the default route to
# 127.0.0.1:DEFAULT-PORT, implicit TLS, logging in as platform
# (pl4tform-s3cret, sealed); tenant acme (sender mailer@acme.test, domain
# acme.test) to 127.0.0.1:ACME-PORT, implicit TLS, as acme-user
# (acme-s3cret-pw), saved untested, its output in OUTPUT (default
# $T/set.out).  Their upstreams: start_upstream NAME PORT implicit --auth USER:PASSWORD.
routes_default_acme() {
    local token
    tr_ctl key init > "$T/key.out" 2>&1 || return 1
    token=$(printf 'pl4tform-s3cret' | tr_ctl seal --tenant default --field password) || return 1
    set_default_route "$TR_CONF" "host = \"127.0.0.1\"; port = $1; tls = \"implicit\";
  username = \"platform\"; password = \"$token\";
  sender = \"notifications@platform.test\"; ca_file = \"$T/ca/ca.pem\";"
    printf 'acme-s3cret-pw' | tr_ctl tenant set acme --host 127.0.0.1 --port "$2" --tls implicit \
        --username acme-user --password-stdin --sender mailer@acme.test --domain acme.test \
        --ca-file "$T/ca/ca.pem" --no-test > "${3:-$T/set.out}" 2>&1
}

# http_relay_start: a relay with its HTTP API, as the API's tests start it:
# free ports $TR_PORT (SMTP), $HP (HTTP) and $TR_UPSTREAM_PORT (the default
# route's upstream "def", implicit TLS, started here); $TR_CONF = $T/tr.conf;
# a keyring; an API token "ops" in $TOKEN; the daemon started and the API
# answering at $U.  Needs the test CA (make_ca "$T/ca").
http_relay_start() {
    TR_PORT=$(free_port); TR_UPSTREAM_PORT=$(free_port); HP=$(free_port)
    TR_CONF="$T/tr.conf"
    write_conf "$TR_CONF" "http = { listen = ( { address = \"127.0.0.1\"; port = $HP; } ); api_tokens = \"$T/etc/api-tokens\"; };"
    start_upstream def "$TR_UPSTREAM_PORT" implicit || return 1
    tr_ctl key init > /dev/null 2>&1
    TOKEN=$(tr_ctl api-token add ops 2>/dev/null)
    start_daemon "$TR_CONF" || return 1
    wait_port "$HP" 10 || return 1
    U="http://127.0.0.1:$HP"
}

# make_service_account FILE: a Google service account's JSON key (a fresh
# RSA key, project relay-test, client relay@relay-test.iam.gserviceaccount.com).
make_service_account() {
    tr_require_python cryptography python3-cryptography
    "$PYTHON3" - "$1" <<'PY'
import json, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                      serialization.NoEncryption()).decode()
json.dump({"type": "service_account", "project_id": "relay-test", "private_key_id": "0123abcd",
           "private_key": pem, "client_email": "relay@relay-test.iam.gserviceaccount.com",
           "client_id": "104000000000000000001", "token_uri": "https://oauth2.googleapis.com/token"},
          open(sys.argv[1], "w"), indent=2)
PY
}

# make_app_cert [DAYS]: the app's certificate credential of the OAuth2
# tests (its public part is what a provider registers): self-signed,
# CN "tenantrelay app", valid DAYS (default 20); $T/app.pem and $T/app.key.
make_app_cert() {
    tr_require openssl openssl
    openssl req -x509 -newkey rsa:2048 -nodes -days "${1:-20}" -subj "/CN=tenantrelay app" \
        -keyout "$T/app.key" -out "$T/app.pem" 2>/dev/null
}

# ---- the milter inside a real MTA (Postfix, Sendmail) -----------------------

# milter_relay_start [EXTRA-CONF]: the path every MTA test of the milter
# shares: a test CA; TLS+AUTH upstreams "default" (platform:pl4tform-s3cret)
# and "acme" (acme-user:acme-s3cret-pw); one configuration $TR_CONF for
# tenantrelayd ($TR_PORT) and the milter (inet:$MPORT@127.0.0.1, trusting
# 127.0.0.0/8) plus EXTRA-CONF lines; the default route and tenant acme
# (sender mailer@acme.test, domain acme.test) sealed; tenantrelayd and the
# milter ($MPID, log $T/milter.log) started.  The MTA relays to $TR_PORT.
milter_relay_start() {
    make_ca "$T/ca"
    P_DEFAULT=$(free_port)
    P_ACME=$(free_port)
    start_upstream default "$P_DEFAULT" implicit --auth platform:pl4tform-s3cret || return 1
    start_upstream acme "$P_ACME" implicit --auth acme-user:acme-s3cret-pw || return 1
    TR_PORT=$(free_port)
    MPORT=$(free_port)
    TR_CONF="$T/relay.conf"
    export TR_PORT
    # One file for both daemons, as an installation would have it.
    write_conf "$TR_CONF" "retry = { schedule = [ 1 ]; };
milter = { socket = \"inet:$MPORT@127.0.0.1\"; trusted_networks = [ \"127.0.0.0/8\" ]; };
${1:-}"
    routes_default_acme "$P_DEFAULT" "$P_ACME" || return 1
    start_daemon "$TR_CONF" || return 1
    "$TR_BIN_MILTER" -f -c "$TR_CONF" > "$T/milter.log" 2>&1 &
    MPID=$!
    tr_track "$MPID"
    wait_port "$MPORT" 10
}

# mta_send PORT FROM FILE [USER PASSWORD]: the exact bytes of FILE into the
# MTA at 127.0.0.1:PORT for user@example.test, with AUTH as USER when given;
# prints "250 accepted" or the code and text of the refusal.
mta_send() {
    "$PYTHON3" - "$@" <<'PY' 2>&1
import smtplib, sys
port, sender, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
try:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("app.test")
        if len(sys.argv) > 5:
            s.login(sys.argv[4], sys.argv[5])
        s.sendmail(sender, ["user@example.test"], data)
    print("250 accepted")
except smtplib.SMTPResponseException as e:
    print(e.smtp_code, e.smtp_error.decode())
except smtplib.SMTPRecipientsRefused as e:
    print(list(e.recipients.values())[0])
except (OSError, smtplib.SMTPException) as e:
    print("000", type(e).__name__, e)
PY
}

# mta_mkmsg FILE HEADER-LINES...: a CRLF message with these header lines and
# a fixed body (one line starting with a dot, to check dot-stuffing).
mta_mkmsg() {
    local f=$1 h
    shift
    { for h in "$@"; do printf '%s\r\n' "$h"; done; printf '\r\nBody line one.\r\n.leading dot\r\n'; } > "$f"
}

# eml_meta JSON KEY: one field of what an upstream recorded (mail_from, auth_user, ...).
eml_meta() {
    "$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# eml_headers EML: the header section an upstream stored, without the
# Received: fields (each hop adds its own), one field line per line.
eml_headers() {
    "$PYTHON3" - "$1" <<'PY'
import sys
hdr = open(sys.argv[1], "rb").read().split(b"\r\n\r\n", 1)[0].split(b"\r\n")
out, skip = [], False
for line in hdr:
    if line[:1] in (b" ", b"\t"):
        if not skip:
            out.append(line)
        continue
    skip = line.lower().startswith(b"received:")
    if not skip:
        out.append(line)
sys.stdout.write("\n".join(l.decode("utf-8", "replace") for l in out) + "\n")
PY
}

# eml_body EML: the body an upstream stored (after the first empty line).
eml_body() {
    sed '1,/^\r$/d' "$1"
}
