#!/usr/bin/env bash
# A network partition, not a crash: three chmpx servers (REPLICA = 1), each in a network
# namespace of its own (made here, joined by veth pairs to a bridge in a fourth namespace), a
# chmpx slave and merge_feeder beside server 0, merge_node on every server. Server 2's bridge
# port is taken down: its traffic is dropped (no FIN, no RST), so only TCP keepalive and the
# user timeout can tell. The others must mark it DOWN within the bound we state (10 s), the
# writes go on to the replicas, and once the port is up again server 2 learns that it was taken
# for dead, merges what it missed, and every acknowledged write is on the primary and replica.
# Needs root (network namespaces); prints "skipped" otherwise. Everything made here (processes
# by PID, namespaces, links, the folder) is removed on exit, also on failure.
#
# usage: partition.sh CHMPX_BINARY MERGE_NODE MERGE_FEEDER MERGE_CHECK
set -u
if [ $# -lt 4 ]; then
    echo "usage: $0 CHMPX_BINARY MERGE_NODE MERGE_FEEDER MERGE_CHECK" >&2
    exit 2
fi
chmpx=$(readlink -f "$1")
node=$(readlink -f "$2")
feeder=$(readlink -f "$3")
check=$(readlink -f "$4")
if [ "$(id -u)" != 0 ] || ! ip netns add "cpxprobe$$" 2>/dev/null; then
    echo "partition.sh: skipped (needs root and network namespaces)"
    exit 0
fi
ip netns del "cpxprobe$$"

tag="cp$$"
ns=("${tag}-0" "${tag}-1" "${tag}-2")
br="${tag}-br"
net="10.$((200 + $$ % 50)).$(($$ / 50 % 250)).0"
addr=("${net%.0}.1" "${net%.0}.2" "${net%.0}.3")
port=8020
ctlport=8021
slv_ctl=8031
group="PART$$"
replica=1

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup partition
cleanup_ns() {
    cleanup
    for n in "${ns[@]}" "$br"; do ip netns del "$n" 2>/dev/null; done
}
trap cleanup_ns EXIT

in_ns() { local n=$1; shift; ip netns exec "$n" "$@"; }
# (processes are started with "ip netns exec ... &" directly, not through a function, so $! is
# the process itself: ip execs the command)
# control command to the chmpx of namespace K (its own loopback)
nctl() ( # K PORT COMMAND
    in_ns "${ns[$1]}" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf "%s\0" "$2" >&3; timeout 5 cat <&3' _ "$2" "$3"
) 2>/dev/null
nanswers() { nctl "$1" "$2" "$3" | grep -qF "$4"; }
ncount_ready() { [ "$(nctl "$1" "$ctlport" ALLSTATUS | grep -cF "$ready")" -ge "$2" ]; }
nsees_down() { nctl "$1" "$ctlport" ALLSTATUS | grep -qF "[SERVICE IN][DOWN]"; }
all_see() { local k; for k in 0 1 2; do ncount_ready $k "$1" || return 1; done; }
now_ms() { date +%s%3N; }
acks() { local n; n=$(grep -c '^ACK' "$dir/feeder.out" 2>/dev/null); echo "${n:-0}"; }
test_acks() { [ "$(acks)" -ge "$1" ]; }
more_acks() { local want=$(($(acks) + $1)); wait_for "$1 more acknowledged writes" test_acks "$want"; }

ip netns add "$br" || fail "cannot make namespaces"
in_ns "$br" ip link add br0 type bridge
in_ns "$br" ip link set br0 up
for k in 0 1 2; do
    ip netns add "${ns[$k]}"
    ip link add name "${tag}v$k" type veth peer name "${tag}b$k" || fail "cannot make links"
    ip link set "${tag}v$k" netns "${ns[$k]}"
    ip link set "${tag}b$k" netns "$br"
    in_ns "$br" ip link set "${tag}b$k" master br0 up
    in_ns "${ns[$k]}" ip link set lo up
    in_ns "${ns[$k]}" ip addr add "${addr[$k]}/24" dev "${tag}v$k"
    in_ns "${ns[$k]}" ip link set "${tag}v$k" up
done

conf() { # SELFCTLPORT FILE
    {
        printf '[GLOBAL]\nFILEVERSION = 1\nGROUP = %s\nDELIVERMODE = hash\nMAXCHMPX = 8\n' "$group"
        printf 'REPLICA = %s\nMAXMQSERVER = 2\nMAXMQCLIENT = 32\nMQPERATTACH = 1\nMAXMQPERCLIENT = 8\n' "$replica"
        printf 'SELFCTLPORT = %s\nDOMERGE = on\nAUTOMERGE = on\nSSL = no\n' "$1"
        for k in 0 1 2; do printf '[SVRNODE]\nNAME = %s\nPORT = %s\nCTLPORT = %s\n' "${addr[$k]}" $port $ctlport; done
        printf '[SLVNODE]\nNAME = [.]*\nCTLPORT = %s\n' $slv_ctl
    } >"$2"
}
conf $ctlport "$dir/server.ini"
conf $slv_ctl "$dir/slave.ini"
for k in 0 1 2; do
    ip netns exec "${ns[$k]}" "$chmpx" -conf "$dir/server.ini" -d err >/dev/null 2>"$dir/chmpx-server$k.log" &
    pids+=($!)
done
ip netns exec "${ns[0]}" "$chmpx" -conf "$dir/slave.ini" -d err >/dev/null 2>"$dir/chmpx-slave.log" &
pids+=($!)
for k in 0 1 2; do
    wait_for "control port of server $k" nanswers $k $ctlport VERSION Version
    ip netns exec "${ns[$k]}" "$node" "$dir/server.ini" "$dir/db$k.k2h" "$dir/lastts$k" >"$dir/node$k.log" 2>&1 &
    pids+=($!)
    node_pid[$k]=$!
done
wait_for "three servers in service" all_see 3
ip netns exec "${ns[0]}" "$feeder" "$dir/slave.ini" 2000 w "$dir/stop" >"$dir/feeder.out" 2>"$dir/feeder.log" &
pids+=($!)
feeder_pid=$!
more_acks 1000

echo "partition.sh: server 2 cut off (its traffic dropped)"
t=$(now_ms)
in_ns "$br" ip link set "${tag}b2" down
wait_for "server 0 to see server 2 down" nsees_down 0
detect=$(($(now_ms) - t))
echo "partition.sh: partition detected in $detect ms"
[ "$detect" -le 10000 ] || fail "detection took $detect ms, more than 10 s"
more_acks 500
t=$(now_ms)
in_ns "$br" ip link set "${tag}b2" up
wait_for "three servers in service again" all_see 3
echo "partition.sh: healed and merged in $(($(now_ms) - t)) ms"
more_acks 500

touch "$dir/stop"
wait_gone "$feeder_pid" || fail "merge_feeder does not stop"
cat "$dir/feeder.log"
for k in 0 1 2; do
    kill -TERM "${node_pid[$k]}" 2>/dev/null
    wait_gone "${node_pid[$k]}" || fail "merge_node $k does not stop"
    cat "$dir/node$k.log"
done
"$check" "$dir/feeder.out" "$replica" "$dir/db0.k2h" "$dir/db1.k2h" "$dir/db2.k2h" || fail "merge_check"
echo "partition.sh: ok"
