#!/bin/bash
# The HTTP API with curl against the real daemon (SPEC §9): 401 without a
# token and with a revoked one; PUT with a wrong password is 422 naming the
# failing step, and the store and change log stay byte-identical; with the
# right one it is 200, saved (change log user = the token's name) and the
# tenant's mail goes out through its server; bounds and bad bodies get
# their 4xx; /metrics moves with traffic and passes promtool; no secret in
# any reply, log, store or event.
. "$(dirname "$0")/lib.sh"
tr_require curl curl
tr_require promtool prometheus
tr_require swaks swaks
PW='Http-Api-s3cret-pw-41'
WRONG='Wrong-pass-9913'
make_ca "$T/ca" || exit 1
TR_PORT=$(free_port); TR_UPSTREAM_PORT=$(free_port); HP=$(free_port)
TR_CONF="$T/tr.conf"
write_conf "$TR_CONF" "http = { listen = ( { address = \"127.0.0.1\"; port = $HP; } ); api_tokens = \"$T/etc/api-tokens\"; max_body = 4096; };"
start_upstream def "$TR_UPSTREAM_PORT" implicit || exit 1
pa=$(free_port); start_upstream acme "$pa" starttls --auth "u@acme.test:$PW" || exit 1
tr_ctl key init > /dev/null 2>&1
TOKEN=$(tr_ctl api-token add ops 2> "$T/add.err")
ok "api-token add prints one token" bash -c '[[ "$0" =~ ^trt_[A-Za-z0-9_-]{43}$ ]]' "$TOKEN"
OLD=$(tr_ctl api-token add old 2>/dev/null)
tr_ctl api-token add ops > /dev/null 2>&1
ok "a second token of the same name: 65" test $? = 65
ok "the token file is 0600 and holds no token" test "$(stat -c %a "$T/etc/api-tokens")" = 600 -a \
    "$(grep -c -e "$TOKEN" -e "$OLD" "$T/etc/api-tokens")" = 0
ok "api-token list names both" test "$(tr_ctl --json api-token list | /usr/bin/python3 -c 'import json,sys; print(" ".join(t["name"] for t in json.load(sys.stdin)["tokens"]))')" = "ops old"
start_daemon "$TR_CONF" || { cat "$T/daemon.log"; exit 1; }
wait_port "$HP" 10 || { cat "$T/daemon.log"; exit 1; }

U="http://127.0.0.1:$HP"
R="$T/r.last.json"
# req METHOD PATH [TOKEN] [BODY]: the status code; the reply in $R (and a
# copy of every reply in $T/r.*.json, for the secret scan at the end).
req() {
    local a=(-s -o "$R" -w '%{http_code}' -X "$1" --max-time 60)
    [ -n "${3:-}" ] && a+=(-H "Authorization: Bearer $3")
    [ -n "${4:-}" ] && a+=(-H 'Content-Type: application/json' --data-binary "$4")
    curl "${a[@]}" "$U$2"
    cp "$R" "$(mktemp "$T/r.XXXXXX.json")"
}
j() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$R"; }
body() { # body PASSWORD: acme's settings
    printf '{"host": "localhost", "port": %d, "username": "u@acme.test", "password": "%s", "sender": "no-reply@acme.test", "ca_file": "%s", "domains": ["acme.test"]}' "$pa" "$1" "$T/ca/ca.pem"
}

ok "/healthz: 200" test "$(req GET /healthz)" = 200
ok "/readyz: 200 (spool writable, store loaded)" test "$(req GET /readyz):$(j 'd["ready"]')" = "200:True"
ok "/v1/tenants without a token: 401" test "$(req GET /v1/tenants)" = 401
ok "  as {error, detail}" test "$(j 'd["error"]')" = unauthorized
ok "with a made-up token: 401" test "$(req GET /v1/tenants trt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)" = 401
ok "with the old token: 200" test "$(req GET /v1/tenants "$OLD")" = 200
tr_ctl api-token revoke old 2>/dev/null
ok "with the revoked token: 401" test "$(req GET /v1/tenants "$OLD")" = 401
ok "with the good token: 200, no tenants" test "$(req GET /v1/tenants "$TOKEN"):$(j 'len(d["tenants"])')" = "200:0"

# --- PUT with a wrong password: 422, nothing saved -----------------------------
before=$(store_sum)
ok "PUT new tenant, wrong password: 422" test "$(req PUT /v1/tenants/acme "$TOKEN" "$(body "$WRONG")")" = 422
ok "  names the failing step (auth) and its code" test "$(j 'd["step"], d["probe"]["code"]')" = "auth auth_failed"
ok "  carries every step run, with the server's reply" test "$(j '[s["step"] for s in d["probe"]["steps"] if s["ok"]]')" = "['dns', 'connect', 'tls', 'certificate', 'ehlo']"
ok "  and a hint" test -n "$(j 'd["hint"]')"
ok "  store and change log byte-identical" test "$(store_sum)" = "$before"
ok "  the tenant does not exist: 404" test "$(req GET /v1/tenants/acme "$TOKEN")" = 404

