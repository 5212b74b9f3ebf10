#!/usr/bin/env bash
# The merge test with real processes: four chmpx servers configured (REPLICA = 1), three
# started, one chmpx slave, all on 127.0.0.1 with this run's own ports; merge_node (a
# client-on-server keeping a k2hash file, with the merge callbacks) on each server, and
# merge_feeder writing through the slave all along (every write to the servers the hash rule
# names, acknowledged when all answered). Under that stream: the fourth server is added, a
# server's chmpx is killed with SIGKILL and started again, and a server is taken out by
# SERVICEOUT; each time the automatic merge must finish by itself. At the end merge_check
# reads the k2hash files of the servers in the ring: every acknowledged write is on the
# primary and its replica. Prints the time to detect the dead server and to finish each merge.
# Everything started here is killed by PID on exit (also on failure) and the folder removed.
#
# usage: merge.sh CHMPX_BINARY MERGE_NODE MERGE_FEEDER MERGE_CHECK
set -u
if [ $# -lt 4 ]; then
    echo "usage: $0 CHMPX_BINARY MERGE_NODE MERGE_FEEDER MERGE_CHECK" >&2
    exit 2
fi
chmpx=$1
node=$2
feeder=$3
check=$4

base=$((31000 + ($$ % 35) * 50))
s_port=($base $((base + 2)) $((base + 4)) $((base + 6)))
s_ctl=($((base + 1)) $((base + 3)) $((base + 5)) $((base + 7)))
slv_ctl=$((base + 8))
group="MERGE$$"
replica=1

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup merge

now_ms() { date +%s%3N; }
acks() { local n; n=$(grep -c '^ACK' "$dir/feeder.out" 2>/dev/null); echo "${n:-0}"; }
more_acks() { # N: wait for N more acknowledged writes
    local want=$(($(acks) + $1))
    wait_for "$1 more acknowledged writes" test_acks "$want"
}
test_acks() { [ "$(acks)" -ge "$1" ]; }
all_see() { # N SERVER...: every listed server sees N servers in service
    local n=$1 k
    shift
    for k in "$@"; do count_ready "${s_ctl[$k]}" ALLSTATUS "$n" || return 1; done
}
sees_down() { ctl "$1" ALLSTATUS | grep -qF "[SERVICE IN][DOWN]"; }

declare -A chmpx_pid
start_server() { # K
    start_chmpx "server$1" "$dir/server$1.ini"
    chmpx_pid[$1]=$!
    wait_for "control port ${s_ctl[$1]}" answers "${s_ctl[$1]}" VERSION Version
}
start_node() { # K
    "$node" "$dir/server$1.ini" "$dir/db$1.k2h" "$dir/lastts$1" >"$dir/node$1.log" 2>&1 &
    pids+=($!)
    node_pid[$1]=$!
}
declare -A node_pid

for k in 0 1 2 3; do write_conf "${s_ctl[$k]}" "$dir/server$k.ini"; done
write_conf "$slv_ctl" "$dir/slave.ini"
for k in 0 1 2; do start_server $k; done
start_chmpx slave "$dir/slave.ini"
wait_for "the slave's control port" answers "$slv_ctl" VERSION Version
for k in 0 1 2; do start_node $k; done
wait_for "three servers in service" all_see 3 0 1 2
wait_for "the slave to see three servers" count_ready "$slv_ctl" DUMP 3

"$feeder" "$dir/slave.ini" 2000 w "$dir/stop" >"$dir/feeder.out" 2>"$dir/feeder.log" &
pids+=($!)
feeder_pid=$!
more_acks 1500

echo "merge.sh: scale out (a fourth server joins)"
t=$(now_ms)
start_server 3
start_node 3
wait_for "four servers in service" all_see 4 0 1 2 3
echo "merge.sh: merge after adding a server: $(($(now_ms) - t)) ms"
more_acks 500

echo "merge.sh: server 1 killed with SIGKILL"
t=$(now_ms)
kill -KILL "${chmpx_pid[1]}"
wait "${chmpx_pid[1]}" 2>/dev/null
wait_for "server 0 to see server 1 down" sees_down "${s_ctl[0]}"
echo "merge.sh: dead server detected in $(($(now_ms) - t)) ms"
more_acks 500
t=$(now_ms)
start_server 1
wait_for "four servers in service again" all_see 4 0 1 2 3
echo "merge.sh: merge after the server came back: $(($(now_ms) - t)) ms"
more_acks 500

echo "merge.sh: server 2 leaves (SERVICEOUT)"
t=$(now_ms)
out=$(ctl "${s_ctl[0]}" "SERVICEOUT 127.0.0.1:${s_ctl[2]}")
[ "$out" = "SUCCEED" ] || fail "SERVICEOUT answered: $out"
wait_for "server 2 out of service" answers "${s_ctl[2]}" SELFSTATUS "[SERVICE OUT][UP]"
wait_for "three servers in service" all_see 3 0 1 3
echo "merge.sh: merge after removing a server: $(($(now_ms) - t)) ms"
more_acks 500

if [ -n "${DEBUG:-}" ]; then
    for k in 0 1 2 3; do echo "== server $k"; ctl "${s_ctl[$k]}" ALLSTATUS | grep -E "Server Status|Hash Value|Control Port"; done
    echo "== slave"; ctl "$slv_ctl" DUMP | grep -E "ctlport|base_hash|pending_hash|status"
fi
touch "$dir/stop"
wait_gone "$feeder_pid" || fail "merge_feeder does not stop"
wait "$feeder_pid" || fail "merge_feeder failed"
cat "$dir/feeder.log"
for k in 0 1 2 3; do
    kill -TERM "${node_pid[$k]}" 2>/dev/null
    wait_gone "${node_pid[$k]}" || fail "merge_node $k does not stop"
    cat "$dir/node$k.log"
done
"$check" "$dir/feeder.out" "$replica" "$dir/db0.k2h" "$dir/db1.k2h" "$dir/db3.k2h" || fail "merge_check"
echo "merge.sh: ok"
