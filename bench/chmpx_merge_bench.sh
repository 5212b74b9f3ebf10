#!/usr/bin/env bash
# Merge timings with a large database: two chmpx servers (REPLICA = 1, AUTOMERGE on) whose
# clients (merge_node) hold KEYS keys each (merge_fill), then
#   1. a third server joins with an empty database (scale out: it receives its share, about
#      2/3 of the keys, and the two others check what changed since their last update);
#   2. the third server's chmpx is killed (SIGKILL) and started again (a returning node: the
#      others scan their ranges, little is sent).
# Prints the time of each from the chmpx start to every server SERVICE IN, normal.
#
# usage: bench/chmpx_merge_bench.sh [KEYS]   (after `make stage` and the c-tests build)
set -u
keys=${1:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
chmpx=$root/target/release/chmpx
node=$root/target/c-tests/chmpx/merge_node
fill=$root/target/merge_fill
stage=$root/target/stage
cc -O2 -std=c11 -o "$fill" "$root/bench/merge_fill.c" -I"$stage/usr/include/k2hash" \
    -L"$stage/usr/lib" -lk2hash -Wl,-rpath,"$stage/usr/lib" || exit 1

base=$((30000 + ($$ % 30) * 30))
s_port=($base $((base + 2)) $((base + 4)))
s_ctl=($((base + 1)) $((base + 3)) $((base + 5)))
slv_ctl=$((base + 8))
group="MBENCH$$"
replica=1
. "$root/c-tests/chmpx/lib.sh"
setup mbench
now_ms() { date +%s%3N; }
all_see() { local n=$1 k; shift; for k in "$@"; do count_ready "${s_ctl[$k]}" ALLSTATUS "$n" || return 1; done; }
wait_long() { # WHAT COMMAND... (up to 30 min)
    local what=$1; shift
    for _ in $(seq 18000); do "$@" && return 0; sleep 0.1; done
    fail "timed out waiting for $what"
}
declare -A cpid
start_server() {
    start_chmpx "server$1" "$dir/server$1.ini"
    cpid[$1]=$!
    wait_for "control port ${s_ctl[$1]}" answers "${s_ctl[$1]}" VERSION Version
}
for k in 0 1 2; do write_conf "${s_ctl[$k]}" "$dir/server$k.ini"; done
t=$(now_ms)
# both servers hold every key (REPLICA = 1 on two servers), written once: the same copy
"$fill" "$dir/db0.k2h" "$dir/lastts0" "$keys" || fail "fill"
cp "$dir/db0.k2h" "$dir/db1.k2h" && cp "$dir/lastts0" "$dir/lastts1" || fail "copy"
echo "filled 2 x $keys keys in $(($(now_ms) - t)) ms"
for k in 0 1; do
    start_server $k
    "$node" "$dir/server$k.ini" "$dir/db$k.k2h" "$dir/lastts$k" >"$dir/node$k.log" 2>&1 &
    pids+=($!)
done
wait_long "two servers in service" all_see 2 0 1
# the data is not all written in the last seconds before a merge (what a catch-up round asks for)
sleep 3

t=$(now_ms)
start_server 2
"$node" "$dir/server2.ini" "$dir/db2.k2h" "$dir/lastts2" >"$dir/node2.log" 2>&1 &
pids+=($!)
wait_long "three servers in service" all_see 3 0 1 2
echo "scale out, $keys keys: $(($(now_ms) - t)) ms"

# the returning server wrote until it died: its last update time is now
date +"%s %N" >"$dir/lastts2"
sleep 3
kill -KILL "${cpid[2]}"
wait "${cpid[2]}" 2>/dev/null
wait_for "server 0 to see server 2 down" answers "${s_ctl[0]}" ALLSTATUS "[SERVICE IN][DOWN]"
t=$(now_ms)
start_server 2
wait_long "three servers in service again" all_see 3 0 1 2
echo "returning server, $keys keys: $(($(now_ms) - t)) ms"
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
sleep 1
cat "$dir"/node*.log
