#!/usr/bin/env bash
# Set/get rates of a K2HDKC cluster, ours against the original, side by side in one run.
#
# The same cluster both times: the original's test configuration (`test_server.ini` /
# `test_slave.ini` of ../shared/fixtures/k2hdkc/conf: REPLICA = 1, memory k2hash, SOCKTHREADCNT
# and MQTHREADCNT 4; the slave's client limits raised for several clients), three chmpx servers each with a k2hdkc server (control ports 8021 8023
# 8025) and a chmpx slave (8031), started by ../shared/upstream/start.sh inside its
# loopback-only network namespace, once with the original's binaries and once with ours. The
# client is bench/dkc_loop.c, built twice from the same source: against the original libk2hdkc
# and against ours. Rounds alternate ours / original; every round starts and stops its cluster.
# Redis (redis-server + redis-benchmark, one connection, no pipelining, same value size) runs
# at the end when it is installed, alone and with one replica on this host.
#
# Needs root (namespaces), the original stack built by ../shared/upstream/build.sh into
# $UPSTREAM/prefix, and `make stage` done. Never run by `make test`.
#
# With POLL=MICROSECONDS a third cluster runs each round: ours with CHMPX_LOOP_SPIN_US set to
# that value on the slave only (how long its event loop polls before it sleeps; 100 when unset,
# POLL=0 compares with a slave that never polls; chmpx-core/src/spin.rs).
#
# usage: bench/k2hdkc_bench.sh      env: N (5000 per client), VLEN (128), ROUNDS (3),
#                                        CLIENTS ("1 2 4"), UPSTREAM ($HOME/upstream), POLL
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "$root/../shared" && pwd)
UPSTREAM=${UPSTREAM:-$HOME/upstream}
ORIG=$UPSTREAM/prefix
STAGE=$root/target/stage/usr
N=${N:-5000}
VLEN=${VLEN:-128}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-1 2 4}
POLL=${POLL:-}
IMPLS="ours orig"
[ -n "$POLL" ] && IMPLS="ours poll orig"
NSRUN=$shared/upstream/nsrun.sh
export UPSTREAM NSRUN
work=$(mktemp -d "${TMPDIR:-/tmp}/k2hdkc-bench.XXXXXX")
current=""
prefix_of() { # ours|poll|orig
    case $1 in ours) echo "$STAGE" ;; poll) echo "$work/poll" ;; *) echo "$ORIG" ;; esac
}
stop_cluster() {
    [ -n "$current" ] || return 0
    CLUSTER=$work/$current PREFIX=$(prefix_of "$current") \
        bash "$shared/upstream/stop.sh" >/dev/null 2>&1 || true
    if [ "$current" = orig ]; then
        # the original's chmpx leaves its status and k2hash files and POSIX queues behind (ours
        # has none)
        local group
        group=$(awk -F= '/^GROUP/ { gsub(/[ \t]/, "", $2); print $2; exit }' "$work/conf/test_server.ini")
        [ -n "$group" ] && rm -f /dev/mqueue/"$group".* /tmp/"$group"-*.chmpx /tmp/"$group"-*.chmpx.bup* /tmp/"$group"-*.k2h
    fi
    current=""
}
trap 'stop_cluster; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP

for need in "$ORIG/bin/k2hdkc" "$STAGE/bin/k2hdkc" "$STAGE/lib/libk2hdkc.so.1"; do
    [ -e "$need" ] || { echo "k2hdkc_bench: $need is missing" >&2; exit 1; }
done
# the original's test configuration, with room for several clients on the slave (its
# MAXMQCLIENT = 2 refuses a third handle) in both implementations
mkdir -p "$work/conf"
for f in test_server.ini test_slave.ini; do
    sed -e 's/^MAXMQCLIENT[ \t]*=.*/MAXMQCLIENT = 16/' -e 's/^MAXQPERCLIENTMQ[ \t]*=.*/MAXQPERCLIENTMQ = 4/' \
        -e 's/^MAXMQPERCLIENT[ \t]*=.*/MAXMQPERCLIENT = 4/' "$shared/fixtures/k2hdkc/conf/$f" >"$work/conf/$f"
