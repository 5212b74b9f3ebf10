#!/usr/bin/env bash
# `make run`'s chmpx part: a local ring on 127.0.0.1 (one chmpx server, one chmpx slave, ports
# of this run's own), a client on the server answering every message, a client on the slave
# sending 2,000 messages of 128 bytes by hash and waiting for each answer. Everything started
# here is stopped (SIGHUP, by pid) at the end, also on failure.
# usage: chmpx-ring.sh BINDIR EXAMPLESDIR
set -u
bin=$1
ex=$2
base=$((23000 + ($$ % 100) * 10))
dir=$(mktemp -d "${TMPDIR:-/tmp}/chmpx-demo.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -HUP "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT
for ctl in $((base + 1)) $((base + 2)); do
    cat >"$dir/ring-$ctl.ini" <<CONF
[GLOBAL]
FILEVERSION = 1
GROUP = DEMO$$
DELIVERMODE = hash
SELFCTLPORT = $ctl
DOMERGE = on
AUTOMERGE = on
[SVRNODE]
NAME = localhost
PORT = $base
CTLPORT = $((base + 1))
[SLVNODE]
NAME = [.]*
CTLPORT = $((base + 2))
CONF
done
"$bin/chmpx" -conf "$dir/ring-$((base + 1)).ini" >"$dir/server.log" 2>&1 &
pids+=($!)
"$bin/chmpx" -conf "$dir/ring-$((base + 2)).ini" >"$dir/slave.log" 2>&1 &
pids+=($!)
ready() { # PORT TEXT: the control port answers SELFSTATUS/DUMP with TEXT
    (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf '%s\0' "$2" >&3 && timeout 2 cat <&3) 2>/dev/null | grep -qF "$3"
}
for _ in $(seq 100); do ready $((base + 1)) VERSION Version && ready $((base + 2)) VERSION Version && break; sleep 0.1; done
"$ex/chmpx_echo" server "$dir/ring-$((base + 1)).ini" >"$dir/echo.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do ready $((base + 2)) DUMP "[SERVICE IN][UP][n/a][Nothing][NoSuspend]" && break; sleep 0.1; done
echo "chmpx: server $((base + 1)) and slave $((base + 2)) up; 2,000 round trips of 128 bytes:"
"$ex/chmpx_echo" slave "$dir/ring-$((base + 2)).ini" 2000 128 || { cat "$dir"/*.log; exit 1; }
