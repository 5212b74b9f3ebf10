#!/usr/bin/env bash
# The libchmpx cluster test: one chmpx server and one chmpx slave on 127.0.0.1 (ports of this
# run's own, from its PID), the C program cluster_server attached to the server and the C
# program cluster_slave attached to the slave; the slave's key/value messages go to the server
# by hash and the server's replies come back. Everything started here is killed by PID on exit
# (also on failure or interruption) and the temporary folder is removed.
#
# usage: cluster.sh CHMPX_BINARY CLUSTER_SERVER CLUSTER_SLAVE [COUNT]
set -u
if [ $# -lt 3 ]; then
    echo "usage: $0 CHMPX_BINARY CLUSTER_SERVER CLUSTER_SLAVE [COUNT]" >&2
    exit 2
fi
chmpx=$1
server=$2
slave=$3
count=${4:-10}

base=$((21000 + ($$ % 100) * 50))
svr_port=$base
svr_ctl=$((base + 1))
slv_ctl=$((base + 2))
group="CAPI$$"
ready="[SERVICE IN][UP][n/a][Nothing][NoSuspend]"

dir=$(mktemp -d "${TMPDIR:-/tmp}/chmpx-capi-cluster.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

fail() {
    echo "cluster.sh: $*" >&2
    for f in "$dir"/*.log; do
        [ -s "$f" ] && { echo "---- $(basename "$f") ----" >&2; cat "$f" >&2; }
    done
    exit 1
}

write_conf() { # SELFCTLPORT FILE
    cat >"$2" <<EOF
[GLOBAL]
FILEVERSION = 1
GROUP = $group
DELIVERMODE = hash
MAXCHMPX = 16
REPLICA = 0
MAXMQSERVER = 2
MAXMQCLIENT = 32
MQPERATTACH = 1
MAXMQPERCLIENT = 8
SELFCTLPORT = $1
DOMERGE = on
AUTOMERGE = on
SSL = no

[SVRNODE]
NAME = 127.0.0.1
PORT = $svr_port
CTLPORT = $svr_ctl

[SLVNODE]
NAME = [.]*
CTLPORT = $slv_ctl
EOF
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

write_conf "$svr_ctl" "$dir/server.ini"
write_conf "$slv_ctl" "$dir/slave.ini"

"$chmpx" -conf "$dir/server.ini" -d err >/dev/null 2>"$dir/chmpx-server.log" &
pids+=($!)
svr_pid=$!
"$chmpx" -conf "$dir/slave.ini" -d err >/dev/null 2>"$dir/chmpx-slave.log" &
pids+=($!)
slv_pid=$!
wait_for "the server's control port" answers "$svr_ctl" VERSION Version
wait_for "the slave's control port" answers "$slv_ctl" VERSION Version
alive "$svr_pid" "chmpx (server)"
alive "$slv_pid" "chmpx (slave)"

# The server chmpx enters the ring when its first client attaches (AUTOMERGE).
"$server" "$dir/server.ini" "$count" >"$dir/cluster_server.log" 2>&1 &
pids+=($!)
client_pid=$!
wait_for "the server in service" answers "$svr_ctl" SELFSTATUS "$ready"
wait_for "the slave to see the server in service" answers "$slv_ctl" DUMP "$ready"

if ! timeout 120 "$slave" "$dir/slave.ini" "$count" >"$dir/cluster_slave.log" 2>&1; then
    fail "cluster_slave failed"
fi
cat "$dir/cluster_slave.log"

# The server program ends after the last answer.
for _ in $(seq 300); do
    kill -0 "$client_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$client_pid" 2>/dev/null; then
    fail "cluster_server did not finish"
fi
wait "$client_pid"
rc=$?
[ $rc = 0 ] || fail "cluster_server failed ($rc)"
tail -1 "$dir/cluster_server.log"
alive "$svr_pid" "chmpx (server)"
alive "$slv_pid" "chmpx (slave)"
echo "cluster.sh: ok"
