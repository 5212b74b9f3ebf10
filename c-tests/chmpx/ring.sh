#!/usr/bin/env bash
# The libchmpx ring test: three chmpx servers (REPLICA = 1) and one chmpx slave on 127.0.0.1
# (ports of this run's own, from its PID), the C program ring_server attached to each server
# and ring_slave attached to the slave: messages by hash answered by the server the rule names,
# replicate reaching two servers, broadcast all three, a server's replicate skipping itself.
# Everything started here is killed by PID on exit (also on failure or interruption) and the
# temporary folder is removed.
#
# usage: ring.sh CHMPX_BINARY RING_SERVER RING_SLAVE
set -u
if [ $# -lt 3 ]; then
    echo "usage: $0 CHMPX_BINARY RING_SERVER RING_SLAVE" >&2
    exit 2
fi
chmpx=$1
server=$2
slave=$3

base=$((26000 + ($$ % 100) * 50))
# data/control ports of the three servers (ascending control ports = ring order) and the slave
s_port=($base $((base + 2)) $((base + 4)))
s_ctl=($((base + 1)) $((base + 3)) $((base + 5)))
slv_ctl=$((base + 6))
group="RING$$"
ready="[SERVICE IN][UP][n/a][Nothing][NoSuspend]"

dir=$(mktemp -d "${TMPDIR:-/tmp}/chmpx-capi-ring.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    [ -n "${KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

fail() {
    echo "ring.sh: $*" >&2
    for f in "$dir"/*.log; do
        [ -s "$f" ] && { echo "---- $(basename "$f") ----" >&2; cat "$f" >&2; }
    done
    exit 1
}

write_conf() { # SELFCTLPORT FILE
    local k
    {
        cat <<EOF
[GLOBAL]
FILEVERSION = 1
GROUP = $group
DELIVERMODE = hash
MAXCHMPX = 16
REPLICA = 1
MAXMQSERVER = 2
MAXMQCLIENT = 32
MQPERATTACH = 1
MAXMQPERCLIENT = 8
SELFCTLPORT = $1
DOMERGE = on
AUTOMERGE = on
SSL = no
EOF
        for k in 0 1 2; do
            printf '[SVRNODE]\nNAME = 127.0.0.1\nPORT = %s\nCTLPORT = %s\n' "${s_port[$k]}" "${s_ctl[$k]}"
        done
        printf '[SLVNODE]\nNAME = [.]*\nCTLPORT = %s\n' "$slv_ctl"
    } >"$2"
}

# One control-port command (the answer on stdout; fails when nobody listens).
ctl() ( # PORT COMMAND
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf '%s\0' "$2" >&3
    timeout 5 cat <&3
) 2>/dev/null

wait_for() { # WHAT COMMAND...   (up to 30 s)
    local what=$1
    shift
    for _ in $(seq 300); do
        "$@" && return 0
        sleep 0.1
    done
    fail "timed out waiting for $what"
}

answers() { ctl "$1" "$2" | grep -qF "$3"; }
alive() { kill -0 "$1" 2>/dev/null || fail "$2 exited early"; }

count_ready() { [ "$(ctl "$1" "$2" | grep -cF "$ready")" -ge "$3" ]; }

for k in 0 1 2; do
    write_conf "${s_ctl[$k]}" "$dir/server$k.ini"
    "$chmpx" -conf "$dir/server$k.ini" -d err >/dev/null 2>"$dir/chmpx-server$k.log" &
    pids+=($!)
done
write_conf "$slv_ctl" "$dir/slave.ini"
"$chmpx" -conf "$dir/slave.ini" -d err >/dev/null 2>"$dir/chmpx-slave.log" &
pids+=($!)
for k in 0 1 2; do
    wait_for "control port ${s_ctl[$k]}" answers "${s_ctl[$k]}" VERSION Version
done
wait_for "the slave's control port" answers "$slv_ctl" VERSION Version

clients=()
for k in 0 1 2; do
    "$server" "$dir/server$k.ini" "${s_ctl[$k]}" >"$dir/ring_server$k.log" 2>&1 &
    pids+=($!)
    clients+=($!)
done
for k in 0 1 2; do
    wait_for "server $k in service" answers "${s_ctl[$k]}" SELFSTATUS "$ready"
    wait_for "server $k sees the ring" count_ready "${s_ctl[$k]}" ALLSTATUS 3
done
wait_for "the slave to see three servers" count_ready "$slv_ctl" DUMP 3

if ! timeout 120 "$slave" "$dir/slave.ini" "${s_ctl[0]}" "${s_ctl[1]}" "${s_ctl[2]}" >"$dir/ring_slave.log" 2>&1; then
    fail "ring_slave failed"
fi
cat "$dir/ring_slave.log"
for c in "${clients[@]}"; do
    for _ in $(seq 300); do
        kill -0 "$c" 2>/dev/null || break
        sleep 0.1
    done
    wait "$c" || fail "a ring_server failed"
done
echo "ring.sh: ok"