done
if [ -n "$POLL" ]; then
    # our binaries, the slave's chmpx started with CHMPX_LOOP_SPIN_US (same pid: exec)
    mkdir -p "$work/poll/bin"
    ln -s "$STAGE/lib" "$work/poll/lib"
    for b in "$STAGE"/bin/*; do ln -s "$b" "$work/poll/bin/"; done
    rm "$work/poll/bin/chmpx"
    printf '#!/bin/sh\ncase "$*" in *slave*) export CHMPX_LOOP_SPIN_US=%s ;; esac\nexec %s "$@"\n' \
        "$POLL" "$STAGE/bin/chmpx" >"$work/poll/bin/chmpx"
    chmod +x "$work/poll/bin/chmpx"
fi
cc -O2 -Wall -o "$work/loop-ours" "$root/bench/dkc_loop.c" -I"$STAGE/include" \
    -L"$STAGE/lib" -Wl,-rpath,"$STAGE/lib" -lk2hdkc
cc -O2 -Wall -o "$work/loop-orig" "$root/bench/dkc_loop.c" -I"$ORIG/include" \
    -L"$ORIG/lib" -Wl,-rpath,"$ORIG/lib" -lk2hdkc -lchmpx -lk2hash -lfullock
ln -s loop-ours "$work/loop-poll"

start_cluster() { # ours|poll|orig
    local prefix
    prefix=$(prefix_of "$1")
    current=$1
    mkdir -p "$work/$1"
    CLUSTER=$work/$1 PREFIX=$prefix CONF_SRC=$work/conf CHECK=0 \
        SERVER_CTLPORTS="8021 8023 8025" bash "$shared/upstream/start.sh" >"$work/$1.start" 2>&1 ||
        { cat "$work/$1.start" >&2; exit 1; }
    # ready when a short loop succeeds
    for _ in $(seq 60); do
        "$NSRUN" "$work/loop-$1" "$work/$1/conf/test_slave.ini" 8031 5 "$VLEN" 1 >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    echo "k2hdkc_bench: the $1 cluster does not answer" >&2
    exit 1
}

results=$work/results
for r in $(seq "$ROUNDS"); do
    for impl in $IMPLS; do
        start_cluster "$impl"
        for c in $CLIENTS; do
            line=$(timeout 300 "$NSRUN" "$work/loop-$impl" "$work/$impl/conf/test_slave.ini" 8031 "$N" "$VLEN" "$c" | grep RESULT) ||
                line="RESULT clients $c failed"
            echo "round $r $impl $line" | tee -a "$results"
        done
        stop_cluster
    done
done

echo
echo "medians over $ROUNDS rounds (ops/s), and ours / original:"
median() { # IMPL CLIENTS OP
    awk -v im="$1" -v c="$2" -v op="$3" '$3==im && ($6+0)==c { for (i=1;i<=NF;i++) if ($i==op) print $(i+1) }' "$results" |
        sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'
}
for c in $CLIENTS; do
    for op in set get; do
        o=$(median ours "$c" "$op"); g=$(median orig "$c" "$op")
        awk -v c="$c" -v op="$op" -v o="$o" -v g="$g" 'BEGIN{printf "  %d client(s) %s: ours %s, original %s, ratio %.1fx\n", c, op, o, g, (g>0 ? o/g : 0)}'
        if [ -n "$POLL" ]; then
            o=$(median poll "$c" "$op")
            awk -v c="$c" -v op="$op" -v o="$o" -v g="$g" -v p="$POLL" 'BEGIN{printf "  %d client(s) %s: ours, CHMPX_LOOP_SPIN_US=%s on the slave, %s, ratio %.1fx\n", c, op, p, o, (g>0 ? o/g : 0)}'
        fi
    done
done

if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
    port=$((20000 + $$ % 5000))
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
    rpid=$!
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    rbench() { # LABEL
        for c in $CLIENTS; do
            echo "redis$1, $c connection(s), no pipelining, $VLEN-byte values:"
            redis-benchmark -p "$port" -c "$c" -P 1 -d "$VLEN" -n $((N * c)) -t set,get -q | tr '\r' '\n' | grep -E '^(SET|GET):' | sed 's/^/  /'
        done
    }
    rbench ""
    # the same with one replica on this host (asynchronous, as our copies to the replica
    # server are): what REPLICA = 1 costs Redis on the same two cores
    rport=$((port + 1))
    redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --daemonize no --replicaof 127.0.0.1 "$port" >"$work/redis-replica.log" 2>&1 &
    rrpid=$!
    for _ in $(seq 100); do redis-cli -p "$rport" info replication 2>/dev/null | grep -q 'master_link_status:up' && break; sleep 0.1; done
    rbench " with one replica"
    kill "$rrpid" "$rpid"; wait "$rrpid" "$rpid" 2>/dev/null || true
fi
