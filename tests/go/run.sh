#!/usr/bin/env bash
# The Go binding k2hash_go (its own test suite, unchanged) against our staged library.
#   tests/go/run.sh STAGE_USR
# K2HASH_GO names a k2hash_go source tree or bare git directory. The Go module proxy is not
# reachable from this project's machines and the binding is in no package registry, so without
# K2HASH_GO the run is skipped (said so, exit 0). Go comes from Debian's golang-go.
# The suite checks that /usr/lib/libk2hash.so exists before it starts; the copy we run checks
# the staged library instead, so nothing is installed into the system.
set -euo pipefail
stage=$(cd "${1:?usage: run.sh STAGE_USR}" && pwd)
src=${K2HASH_GO:-}
if [ -z "$src" ] || [ ! -e "$src" ]; then
	echo "k2hash_go: skipped (set K2HASH_GO to a k2hash_go checkout or git directory)"
	exit 0
fi
if ! command -v go >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
	else
		echo "k2hash_go: go is missing (apt-get install golang-go)"; exit 1
	fi
fi
work=$(cd "$(dirname "$0")/../.." && pwd)/target/k2hash_go
rm -rf "$work"; mkdir -p "$work/src"
if [ -d "$src/.git" ] || [ ! -d "$src/tests" ]; then
	git --git-dir="$( [ -d "$src/.git" ] && echo "$src/.git" || echo "$src")" archive HEAD | tar -x -C "$work/src"
else
	cp -a "$src/." "$work/src/"
fi
sed -i "s|\"/usr/lib/libk2hash.so\"|\"$stage/lib/libk2hash.so\"|" "$work/src/tests/k2hash_test.go"
cd "$work/src"
# lock tables of the files the suite opens stay in our work folder (its handles are not all
# closed before it exits), removed with it
mkdir -p "$work/locks"
export K2H_LOCKDIR="$work/locks"
CGO_CFLAGS="-I$stage/include/k2hash" CGO_LDFLAGS="-L$stage/lib -Wl,-rpath,$stage/lib" \
	GOFLAGS=-mod=mod GOPROXY=off GOPATH="$work/gopath" GOCACHE="$work/cache" \
	go test -count=1 -v ./tests/ 2>&1 | tee "$work/test.log" | grep -E '^(--- FAIL|ok|FAIL)' || true
pass=$(grep -c '^--- PASS' "$work/test.log" || true)
fail=$(grep -c '^--- FAIL' "$work/test.log" || true)
echo "k2hash_go: $pass passed, $fail failed"
grep -q '^ok' "$work/test.log" && [ "$fail" = 0 ]
