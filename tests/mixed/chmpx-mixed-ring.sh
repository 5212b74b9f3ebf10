#!/bin/bash
#
# Mixed chmpx rings (servers of ours and ORIGINAL servers in one ring), against a local build of
# the original (../shared/upstream: build.sh, nsrun.sh). Run as root; everything runs in the
# loopback-only namespace of nsrun.sh. Three servers are configured (REPLICA = 1, DOMERGE on,
# AUTOMERGE off: merges are started and completed with the control commands, from either side);
# the slave is ours, with merge_feeder writing through it all along (every write to the
# servers the hash rule names, acknowledged when all answered). Each server has a
# client-on-server keeping a k2hash file with the merge callbacks: merge_node built against
# the library of the chmpx it attaches to (ours, or the original's: target/mixed/orig_merge_node).
#
#   A) two ORIGINAL servers in a ring; a server of OURS joins: SERVICEIN on ours, MERGE sent to
#      an original, COMPMERGE sent to ours;
#   B) two servers of OURS in a ring; an ORIGINAL server joins: SERVICEIN on the original, MERGE
#      sent to ours, COMPMERGE sent to the original;
#   C) a ring of three ORIGINAL servers replaced by ours one at a time under the write stream
#      (stop the original and its client, start ours on the same k2hash file: it comes back
#      SERVICE IN, MERGE, COMPMERGE).
# After each step the ALLSTATUS of every server must agree (status, slots, ports of every
# server), and at the end of each scenario merge_check must find every acknowledged write on its
# primary and replica.
#
# Usage: tests/mixed/chmpx-mixed-ring.sh [A|B|C ...]   (default: all; needs `make stage` and
#        the c-tests built, and UPSTREAM, default $HOME/upstream, holding the original build)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
UPSTREAM=${UPSTREAM:-$HOME/upstream}
NSRUN=${NSRUN:-$ROOT/../shared/upstream/nsrun.sh}
OURS=$ROOT/target/release
CT=$ROOT/target/c-tests/chmpx
ORIG=$UPSTREAM/prefix
ONODE=$ROOT/target/mixed/orig_merge_node
SCENARIOS=${*:-A B C}
mkdir -p "$ROOT/target/mixed"
if [ ! -x "$ONODE" ]; then
	cc -std=gnu11 -w -o "$ONODE" "$ROOT/c-tests/chmpx/merge_node.c" -I"$ORIG/include/chmpx" \
		-I"$ORIG/include/k2hash" -I"$ORIG/include" -L"$ORIG/lib" -lchmpx -lk2hash -Wl,-rpath,"$ORIG/lib"
fi
for f in "$OURS/chmpx" "$CT/merge_node" "$CT/merge_feeder" "$CT/merge_check" "$ORIG/bin/chmpx" "$ONODE" "$NSRUN"; do
	[ -e "$f" ] || { echo "missing $f"; exit 2; }
done
mountpoint -q /dev/mqueue || { mkdir -p /dev/mqueue; mount -t mqueue none /dev/mqueue; }

