#!/bin/bash
# tenantrelayd -t: exit 0 on good files; FILE:LINE: reason and exit 78 on bad
# ones (unknown key, wrong type, out-of-range port, unreadable file).
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/ca"
touch "$T/ca/ca.pem"
check() {  # check EXPECTED-STATUS EXPECTED-STDERR-REGEX FILE
    local want=$1 re=$2 file=$3 got
    "$TR_BIN_DAEMON" -t -c "$file" > "$T/out" 2> "$T/err"
    got=$?
    if [ "$got" != "$want" ]; then
        echo "# $file: exit $got, want $want; stderr: $(cat "$T/err")"
        return 1
    fi
    if [ -n "$re" ] && ! grep -Eq -- "$re" "$T/err"; then
        echo "# $file: stderr \"$(cat "$T/err")\" does not match /$re/"
        return 1
    fi
    return 0
}

write_conf "$T/good.conf"
ok "a good file passes -t" check 0 "" "$T/good.conf"
ok "the annotated sample passes -t" check 0 "" "$top_srcdir/etc/tenantrelay.conf"

write_conf "$T/unknown.conf" 'colour = "blue";'
line=$(grep -n colour "$T/unknown.conf" | cut -d: -f1)
ok "unknown key -> FILE:LINE: and 78" check 78 "^$T/unknown.conf:$line: unknown key 'colour'" "$T/unknown.conf"

write_conf "$T/type.conf" 'limits = { max_recipients = "many"; };'
line=$(grep -n max_recipients "$T/type.conf" | cut -d: -f1)
ok "wrong type -> FILE:LINE: and 78" \
    check 78 "^$T/type.conf:$line: key 'max_recipients' must be an integer, not a string" "$T/type.conf"

TR_PORT=70000 write_conf "$T/port.conf"
line=$(grep -n 70000 "$T/port.conf" | cut -d: -f1)
ok "port 70000 -> FILE:LINE: and 78" \
    check 78 "^$T/port.conf:$line: key 'port': 70000 is out of range 1..65535" "$T/port.conf"

write_conf "$T/syntax.conf" 'hostname = "unterminated;'
ok "syntax error -> FILE:LINE: and 78" check 78 "^$T/syntax.conf:[0-9]+: " "$T/syntax.conf"

write_conf "$T/ca.conf" 'default_route = { host = "smtp.example"; sender = "a@example.test"; ca_file = "/nonexistent/ca.pem"; };'
ok "unreadable ca_file -> 78 naming the key" check 78 "key 'ca_file': cannot read \"/nonexistent/ca.pem\"" "$T/ca.conf"

TR_LISTEN_ADDR=0.0.0.0 write_conf "$T/open.conf"
ok "non-loopback listener without allowed_networks -> 78" \
    check 78 "is not loopback: set allowed_networks explicitly" "$T/open.conf"

TR_LISTEN_ADDR=0.0.0.0 write_conf "$T/open2.conf" 'allowed_networks = [ "192.0.2.0/24" ];'
ok "non-loopback listener with allowed_networks passes" check 0 "" "$T/open2.conf"

ok "a missing file -> 78" check 78 "^/nonexistent.conf:0: cannot open" /nonexistent.conf
ok "-t does not bind: a port in use still checks" check 0 "" "$T/good.conf"
ok "bad option -> 64" bash -c '"$0" -Z 2>/dev/null; [ $? = 64 ]' "$TR_BIN_DAEMON"
ok "milter -t shares the checks" bash -c '"$0" -t -c "$1" 2>/dev/null; [ $? = 78 ]' "$TR_BIN_MILTER" "$T/port.conf"
finish
