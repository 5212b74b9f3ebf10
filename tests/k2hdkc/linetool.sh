#!/usr/bin/env bash
# The original k2hdkclinetool acceptance transcript against a cluster of our binaries, as the
# original's tests/test.sh runs it (spec §5.4): four chmpx servers and four k2hdkc servers
# started from one configuration (each with -ctlport), a chmpx slave, then the tool run four
# times on k2hdkclinetool.cmd: C API / Rust ("C++") API, each with a permanent session and
# with one session per request. Only stdout is kept, framed by test.sh's header and
# SUCCEED/FAILED lines, and compared line by line with k2hdkclinetool.log.
#
# The configurations are the original's test_server.ini / test_slave.ini with their ports
# moved to free ones (base 26000-27999, from our PID), a group name of our own and
# NAME = 127.0.0.1 instead of localhost (our chmpx needs no DNS for it; the transcript shows
# neither). The transcript itself is compared as it is: no line is normalised.
# Everything started here is killed by PID on exit (also on failure), and the folder removed.
#
# usage: linetool.sh RELEASE_DIR [MODE...]   (RELEASE_DIR holds chmpx, k2hdkc, k2hdkclinetool;
#        MODE: capi-perm cpp-perm capi cpp, all four by default, in the original's order)
set -u
rel=${1:?usage: linetool.sh RELEASE_DIR [MODE...]}
shift
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(capi-perm cpp-perm capi cpp)
here=$(cd "$(dirname "$0")" && pwd)
fixtures=${FIXTURES:-$here/../../../shared/fixtures/k2hdkc}
chmpx=$rel/chmpx
dkc=$rel/k2hdkc
tool=$rel/k2hdkclinetool
for b in "$chmpx" "$dkc" "$tool"; do [ -x "$b" ] || { echo "linetool.sh: missing $b" >&2; exit 1; }; done
base=$((26000 + ($$ % 100) * 20))
group="TESTDKC$$"
dir=$(mktemp -d "${TMPDIR:-/tmp}/k2hdkc-linetool.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -HUP "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
    done
    [ -n "${KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
fail() {
    echo "linetool.sh: $*" >&2
    for f in "$dir"/*.log "$dir"/*.err; do [ -s "$f" ] && { echo "---- $(basename "$f")" >&2; tail -20 "$f" >&2; }; done
    exit 1
}
ctl() ( exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf '%s\0' "$2" >&3; timeout 5 cat <&3 ) 2>/dev/null
ctl_up() { ctl "$1" VERSION | grep -q Version; }
normal() { [ "$(ctl "$1" ALLSTATUS | grep -c 'SERVICE IN\]\[UP\]\[n/a\]\[Nothing\]\[NoSuspend')" -ge "$2" ]; }
wait_for() { # WHAT COMMAND...
    local what=$1; shift
    for _ in $(seq 600); do "$@" && return 0; sleep 0.1; done
    fail "timed out waiting for $what"
}
# the original configuration with our ports, group and host name
adapt() { # FILE
    sed -e "s/^\(GROUP[[:space:]]*=[[:space:]]*\)TESTDKC/\1$group/" \
        -e 's/^\(NAME[[:space:]]*=[[:space:]]*\)localhost/\1127.0.0.1/' \
        -e "s/\b8020\b/$base/; s/\b8021\b/$((base + 1))/; s/\b8022\b/$((base + 2))/" \
        -e "s/\b8023\b/$((base + 3))/; s/\b8024\b/$((base + 4))/; s/\b8025\b/$((base + 5))/" \
        -e "s/\b8026\b/$((base + 6))/; s/\b8027\b/$((base + 7))/; s/\b8031\b/$((base + 11))/" "$1"
}
adapt "$fixtures/conf/test_server.ini" >"$dir/server.ini"
adapt "$fixtures/conf/test_slave.ini" >"$dir/slave.ini"
slavectl=$((base + 11))

for k in 0 1 2 3; do
    "$chmpx" -conf "$dir/server.ini" -ctlport $((base + 2 * k + 1)) -d err >"$dir/chmpx$k.log" 2>&1 &
    pids+=($!)
    wait_for "control port of server $k" ctl_up $((base + 2 * k + 1))
done
for k in 0 1 2 3; do
    "$dkc" -conf "$dir/server.ini" -ctlport $((base + 2 * k + 1)) -d err >"$dir/k2hdkc$k.log" 2>&1 &
    pids+=($!)
done
"$chmpx" -conf "$dir/slave.ini" -ctlport "$slavectl" -d err >"$dir/slave.log" 2>&1 &
pids+=($!)
wait_for "four servers in service" normal $((base + 1)) 4
wait_for "the slave" normal "$slavectl" 4
# every k2hdkc server answers (its k2hash state) once it is attached to its chmpx
printf 'status node\n' >"$dir/probe.cmd"
ready() { "$tool" -conf "$dir/slave.ini" -ctlport "$slavectl" -run "$dir/probe.cmd" </dev/null 2>/dev/null | grep -q 'node count  *= 4$'; }
wait_for "the four k2hdkc servers" ready
echo "linetool.sh: cluster ready (${SECONDS}s)"

log=$dir/linetool.log
: >"$log"
rule=$(printf '=%.0s' $(seq 74))
for m in "${modes[@]}"; do
    case $m in
        capi-perm) title="CAPI : PERM"; opts=(-perm -capi) ;;
        cpp-perm) title="CPPAPI : PERM"; opts=(-perm) ;;
        capi) title="CAPI : NOT PERM"; opts=(-capi) ;;
        cpp) title="CPPAPI : NOT PERM"; opts=() ;;
        *) fail "unknown mode $m" ;;
    esac
    printf '%s\n======= %s : REJOIN : NOGIVEUP : NOCLEANUP\n%s\n' "$rule" "$title" "$rule" >>"$log"
    if "$tool" -conf "$dir/slave.ini" -ctlport "$slavectl" -comlog off -d err -rejoin -nogiveup -nocleanup \
        "${opts[@]}" -run "$fixtures/linetool/k2hdkclinetool.cmd" </dev/null >>"$log" 2>"$dir/tool-$m.err"; then
        echo SUCCEED >>"$log"
    else
        echo FAILED >>"$log"
    fi
    echo "linetool.sh: $title done (${SECONDS}s)"
    sleep 1
done

# the expected output: the original's, the sections of the modes run
expected=$dir/expected.log
for m in "${modes[@]}"; do
    case $m in capi-perm) n=0 ;; cpp-perm) n=1 ;; capi) n=2 ;; cpp) n=3 ;; esac
    sed -n "$((n * 430 + 1)),$((n * 430 + 430))p" "$fixtures/linetool/k2hdkclinetool.log"
done >"$expected"
if ! diff -u "$expected" "$log" >"$dir/diff.out"; then
    cat "$dir/diff.out" >&2
    fail "the output differs from the original's transcript"
fi
echo "linetool.sh: ok ($(wc -l <"$log") lines as the original's, modes: ${modes[*]})"
