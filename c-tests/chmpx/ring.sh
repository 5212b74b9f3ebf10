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
replica=1

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup ring

for k in 0 1 2; do
    write_conf "${s_ctl[$k]}" "$dir/server$k.ini"
    start_chmpx "server$k" "$dir/server$k.ini"
done
write_conf "$slv_ctl" "$dir/slave.ini"
start_chmpx slave "$dir/slave.ini"
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
    wait_gone "$c"
    wait "$c" || fail "a ring_server failed"
done
echo "ring.sh: ok"
