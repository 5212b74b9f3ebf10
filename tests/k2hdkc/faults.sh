#!/usr/bin/env bash
# A k2hdkc cluster of ours with a server killed (and hostile messages sent to it): three chmpx servers (REPLICA = 1, AUTOMERGE
# on) each with a k2hdkc server (memory k2hash), a chmpx slave, and the Rust client example
# writing and reading through it. One node (chmpx and k2hdkc) is killed with SIGKILL: every
# acknowledged key stays readable while it is down and writes go on; it comes back empty
# (memory), the automatic merge refills it, and then another node is killed: every key is
# still readable, so the returned node holds its share. Then automatic scaling under traffic:
# a fourth server joins while a client writes, and one leaves (SERVICEOUT) while a client
# writes; every key is read back after each; last, a chmpx is killed while a client writes.
# The client's requests go on direct links to the
# servers and served by their k2hdkc (checked against what the client was told when it opened
# its links; the messages on links are still counted by the slave and the servers). Everything started here is killed by
# PID on exit (also on failure) and the folder removed.
#
# With a second argument, that C program (c-tests/k2hdkc/dkc_capi, linked to libk2hdkc) is run
# against the cluster first.
#
# usage: faults.sh RELEASE_DIR [CAPI_TEST]   (holding chmpx, k2hdkc and examples/dkc_client)
set -u
rel=${1:?usage: faults.sh RELEASE_DIR [CAPI_TEST]}
capi=${2:-}
chmpx=$rel/chmpx
dkc=$rel/k2hdkc
client=$rel/examples/dkc_client
base=$((24000 + ($$ % 60) * 20))
# twenty ports from base: skip a block where something already listens (another run)
block_used() { # BASE
    local p
    for p in $(seq "$1" $(($1 + 11))); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0; done
    return 1
}
for _ in $(seq 60); do
    block_used "$base" || break
    base=$((24000 + ((base - 24000) / 20 + 1) % 60 * 20))
