#!/usr/bin/env bash
# run_preload.sh LIB CASE [PROG] - runs a real program from a Debian package twice, without and with
# LD_PRELOAD=LIB (libgoalloc-malloc.so), and checks that
#  1. the preload took: goalloc initialised inside the program (GOALLOC_VERBOSE=1 prints its
#     "goalloc: build:" line exactly once, which only happens when the program's malloc calls
#     reach goalloc) and, for the scripted cases (lua, python), the library is in the
#     program's /proc/self/maps (the script copies it to $GOALLOC_MAPS_FILE);
#  2. the program succeeded and its output is identical to the run on glibc's malloc;
#  3. goalloc printed nothing but its verbose lines (no warning, no diagnostic).
# CASE: lua | sqlite | python | python-fork. PROG: the program (default: Debian's, in /usr/bin,
# not a shim from PATH: a wrapper script would run other programs under the preload too).
# Exit 0 pass, 1 fail, 2 usage.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=${1:-}
kind=${2:-}
[ -f "$lib" ] || { echo "run_preload.sh: no preload library at '$lib'" >&2; exit 2; }
lib=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")
work=$(mktemp -d "${TMPDIR:-/tmp}/goalloc-preload.XXXXXX")
trap 'rm -rf "$work"' EXIT

prog=${3:-}
vars=()
case $kind in
  lua) cmd=("${prog:-/usr/bin/lua5.4}" "$here/table_heavy.lua") ;;
  sqlite) cmd=("${prog:-/usr/bin/sqlite3}" "$work/db.sqlite" -init /dev/null -batch -bail)
          stdin=$here/queries.sql ;;
  python|python-fork)
    script=dict_heavy.py; [ "$kind" = python-fork ] && script=fork_threads.py
    vars=(PYTHONMALLOC=malloc PYTHONHASHSEED=0)
    cmd=("${prog:-/usr/bin/python3}" -I "$here/$script") ;;
  *) echo "run_preload.sh: unknown case '$kind' (lua, sqlite, python, python-fork)" >&2; exit 2 ;;
esac
[ -x "${cmd[0]}" ] || { echo "run_preload.sh: ${cmd[0]} not installed (ci/deps)" >&2; exit 1; }

run() { # run OUT ERR [VAR=value...] : the program alone (no wrapper process under the preload)
  local out=$1 err=$2; shift 2
  rm -f "$work/db.sqlite"
  env "${vars[@]}" "$@" "${cmd[@]}" <"${stdin:-/dev/null}" >"$out" 2>"$err"
}

fail() { echo "FAIL ($kind): $*" >&2; exit 1; }

run "$work/ref.out" "$work/ref.err" GOALLOC_MAPS_FILE="$work/ref.maps" \
  || fail "the program fails even without the preload: $(head -c 500 "$work/ref.err")"
run "$work/ga.out" "$work/ga.err" LD_PRELOAD="$lib" GOALLOC_VERBOSE=1 \
  GOALLOC_MAPS_FILE="$work/ga.maps"
rc=$?
[ $rc -eq 0 ] || fail "exit status $rc under the preload; stderr: $(head -c 2000 "$work/ga.err")"

n=$(grep -c '^goalloc: build:' "$work/ga.err")
[ "$n" = 1 ] || fail "goalloc did not initialise exactly once in the program (saw $n build lines): the preload did not take"
if [ "$kind" != sqlite ]; then
  [ -s "$work/ga.maps" ] || fail "the program did not record its /proc/self/maps"
  grep -q "$(basename "$lib")" "$work/ga.maps" || fail "$(basename "$lib") is not in the program's /proc/self/maps"
fi
other=$(grep -v '^goalloc: \(build\|option\)' "$work/ga.err" | head -5)
[ -z "$other" ] || fail "unexpected stderr under the preload: $other"
[ -s "$work/ref.out" ] || fail "the reference run printed nothing"
if ! cmp -s "$work/ref.out" "$work/ga.out"; then
  diff "$work/ref.out" "$work/ga.out" | head -20 >&2
  fail "output differs from the run on glibc's malloc"
fi
echo "ok ($kind): $(wc -l <"$work/ga.out") identical output lines, preload confirmed"
