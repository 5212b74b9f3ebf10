#!/usr/bin/env bash
# A k2hdkc cluster of ours for the binding test suites (k2hdkc_python, k2hdkc_go), which open a
# fixed slave configuration (/tmp/slave.yaml, or ../cluster/slave.yaml) with the fixed slave
# control port 8031 and must run unchanged. So the cluster and the command run in a private
# network, mount and PID namespace (unshare, root): port 8031 and the abstract sockets of chmpx
# there collide with nothing on the machine, /tmp is a private tmpfs (the host's /tmp/slave.yaml
# is never touched), and nothing started can outlive the run.
#
# Inside: three chmpx servers (REPLICA 1, ports from a base in 28000-29999 derived from $$) each
# with a k2hdkc server (memory k2hash), a chmpx slave with control port 8031, all configured by
# YAML files made from the bindings' own cluster/server.yaml and slave.yaml (three server nodes
# instead of one). The slave configuration is /tmp/slave.yaml (also in $DKC_SLAVE_CONF). Once the
# three servers are in service with their k2hdkc attached and the slave sees them, CMD runs; its
# exit status is the script's. Everything started is killed by PID on exit (also on failure or a
# signal) and the files removed with the tmpfs.
#
# usage: bindings-cluster.sh RELEASE_DIR CMD [ARGS...]   (RELEASE_DIR holds chmpx and k2hdkc)
# KEEP=1 keeps the configurations and logs: they are copied to $KEEP_DIR (default target/dkc-logs).
set -u
rel=$(cd "${1:?usage: bindings-cluster.sh RELEASE_DIR CMD [ARGS...]}" && pwd)
shift
[ $# -gt 0 ] || { echo "usage: bindings-cluster.sh RELEASE_DIR CMD [ARGS...]" >&2; exit 2; }
slave_ctlport=8031

if [ -z "${DKC_IN_NS:-}" ]; then
    # outside: pick the ports and the group here ($$ is 1 inside a new PID namespace)
    if [ "$(id -u)" != 0 ] || ! unshare --net --mount --pid --fork --mount-proc true 2>/dev/null; then
        echo "bindings-cluster.sh: needs root and unshare (private network/mount/PID namespace)" >&2
        exit 1
    fi
    command -v ip >/dev/null 2>&1 || { echo "bindings-cluster.sh: ip (iproute2) is missing" >&2; exit 1; }
    export DKC_IN_NS=1 DKC_BASE=$((28000 + ($$ % 100) * 20)) DKC_GROUP="BINDKC$$"
    export KEEP_DIR=${KEEP_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/target/dkc-logs}
    # unshare --fork blocks INT and TERM while it waits: a signal to this script is passed on to
    # the namespace's first process (the copy of this script inside), which cleans up and exits
    unshare --net --mount --pid --fork --mount-proc --kill-child=TERM bash "$0" "$rel" "$@" &
    upid=$!
    trap 'kill -TERM $(pgrep -P "$upid") 2>/dev/null' INT TERM HUP
    while :; do
        wait "$upid"
        rc=$?
        kill -0 "$upid" 2>/dev/null || exit $rc
    done
fi

chmpx=$rel/chmpx
dkc=$rel/k2hdkc
base=$DKC_BASE
group=$DKC_GROUP
# a private /tmp (propagation is private under unshare --mount) and the loopback up
mount -t tmpfs -o mode=1777 tmpfs /tmp || { echo "bindings-cluster.sh: cannot mount /tmp" >&2; exit 1; }
ip link set lo up || { echo "bindings-cluster.sh: cannot bring lo up" >&2; exit 1; }
dir=$(mktemp -d /tmp/k2hdkc-bindings.XXXXXX)
export TMPDIR=/tmp
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP_DIR" && cp -a "$dir/." "$KEEP_DIR/"; fi
    rm -rf "$dir" /tmp/slave.yaml
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
logs() {
    for f in "$dir"/*.log; do [ -s "$f" ] && { echo "---- $(basename "$f")" >&2; tail -20 "$f" >&2; }; done
}
fail() {
    echo "bindings-cluster.sh: $*" >&2
    logs
    exit 1
}
ctl() ( exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf '%s\0' "$2" >&3; timeout 5 cat <&3 ) 2>/dev/null
ctl_up() { ctl "$1" VERSION | grep -q Version; }
served() { ctl "$1" DUMP | grep -qE '^activated_msg_count += [1-9]'; }
normal() { [ "$(ctl "$1" ALLSTATUS | grep -c 'SERVICE IN\]\[UP\]\[n/a\]\[Nothing\]\[NoSuspend')" -ge "$2" ]; }
wait_for() { # WHAT COMMAND...
    local what=$1; shift
    for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done
    fail "timed out waiting for $what"
}
# The GLOBAL values are those of the bindings' cluster/server.yaml and slave.yaml, but for
# MAXMQCLIENT 32 (2 there) and MAXMQPERCLIENT 8 (1): each open handle holds one of the slave's
# client MQs, and a test that fails before its close() would leave the following tests none.
conf() { # MODE SELFCTLPORT
    cat <<EOF
GLOBAL:
    {
        FILEVERSION:            2,
        GROUP:                  $group,
        MODE:                   $1,
        DELIVERMODE:            hash,
        MAXCHMPX:               8,
        REPLICA:                1,
        MAXMQSERVER:            2,
        MAXMQCLIENT:            32,
        MQPERATTACH:            1,
        MAXQPERSERVERMQ:        2,
        MAXQPERCLIENTMQ:        1,
        MAXMQPERCLIENT:         8,
        MAXHISTLOG:             10000,
        SELFCTLPORT:            $2,
        RWTIMEOUT:              100000,
        RETRYCNT:               1000,
        CONTIMEOUT:             500000,
        MQRWTIMEOUT:            1000,
        MQRETRYCNT:             10000,
        MQACK:                  no,
        AUTOMERGE:              on,
        DOMERGE:                on,
        MERGETIMEOUT:           0,
        SOCKTHREADCNT:          4,
        MQTHREADCNT:            4,
        MAXSOCKPOOL:            10,
        SOCKPOOLTIMEOUT:        0,
        SSL:                    no,
        K2HFULLMAP:             on,
        K2HMASKBIT:             4,
        K2HCMASKBIT:            4,
        K2HMAXELE:              4
    }
SVRNODE:
    [
EOF
    for k in 0 1 2; do
        printf '        {\n            NAME:               127.0.0.1,\n'
        printf '            PORT:               %s,\n            CTLPORT:            %s,\n' $((base + 2 * k)) $((base + 2 * k + 1))
        printf '            SSL:                no\n        }%s\n' "$([ $k -lt 2 ] && echo ,)"
    done
    cat <<EOF
    ]
SLVNODE:
    [
        {
            NAME:               "[.]*",
            CTLPORT:            $slave_ctlport
        }
    ]
EOF
    [ "$1" = SERVER ] && cat <<EOF
K2HDKC:
    {
        K2HTYPE:                mem,
        K2HFULLMAP:             on,
        K2HINIT:                yes,
        K2HMASKBIT:             8,
        K2HCMASKBIT:            4,
        K2HMAXELE:              16,
        K2HPAGESIZE:            128,
        MAXTHREAD:              20
    }
EOF
    return 0
}
for k in 0 1 2; do conf SERVER $((base + 2 * k + 1)) >"$dir/server$k.yaml"; done
conf SLAVE $slave_ctlport >"$dir/slave.yaml"
cp "$dir/slave.yaml" /tmp/slave.yaml
export DKC_SLAVE_CONF=/tmp/slave.yaml
for k in 0 1 2; do
    "$chmpx" -conf "$dir/server$k.yaml" -d err >>"$dir/chmpx$k.log" 2>&1 &
    pids+=($!)
    wait_for "control port of node $k" ctl_up $((base + 2 * k + 1))
    "$dkc" -conf "$dir/server$k.yaml" -d err >>"$dir/k2hdkc$k.log" 2>&1 &
    pids+=($!)
done
"$chmpx" -conf /tmp/slave.yaml -d err >"$dir/slave.log" 2>&1 &
pids+=($!)
wait_for "three servers in service" normal $((base + 1)) 3
for k in 0 1 2; do wait_for "the k2hdkc server of node $k attached" served $((base + 2 * k + 1)); done
wait_for "the slave" normal $slave_ctlport 3
echo "bindings-cluster.sh: 3 servers and a slave (group $group, slave control port $slave_ctlport, servers from $base) up; running $*"
# in the background and waited for, so that a signal runs the cleanup at once (bash runs a trap
# only after the foreground command ends); the cleanup kills the command too
"$@" &
pids+=($!)
wait $!
rc=$?
[ $rc = 0 ] || { echo "bindings-cluster.sh: '$*' exited $rc" >&2; logs; }
exit $rc
