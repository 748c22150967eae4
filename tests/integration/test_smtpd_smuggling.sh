#!/bin/bash
# SMTP smuggling (the public smtpsmug list of end-of-data variants): none
# ends the data, so a second message hidden behind one is never queued.
# Bare LF is normalised by default and refused under bare_lf = "reject";
# bare CR and NUL always refuse the message.
. "$(dirname "$0")/lib.sh"

relay_conf
start_daemon "$T/relay.conf"

endings=('\n.\n' '\r.\r' '\r.\n' '\n.\r' '\n.\r\n' '\r\n.\n' '\r.\r\n' '\r\n.\r' '\r\n\x00.\r\n')
smuggle() {  # smuggle ENDING: one session trying to hide a second message
    printf '%s' "EHLO smug.test\r\nMAIL FROM:<app@platform.test>\r\nRCPT TO:<user@example.test>\r\nDATA\r\nSubject: first\r\n\r\nfirst$1MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\nQUIT\r\n" \
        | smtp_raw "$TR_PORT"
}
for e in "${endings[@]}"; do
    before=$(queue_count)
    smuggle "$e" > "$T/out"
    after=$(queue_count)
    ok "ending $e: at most one message queued" test $((after - before)) -le 1
    ok "ending $e: one final reply to the data, not two" \
        test "$(grep -Ec '^(250 2.0.0 Ok: queued|550 5.6.0)' "$T/out")" = 1
    ok "ending $e: the hidden MAIL is never a command" test "$(grep -c "^250 2.1.0" "$T/out")" = 1
done
ok "no envelope ever has the smuggled sender" bash -c '! grep -l "^sender evil@attacker.test" "$0"/spool/queue/*.env 2>/dev/null | grep -q .' "$T"
ok "no envelope ever has the smuggled recipient" bash -c '! grep -ls "^recipient victim@example.test" "$0"/spool/queue/*.env | grep -q .' "$T"

# What was accepted (the bare LF variants) holds only CRLF line ends.
ok "stored messages have no bare LF or CR" "$PYTHON3" -c '
import glob, re, sys
for f in glob.glob(sys.argv[1] + "/spool/queue/*.msg"):
    d = open(f, "rb").read()
    assert not re.search(rb"(?<!\r)\n", d), f
    assert not re.search(rb"\r(?!\n)", d), f
' "$T"
printf '%s' 'EHLO x\r\nMAIL FROM:<a@platform.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nbare\rcr\r\n.\r\nQUIT\r\n' | smtp_raw "$TR_PORT" > "$T/cr"
ok "a bare CR in the body -> 550 5.6.0" grep -q '^550 5.6.0' "$T/cr"
printf '%s' 'EHLO x\r\nMAIL FROM:<a@platform.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nnul\x00byte\r\n.\r\nQUIT\r\n' | smtp_raw "$TR_PORT" > "$T/nul"
ok "a NUL in the body -> 550 5.6.0" grep -q '^550 5.6.0' "$T/nul"

# bare_lf = "reject": a bare LF refuses the message (new sessions after a reload).
echo 'bare_lf = "reject";' >> "$T/relay.conf"
kill -HUP "$TR_DAEMON_PID"
wait_for 10 grep -q "reloaded configuration" "$T/daemon.log"
before=$(queue_count)
printf '%s' 'EHLO x\r\nMAIL FROM:<a@platform.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\nbare\nlf\r\n.\r\nQUIT\r\n' | smtp_raw "$TR_PORT" > "$T/lf"
ok "bare_lf = reject: a bare LF -> 550 5.6.0" grep -q '^550 5.6.0 Error: bare <LF>' "$T/lf"
ok "bare_lf = reject: nothing queued" test "$(queue_count)" = "$before"
ok "daemon still running" kill -0 "$TR_DAEMON_PID"
finish
