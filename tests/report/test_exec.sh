#!/usr/bin/env bash
# test_exec.sh ABENCH PROBE STATIC_PROBE WORKDIR - `abench exec` on a small real program:
# the preload is verified for each backend, hyperfine's runs become rows of the results schema
# (with wall time and the wait4 peak RSS), boehm is n/a, a static binary (where LD_PRELOAD
# cannot take) is refused, and bad arguments exit 64 with a one-line reason. The command is
# printed shell-quoted, with hyperfine's "X ran N ± s times faster than Y" summary.
set -u
AB=$1 PROBE=$2 STATIC=$3 W=$4
rm -rf "$W" && mkdir -p "$W"
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }

allocs=sys,boehm
for lib in /usr/lib/*-linux-gnu/libjemalloc.so.2 /usr/lib64/libjemalloc.so.2; do
    [ -e "$lib" ] && allocs=sys,jemalloc,boehm && break
done

"$AB" exec --alloc "$allocs" --runs 3 --warmup 0 --out "$W/e1" -- "$PROBE" 2000 "a b" >"$W/e1.out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "exec on a dynamic program exits 0" || { bad "exec exit $rc"; cat "$W/e1.out"; }
grep -q '^sys .*none (libc) *3 ' "$W/e1.out" && ok "sys row in the table" || bad "sys row missing"
grep -q '^boehm *n/a' "$W/e1.out" && ok "boehm is n/a" || bad "boehm not n/a"
grep -qF "abench exec: $PROBE 2000 'a b'  (hyperfine" "$W/e1.out" && ok "the command is printed shell-quoted" ||
    { bad "command not quoted"; cat "$W/e1.out"; }
if [[ $allocs == *jemalloc* ]]; then
    grep -qE '^  (sys|jemalloc) ran$' "$W/e1.out" &&
        grep -qE '^    [0-9]+\.[0-9]{2} ± [0-9]+\.[0-9]{2} times faster than (sys|jemalloc)$' "$W/e1.out" &&
        ok "hyperfine-like 'X ran N ± s times faster than Y' summary" || { bad "no summary"; cat "$W/e1.out"; }
fi
grep -q "boehm: n/a: Debian's libgc does not redirect malloc" "$W/e1.out" && ok "n/a says why" || bad "n/a reason missing"
if [[ $allocs == *jemalloc* ]]; then
    grep -q '^jemalloc *verified *3 ' "$W/e1.out" && ok "jemalloc preload verified" || bad "jemalloc not verified"
    grep -q '^ok: .* all to .*libjemalloc.so.2' "$W/e1/cells/exec_jemalloc/preload_check.txt" &&
        ok "preload check names the library" || bad "preload_check.txt"
fi
python3 - "$W/e1" "$allocs" <<'PY' && ok "rows follow the results schema" || bad "rows"
import json, sys
d, allocs = sys.argv[1], sys.argv[2].split(",")
rows = [json.loads(l) for l in open(d + "/runs.jsonl")]
meta = json.load(open(d + "/meta.json"))
assert meta["schema"] == 1 and meta["command"][:2] == ["abench", "exec"], meta.get("command")
timed = [a for a in allocs if a != "boehm"]
for a in timed:
    mine = [r for r in rows if r["alloc"] == a]
    assert len(mine) == 3, (a, len(mine))
    for r in mine:
        assert r["schema"] == 1 and r["status"] == "ok" and r["workload"].startswith("exec:"), r
        assert r["wall_s"] > 0 and r["peak_rss_bytes"] > 0 and r["exit_code"] == 0, r
        assert "user_s" in r and "minflt" in r, r
    assert sorted(r["rep"] for r in mine) == [0, 1, 2]
na = [r for r in rows if r["alloc"] == "boehm"]
assert len(na) == 1 and na[0]["status"] == "na" and "wall_s" not in na[0], na
PY
"$AB" report "$W/e1" >"$W/r1.out" 2>&1 && [ -s "$W/e1/plots/relative_time.svg" ] &&
    ok "abench report draws an exec run" || { bad "report on exec run"; cat "$W/r1.out"; }
! grep -qE 't=-1|threads -1|threads=-1' "$W/e1/report.md" "$W/e1/report.html" "$W/e1"/plots/*.svg &&
    ok "the report on an exec run shows no threads -1" || bad "report shows threads -1"

"$AB" exec --alloc sys --runs 2 --out "$W/e2" -- "$STATIC" 10 >"$W/e2.out" 2>&1
rc=$?
[ $rc -eq 1 ] && ok "static program: exit 1" || bad "static program exit $rc"
grep -q 'preload did not take' "$W/e2.out" && ok "static program: preload refused" || { bad "no refusal"; cat "$W/e2.out"; }
! grep -q '"status":"ok"' "$W/e2/runs.jsonl" && ok "refused backend has no timed rows" || bad "timed rows written"

check_usage() { # NAME PATTERN ARGS...
    local name=$1 pat=$2; shift 2
    "$AB" exec "$@" >"$W/u.out" 2>&1
    local rc=$?
    if [ $rc -eq 64 ] && grep -q -- "$pat" "$W/u.out"; then ok "$name"; else bad "$name (exit $rc)"; cat "$W/u.out"; fi
}
check_usage "unknown backend" "unknown backend 'nosuch'" --alloc sys,nosuch -- "$PROBE"
check_usage "missing program" "no such executable on PATH" -- no-such-program-xyz
check_usage "command without --" "the command must follow --" "$PROBE"
check_usage "no command" "no command" --runs 3
check_usage "bad runs" "--runs: 'x' is not a count" --runs x -- "$PROBE"
check_usage "existing run folder" "already holds a run" --out "$W/e1" -- "$PROBE"

[ $fails -eq 0 ] && echo "all exec checks passed"
[ $fails -eq 0 ]