done
group="DKF$$"
dir=$(mktemp -d "${TMPDIR:-/tmp}/k2hdkc-faults.XXXXXX")
pids=()
declare -A pid
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    [ -n "${KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
fail() { # the cause is printed again after the logs, where a truncated output still shows it
    echo "faults.sh: $*" >&2
    for f in "$dir"/*.log; do [ -s "$f" ] && { echo "---- $(basename "$f")" >&2; tail -20 "$f" >&2; }; done
    # each live node's view of the ring, one line a server
    for p in 1 3 5 7 11; do
        ctl $((base + p)) ALLSTATUS | awk -v me=$((base + p)) '
            /^ +Port +=/ { port = $3 } /Server Status/ { sub(/.*= /, ""); st = $0 }
            /Enable Hash/ { h = $NF } /Pending Hash/ { printf "view of %s: %s %s base %s pending %s\n", me, port, st, h, $NF }' >&2
    done
    echo "faults.sh: FAILED: $*" >&2
    exit 1
}
ctl() ( exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf '%s\0' "$2" >&3; timeout 5 cat <&3 ) 2>/dev/null
ctl_up() { ctl "$1" VERSION | grep -q Version; }
sees_down() { ctl "$1" ALLSTATUS | grep -qF "[SERVICE IN][DOWN]"; }
out_of_service() { ctl "$1" SELFSTATUS | grep -qF '[SERVICE OUT][UP]'; }
normal() { [ "$(ctl "$1" ALLSTATUS | grep -c 'SERVICE IN\]\[UP\]\[n/a\]\[Nothing\]\[NoSuspend')" -ge "$2" ]; }
wait_for() { # WHAT COMMAND...
    local what=$1; shift
    for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done
    fail "timed out waiting for $what"
}
conf() { # SELFCTLPORT
    printf '[GLOBAL]\nFILEVERSION = 1\nGROUP = %s\nDELIVERMODE = hash\nMAXCHMPX = 8\nREPLICA = 1\n' "$group"
    printf 'MAXMQSERVER = 2\nMAXMQCLIENT = 32\nMQPERATTACH = 1\nMAXMQPERCLIENT = 8\nSELFCTLPORT = %s\n' "$1"
    printf 'DOMERGE = on\nAUTOMERGE = on\nSSL = no\n'
    for k in 0 1 2 3; do printf '[SVRNODE]\nNAME = 127.0.0.1\nPORT = %s\nCTLPORT = %s\n' $((base + 2 * k)) $((base + 2 * k + 1)); done
    printf '[SLVNODE]\nNAME = [.]*\nCTLPORT = %s\n' $((base + 11))
    printf '[K2HDKC]\nK2HTYPE = mem\nK2HMASKBIT = 8\nK2HCMASKBIT = 4\nK2HMAXELE = 16\n'
}
start_node() { # K
    local c=$dir/server$1.ini
    "$chmpx" -conf "$c" -d err >>"$dir/chmpx$1.log" 2>&1 &
    pids+=($!); pid[c$1]=$!
    wait_for "control port of node $1" ctl_up $((base + 2 * $1 + 1))
    # node 2's k2hdkc leaves its links to its chmpx (the way of a server that does not serve
    # them), the others serve theirs
    local serve=1
    [ "$1" = 2 ] && serve=0
    CHMPX_SERVE_LINKS=$serve "$dkc" -conf "$c" -d err >>"$dir/k2hdkc$1.log" 2>&1 &
    pids+=($!); pid[d$1]=$!
}
kill_node() { # K
    kill -KILL "${pid[c$1]}" "${pid[d$1]}"
    wait "${pid[c$1]}" "${pid[d$1]}" 2>/dev/null
}
expect() { # WHAT WANT CLIENT-ARGS...
    local what=$1 want=$2 got; shift 2
    got=$("$client" "$dir/slave.ini" "$@") || fail "$what: client failed"
    [ "$got" = "$want" ] || fail "$what: $got, expected $want"
    echo "faults.sh: $what: $got"
}
for k in 0 1 2 3; do conf $((base + 2 * k + 1)) >"$dir/server$k.ini"; done
conf $((base + 11)) >"$dir/slave.ini"
for k in 0 1 2; do start_node $k; done
"$chmpx" -conf "$dir/slave.ini" -d err >"$dir/slave.log" 2>&1 &
pids+=($!)
wait_for "three servers in service" normal $((base + 1)) 3
wait_for "the slave" normal $((base + 11)) 3
if [ -n "$capi" ]; then
    "$capi" "$dir/slave.ini" || fail "the libk2hdkc test failed"
fi
expect "writes" 400/400 fill 400 a
# the client sends on links of its own to the servers (chmpx-core/src/direct.rs): what it
# sends does not pass the slave, which counts it all the same (SELFSTATUS), from the counts
# the client reports (when it goes, here); so do the servers for the links their k2hdkc
# serves, from their k2hdkc's reports
# (to and from servers and slaves: SELFSTATUS counts the two apart, as the original)
count() { ctl "$1" SELFSTATUS | grep "$2 count" | tr -dc '0-9\n' | awk '{ n += $1 } END { print n + 0 }'; }
at_least() { [ "$(count "$1" "$2")" -ge "$3" ]; }
s0=$(count $((base + 11)) send)
expect "writes on direct links" 400/400 fill 400 l
wait_for "the slave counting 400 messages sent on links" at_least $((base + 11)) send $((s0 + 400))
echo "faults.sh: messages on links counted by the slave: $(($(count $((base + 11)) send) - s0)) sent"
# the servers' k2hdkc serve those links themselves (chmpx-core/src/served.rs): a link to each
# of the three servers, two of them answered by the k2hdkc server they reach, node 2's by its
# chmpx
t0=$(count $((base + 1)) send)
t1=$(count $((base + 3)) send)
# with TRACE on, the records chmpx would have made of the messages on links come with the
# counts: the slave's log shows the 400 requests go out and their answers come in; the three
# servers' logs together show 400 answers and 400 copies (REPLICA 1) go out, most of them
# sent on links by the two k2hdkc that serve theirs (node 2's chmpx sends its own)
for p in 11 1 3 5; do
    [ "$(ctl $((base + p)) "TRACE ENABLE")" = SUCCEED ] || fail "TRACE ENABLE on port $((base + p))"
done
expect "writes on served links" "400/400 2/3" links 400 s
traced() { ctl "$1" "TRACEVIEW $2" | grep -c '^\['; }
at_least_traced() { [ "$(traced "$1" "$2")" -ge "$3" ]; }
servers_out() {
    local n=0 p
    for p in 1 3 5; do n=$((n + $(traced $((base + p)) "DIR=OUT DEV=SOCK"))); done
    echo $n
}
servers_out_at_least() { [ "$(servers_out)" -ge "$1" ]; }
wait_for "the slave's trace of 400 requests sent on links" at_least_traced $((base + 11)) "DIR=OUT DEV=SOCK" 400
wait_for "the slave's trace of 400 answers on links" at_least_traced $((base + 11)) "DIR=IN DEV=SOCK" 400
wait_for "the servers' trace of 400 answers and 400 copies" servers_out_at_least 800
echo "faults.sh: traced on links: slave $(traced $((base + 11)) "DIR=OUT DEV=SOCK") out, servers $(servers_out) out"
for p in 11 1 3 5; do ctl $((base + p)) "TRACE DISABLE" >/dev/null; done
# what the two serving k2hdkc send on links (answers, copies) passes no chmpx: without their
# reports their chmpx would count next to nothing (together: how the keys fall on the
# servers differs from run to run)
sent_01() { echo $(($(count $((base + 1)) send) + $(count $((base + 3)) send) - t0 - t1)); }
sent_01_at_least() { [ "$(sent_01)" -ge "$1" ]; }
wait_for "nodes 0 and 1 counting what their k2hdkc sent on links" sent_01_at_least 100
echo "faults.sh: messages on links counted by nodes 0 and 1: $(sent_01) sent"
s1=$(count $((base + 11)) send)
CHMPX_DIRECT_LINKS=0 expect "writes through the slave" 400/400 fill 400 m
s2=$(count $((base + 11)) send)
[ $((s2 - s1)) -ge 400 ] || fail "400 writes through the slave: it sent $((s2 - s1)) messages"
# hostile messages are dropped (no answer), and the server goes on
expect "hostile messages" "0 answered" junk a0
expect "reads after them" 400/400 check 400 a
# a rename moves a key to the server of its new name and removes the old one everywhere
expect "set" 0x0000000000000000 set before value
expect "rename" 0x0000000000000000 ren before after
expect "renamed key" "0x0000000000000000 value" get after
expect "old key" "0x0000000000010000 " get before
# a queue: the marker on the server of the prefix, the entries wherever their names hash to
for v in one two three; do expect "push $v" 0x0000000000000000 qpush que $v; done
expect "pop" "0x0000000000000000 one" qpop que
kill_node 1
wait_for "server 0 to see server 1 down" sees_down $((base + 1))
expect "reads while a node is down" 400/400 check 400 a
expect "writes while a node is down" 400/400 fill 400 b
start_node 1
wait_for "the node back and merged" normal $((base + 1)) 3
kill_node 0
wait_for "server 2 to see server 0 down" sees_down $((base + 5))
expect "reads of the first keys with another node down" 400/400 check 400 a
expect "reads of the keys written during the outage" 400/400 check 400 b
expect "renamed key with another node down" "0x0000000000000000 value" get after
expect "old key with another node down" "0x0000000000010000 " get before
expect "pop with another node down" "0x0000000000000000 two" qpop que
expect "pop" "0x0000000000000000 three" qpop que
expect "pop of an empty queue" "0x8000000000000016 " qpop que
# automatic scaling under traffic: node 0 returns, a fourth server joins while a client writes,
# then one leaves (SERVICEOUT) while a client writes; every key stays readable throughout
start_node 0
wait_for "node 0 back and merged" normal $((base + 1)) 3
"$client" "$dir/slave.ini" fill 4000 e >"$dir/fill-e.out" 2>&1 &
filler=$!
start_node 3
wait "$filler"
[ "$(cat "$dir/fill-e.out")" = 4000/4000 ] || fail "writes while a server joins: $(cat "$dir/fill-e.out")"
echo "faults.sh: writes while a server joins: 4000/4000"
wait_for "four servers in service" normal $((base + 1)) 4
wait_for "the slave sees four" normal $((base + 11)) 4
for tag in a b; do expect "reads of $tag after the fourth server joined" 400/400 check 400 $tag; done
expect "reads of e after the fourth server joined" 4000/4000 check 4000 e
"$client" "$dir/slave.ini" fill 4000 f >"$dir/fill-f.out" 2>&1 &
filler=$!
out=$(ctl $((base + 1)) "SERVICEOUT 127.0.0.1:$((base + 5))")
[ "$out" = "SUCCEED" ] || fail "SERVICEOUT answered: $out"
wait "$filler"
[ "$(cat "$dir/fill-f.out")" = 4000/4000 ] || fail "writes while a server leaves: $(cat "$dir/fill-f.out")"
echo "faults.sh: writes while a server leaves: 4000/4000"
wait_for "server 2 out of service" out_of_service $((base + 5))
wait_for "three servers in service again" normal $((base + 1)) 3
kill_node 2
for tag in a b; do expect "reads of $tag after server 2 left" 400/400 check 400 $tag; done
for tag in e f; do expect "reads of $tag after server 2 left" 4000/4000 check 4000 $tag; done
# a chmpx killed while a client writes (its k2hdkc stays): the copies of acknowledged writes
# left the node before their answers (served links answer at once, copies go on links of their
# own, chmpx-core/src/copies.rs), so every acknowledged key is read from the others
"$client" "$dir/slave.ini" fill 3000 g >"$dir/fill-g.out" 2>&1 &
filler=$!
got_g100() { [ "$("$client" "$dir/slave.ini" get g100)" = "0x0000000000000000 v100" ]; }
wait_for "writes under way" got_g100
kill -KILL "${pid[c1]}"
wait "${pid[c1]}" 2>/dev/null
wait "$filler"
acked=$(cut -d/ -f1 "$dir/fill-g.out")
[ -n "$acked" ] && [ "$acked" -ge 2900 ] 2>/dev/null || fail "writes while a chmpx died: $(cat "$dir/fill-g.out")"
wait_for "server 0 to see server 1 down" sees_down $((base + 1))
readable=$("$client" "$dir/slave.ini" check 3000 g | cut -d/ -f1)
if ! [ "$readable" -ge "$acked" ] 2>/dev/null; then
    missing=""
    for i in $(seq 0 2999); do
        r=$("$client" "$dir/slave.ini" get "g$i")
        [ "$r" = "0x0000000000000000 v$i" ] || missing="$missing g$i($r)"
        [ ${#missing} -gt 400 ] && break
    done
    fail "a chmpx died under writes: $acked acknowledged, $readable readable; not read:$missing"
fi
echo "faults.sh: a chmpx killed under writes: $acked acknowledged, $readable readable"
echo "faults.sh: ok"
