#!/bin/bash
# The systemd units: valid (systemd-analyze verify) and sandboxed
# (systemd-analyze security --offline rates each at 3.0 or better).
. "$(dirname "$0")/lib.sh"

tr_require systemd-analyze systemd
mkdir -p "$T/units"
for u in tenantrelayd tenantrelay-milter; do
    # Point the units at the binaries just built so verify finds them.
    sed -e "s|@sbindir@|$top_builddir|g" -e "s|@sysconfdir@|/etc|g" -e "s|@localstatedir@|/var|g" \
        "$top_srcdir/systemd/$u.service.in" > "$T/units/$u.service"
    ok "$u.service passes systemd-analyze verify" \
        bash -c 'systemd-analyze verify --man=no "$0" > "$1" 2>&1 || { cat "$1"; exit 1; }; ! grep -v "Failed to \(connect\|create\|determine\)" "$1" | grep -qi "unknown\|invalid\|ignoring"' \
        "$T/units/$u.service" "$T/verify-$u.log"
    systemd-analyze security --offline=true "$T/units/$u.service" > "$T/security-$u.log" 2>&1
    score=$(grep -o "Overall exposure level for $u.service: [0-9.]*" "$T/security-$u.log" | awk '{print $NF}')
    echo "# $u.service exposure: ${score:-unknown}"
    ok "$u.service exposure ${score:-?} <= 3.0" \
        awk -v s="${score:-99}" 'BEGIN { exit !(s <= 3.0) }'
done
finish
