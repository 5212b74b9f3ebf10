#!/usr/bin/env bash
# The local K2HDKC cluster of `make run`, on 127.0.0.1: for every [SVRNODE] of
# scripts/cluster/server.ini a chmpx server and a k2hdkc server (memory k2hash) attached to it,
# then the chmpx slave of scripts/cluster/slave.ini, which applications (libk2hdkc,
# k2hdkclinetool) attach to. The ports are those of the two files (17020-17025, slave 17031).
#
#   cluster.sh start    stop a cluster started here before, then start one and wait until every
#                       server is in service with its k2hdkc attached and the slave sees them all
#   cluster.sh status   the processes and what the slave's control port says about the ring
#   cluster.sh stop     stop exactly the processes `start` recorded (by PID), remove RUNDIR
#
# Environment: BINDIR (chmpx, k2hdkc, chmpxlinetool; default target/stage/usr/bin of this
# repository), RUNDIR (PID files, logs; default target/cluster), CONFDIR (default
# scripts/cluster). Processes run in their own session, so they outlive `make` and the terminal;
# their logs (-d err) are in RUNDIR.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${BINDIR:-$top/target/stage/usr/bin}
run=${RUNDIR:-$top/target/cluster}
confdir=${CONFDIR:-$top/scripts/cluster}
server_conf=$confdir/server.ini
slave_conf=$confdir/slave.ini
me="cluster.sh"

say() { echo "$me: $*"; }
die() { echo "$me: $*" >&2; exit 1; }

