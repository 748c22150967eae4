#!/bin/bash
# Session reuse with per-tenant credentials: two tenants (each its own
# login, max_connections = 2) on ONE upstream, 200 interleaved messages.
# At the upstream (which logs every connection, command verb and AUTH
# identity): concurrent connections never above the limits (2 per tenant,
# 4 in all), each AUTH identity carried only its own tenant's mail, RSET
# between the messages of a reused session, sessions were reused, and every
# message arrived exactly once.  The upstream announces PIPELINING, so the
# reused sessions send RSET, MAIL, RCPT and DATA in one write.
. "$(dirname "$0")/lib.sh"
tr_require smtp-source postfix

make_ca "$T/ca"
p_up=$(free_port)
start_upstream up "$p_up" implicit --auth alpha-user:alpha-pw --auth beta-user:beta-pw --log-sessions --pipelining

TR_PORT=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT TR_CONF
TR_UPSTREAM_PORT=$p_up write_conf "$TR_CONF" 'retry = { schedule = [ 1 ]; };'
tr_ctl key init > "$T/key.out" 2>&1
for t in alpha beta; do
    printf '%s-pw' "$t" | tr_ctl tenant set "$t" --host 127.0.0.1 --port "$p_up" --tls implicit \
        --username "$t-user" --password-stdin --sender "mailer@$t.test" --domain "$t.test" \
        --ca-file "$T/ca/ca.pem" --max-connections 2 --no-test >> "$T/set.out" 2>&1
done
ok "two tenants saved" bash -c '"$0" -c "$1" tenant show beta > /dev/null' "$TR_BIN_CTL" "$TR_CONF"
start_daemon "$TR_CONF"

# Interleaved: both tenants' sources run at once, 5 sessions each.
timeout 120 smtp-source -s 5 -m 100 -l 1500 -f app@alpha.test -t one@example.test \
    "127.0.0.1:$TR_PORT" > "$T/src-alpha" 2>&1 &
a=$!
timeout 120 smtp-source -s 5 -m 100 -l 1500 -f app@beta.test -t two@example.test \
    "127.0.0.1:$TR_PORT" > "$T/src-beta" 2>&1 &
b=$!
wait $a; ra=$?
wait $b; rb=$?
ok "alpha's 100 messages accepted" test "$ra" = 0
ok "beta's 100 messages accepted" test "$rb" = 0
ok "200 messages arrived upstream" wait_eml "$T/up.mail" 200 60
ok "the queue is empty" wait_true 20 '[ "$(queue_count)" = 0 ]'
sleep 1

"$PYTHON3" - "$T/up.log" "$T/up.mail" > "$T/analysis" <<'PY'
import collections, glob, json, re, sys
log, maildir = sys.argv[1], sys.argv[2]
open_now, auth_of, peak, peak_by = set(), {}, 0, collections.Counter()
verbs = collections.defaultdict(list)
for line in open(log):
    f = line.split()
    if len(f) < 3 or f[0] != "sess":
        continue
    n, what = int(f[1]), f[2]
    if what == "connect":
        open_now.add(n)
        peak = max(peak, len(open_now))
    elif what == "disconnect":
        open_now.discard(n)
    elif what == "auth":
        auth_of[n] = f[3]
        c = collections.Counter(auth_of[s] for s in open_now if s in auth_of)
        peak_by[f[3]] = max(peak_by[f[3]], c[f[3]])
    elif what == "cmd":
        verbs[n].append(f[3])
print("peak_total", peak)
for user in ("alpha-user", "beta-user"):
    print("peak", user, peak_by[user])
# Each stored message: its session's identity must match its sender.
wrong = 0
ids = collections.Counter()
per_session = collections.Counter()
for j in glob.glob(maildir + "/*.json"):
    meta = json.load(open(j))
    tenant = meta["mail_from"].split("@")[1].split(".")[0]
    if meta["auth_user"] != tenant + "-user" or auth_of.get(meta["session"]) != tenant + "-user":
        wrong += 1
    eml = open(j[:-5] + ".eml", "rb").read()
    # The original sender's domain must match too (kept in Reply-To:).
    m = re.search(rb"^Reply-To: .*@([a-z]+)\.test", eml, re.M | re.I)
    if not m or m.group(1).decode() != tenant:
        wrong += 1
    qid = re.search(rb"with E?SMTP[SA]* id ([0-9A-Z]+)", eml)
    ids[qid.group(1) if qid else None] += 1
    per_session[meta["session"]] += 1
print("wrong_identity", wrong)
print("messages", sum(ids.values()), "unique", len(ids), "dups", sum(1 for v in ids.values() if v > 1))
# After a message's DATA, the session says RSET (next message) or QUIT.
bad_rset = 0
for n, v in verbs.items():
    for i, x in enumerate(v[:-1]):
        if x == "DATA" and v[i + 1] not in ("RSET", "QUIT"):
            bad_rset += 1
print("no_rset_between", bad_rset)
print("rsets", sum(v.count("RSET") for v in verbs.values()))
print("sessions_used", len(per_session), "max_per_session", max(per_session.values() or [0]))
PY
cat "$T/analysis" | sed 's/^/# /'
val() { awk -v k="$1" -v u="${2:-}" '$1 == k && (u == "" || $2 == u) { print $NF }' "$T/analysis"; }
ok "never more than 4 connections at the upstream (2 per route)" test "$(val peak_total)" -le 4
ok "alpha's login never held more than 2 connections" test "$(val peak alpha-user)" -le 2
ok "beta's login never held more than 2 connections" test "$(val peak beta-user)" -le 2
ok "each AUTH identity carried only its own tenant's mail" test "$(val wrong_identity)" = 0
ok "every message delivered once (200 distinct queue ids, no duplicate)" \
    grep -qx 'messages 200 unique 200 dups 0' "$T/analysis"
ok "RSET between the messages of a reused session" test "$(val no_rset_between)" = 0
ok "sessions were reused (RSETs seen)" test "$(val rsets)" -ge 100
ok "a few sessions carried all 200 messages" \
    awk '$1 == "sessions_used" { exit !($2 <= 20 && $4 >= 10) }' "$T/analysis"
ok "every message logged as sent" test "$(grep -c 'status=sent' "$T/daemon.log")" = 200
finish
