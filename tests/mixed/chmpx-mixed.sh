#!/bin/bash
#
# Mixed chmpx clusters at the slave level, both ways, against a local build of the original
# (see ../shared/upstream/README.md: build.sh, nsrun.sh). Run as root; everything runs in the
# loopback-only namespace of nsrun.sh (the original needs its host name to resolve to a
# loopback address other than 127.0.0.1).
#
#   A) a ring of two ORIGINAL chmpx servers (clients: original `chmpxbench -s -ta`)
#      + OUR chmpx slave and a client of ours sending by hash and waiting for every reply;
#   B) a ring of two OUR chmpx servers (clients of ours answering every message)
#      + the ORIGINAL chmpx slave and `chmpxbench -c -ta` (round trips, error count 0).
#
# Usage: tests/mixed/chmpx-mixed.sh [count]     (needs `cargo build --release -p chmpx-core
#        --bins --examples` and UPSTREAM, default $HOME/upstream, holding the original build)
set -euo pipefail
COUNT=${1:-200}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
UPSTREAM=${UPSTREAM:-$HOME/upstream}
NSRUN=${NSRUN:-$ROOT/../shared/upstream/nsrun.sh}
OURS=$ROOT/target/release
ORIG=$UPSTREAM/prefix
export LD_LIBRARY_PATH=$ORIG/lib
for f in "$OURS/chmpx" "$OURS/examples/chmpx_echo" "$ORIG/bin/chmpx" "$ORIG/bin/chmpxbench" "$NSRUN"; do
	[ -e "$f" ] || { echo "missing $f"; exit 2; }
done
[ -d /dev/mqueue ] && mountpoint -q /dev/mqueue || { mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue; }

WORK=$(mktemp -d /tmp/chmpx-mixed.XXXXXX)
PIDS=()
# Stop every process started with a configuration of $WORK (the pids we hold are those of
# the nsrun wrappers), HUP first (chmpx cleans up), then KILL.
stop_all() {
	pkill -HUP -f "$WORK/c" 2>/dev/null || true
	for _ in $(seq 50); do pgrep -f "$WORK/c" >/dev/null || break; sleep 0.1; done
	pkill -KILL -f "$WORK/c" 2>/dev/null || true
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	PIDS=()
	# the original's clients die by SIGHUP without removing their queues; chmpx's files too
	# when it had to be killed
	rm -f /dev/mqueue/"MIX${BASE:-none}".* /tmp/"MIX${BASE:-none}"-*.chmpx /tmp/"MIX${BASE:-none}"-*.k2h
}
cleanup() {
	stop_all
	rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
ns() { bash "$NSRUN" "$@"; }
bg() { local log=$1; shift; ns "$@" >"$log" 2>&1 & PIDS+=($!); }

BASE=$((18000 + ($$ % 50) * 40))
S1=$BASE; C1=$((BASE + 1)); S2=$((BASE + 2)); C2=$((BASE + 3)); SL=$((BASE + 11))
for p in $C1 $C2 $SL; do
	cat >"$WORK/c$p.ini" <<CONF
[GLOBAL]
FILEVERSION = 1
GROUP = MIX$BASE
DELIVERMODE = hash
MAXCHMPX = 8
REPLICA = 0
MAXMQSERVER = 2
MAXMQCLIENT = 8
MQPERATTACH = 1
MAXMQPERCLIENT = 4
SELFCTLPORT = $p
DOMERGE = on
AUTOMERGE = on
SSL = no
[SVRNODE]
NAME = localhost
PORT = $S1
CTLPORT = $C1
[SVRNODE]
NAME = localhost
PORT = $S2
CTLPORT = $C2
[SLVNODE]
NAME = [.]*
CTLPORT = $SL
CONF
done

in_service() {  # wait until the server on ctlport $1 is SERVICE IN and not suspended
	for _ in $(seq 100); do
		if ns python3 - "$1" <<'PY' 2>/dev/null; then return 0; fi
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(b"SELFSTATUS\0"); out = b""
while True:
    d = s.recv(65536)
    if not d: break
    out += d
sys.exit(0 if b"[SERVICE IN][UP][n/a][Nothing][NoSuspend]" in out else 1)
PY
		sleep 0.2
	done
	echo "server with control port $1 never came into service"; return 1
}

echo "== A: original servers, our slave =="
bg "$WORK/a-s1.log" "$ORIG/bin/chmpx" -conf "$WORK/c$C1.ini" -d err
bg "$WORK/a-s2.log" "$ORIG/bin/chmpx" -conf "$WORK/c$C2.ini" -d err
sleep 2
bg "$WORK/a-b1.log" "$ORIG/bin/chmpxbench" -s -conf "$WORK/c$C1.ini" -l 0 -ta
bg "$WORK/a-b2.log" "$ORIG/bin/chmpxbench" -s -conf "$WORK/c$C2.ini" -l 0 -ta
in_service $C1; in_service $C2
bg "$WORK/a-sl.log" "$OURS/chmpx" -conf "$WORK/c$SL.ini" -d err
sleep 2
OUT=$(ns "$OURS/examples/chmpx_echo" slave "$WORK/c$SL.ini" "$COUNT")
echo "$OUT" | tail -1
echo "$OUT" | grep -q "^$COUNT/$COUNT round trips" || { echo "FAILED (A)"; cat "$WORK"/a-*.log; exit 1; }
stop_all

echo "== B: our servers, original slave =="
bg "$WORK/b-s1.log" "$OURS/chmpx" -conf "$WORK/c$C1.ini" -d err
bg "$WORK/b-s2.log" "$OURS/chmpx" -conf "$WORK/c$C2.ini" -d err
sleep 1
bg "$WORK/b-e1.log" "$OURS/examples/chmpx_echo" server "$WORK/c$C1.ini"
bg "$WORK/b-e2.log" "$OURS/examples/chmpx_echo" server "$WORK/c$C2.ini"
in_service $C1; in_service $C2
bg "$WORK/b-sl.log" "$ORIG/bin/chmpx" -conf "$WORK/c$SL.ini" -d err
sleep 3
OUT=$(ns "$ORIG/bin/chmpxbench" -c -conf "$WORK/c$SL.ini" -l "$COUNT" -ta -dl 128 2>&1) || true
echo "$OUT" | grep "Total error count\|Average time(real)" || true
echo "$OUT" | grep -q "Total error count *0$" || { echo "FAILED (B)"; cat "$WORK"/b-*.log; exit 1; }
echo "mixed clusters: both directions OK"