# Values of KEY in [SECTION]s of an INI file (one line each, in file order).
ini_values() { # FILE SECTION KEY
    awk -v sec="[$2]" -v key="$3" '
        { sub(/#.*/, ""); gsub(/^[ \t]+|[ \t]+$/, "") }
        /^\[/ { in_sec = (toupper($0) == sec); next }
        in_sec && index($0, "=") {
            k = substr($0, 1, index($0, "=") - 1); v = substr($0, index($0, "=") + 1)
            gsub(/[ \t]+/, "", k); gsub(/^[ \t]+|[ \t]+$/, "", v)
            if (toupper(k) == key) print v
        }' "$1"
}

# A control command to the chmpx listening on PORT of 127.0.0.1 (empty when none answers).
ctl() ( exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf '%s\0' "$2" >&3; timeout 5 cat <&3 ) 2>/dev/null
ctl_up() { ctl "$1" VERSION | grep -q Version; }
# PORT N: the chmpx on PORT sees at least N servers in service, up, not merging, with a client
# (its k2hdkc) attached.
normal() { [ "$(ctl "$1" ALLSTATUS | grep -c 'SERVICE IN\]\[UP\]\[n/a\]\[Nothing\]\[NoSuspend')" -ge "$2" ]; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The PID recorded in RUNDIR/NAME.pid when that process is still the one started here (alive,
# same program and configuration on its command line), else nothing.
live_pid() { # NAME
    local f=$run/$1.pid pid prog conf cmd
    [ -f "$f" ] || return 1
    read -r pid prog conf <"$f" || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
    case "$cmd" in
        *"/$prog -conf $conf "*) echo "$pid" ;;
        *) return 1 ;;
    esac
}

# Processes in the order they are stopped: the slave, the k2hdkc servers, the chmpx servers.
recorded() {
    [ -d "$run" ] || return 0
    local f
    [ -f "$run/slave.pid" ] && echo slave
    for f in "$run"/k2hdkc-*.pid "$run"/chmpx-*.pid; do
        [ -f "$f" ] && basename "$f" .pid
    done
}

do_stop() {
    if [ ! -d "$run" ]; then
        say "no cluster of 'make run' is running (no $run); nothing to stop"
        return 0
    fi
    local name pid pids=() names=() stopped=0 i
    for name in $(recorded); do
        pid=$(live_pid "$name") || continue
        kill -HUP "$pid" 2>/dev/null && { pids+=("$pid"); names+=("$name"); }
    done
    # wait for each (SIGHUP is a clean stop), SIGKILL after 10 s
    for i in "${!pids[@]}"; do
        for _ in $(seq 100); do kill -0 "${pids[$i]}" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "${pids[$i]}" 2>/dev/null; then
            say "${names[$i]} (pid ${pids[$i]}) did not stop on SIGHUP: SIGKILL"
            kill -KILL "${pids[$i]}" 2>/dev/null
        fi
        stopped=$((stopped + 1))
    done
    rm -rf "$run"
    if [ "$stopped" -gt 0 ]; then
        say "stopped ${names[*]} (pids ${pids[*]}); removed $run"
    else
        say "no process of the last 'make run' was still running; removed $run"
    fi
}

start_daemon() { # NAME PROGRAM CONF [ARGS...]: start in its own session, record its PID
    local name=$1 prog=$2 conf=$3 sess=()
    shift 3
    command -v setsid >/dev/null && sess=(setsid)
    "${sess[@]}" "$bin/$prog" -conf "$conf" "$@" -d err </dev/null >>"$run/$name.log" 2>&1 &
    echo "$! $prog $conf" >"$run/$name.pid"
}

# The process recorded as NAME (a child of this script while it starts) has exited.
ended() { # NAME
    local pid state
    read -r pid _ <"$run/$1.pid" || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 0
    [ -z "$state" ] || [ "$state" = Z ]
}

fail_start() {
    echo "$me: $*" >&2
    local f
    for f in "$run"/*.log; do
        [ -s "$f" ] && { echo "---- $(basename "$f")" >&2; tail -20 "$f" >&2; }
    done
    do_stop >&2
    exit 1
}

wait_for() { # WHAT COMMAND...: up to 30 s, failing at once when a started process has ended
    local what=$1 name
    shift
    for _ in $(seq 300); do
        "$@" && return 0
        for name in $(recorded); do
            ended "$name" && fail_start "$name ended while waiting for $what"
        done
        sleep 0.1
    done
    fail_start "timed out waiting for $what"
}

do_start() {
    local p
    for p in chmpx k2hdkc; do [ -x "$bin/$p" ] || die "no $bin/$p (run 'make stage' first)"; done
    [ -r "$server_conf" ] && [ -r "$slave_conf" ] || die "missing $server_conf or $slave_conf"
    if [ -d "$run" ]; then
        say "a cluster of an earlier 'make run' is recorded in $run: stopping it first"
        do_stop
    fi
    local ports ctlports slave_ctl nsrv k
    mapfile -t ports < <(ini_values "$server_conf" SVRNODE PORT)
    mapfile -t ctlports < <(ini_values "$server_conf" SVRNODE CTLPORT)
    slave_ctl=$(ini_values "$slave_conf" GLOBAL CTLPORT | head -1)
    nsrv=${#ctlports[@]}
    [ "$nsrv" -gt 0 ] && [ "${#ports[@]}" = "$nsrv" ] && [ -n "$slave_ctl" ] ||
        die "cannot read the server and slave ports from $server_conf and $slave_conf"
    for p in "${ports[@]}" "${ctlports[@]}" "$slave_ctl"; do
        port_busy "$p" && die "port $p of 127.0.0.1 is in use by a program 'make run' did not start; stop it (or change the ports in $confdir/*.ini)"
    done
    mkdir -p "$run"
    for k in "${!ctlports[@]}"; do
        p=${ctlports[$k]}
        start_daemon "chmpx-$p" chmpx "$server_conf" -ctlport "$p"
        wait_for "the control port $p of chmpx server $k" ctl_up "$p"
        start_daemon "k2hdkc-$p" k2hdkc "$server_conf" -ctlport "$p"
    done
    wait_for "$nsrv servers in service with their k2hdkc attached" normal "${ctlports[0]}" "$nsrv"
    start_daemon slave chmpx "$slave_conf"
    wait_for "the chmpx slave to see the $nsrv servers" normal "$slave_ctl" "$nsrv"
    for k in "${!ctlports[@]}"; do
        say "server $k: chmpx (pid $(live_pid "chmpx-${ctlports[$k]}")) port ${ports[$k]} control port ${ctlports[$k]}, k2hdkc (pid $(live_pid "k2hdkc-${ctlports[$k]}"))"
    done
    say "slave: chmpx (pid $(live_pid slave)) control port $slave_ctl; logs and PIDs in $run"
}

do_status() {
    if [ ! -d "$run" ]; then
        say "no cluster of 'make run' is running (no $run)"
        return 1
    fi
    local name pid slave_ctl rc=0
    for name in $(recorded); do
        if pid=$(live_pid "$name"); then say "$name: running (pid $pid)"; else say "$name: NOT running"; rc=1; fi
    done
    slave_ctl=$(ini_values "$slave_conf" GLOBAL CTLPORT | head -1)
    if ! live_pid slave >/dev/null; then
        say "the slave is not running: no ring status"
    elif [ -x "$bin/chmpxlinetool" ]; then
        # 'check': every node's DUMP, each node as it sees itself and as the others see it
        say "chmpxlinetool -conf $slave_conf -nocolor, command 'check':"
        printf 'check\nquit\n' >"$run/status.cmd"
        "$bin/chmpxlinetool" -conf "$slave_conf" -nocolor -run "$run/status.cmd" 2>&1 | grep -v '^CLT> \|^Quit\.$\|^$'
        rm -f "$run/status.cmd"
    else
        ctl "$slave_ctl" ALLSTATUS
    fi
    return $rc
}

case "${1:-}" in
    start) do_start ;;
    stop) do_stop ;;
    status) do_status ;;
    *) die "usage: cluster.sh start|status|stop" ;;
esac
