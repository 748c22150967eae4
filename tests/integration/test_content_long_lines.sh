#!/bin/bash
# Issue 12 item 5 (relayed safely, SPEC §4), against the real daemon and
# real aiosmtpd upstreams, which refuse lines over 1,000 octets (aiosmtpd's
# default):
#  - a 1,550-octet body line (no MIME) and a 100 KB single-line HTML part
#    arrive, and decoded with Python's email package every part is byte for
#    byte what was sent;
#  - a header line of 1,500 octets arrives folded, the same once unfolded;
#  - content that already fits (base64, a multipart/signed) arrives
#    untouched, byte for byte;
#  - an 8-bit body for an upstream without 8BITMIME arrives 7-bit, without
#    BODY=8BITMIME, and decodes byte-exact.
. "$(dirname "$0")/lib.sh"
tr_require_python aiosmtpd python3-aiosmtpd

make_ca "$T/ca"
p_default=$(free_port); p_seven=$(free_port)
start_upstream default "$p_default" implicit
start_upstream seven "$p_seven" implicit --no-8bitmime

TR_PORT=$(free_port)
TR_CONF="$T/relay.conf"
export TR_PORT
# A 100 KB line is over the listener's default max_line_length (65,536,
# SPEC §4): the operator raises it for such mail.
TR_UPSTREAM_PORT=$p_default write_conf "$TR_CONF" 'retry = { schedule = [ 1 ]; };
limits = { max_line_length = 262144; };'
tr_ctl key init > "$T/key.out" 2>&1
tr_ctl tenant set seven --host 127.0.0.1 --port "$p_seven" --tls implicit --sender mailer@seven.test \
    --domain seven.test --ca-file "$T/ca/ca.pem" --no-test > "$T/set.out" 2>&1
start_daemon "$TR_CONF"

# The messages, written by Python (exact bytes, CRLF lines).
"$PYTHON3" - "$T" <<'PY'
import sys
t = sys.argv[1]
def w(name, data):
    open("%s/%s" % (t, name), "wb").write(data)
line = bytes((ord("a") + i % 26) for i in range(1550))
w("m1", b"From: app@platform.test\r\nTo: u@example.test\r\nSubject: long line\r\n\r\n"
        b"first\r\n" + line + b"\r\nlast line  \r\n.dot line\r\n")
