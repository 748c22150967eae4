# oauth_lib.sh - helpers of the OAuth2 tests, sourced after lib.sh: the
# provider (tests/integration/oauth_upstream.py: HTTPS token endpoint plus
# an XOAUTH2/OAUTHBEARER SMTP server), its admin calls and counters.

tr_require_python aiosmtpd python3-aiosmtpd
tr_require_python cryptography python3-cryptography
tr_require curl curl

# start_provider NAME SMTP-PORT HTTPS-PORT [oauth_upstream.py options...]
start_provider() {
    local name=$1 sp=$2 hp=$3
    shift 3
    "$PYTHON3" "$TR_TESTS/oauth_upstream.py" --smtp-port "$sp" --https-port "$hp" \
        --cert "$T/ca/server.pem" --key "$T/ca/server.key" --maildir "$T/$name.mail" \
        --ready-file "$T/$name.ready" "$@" > "$T/$name.log" 2>&1 &
    tr_track $!
    wait_for 15 test -s "$T/$name.ready" || { echo "# provider $name did not start" >&2; cat "$T/$name.log" >&2; return 1; }
    wait_port "$hp" 10
}

# start_ms_provider [oauth_upstream.py options...]: provider "ms", Microsoft
# style, with a fresh client secret $SECRET (also in $T/secret) registered
# for client $CID; its SMTP port $sp, HTTPS port $hp, token endpoint $URL.
start_ms_provider() {
    SECRET="Sx8Q~$(openssl rand -hex 16)"
    printf '%s\n' "$SECRET" > "$T/secret"
    CID=11111111-2222-3333-4444-555555555555
    sp=$(free_port); hp=$(free_port)
    start_provider ms "$sp" "$hp" --client-id "$CID" --client-secret-file "$T/secret" "$@" || return 1
    URL="https://localhost:$hp/contoso.onmicrosoft.com/oauth2/v2.0/token"
}

# provider_admin HTTPS-PORT ACTION[?QUERY]: one admin call (revoke, forget, ...).
provider_admin() {
    curl -sS --cacert "$T/ca/ca.pem" -X POST "https://localhost:$1/admin/$2" > /dev/null
}

# provider_stat HTTPS-PORT EXPR: a Python expression over the counters d.
provider_stat() {
    curl -sS --cacert "$T/ca/ca.pem" "https://localhost:$1/admin/stats" | \
        "$PYTHON3" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}

# send_many N THREADS FROM TO: N messages into the relay, THREADS at a time.
send_many() {
    "$PYTHON3" - "$TR_PORT" "$@" >> "$T/smtplib.log" 2>&1 <<'PY'
import smtplib, sys, threading
port, n, threads, sender, rcpt = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def work(k):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        for i in range(k, n, threads):
            s.sendmail(sender, [rcpt], "From: <%s>\r\nTo: <%s>\r\nSubject: oauth %d\r\n\r\nbody %d\r\n" % (sender, rcpt, i, i))
ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
[t.start() for t in ts]
[t.join() for t in ts]
PY
}

# absent_everywhere FILE-OF-SECRETS PLACES...: no line of the file (each a
# secret or a token) occurs in any file under the places.
absent_everywhere() {
    local list=$1
    shift
    ! grep -rqF -f "$list" "$@" 2>/dev/null
}