WORK=$(mktemp -d /tmp/chmpx-mixring.XXXXXX)
BASE=$((19000 + ($$ % 40) * 20))
GROUP="MXR$BASE"
CTL=($((BASE + 1)) $((BASE + 3)) $((BASE + 5)))
SLV=$((BASE + 11))
# Everything started here has $WORK in its command line (the pids we could hold are those of
# the nsrun wrappers): HUP first (chmpx cleans up), then KILL.
stop_match() {
	pkill -HUP -f "$1" 2>/dev/null || true
	for _ in $(seq 50); do pgrep -f "$1" >/dev/null || return 0; sleep 0.1; done
	pkill -KILL -f "$1" 2>/dev/null || true
}
stop_all() {
	pkill -TERM -f "merge_feeder $WORK" 2>/dev/null || true
	pkill -TERM -f "merge_node $WORK" 2>/dev/null || true
	sleep 0.5
	stop_match "$WORK/"
	rm -f /dev/mqueue/"$GROUP".* /tmp/"$GROUP"-*.chmpx /tmp/"$GROUP"-*.k2h
}
cleanup() { stop_all; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT
ns() { bash "$NSRUN" "$@"; }
bg() { local log=$1; shift; ns "$@" >"$log" 2>&1 & }
fail() {
	echo "FAILED: $*"
	for f in "$WORK"/*.log; do [ -s "$f" ] && { echo "---- $(basename "$f")"; tail -20 "$f"; }; done
	exit 1
}
ctl() { ns python3 "$WORK/ctl.py" "$@" 2>/dev/null || true; }
cat >"$WORK/ctl.py" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode() + b"\0"); out = b""
while True:
    d = s.recv(65536)
    if not d: break
    out += d
sys.stdout.write(out.decode(errors="replace"))
PY
for p in "${CTL[@]}" $SLV; do
	{
		printf '[GLOBAL]\nFILEVERSION = 1\nGROUP = %s\nDELIVERMODE = hash\nMAXCHMPX = 8\nREPLICA = 1\n' "$GROUP"
		printf 'MAXMQSERVER = 2\nMAXMQCLIENT = 8\nMQPERATTACH = 1\nMAXMQPERCLIENT = 4\nSELFCTLPORT = %s\n' "$p"
		printf 'DOMERGE = on\nAUTOMERGE = off\nSSL = no\n'
		for k in 0 1 2; do printf '[SVRNODE]\nNAME = localhost\nPORT = %s\nCTLPORT = %s\n' $((BASE + 2 * k)) "${CTL[$k]}"; done
		printf '[SLVNODE]\nNAME = [.]*\nCTLPORT = %s\n' $SLV
	} >"$WORK/c$p.ini"
done

wait_until() { # WHAT SECONDS COMMAND...
	local what=$1 secs=$2; shift 2
	for _ in $(seq $((secs * 5))); do "$@" && return 0; sleep 0.2; done
	fail "timed out waiting for $what"
}
# kind: o (original) or r (ours)
start_server() { # K KIND
	local k=$1 conf="$WORK/c${CTL[$1]}.ini"
	if [ "$2" = o ]; then bg "$WORK/s$k-o.log" env LD_LIBRARY_PATH="$ORIG/lib" "$ORIG/bin/chmpx" -conf "$conf" -d err
	else bg "$WORK/s$k-r.log" "$OURS/chmpx" -conf "$conf" -d err; fi
	wait_until "control port ${CTL[$k]}" 20 answers "${CTL[$k]}" VERSION Version
	if [ "$2" = o ]; then bg "$WORK/n$k-o.log" "$ONODE" "$conf" "$WORK/db$k.k2h" "$WORK/ts$k"
	else bg "$WORK/n$k-r.log" "$CT/merge_node" "$conf" "$WORK/db$k.k2h" "$WORK/ts$k"; fi
	wait_until "server $k attached" 20 not_suspended "${CTL[$k]}"
}
stop_server() { # K
	local conf="$WORK/c${CTL[$1]}.ini"
	pkill -TERM -f "merge_node $conf" 2>/dev/null || true
	for _ in $(seq 50); do pgrep -f "merge_node $conf" >/dev/null || break; sleep 0.1; done
	stop_match "chmpx -conf $conf"
}
answers() { ctl "$1" "$2" | grep -qF "$3"; }
not_suspended() { ctl "$1" SELFSTATUS | grep -q "Server Status.*NoSuspend"; }
# the parts of ALLSTATUS every server must agree on
view() { ctl "$1" ALLSTATUS | grep -E "Server Name|Port|Server Status|Hash Value" | sed 's/(socket [^)]*)//'; }
views_agree() { # K...
	local first; first=$(view "${CTL[$1]}")
	[ -n "$first" ] || return 1
	for k in "$@"; do [ "$(view "${CTL[$k]}")" = "$first" ] || return 1; done
}
all_normal() { # N K...: every listed server sees N servers SERVICE IN, nothing pending
	local n=$1 k; shift
	for k in "$@"; do
		[ "$(ctl "${CTL[$k]}" ALLSTATUS | grep -c 'SERVICE IN\]\[UP\]\[n/a\]\[Nothing\]\[NoSuspend')" -ge "$n" ] || return 1
	done
	views_agree "$@"
}
merge_done() { # K: no server DOING, and at least one DONE
	local s; s=$(ctl "${CTL[$1]}" ALLSTATUS)
	! grep -q "\[Doing\]" <<<"$s" && ! grep -q "\[Pending\]" <<<"$s" && grep -q "\[Done\]" <<<"$s"
}
merge() { # START_ON COMPLETE_ON K...: MERGE on one server, COMPMERGE on another, wait
	local out
	out=$(ctl "${CTL[$1]}" MERGE); [ "$out" = "SUCCEED" ] || fail "MERGE on ${CTL[$1]} answered: $out"
	wait_until "the merge data" 60 merge_done "$1"
	out=$(ctl "${CTL[$2]}" COMPMERGE); [ "$out" = "SUCCEED" ] || fail "COMPMERGE on ${CTL[$2]} answered: $out"
	shift 2
	wait_until "the merge to complete" 30 all_normal $# "$@"
}
acks() { local n; n=$(grep -c '^ACK' "$WORK/feeder.out" 2>/dev/null); echo "${n:-0}"; }
more_acks() { local want=$(($(acks) + $1)); for _ in $(seq 300); do [ "$(acks)" -ge "$want" ] && return 0; sleep 0.2; done; fail "no writes acknowledged"; }
start_feeder() {
	rm -f "$WORK/stop" "$WORK/feeder.out"
	bg "$WORK/sl.log" "$OURS/chmpx" -conf "$WORK/c$SLV.ini" -d err
	wait_until "the slave" 20 answers $SLV VERSION Version
	sleep 1
	ns "$CT/merge_feeder" "$WORK/c$SLV.ini" 1000 "w$1" "$WORK/stop" >"$WORK/feeder.out" 2>"$WORK/feeder.log" &
	more_acks 300
}
finish() { # K...: stop the writes, check every acknowledged one
	touch "$WORK/stop"
	for _ in $(seq 50); do pgrep -f "merge_feeder $WORK" >/dev/null || break; sleep 0.1; done
	cat "$WORK/feeder.log"
	local files=()
	for k in "$@"; do files+=("$WORK/db$k.k2h"); done
	"$CT/merge_check" "$WORK/feeder.out" 1 "${files[@]}" || fail "merge_check"
	stop_all
	rm -f "$WORK"/db* "$WORK"/ts*
}
# chmpxlinetool (ours) against every node of the ring: check must find every node, each OK as
# every other node sees it (status, slots, and every connection counted on both ends)
linetool_check() {
	printf 'check\nquit\n' >"$WORK/lt.cmd"
	ns "$OURS/chmpxlinetool" -conf "$WORK/c$SLV.ini" -nocolor -run "$WORK/lt.cmd" >"$WORK/lt.out" 2>&1 || true
	local k
	for k in 0 1 2; do
		grep -q "^OK   [^ ]*:${CTL[$k]}:::" "$WORK/lt.out" || fail "linetool check: server ${CTL[$k]} not OK ($(cat "$WORK/lt.out"))"
	done
	! grep -q "^ERR  \|^WARN " "$WORK/lt.out" || fail "linetool check: $(grep "^ERR  \|^WARN " "$WORK/lt.out")"
}
service_in() { local out; out=$(ctl "${CTL[$1]}" SERVICEIN); [ "$out" = "SUCCEED" ] || fail "SERVICEIN on ${CTL[$1]}: $out"; }

for sc in $SCENARIOS; do
	case $sc in
	A)
		echo "== A: two original servers, one of ours joins"
		start_server 0 o; start_server 1 o
		service_in 0; service_in 1; merge 0 1 0 1
		start_feeder A
		start_server 2 r
		wait_until "the three views to agree" 20 views_agree 0 1 2
		service_in 2
		more_acks 200
		merge 0 2 0 1 2
		linetool_check
		more_acks 200
		finish 0 1 2
		;;
	B)
		echo "== B: two servers of ours, an original one joins"
		start_server 0 r; start_server 1 r
		service_in 0; service_in 1; merge 1 0 0 1
		start_feeder B
		start_server 2 o
		wait_until "the three views to agree" 20 views_agree 0 1 2
		service_in 2
		more_acks 200
		merge 1 2 0 1 2
		more_acks 200
		finish 0 1 2
		;;
	C)
		echo "== C: three original servers replaced by ours, one at a time, under writes"
		start_server 0 o; start_server 1 o; start_server 2 o
		service_in 0; service_in 1; service_in 2; merge 0 1 0 1 2
		start_feeder C
		for k in 0 1 2; do
			stop_server $k
			more_acks 200
			start_server $k r
			more_acks 100
			merge $(((k + 1) % 3)) $k 0 1 2
			echo "   server $k replaced"
			linetool_check
			more_acks 200
		done
		finish 0 1 2
		;;
	*) echo "unknown scenario $sc"; exit 2 ;;
	esac
done
echo "mixed rings: OK"