html = b"<html><body>" + b"".join(b"<p class=\"x\">caf\xc3\xa9 = %d</p> " % i for i in range(4000)) + b"</body></html>"
html = html[:100 * 1024]
w("m2", b"From: app@platform.test\r\nTo: u@example.test\r\nSubject: html\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/alternative; boundary=\"alt-1\"\r\n\r\n"
        b"--alt-1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"plain caf\xc3\xa9\r\n"
        b"--alt-1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + html + b"\r\n--alt-1--\r\n")
refs = b" ".join(b"<ref-%04d@app.test>" % i for i in range(75))
w("m3", b"From: app@platform.test\r\nTo: u@example.test\r\nSubject: long header\r\nReferences: " + refs
        + b"\r\n\r\nbody\r\n")
w("m4", b"From: app@platform.test\r\nTo: u@example.test\r\nSubject: fits\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
        b"--m\r\nContent-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=\"s\"\r\n\r\n"
        b"--s\r\nContent-Type: text/plain\r\n\r\nsigned text   \r\n--s\r\n"
        b"Content-Type: application/pgp-signature\r\n\r\n-----BEGIN PGP SIGNATURE-----\r\nAAAA\r\n-----END PGP SIGNATURE-----\r\n--s--\r\n"
        b"--m\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\nOTo7PD0+Pw==\r\n--m--\r\n")
w("m5", b"From: app@seven.test\r\nTo: u@example.test\r\nSubject: eight bit\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln \xe2\x82\xac\r\n=not an escape= \r\n" + b"\xc3\xa9" * 700 + b"\r\n")
PY

ok "1,550-octet line accepted" relay_send_file app@platform.test u1@example.test "$T/m1"
ok "100 KB single-line HTML part accepted" relay_send_file app@platform.test u2@example.test "$T/m2"
ok "1,500-octet header line accepted" relay_send_file app@platform.test u3@example.test "$T/m3"
ok "fitting signed/base64 message accepted" relay_send_file app@platform.test u4@example.test "$T/m4"
ok "8-bit message for the upstream without 8BITMIME accepted" relay_send_file app@seven.test u5@example.test "$T/m5"
ok "four delivered through the upstream that refuses lines over 1,000 octets" wait_eml "$T/default.mail" 4 30
ok "one delivered through the upstream without 8BITMIME" wait_eml "$T/seven.mail" 1 30
ok "nothing deferred or failed" test "$(grep -c '"status":"sent"' "$T/log/events.jsonl")" = 5

# same SENT ORIGINAL [7bit]: every line fits, and each leaf part decodes
# to what the original's decodes to; 7bit: no 8-bit byte at all.
same() {
    "$PYTHON3" - "$@" <<'PY'
import email, email.policy, sys
got_raw, orig_raw = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
seven = len(sys.argv) > 3
for l in got_raw.split(b"\r\n"):
    assert len(l) <= 998, "a line of %d octets left" % len(l)
if seven:
    assert all(b < 128 for b in got_raw), "8-bit byte sent"
got = email.message_from_bytes(got_raw, policy=email.policy.compat32)
orig = email.message_from_bytes(orig_raw, policy=email.policy.compat32)
gl = [p for p in got.walk() if not p.is_multipart()]
ol = [p for p in orig.walk() if not p.is_multipart()]
assert len(gl) == len(ol), (len(gl), len(ol))
for g, o in zip(gl, ol):
    assert g.get_content_type() == o.get_content_type()
    gd, od = g.get_payload(decode=True), o.get_payload(decode=True)
    assert gd == od, "decoded part differs: %r... vs %r..." % (gd[:60], od[:60])
for h in ("Subject", "References", "To"):
    if orig[h] is not None:
        unfold = lambda v: " ".join(str(v).replace("\r\n", "").split())
        assert unfold(got[h]) == unfold(orig[h]), h
PY
}
eml_with() { grep -l "^Subject: $1" "$T/$2.mail"/*.eml | head -1; }
ok "1,550-octet line: intact after decoding" same "$(eml_with 'long line' default)" "$T/m1"
ok "1,550-octet line: re-encoded quoted-printable" grep -qi '^Content-Transfer-Encoding: quoted-printable' "$(eml_with 'long line' default)"
ok "100 KB HTML part: every part intact after decoding" same "$(eml_with html default)" "$T/m2"
ok "100 KB HTML part: the plain part that fitted left as it was" \
    grep -q $'^plain caf\xc3\xa9\r$' "$(eml_with html default)"
ok "1,500-octet header: folded, the same unfolded" same "$(eml_with 'long header' default)" "$T/m3"
ok "fitting signed and base64 content: body byte for byte" "$PYTHON3" -c '
import sys
g = open(sys.argv[1], "rb").read(); o = open(sys.argv[2], "rb").read()
sys.exit(0 if g.split(b"\r\n\r\n", 1)[1] == o.split(b"\r\n\r\n", 1)[1] else 1)' "$(eml_with fits default)" "$T/m4"
ok "8-bit for an upstream without 8BITMIME: 7-bit, decodes byte-exact" same "$T/seven.mail/000001.eml" "$T/m5" 7bit
ok "8-bit for an upstream without 8BITMIME: no BODY=8BITMIME sent" "$PYTHON3" -c '
import json, sys
m = json.load(open(sys.argv[1]))
sys.exit(1 if any("8BITMIME" in o.upper() for o in m["mail_options"]) else 0)' "$T/seven.mail/000001.json"
ok "the conversion is logged" grep -q 'converted for the upstream' "$T/daemon.log"
ok "daemon still running" kill -0 "$TR_DAEMON_PID"
finish
