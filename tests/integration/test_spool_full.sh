#!/bin/bash
# A full disk: the spool on a tiny tmpfs.  A message that does not fit gets
# 452 4.3.1, nothing half-written stays in queue/ or tmp/, the daemon goes
# on, and mail that fits is accepted again.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
    echo "# needs root to mount a tmpfs: skipped"
    exit 77
fi
make_ca "$T/ca"
TR_PORT=$(free_port)
export TR_PORT
mkdir -p "$T/spool"
mount -t tmpfs -o size=256k,mode=0755 tmpfs "$T/spool" || { echo "# cannot mount tmpfs: skipped"; exit 77; }
full_cleanup() {
    [ -n "${TR_DAEMON_PID:-}" ] && kill -TERM "$TR_DAEMON_PID" 2>/dev/null && wait_exit "$TR_DAEMON_PID" 10
    umount "$T/spool" 2>/dev/null || umount -l "$T/spool"
    tr_cleanup
}
trap full_cleanup EXIT
write_conf "$T/relay.conf"
start_daemon "$T/relay.conf"

big() {  # big KB: send a message of about KB kilobytes, print the final reply
    "$PYTHON3" - "$TR_PORT" "$1" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
try:
    s.sendmail("app@platform.test", ["user@example.test"],
               b"Subject: full\r\n\r\n" + (b"y" * 1022 + b"\r\n") * int(sys.argv[2]))
    print("250 accepted")
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode())
except smtplib.SMTPException as e:
    print("error", e)
s.quit()
PY
}
r=$(big 1024)
ok "a 1 MB message on a 256 KB spool -> 452 4.3.1 ($r)" grep -q '^452 4.3.1' <<< "$r"
ok "nothing in queue/" test -z "$(ls -A "$T/spool/queue")"
ok "no message data left in tmp/" test -z "$(find "$T/spool/tmp" -type f ! -empty)"
ok "the write error is logged" grep -Eq 'cannot write the message: No space left on device|not queued: .*No space' "$T/daemon.log"
ok "the daemon survives" kill -0 "$TR_DAEMON_PID"
r=$(big 4)
ok "a message that fits is accepted again ($r)" grep -q '^250 accepted' <<< "$r"
ok "and it is queued" test "$(queue_count)" = 1
finish
