#!/usr/bin/env bash
# test_goruntime.sh RUNNER - the go-runtime runner keeps the runner contract of hn_runner.h:
# --info, parameter errors (exit 2), n/a (exit 4) for what Go cannot do, and complete cell
# files whose figures are consistent.
set -u
runner=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0; total=0
check() { total=$((total + 1)); if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

info=$("$runner" --info)
check "--info names the backend and its GC capability" \
  "python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d[\"name\"]==\"go-runtime\" and \"gc\" in d[\"caps\"] and d[\"version\"].startswith(\"go1.\")' '$info'"

"$runner" --workload churn-gc --param nosuch=1 2>"$tmp/err"; rc=$?
check "unknown parameter exits 2 and names it" "[ $rc -eq 2 ] && grep -q nosuch '$tmp/err'"
"$runner" --workload churn-gc --param ops=abc 2>"$tmp/err"; rc=$?
check "bad value exits 2 and names the parameter" "[ $rc -eq 2 ] && grep -q 'parameter ops' '$tmp/err'"
"$runner" --workload churn-gc --param mode=manual 2>"$tmp/err"; rc=$?
check "manual mode is n/a (exit 4)" "[ $rc -eq 4 ] && grep -q 'n/a' '$tmp/err'"
"$runner" --workload churn 2>"$tmp/err"; rc=$?
check "a malloc/free workload is n/a (exit 4)" "[ $rc -eq 4 ]"
"$runner" --workload request --param variant=arena 2>"$tmp/err"; rc=$?
check "request variant=arena is n/a (exit 4)" "[ $rc -eq 4 ]"

run_cell() { # run_cell NAME WORKLOAD PARAMS...
  local name=$1 w=$2; shift 2
  local args=()
  for p in "$@"; do args+=(--param "$p"); done
  "$runner" --workload "$w" --threads 2 --seed 7 --out "$tmp/$name" --settle-ms 50 "${args[@]}"
}

for cell in "churn churn-gc ops=200000 slots=1024" "trees binarytrees depth=10" \
            "burst burst-gc steady=1MiB factor=4 phase_ops=20000 memlimit=64MiB" \
            "req request variant=gc requests=500" \
            "memlim memlimit-gc live=8MiB memlimit=16MiB ops=400000"; do
  set -- $cell
  run_cell "$@"; rc=$?
  check "$2 runs (exit 0)" "[ $rc -eq 0 ]"
  check "$2 result.json is complete and consistent" "python3 - '$tmp/$1' '$2' <<'PY'
import json, sys, csv
d, w = sys.argv[1], sys.argv[2]
r = json.load(open(d + '/result.json'))
assert r['schema'] == 1 and r['alloc'] == 'go-runtime' and r['workload'] == w and r['threads'] == 2
assert r['gomaxprocs'] == 2 and '(GOMAXPROCS 2)' in r['alloc_version']  # one P per thread
assert r['ops'] > 0 and r['wall_s'] > 0
assert abs(r['ns_per_op'] - r['wall_s'] * 1e9 * 2 / r['ops']) < 1e-6 * r['ns_per_op']
assert r['params']['mode' if w != 'request' else 'variant'] == 'gc'
assert r['gc']['cycles'] >= 1 and r['gc']['pause_max_ns'] >= r['gc']['pause_p50_ns'] > 0
rows = list(csv.DictReader(open(d + '/timeline.csv')))
assert len(rows) >= 1 and int(rows[-1]['rss_bytes']) > 0
ev = list(csv.DictReader(open(d + '/events.csv')))
assert sum(1 for e in ev if e['kind'] == 'gc_end') == r['gc']['cycles']
if w == 'memlimit-gc':  # the GC chart's series: heap, goal and limit on every cycle
    gcs = [e for e in ev if e['kind'] == 'gc_end']
    assert all(e['mem_limit'] == str(16 << 20) for e in gcs)
    assert all(int(e['heap_goal']) > 0 for e in gcs)
    assert any(int(e['heap_before']) > 0 for e in gcs) and any(int(e['heap_after']) > 0 for e in gcs)
    assert r['params']['gogc'] == '-1' and r['stats_end']['extra']['GCSys'] > 0
if w == 'burst-gc':
    assert 'after-spike' in r['settle'] and any(e['name'] == 'spike' for e in ev)
    assert all(e['mem_limit'] == str(64 << 20) for e in ev if e['kind'] == 'gc_end')
PY"
done

# The settle delay is not measured time (as in the C runners): with a 1.5 s settle and a small
# burst, the process outlives its measured wall by at least the settle delay.
t0=$(date +%s.%N)
"$runner" --workload burst-gc --seed 3 --settle-ms 1500 --out "$tmp/settle" \
  --param steady=256KiB --param factor=2 --param phase_ops=2000; rc=$?
t1=$(date +%s.%N)
check "burst-gc with a settle delay runs (exit 0)" "[ $rc -eq 0 ]"
check "burst-gc's wall excludes the settle delay" "python3 - '$tmp/settle' $t0 $t1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1] + '/result.json'))
outside = float(sys.argv[3]) - float(sys.argv[2]) - r['wall_s']
assert r['settle_ms'] == 1500 and 'after-spike' in r['settle'], r
assert outside >= 1.5, 'process wall - measured wall = %.3f s < the 1.5 s settle' % outside
PY"

echo "go-runtime runner: $((total - fails)) of $total checks passed"
[ $fails -eq 0 ]