# --- PUT with the right password: 200, saved, mail goes through -------------------
reloads=$(grep -c 'reloaded configuration' "$T/daemon.log")
ok "PUT with the right password: 200" test "$(req PUT /v1/tenants/acme "$TOKEN" "$(body "$PW")")" = 200
ok "  saved, every step passed" test "$(j 'd["saved"], d["action"], d["probe"]["ok"], len(d["probe"]["steps"])')" = "True created True 11"
ok "  the test message reached the tenant's server" test "$(count_eml "$T/acme.mail")" = 1
ok "  the change log names the token as the user" grep -q 'user=ops action=set tenant=acme fields=id,host,port,tls,username,sender,ca_file,domains,password' "$T/log/changes.log"
ok "  GET shows it, without any password" test "$(req GET /v1/tenants/acme "$TOKEN"):$(j 'd["host"], d["password_set"], "password" in d')" = "200:localhost True False"
ok "  the daemon reloaded" wait_true 10 '[ "$(grep -c "reloaded configuration" "$T/daemon.log")" -gt "$reloads" ]'
req GET /metrics > /dev/null; cp "$R" "$T/metrics0.txt"
relay_send app@platform.test user@example.test --header 'X-Tenant-ID: acme'
ok "acme's mail goes out through acme's server" wait_eml "$T/acme.mail" 2 20
ok "  as acme's login" grep -q '"auth_user": "u@acme.test"' "$T/acme.mail/000002.json"
relay_send app@platform.test user@example.test
ok "default-route mail goes out by the default route" wait_eml "$T/def.mail" 1 20
relay_send app@platform.test user@example.test --header 'From: a@platform.test' --add-header 'From: b@platform.test'
ok "a message with two From: headers is refused (5.6.0)" grep -q '550 5.6.0' "$T/swaks.log"

# --- an update with a wrong password: 422, byte-identical ------------------------
before=$(store_sum)
ok "PUT a wrong new password on the saved tenant: 422" test "$(req PUT /v1/tenants/acme "$TOKEN" "{\"password\": \"$WRONG\"}")" = 422
ok "  step auth" test "$(j 'd["step"]')" = auth
ok "  store and change log byte-identical" test "$(store_sum)" = "$before"
curl -s -N -X PUT -H "Authorization: Bearer $TOKEN" -H 'Accept: application/x-ndjson' \
    --data-binary "{\"password\": \"$WRONG\"}" "$U/v1/tenants/acme" -o "$T/r.stream.json"
ok "streamed PUT (NDJSON): one line per step as it ran, then the result" test "$(/usr/bin/python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
print(" ".join(l["step"]["step"] if l["event"] == "step" else "result:%d:%s" % (l["status"], l["result"]["step"]) for l in lines))' "$T/r.stream.json")" = "dns connect tls certificate ehlo auth result:422:auth"
ok "  store and change log still byte-identical" test "$(store_sum)" = "$before"
ok "PUT with nothing changed: 200, not saved" test "$(req PUT /v1/tenants/acme "$TOKEN" '{"port": '$pa'}'):$(j 'd["saved"]')" = "200:False"

# --- bad requests ---------------------------------------------------------------
ok "not JSON: 400" test "$(req PUT /v1/tenants/acme "$TOKEN" '{"host": ')" = 400
ok "unknown field: 400 naming it" test "$(req PUT /v1/tenants/acme "$TOKEN" '{"hots": "x"}'):$(j 'd["detail"]')" = "400:unknown field 'hots'"
ok "port of the wrong type: 400" test "$(req PUT /v1/tenants/acme "$TOKEN" '{"port": "25"}')" = 400
ok "a tenant host in a private network: 400 naming the route policy, nothing saved" \
    test "$(req PUT /v1/tenants/other "$TOKEN" '{"host": "10.1.2.3", "sender": "a@other.test", "test": false}'):$(j '"route_policy" in d["detail"]'):$(req GET /v1/tenants/other "$TOKEN")" = "400:True:404"
ok "bad tenant id: 400" test "$(req PUT /v1/tenants/Bad..ID "$TOKEN" '{}')" = 400
ok "the reserved id default: 400" test "$(req PUT /v1/tenants/default "$TOKEN" '{}')" = 400
big=$(head -c 6000 /dev/zero | tr '\0' a)
ok "a body over max_body: 413" test "$(req PUT /v1/tenants/acme "$TOKEN" "{\"host\": \"$big\"}")" = 413
ok "unknown endpoint: 404" test "$(req GET /v1/nothing "$TOKEN")" = 404
ok "wrong method: 405" test "$(req POST /v1/tenants "$TOKEN" '{}')" = 405
ok "the page is off by default: 404" test "$(req GET /ui/)" = 404

