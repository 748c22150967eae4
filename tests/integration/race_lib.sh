# race_lib.sh - sourced (after lib.sh) by the tests of a write whose
# connectivity probe runs without the store's lock while another change is
# made meanwhile (tenant set, PUT /v1/tenants/{id}): the probe is held at a
# gate (race_gate.py, a TCP relay in front of the real upstream) until the
# test opens it, so the order is by events, not by timing.

# gate_start PORT TARGET [LOG]: the gate on 127.0.0.1:PORT in front of
# 127.0.0.1:TARGET, open; each connection it takes writes "held N" to LOG
# (default $T/gate.log, emptied here), then "open N" once relayed.
gate_start() {
    local port=$1 target=$2
    GATE_LOG=${3:-$T/gate.log}
    : > "$GATE_LOG"
    touch "$T/gate"
    "$PYTHON3" "$TR_TESTS/race_gate.py" "$port" "$target" "$T/gate" "$GATE_LOG" "$T/gate.ready" \
        > "$T/gate.out" 2>&1 &
    tr_track $!
    wait_for 15 test -s "$T/gate.ready" || { echo "# the gate did not start" >&2; cat "$T/gate.out" >&2; return 1; }
}

# gate_held: how many connections the gate has taken so far.
gate_held() { cat "$GATE_LOG" 2>/dev/null | grep -c '^held'; }

# gate_shut: from now on each new connection waits at the gate; how many it
# had taken before is in $GATE_HELD0.
gate_shut() { rm -f "$T/gate"; GATE_HELD0=$(gate_held); }

# gate_wait_held N SECONDS: until N more connections than at gate_shut are held.
gate_wait_held() {
    wait_for "$2" bash -c '[ "$(grep -c "^held" "$0")" -ge $(( $1 + $2 )) ]' "$GATE_LOG" "$GATE_HELD0" "$1"
}

# gate_release PID: open the gate and wait (60 s at most) for the held
# writer PID to exit; its status in $TR_EXIT (empty if it did not).
gate_release() { TR_EXIT=; touch "$T/gate"; wait_exit "$1" 60; }
