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
svr_ctl=$((base + 1))
s_port=($base)
s_ctl=($svr_ctl)
slv_ctl=$((base + 2))
group="CAPI$$"
replica=0

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup cluster

write_conf "$svr_ctl" "$dir/server.ini"
write_conf "$slv_ctl" "$dir/slave.ini"

start_chmpx server "$dir/server.ini"
svr_pid=$!
start_chmpx slave "$dir/slave.ini"
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
wait_gone "$client_pid" || fail "cluster_server did not finish"
wait "$client_pid"
rc=$?
[ $rc = 0 ] || fail "cluster_server failed ($rc)"
tail -1 "$dir/cluster_server.log"
alive "$svr_pid" "chmpx (server)"
alive "$slv_pid" "chmpx (slave)"
echo "cluster.sh: ok"
