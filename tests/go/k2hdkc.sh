#!/usr/bin/env bash
# The Go binding k2hdkc_go (its own test suite and its example, unchanged) against our staged
# libk2hdkc and a cluster of our chmpx and k2hdkc servers.
#   tests/go/k2hdkc.sh STAGE_USR
# K2HDKC_GO names a k2hdkc_go source tree or bare git directory. The Go module proxy is not
# reachable from this project's machines and the binding is in no package registry we reach, so
# without K2HDKC_GO the run is skipped (said so, exit 0). Go comes from Debian's golang-go.
# The suite checks that /usr/lib/libk2hdkc.so exists before it starts; the copy we run checks
# the staged library instead, so nothing is installed into the system. cgo finds the staged
# headers and libraries through CGO_CFLAGS/CGO_LDFLAGS (the sources name /usr/include/k2hdkc,
# /usr/include/chmpx, /usr/include/k2hash and /usr/lib, which do not exist here).
# The tests and the example open ../cluster/slave.yaml (../../cluster/slave.yaml) with slave
# control port 8031: they are built here, then run by tests/k2hdkc/bindings-cluster.sh (three
# servers and a slave of ours in a private namespace), which writes its slave configuration to
# /tmp/slave.yaml; the copy's cluster/slave.yaml is replaced by it.
set -euo pipefail
stage=$(cd "${1:?usage: k2hdkc.sh STAGE_USR}" && pwd)
src=${K2HDKC_GO:-}
if [ -z "$src" ] || [ ! -e "$src" ]; then
	echo "k2hdkc_go: skipped (set K2HDKC_GO to a k2hdkc_go checkout or git directory)"
	exit 0
fi
if ! command -v go >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
	else
		echo "k2hdkc_go: go is missing (apt-get install golang-go)"; exit 1
	fi
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$root/target/k2hdkc_go
rm -rf "$work"; mkdir -p "$work/src"
if [ -d "$src/.git" ] || [ ! -d "$src/tests" ]; then
	git --git-dir="$( [ -d "$src/.git" ] && echo "$src/.git" || echo "$src")" archive HEAD | tar -x -C "$work/src"
else
	cp -a "$src/." "$work/src/"
fi
sed -i "s|\"/usr/lib/libk2hdkc.so\"|\"$stage/lib/libk2hdkc.so\"|" "$work/src/tests/k2hdkc_test.go"
cd "$work/src"
export CGO_CFLAGS="-I$stage/include/k2hdkc -I$stage/include/chmpx -I$stage/include/k2hash -I$stage/include${CGO_CFLAGS:+ $CGO_CFLAGS}" \
	CGO_LDFLAGS="-L$stage/lib -Wl,-rpath,$stage/lib${CGO_LDFLAGS:+ $CGO_LDFLAGS}" \
	GOFLAGS=-mod=mod GOPROXY=off GOPATH="$work/gopath" GOCACHE="$work/cache"
go vet ./k2hdkc ./tests ./examples/... >"$work/vet.log" 2>&1 || true
go test -c -o "$work/k2hdkc.test" ./tests
go build -o "$work/setget" ./examples/setget
# run both through the cluster; the example prints the value it read back ("world")
# shellcheck disable=SC2016
LD_LIBRARY_PATH="$stage/lib" bash "$root/tests/k2hdkc/bindings-cluster.sh" "$stage/bin" bash -c '
	cp "$DKC_SLAVE_CONF" cluster/slave.yaml
	(cd tests && "$1/k2hdkc.test" -test.v -test.count=1) >"$1/test.log" 2>&1 || true
	(cd examples/setget && "$1/setget") >"$1/setget.out" 2>"$1/setget.err"
' run "$work" || true
grep -E '^(--- FAIL|ok|FAIL|PASS)' "$work/test.log" || true
pass=$(grep -c '^--- PASS' "$work/test.log" || true)
fail=$(grep -c '^--- FAIL' "$work/test.log" || true)
if [ "$(cat "$work/setget.out" 2>/dev/null)" = world ]; then pass=$((pass + 1)); echo "example setget: ok"
else fail=$((fail + 1)); echo "example setget: FAILED"; cat "$work/setget.out" "$work/setget.err" 2>/dev/null || true; fi
echo "k2hdkc_go: $pass passed, $fail failed"
grep -qx 'PASS' "$work/test.log" && [ "$fail" = 0 ]