# --- the other endpoints --------------------------------------------------------
ok "POST /v1/tenants/acme/test: ok" test "$(req POST /v1/tenants/acme/test "$TOKEN"):$(j 'd["ok"]')" = "200:True"
ok "POST /v1/test with settings: ok, nothing saved" test "$(req POST /v1/test "$TOKEN" "$(body "$PW")"):$(j 'd["ok"]')" = "200:True"
ok "GET /v1/status: acme listed" test "$(req GET /v1/status "$TOKEN"):$(j '"acme" in [t["id"] for t in d["tenants"]]')" = "200:True"
tr_ctl --json status > "$T/ctl-status.json" 2>/dev/null
ok "  the same tenants and member types as tenantrelayctl status (SPEC §6)" /usr/bin/python3 -c '
import json, sys
h, c = (json.load(open(p)) for p in sys.argv[1:3])
def shape(d):
    return (sorted(k for k in d if k != "ok"), {t["id"]: [(k, type(v).__name__ if v is not None else "null") for k, v in t.items()] for t in d["tenants"]})
want = ["id", "sent", "deferred", "failed", "held", "last_success", "last_error"]
assert h["ok"] is True and isinstance(h["queued"], int), h
assert all(list(t)[:7] == want for t in h["tenants"]), h
assert shape(h) == shape(c), (shape(h), shape(c))' "$R" "$T/ctl-status.json"
ok "GET /v1/queue: 200" test "$(req GET /v1/queue "$TOKEN"):$(j 'type(d["messages"]).__name__')" = "200:list"
ok "GET /v1/events: both deliveries, with ids" test "$(req GET /v1/events "$TOKEN"):$(j 'len(d["events"]), all(e["event_id"] for e in d["events"])')" = "200:2 True"
cur=$(j 'd["cursor"]')
ok "GET /v1/events?after=CURSOR: nothing new" test "$(req GET "/v1/events?after=$cur" "$TOKEN"):$(j 'len(d["events"]), d["cursor"]')" = "200:0 $cur"
ok "a bad cursor: 400" test "$(req GET "/v1/events?after=x" "$TOKEN")" = 400

# --- metrics ----------------------------------------------------------------------
metric() { grep "^$1 " "$2" | awk '{print $2}'; }
req GET /metrics > /dev/null; cp "$R" "$T/metrics1.txt"
ok "/metrics: received moved by 2" test "$(( $(metric tenantrelay_messages_received_total "$T/metrics1.txt") - $(metric tenantrelay_messages_received_total "$T/metrics0.txt") ))" = 2
ok "  rejected moved by 1" test "$(( $(metric tenantrelay_messages_rejected_total "$T/metrics1.txt") - $(metric tenantrelay_messages_rejected_total "$T/metrics0.txt") ))" = 1
ok "  sent attempts moved by 2" test "$(( $(metric 'tenantrelay_delivery_attempts_total{result="sent"}' "$T/metrics1.txt") - $(metric 'tenantrelay_delivery_attempts_total{result="sent"}' "$T/metrics0.txt") ))" = 2
ok "  the duration histogram counted them" test "$(metric tenantrelay_delivery_duration_seconds_count "$T/metrics1.txt")" -ge 2
ok "  promtool check metrics passes" bash -c 'promtool check metrics < "$0" > "$0.promtool" 2>&1' "$T/metrics1.txt"
curl -s -H 'Accept: application/openmetrics-text; version=1.0.0' "$U/metrics" -D "$T/om.h" -o "$T/om.txt"
ok "  OpenMetrics when asked: content type, # EOF, _total counters" bash -c 'grep -qi "content-type: application/openmetrics-text" "$0" && tail -1 "$1" | grep -qx "# EOF" && grep -q "^# TYPE tenantrelay_messages_received counter" "$1" && grep -q "^tenantrelay_messages_received_total " "$1"' "$T/om.h" "$T/om.txt"

ok "  no tenant label by default" bash -c '! grep -q "tenant=" "$0"' "$T/metrics1.txt"
reloads=$(grep -c 'reloaded configuration' "$T/daemon.log")
sed -i 's|max_body = 4096;|max_body = 4096; metrics_per_tenant = true;|' "$TR_CONF"
kill -HUP "$TR_DAEMON_PID"
wait_true 10 '[ "$(grep -c "reloaded configuration" "$T/daemon.log")" -gt "$reloads" ]'
req GET /metrics > /dev/null; cp "$R" "$T/metrics2.txt"
ok "metrics_per_tenant = true: per-tenant series" grep -q '^tenantrelay_tenant_messages_sent_total{tenant="acme"} 1$' "$T/metrics2.txt"
ok "  promtool check metrics passes" bash -c 'promtool check metrics < "$0" > "$0.promtool" 2>&1' "$T/metrics2.txt"

# --- DELETE ------------------------------------------------------------------------
ok "DELETE acme: 200" test "$(req DELETE /v1/tenants/acme "$TOKEN")" = 200
ok "  then 404" test "$(req GET /v1/tenants/acme "$TOKEN")" = 404
ok "  the change log names the token" grep -q 'user=ops action=remove tenant=acme' "$T/log/changes.log"

# --- no secret anywhere -------------------------------------------------------------
ok "no password or token in any reply, log, store or event" bash -c '! grep -r -l -F -e "$0" -e "$1" -e "$2" "$3"/r.*.json "$3/daemon.log" "$3/etc" "$3/log" "$3"/metrics*.txt' "$PW" "$WRONG" "$TOKEN" "$T"
finish
