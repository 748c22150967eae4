#!/bin/bash
# The reference SMTP settings page (/ui/) in headless Chromium driven by
# Selenium against the real daemon: filled and saved from the keyboard,
# a wrong password shows its failed step and hint, the right one shows
# every step and saves, then the tenant's status after a delivery.
# Screenshots in tests/integration/test_http_ui.out/ of the build tree.
. "$(dirname "$0")/lib.sh"
tr_require curl curl
tr_require /usr/bin/chromium chromium
tr_require /usr/bin/chromedriver chromium-driver
tr_require_python selenium python3-selenium
tr_require swaks swaks
OUT="${TR_UI_OUT:-$top_builddir/tests/integration/test_http_ui.out}"
rm -rf "$OUT"; mkdir -p "$OUT"
PW='Ui-Page-s3cret-pw-58'
make_ca "$T/ca" || exit 1
TR_PORT=$(free_port); TR_UPSTREAM_PORT=$(free_port); HP=$(free_port)
TR_CONF="$T/tr.conf"
write_conf "$TR_CONF" "http = { listen = ( { address = \"127.0.0.1\"; port = $HP; } ); api_tokens = \"$T/etc/api-tokens\"; ui = true; ui_directory = \"$top_srcdir/ui\"; };"
start_upstream def "$TR_UPSTREAM_PORT" implicit || exit 1
pa=$(free_port); start_upstream acme "$pa" starttls --auth "u@acme.test:$PW" || exit 1
tr_ctl key init > /dev/null 2>&1
TOKEN=$(tr_ctl api-token add platform 2>/dev/null)
start_daemon "$TR_CONF" || { cat "$T/daemon.log"; exit 1; }
wait_port "$HP" 10 || exit 1
# The page has no CA field (a real provider has a public certificate): the
# test CA is set on the record once, without a test, before the page is used.
code=$(curl -s -o "$T/pre.json" -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
    --data-binary "{\"host\": \"localhost\", \"sender\": \"no-reply@acme.test\", \"ca_file\": \"$T/ca/ca.pem\", \"test\": false}" \
    "http://127.0.0.1:$HP/v1/tenants/acme")
ok "the record's CA set up (test: false)" test "$code" = 200
wait_true 10 'grep -q "reloaded configuration" "$T/daemon.log"'
ok "/ui redirects to /ui/" test "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$HP/ui")" = "301 http://127.0.0.1:$HP/ui/"
ok "/ui/ is served with a same-origin CSP" bash -c 'curl -s -D - -o /dev/null "$0" | grep -qi "^content-security-policy: default-src .self."' "http://127.0.0.1:$HP/ui/"
ok "no path tricks: /ui/../tr.conf is 404" test "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HP/ui/../tr.conf")" = 404

# The shell's part of the status check: one message through acme once saved.
(
    trap - EXIT         # the test's cleanup is the parent's, not this helper's
    wait_for 120 test -e "$T/flag" || exit 0
    relay_send app@platform.test user@example.test --header 'X-Tenant-ID: acme'
    wait_eml "$T/acme.mail" 2 30
    touch "$T/flag.sent"
) &
helper=$!
tr_track "$helper"
timeout 300 "$PYTHON3" "$TR_TESTS/ui_selenium.py" "http://127.0.0.1:$HP/ui/" "$TOKEN" "$OUT" "$T/chromium-profile" \
    localhost "$pa" u@acme.test "$PW" 'Not-the-password-1' no-reply@acme.test "$T/flag" > "$T/selenium.out" 2> "$T/selenium.err"
rc=$?
while read -r line; do
    case "$line" in
        "ok "*) ok "page: ${line#ok }" true ;;
        "not ok "*) ok "page: ${line#not ok }" false ;;
    esac
done < "$T/selenium.out"
ok "the browser run finished cleanly" test "$rc" = 0 || sed 's/^/# /' "$T/selenium.err" | tail -20
ok "4 screenshots in $OUT" test "$(ls "$OUT"/*.png 2>/dev/null | wc -l)" = 4
ok "the page's save is in the change log as the token's name" grep -q 'user=platform action=set tenant=acme' "$T/log/changes.log"
ok "no password or token in the daemon's log, the store or the change log" bash -c '! grep -r -l -F -e "$0" -e "$1" "$2/daemon.log" "$2/etc/tenants" "$2/log"' "$PW" "$TOKEN" "$T"
finish
