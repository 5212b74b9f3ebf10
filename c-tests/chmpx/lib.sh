# Shell functions of the libchmpx cluster tests (cluster.sh, ring.sh), sourced by them.
#
# The sourcing script sets, before calling these: chmpx (the chmpx binary), group, replica,
# s_port and s_ctl (arrays: data and control port of each server, ascending control ports =
# ring order) and slv_ctl (the slave's control port).

# A server's own status once it is in the ring.
ready="[SERVICE IN][UP][n/a][Nothing][NoSuspend]"

# setup NAME: the temporary folder $dir and the list $pids of what is started there. Every
# process in it is killed on exit (also on failure or interruption) and the folder is removed
# (kept when KEEP is set).
setup() {
    dir=$(mktemp -d "${TMPDIR:-/tmp}/chmpx-capi-$1.XXXXXX")
    pids=()
    trap cleanup EXIT
    trap 'exit 1' INT TERM HUP PIPE
}

cleanup() {
    for p in "${pids[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    [ -n "${KEEP:-}" ] || rm -rf "$dir"
}

# fail MESSAGE...: says what failed, shows the logs and exits with 1.
fail() {
    echo "$(basename "$0"): $*" >&2
    for f in "$dir"/*.log; do
        [ -s "$f" ] && { echo "---- $(basename "$f") ----" >&2; cat "$f" >&2; }
    done
    exit 1
}

write_conf() { # SELFCTLPORT FILE
    local k
    {
        cat <<CONF
[GLOBAL]
FILEVERSION = 1
GROUP = $group
DELIVERMODE = hash
MAXCHMPX = 16
REPLICA = $replica
MAXMQSERVER = 2
MAXMQCLIENT = 32
MQPERATTACH = 1
MAXMQPERCLIENT = 8
SELFCTLPORT = $1
DOMERGE = on
AUTOMERGE = on
SSL = no
CONF
        for k in "${!s_ctl[@]}"; do
            printf '[SVRNODE]\nNAME = 127.0.0.1\nPORT = %s\nCTLPORT = %s\n' "${s_port[$k]}" "${s_ctl[$k]}"
        done
        printf '[SLVNODE]\nNAME = [.]*\nCTLPORT = %s\n' "$slv_ctl"
    } >"$2"
}

# start_chmpx NAME CONF: chmpx in the background (its log: chmpx-NAME.log); its PID is in $!.
start_chmpx() {
    "$chmpx" -conf "$2" -d err >/dev/null 2>"$dir/chmpx-$1.log" &
    pids+=($!)
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

# wait_gone PID: waits up to 30 s for the process to end; false when it is still running.
wait_gone() {
    for _ in $(seq 300); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$1" 2>/dev/null
}

answers() { ctl "$1" "$2" | grep -qF "$3"; }
alive() { kill -0 "$1" 2>/dev/null || fail "$2 exited early"; }
count_ready() { [ "$(ctl "$1" "$2" | grep -cF "$ready")" -ge "$3" ]; }
