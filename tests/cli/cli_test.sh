#!/usr/bin/env bash
# cli_test.sh CASE ABENCH - integration tests of `abench run` / `abench list` on the null backend.
#   errors     unknown backend/workload/flag/parameter and bad values: exit 64, one line naming it,
#              nothing run or written
#   list       backends and workloads listed; -v shows parameters with types and defaults,
#              wrapped without losing spaces; --version; usage errors of list/goalloc/exec/
#              report exit 64
#   faults     a crashing and a hanging cell are recorded (signal, timeout); the rest is kept
#   interrupt  SIGINT mid-matrix: exit 130, finished cells kept, runs.jsonl parses
#   schema     runs.jsonl and runs.csv agree; meta.json and cell files are complete
#   refuse     a runner whose malloc check fails refuses to run (exit 3)
#   suite      the default suite's lines are valid for this build and cover every workload
#   warmup     warm-up repetitions run but are not results; default reps; runner flags checked
#   instructions  --instructions: valgrind missing is refused; instr_per_op of two runs agree
#              within 0.5%; compare passes that A/A and catches +5% instructions
#   gcpauses   burst-gc on goalloc, goalloc-stw (its setting reaches the runner), go-runtime and
#              boehm where built, and sys: GC rows carry pause p50 <= p99 <= max, sys none
#              (n/a in the summary and the report), the pause list in events.csv, the GC pauses
#              chart with a series per GC backend; goalloc-stw is n/a where goalloc does not
#              collect, in the suite too
set -u
case_=$1 abench=$2
bindir=$(dirname "$abench")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
fails=0 total=0
check() { # check NAME COMMAND...
  total=$((total + 1))
  if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
# expect_usage NAME WORD ARGS... : exit $want (64 = EX_USAGE, every command),
# exactly one stderr line, naming WORD
want=64
expect_usage() {
  local name=$1 word=$2; shift 2
  "$abench" "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  check "$name: exit $want" "[ $rc -eq $want ]"
  check "$name: one line naming '$word'" "[ \$(wc -l <'$tmp/err') -eq 1 ] && grep -qF -- '$word' '$tmp/err'"
}

case $case_ in
errors)
  want=64 expect_usage "unknown command" frobnicate frobnicate
  expect_usage "unknown backend" nosuchalloc run --alloc nosuchalloc --workload churn
  expect_usage "unknown workload" nosuchwork run --alloc null --workload churn,nosuchwork
  expect_usage "unknown flag" --frobnicate run --alloc null --workload churn --frobnicate 1
  expect_usage "unknown parameter" nosuchparam run --alloc null --workload churn --param nosuchparam=3
  expect_usage "bad parameter value" slots run --alloc null --workload churn --param slots=0
  expect_usage "bad enum value" dist run --alloc null --workload churn --param dist=zipf
  expect_usage "bad size suffix" max run --alloc null --workload churn --param max=12XB
  expect_usage "bad threads" --threads run --alloc null --workload churn --threads 0
  expect_usage "no workload" workload run --alloc null
  export GOMEMLIMIT=64MB
  expect_usage "malformed GOMEMLIMIT" GOMEMLIMIT run --alloc null --workload churn
  unset GOMEMLIMIT
  export GOGC=fast
  expect_usage "malformed GOGC" GOGC run --alloc null --workload churn
  want=64 expect_usage "malformed GOGC (exec)" GOGC exec --alloc sys -- true
  unset GOGC
  if [ -x "$bindir/abench-runner-goalloc" ]; then
    export GOALLOC_DEBUG=bogus
    expect_usage "malformed GOALLOC_DEBUG" GOALLOC_DEBUG run --alloc goalloc --workload churn
    want=64 expect_usage "malformed GOALLOC_DEBUG (exec)" GOALLOC_DEBUG exec --alloc goalloc -- true
    unset GOALLOC_DEBUG
  fi
  check "nothing was written" "[ ! -e results ]"
  "$bindir/abench-runner-null" --workload churn --param slots=abc 2>"$tmp/err"; rc=$?
  check "runner: bad value exits 2 naming the parameter" "[ $rc -eq 2 ] && grep -q slots '$tmp/err'"
  "$bindir/abench-runner-null" --workload churn --bogus 2>"$tmp/err"; rc=$?
  check "runner: unknown flag exits 2" "[ $rc -eq 2 ] && grep -q -- --bogus '$tmp/err'"
  ;;
list)
  "$abench" list --all >"$tmp/out" 2>"$tmp/err"; rc=$?
  check "list exits 0" "[ $rc -eq 0 ]"
  check "list names sys with its glibc version" "grep -qE '^  sys +glibc' '$tmp/out'"
  check "list names the null backend (--all)" "grep -qE '^  null ' '$tmp/out'"
  check "list shows churn with a summary" "grep -qE '^  churn +[a-z]' '$tmp/out'"
  check "list --all shows test-only workloads" "grep -q test-crash '$tmp/out'"
  "$abench" list >"$tmp/out2"
  check "plain list hides test-only workloads" "! grep -q test-crash '$tmp/out2'"
  "$abench" list -v churn >"$tmp/out"; rc=$?
  check "list -v churn shows typed parameters with defaults" \
    "[ $rc -eq 0 ] && grep -qE 'slots +int +default 4096' '$tmp/out' && grep -qE 'dist +enum' '$tmp/out'"
  want=64
  expect_usage "list of an unknown workload" nosuchwork list nosuchwork
  expect_usage "unknown list flag" --frobnicate list --frobnicate
  expect_usage "unknown goalloc tool" nope goalloc nope
  expect_usage "unknown exec flag" --frobnicate exec --frobnicate -- true
  expect_usage "exec flag without value" --runs exec --runs
  expect_usage "report flag without value" --baseline report --baseline
  "$abench" --version >"$tmp/out" 2>"$tmp/err"; rc=$?
  check "--version prints the version and commit" \
    "[ $rc -eq 0 ] && grep -qE '^abench [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{7,}(-dirty)?|unknown)\)' '$tmp/out'"
  "$abench" list -v >"$tmp/out"
  check "list -v keeps the space at each wrap" \
    "! grep -qE 'slotand|freeshit|objectsare|handsthem' '$tmp/out'"
  check "list -v prints size ranges as binary units, not floats" \
    "grep -qE 'memlimit +size .*\[0\.\.1 PiB\]' '$tmp/out' && ! grep -qE '\[[0-9.]+e\+' '$tmp/out'"
  if [ -x "$bindir/goalloc-sizeclasses" ]; then
    "$abench" goalloc sizeclasses >"$tmp/sc"; rc=$?
    check "goalloc sizeclasses passes the tool's CSV through" \
      "[ $rc -eq 0 ] && head -1 '$tmp/sc' | grep -q '^class,bytes_obj,bytes_span,pages,objects' && [ \$(wc -l <'$tmp/sc') -ge 68 ]"
  fi
  check "abench links no allocator under test" \
    "! ldd '$abench' | grep -qE 'jemalloc|mimalloc|tcmalloc|libgc|goalloc'"
  ;;
faults)
  start=$(date +%s)
  "$abench" run --alloc null --workload churn,test-crash,test-hang --param ops=2000 --reps 1 \
    --warmup 0 --timeout 2 --out "$tmp/run" >"$tmp/out" 2>"$tmp/err"; rc=$?
  check "a failed cell makes the exit code 1" "[ $rc -eq 1 ]"
  # The run ending at all shows the hang was cut (ctest's TIMEOUT bounds it); that it was cut
  # by its 2 s timeout, and not before, is asserted as a state and an ordering, not a speed.
  check "the hang was cut at its timeout, not before" \
    "grep -q 'test-hang.*no result within the 2 s timeout; killed' '$tmp/run/runs.jsonl' && [ \$(( \$(date +%s) - start )) -ge 2 ]"
  check "every cell recorded with its fate" "python3 - '$tmp/run' <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + '/runs.jsonl')]
by = {r['workload']: r for r in rows}
assert len(rows) == 3, rows
assert by['churn']['status'] == 'ok' and by['churn']['ops'] == 2000
assert by['test-crash']['status'] == 'crash' and by['test-crash']['signal'] == 11
assert 'signal 11' in by['test-crash']['error']
assert by['test-hang']['status'] == 'timeout' and 'timeout' in by['test-hang']['error']
assert 'signal' not in by['test-hang'] and 'ns_per_op' not in by['test-hang']
import csv
crows = {c['workload']: c for c in csv.DictReader(open(sys.argv[1] + '/runs.csv'))}
assert len(crows) == 3
for w, r in by.items():
    assert crows[w]['status'] == r['status'] and crows[w]['error'] == r.get('error', '')
    assert crows[w]['signal'] == str(r.get('signal', ''))
PY"
  check "one progress line per cell when stderr is not a terminal" \
    "[ \$(grep -c '^abench run: \[[1-3]/3\]' '$tmp/err') -eq 3 ]"
  check "the summary names the failures" "grep -q crash '$tmp/out' && grep -q timeout '$tmp/out'"
  ;;
interrupt)
  "$abench" run --alloc null --workload churn,test-hang --param ops=2000 --reps 1 --warmup 0 \
    --timeout 60 \
    --out "$tmp/run" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  # Wait (at most 60 s) until the first cell is written and the hang cell's runner is running.
  for _ in $(seq 600); do
    [ -s "$tmp/run/runs.jsonl" ] && pgrep -f -- "--workload test-hang.*$tmp/run/cells" >/dev/null && break
    sleep 0.1
  done
  check "the hang cell was running when interrupted" \
    "pgrep -f -- '--workload test-hang.*$tmp/run/cells' >/dev/null"
  kill -INT $pid
  wait $pid; rc=$?
  check "interrupted run exits 130" "[ $rc -eq 130 ]"
  check "finished cells kept, the interrupted one not recorded" "python3 - '$tmp/run' <<'PY'
import json, sys, csv
d = sys.argv[1]
rows = [json.loads(l) for l in open(d + '/runs.jsonl')]
assert [r['workload'] for r in rows] == ['churn'] and rows[0]['status'] == 'ok', rows
assert len(list(csv.DictReader(open(d + '/runs.csv')))) == 1
m = json.load(open(d + '/meta.json'))
assert m['interrupted'] is True and m['cells_finished'] == 1 and m['finished']
PY"
  check "the hung runner was killed" "! pgrep -f '$tmp/run/cells' >/dev/null"
  check "the message says what was kept" "grep -q interrupted '$tmp/err'"
  ;;
schema)
  "$abench" run --alloc null,sys --workload churn --threads 1,2 --reps 2 --warmup 0 --latency --param ops=3000 \
    --param dist=uniform,fixed --label schema --out "$tmp/run" >"$tmp/out" 2>"$tmp/err"; rc=$?
  check "run exits 0" "[ $rc -eq 0 ]"
  check "runs.jsonl and runs.csv agree; meta and cells complete" "python3 - '$tmp/run' <<'PY'
import json, sys, csv, os, math
d = sys.argv[1]
rows = [json.loads(l) for l in open(d + '/runs.jsonl')]
crows = list(csv.DictReader(open(d + '/runs.csv')))
assert len(rows) == len(crows) == 16, (len(rows), len(crows))
def flat(r):
    out = {}
    for k, v in r.items():
        if k == 'params': out[k] = ';'.join(f'{a}={b}' for a, b in v.items())
        elif k == 'gc': out.update({f'gc_{a}': b for a, b in v.items()})
        elif k == 'lat':
            for op, s in v.items(): out.update({f'lat_{op}_{a}': b for a, b in s.items()})
        elif not isinstance(v, (dict, list)): out[k] = v
    return out
for r, c in zip(rows, crows):
    f = flat(r)
    for col, text in c.items():
        v = f.get(col)
        if v is None: assert text == '', (col, text); continue
        if isinstance(v, bool): assert text == str(v).lower(); continue
        if isinstance(v, (int, float)): assert math.isclose(float(text), v, rel_tol=1e-9), (col, text, v); continue
        assert text == str(v), (col, text, v)
    for col in ('alloc','workload','threads','rep','wall_s','ops','ns_per_op','peak_rss_bytes'):
        assert col in c and c[col] != '', col
    assert r['status'] == 'ok' and r['schema'] == 1
    assert math.isclose(r['ns_per_op'], r['wall_s'] * 1e9 * r['threads'] / r['ops'], rel_tol=1e-6)
    assert r['ops'] == 3000 * r['threads']
    if r['alloc'] == 'null':  # the recording backend: the runner brackets each worker thread
        x = r['stats_end']['extra']
        assert x['calls.thread_init'] == x['calls.thread_exit'] == r['threads'], x
        assert x['calls.check_process_malloc'] == 1 and x['calls.malloc'] >= 3000 * r['threads']
    cd = os.path.join(d, 'cells', r['cell_id'])
    for f_ in ('result.json', 'timeline.csv', 'events.csv', 'lat_malloc.hgrm', 'stderr.txt'):
        assert os.path.exists(os.path.join(cd, f_)), (cd, f_)
    assert open(os.path.join(cd, 'timeline.csv')).readline().startswith('t_s,rss_bytes,live_bytes')
assert len({r['cell_id'] for r in rows}) == 16
# interleaved: allocators alternate cell by cell
assert [r['alloc'] for r in rows[:4]] == ['null', 'sys', 'null', 'sys']
assert [r['rep'] for r in rows] == [0] * 8 + [1] * 8
m = json.load(open(d + '/meta.json'))
for k in ('schema','tool','command','started','finished','compiler','build_type','host','cpu_model',
          'ncpu','kernel','env','allocators','timer','matrix'):
    assert k in m, k
assert set(m['allocators']) == {'null', 'sys'} and m['timer']['ticks_per_ns'] > 0
assert m['command'][:4] == ['abench', 'run', '--alloc', 'null,sys'], m['command']
assert 'dist=uniform,fixed' in m['command']
assert m['matrix']['reps'] == 2 and m['matrix']['cells'] == 16 and m['interrupted'] is False
PY"
  check "summary table has one line per alloc x variant x threads" \
    "[ \$(grep -cE '^churn ' '$tmp/out') -eq 8 ]"
  ;;
refuse)
  ABENCH_TEST_FAIL_MALLOC_CHECK=1 "$bindir/abench-runner-null" --workload churn --param ops=100 \
    --out "$tmp/cell" 2>"$tmp/err"; rc=$?
  check "runner refuses with exit 3" "[ $rc -eq 3 ] && grep -q 'refusing to run' '$tmp/err'"
  check "nothing measured" "[ ! -e '$tmp/cell/result.json' ]"
  info=$(ABENCH_TEST_FAIL_MALLOC_CHECK=1 "$bindir/abench-runner-null" --info)
  check "--info reports the failed check" "echo '$info' | grep -q 'test hook'"
  ABENCH_TEST_FAIL_MALLOC_CHECK=1 "$abench" run --alloc null --workload churn --param ops=100 \
    --out "$tmp/run" >"$tmp/out" 2>"$tmp/err"; rc=$?
  check "abench run stops before running (exit 64) and says why" \
    "[ $rc -eq 64 ] && grep -q 'refusing to run' '$tmp/err' && [ ! -e '$tmp/run/runs.jsonl' ]"
  ;;
suite)
  "$abench" run --suite default --alloc null,sys --reps 2 --warmup 0 --dry-run >"$tmp/out" 2>"$tmp/err"; rc=$?
  check "dry run exits 0" "[ $rc -eq 0 ]"
  check "no suite line is rejected by this build's workloads" "! grep -q 'line(s) skipped' '$tmp/err'"
  check "nothing was written" "[ ! -e results ]"
  "$abench" list >"$tmp/list"
  check "every listed workload is in the suite, cells interleaved, reps outermost" "python3 - '$tmp/out' '$tmp/list' <<'PY'
import sys, re
cells = [l.split() for l in open(sys.argv[1])]
listed = set()
in_w = False
for l in open(sys.argv[2]):
    if l.startswith('Workloads:'): in_w = True; continue
    m = re.match(r'  (\S+) ', l)
    if in_w and m: listed.add(m.group(1))
in_suite = {c[2] for c in cells}
missing = listed - in_suite - {'replay'}  # replay needs a trace file of the user's
assert not missing, missing
assert [c[1] for c in cells[:4]] == ['null', 'sys', 'null', 'sys']
reps = [int(c[4].split('=')[1]) for c in cells]
assert reps == sorted(reps) and reps.count(0) == reps.count(1) == len(cells) // 2
assert [int(c[0]) for c in cells] == list(range(len(cells)))
PY"
  ;;
warmup)
  "$abench" run --alloc null --workload churn --param ops=2000 --reps 2 --warmup 1 \
    --out "$tmp/run" >"$tmp/out" 2>"$tmp/err"; rc=$?
  check "run with a warm-up exits 0" "[ $rc -eq 0 ]"
  check "the warm-up ran (3 progress lines) but is not a result (2 rows, no folder)" \
    "[ \$(grep -c '^abench run: \[[1-3]/3\]' '$tmp/err') -eq 3 ] &&
     [ \$(wc -l <'$tmp/run/runs.jsonl') -eq 2 ] && [ \$(ls '$tmp/run/cells' | wc -l) -eq 2 ] &&
     ! ls '$tmp/run/cells' | grep -q '_w0'"
  "$abench" run --alloc null --workload churn --dry-run >"$tmp/dry" 2>&1
  check "defaults: 6 measured repetitions after 1 warm-up" "grep -q '7 cells' '$tmp/dry' ||
     [ \$(grep -c ' churn ' '$tmp/dry') -eq 7 ]"
  "$abench" run --alloc null --workload churn --sample-mean 0 --out "$tmp/bad" >"$tmp/o2" 2>"$tmp/e2"; rc=$?
  check "--sample-mean 0 is refused before any cell (exit 64)" \
    "[ $rc -eq 64 ] && grep -q 'sample-mean' '$tmp/e2' && [ ! -e '$tmp/bad' ]"
  "$abench" run --suite quick --alloc null --warmup 0 --reps 1 --dry-run >"$tmp/q" 2>&1; rc=$?
  check "the quick suite exists and validates" "[ $rc -eq 0 ] && grep -q ' churn ' '$tmp/q'"
  ;;
instructions)
  PATH=/nonexistent "$abench" run --alloc null --workload churn --instructions --out "$tmp/nv" \
    >"$tmp/o0" 2>"$tmp/e0"; rc=$?
  check "no valgrind: one-line error, exit 2 (cannot measure here), nothing run" \
    "[ $rc -eq 2 ] && grep -q valgrind '$tmp/e0' && [ ! -e '$tmp/nv' ]"
  # A/A: two runs of one cell agree (instruction counts are deterministic).
  for side in a b; do
    "$abench" run --alloc null --workload churn --param ops=20000 --instructions --reps 2 \
      --out "$tmp/$side" >"$tmp/o_$side" 2>"$tmp/e_$side" || echo "run $side failed: $(tail -3 "$tmp/e_$side")"
  done
  # The same cell with 5% more instructions per op: the null backend's test switch adds 3
  # instructions per spin to every malloc (one malloc per churn op).
  spin=$(python3 -c "import json; r=json.loads(open('$tmp/a/runs.jsonl').readline()); print(round(0.05 * r['instr_per_op'] / 3))")
  AB_NULL_SPIN=$spin "$abench" run --alloc null --workload churn --param ops=20000 \
    --instructions --reps 2 --out "$tmp/slow" >"$tmp/o_s" 2>"$tmp/e_s" || echo "slow run failed"
  check "rows carry instr and instr_per_op, no wall-clock ns_per_op" "python3 - '$tmp/a' '$tmp/b' '$tmp/slow' <<'PY'
import json, sys
def rows(d): return [json.loads(l) for l in open(d + '/runs.jsonl')]
a, b, s = (rows(d) for d in sys.argv[1:4])
for r in a + b + s:
    assert r['status'] == 'ok', r
    assert r['instr'] > 0 and r['instr_per_op'] > 0 and r['instrumented'] == 'callgrind'
    assert 'ns_per_op' not in r and 'wall_s' not in r and 'peak_rss_bytes' not in r
va = [r['instr_per_op'] for r in a]; vb = [r['instr_per_op'] for r in b]
vs = [r['instr_per_op'] for r in s]
for x in va + vb:
    assert abs(x - va[0]) / va[0] < 0.005, (va, vb)
assert 1.03 < min(vs) / max(va) < 1.15, (va, vs)  # ~5% (3 instructions a spin when optimised)
PY"
  "$abench" compare "$tmp/a" "$tmp/b" --metric instr_per_op >"$tmp/cmp_aa" 2>&1; rc=$?
  check "compare A/A on instr_per_op: no regression (exit 0)" "[ $rc -eq 0 ] || { cat '$tmp/cmp_aa'; false; }"
  "$abench" compare "$tmp/a" "$tmp/slow" --metric instr_per_op >"$tmp/cmp_ab" 2>&1; rc=$?
  check "compare A/B with +5% instructions: a regression (exit 1)" "[ $rc -eq 1 ] || { cat '$tmp/cmp_ab'; false; }"
  ;;
gcpauses)
  allocs=goalloc,goalloc-stw
  for b in go-runtime boehm; do [ -x "$bindir/abench-runner-$b" ] && allocs=$allocs,$b; done
  allocs=$allocs,sys
  # GOALLOC_VERBOSE: goalloc prints its options, so the cell's stderr shows what it was given;
  # the caller's own GOALLOC_DEBUG key must survive beside the variant's.
  GOALLOC_VERBOSE=1 GOALLOC_DEBUG=madvdontneed=0 "$abench" run --alloc "$allocs" \
    --workload burst-gc,churn --param steady=1MiB --param factor=4 --param phase_ops=20000 \
    --param ops=20000 --reps 2 --warmup 0 --out "$tmp/run" --report >"$tmp/out" 2>"$tmp/err"; rc=$?
  check "burst-gc on $allocs runs with --report (exit 0)" "[ $rc -eq 0 ] || { tail -5 '$tmp/err'; false; }"
  check "GC rows: pause fields in order; sys: none; goalloc-stw: its setting, n/a on churn" \
    "python3 - '$tmp/run' '$allocs' <<'PY'
import csv, json, sys
d, allocs = sys.argv[1], sys.argv[2].split(',')
rows = [json.loads(l) for l in open(d + '/runs.jsonl')]
gc_backends = [a for a in allocs if a != 'sys']
for r in rows:
    if r['workload'] == 'churn':
        if r['alloc'] in ('goalloc-stw', 'go-runtime'):
            assert r['status'] == 'na', r
        continue
    assert r['status'] == 'ok', r
    if r['alloc'] == 'sys':  # no collector: nothing to report, never a made-up 0
        assert 'gc' not in r, r
        continue
    g = r['gc']
    assert g['cycles'] >= 1, r
    assert 0 < g['pause_p50_ns'] <= g['pause_p99_ns'] <= g['pause_max_ns'] <= g['pause_total_ns'], g
    # goalloc exports its GC CPU time (worker and assists too); boehm only has its pauses
    src = {'go-runtime': ('GCCPUFraction',), 'goalloc': ('backend',),
           'goalloc-stw': ('backend',)}.get(r['alloc'], ('pauses',))
    assert 0 <= g['cpu_fraction'] < 1 and g['cpu_source'] in src, g
    ev = list(csv.DictReader(open('%s/cells/%s/events.csv' % (d, r['cell_id']))))
    pauses = sorted(int(e['pause_ns']) for e in ev if e['kind'] == 'gc_end')
    assert len(pauses) == g['cycles'] and pauses[-1] == g['pause_max_ns'], (pauses, g)
    assert sum(pauses) == g['pause_total_ns'], (pauses, g)
    assert all(0 <= float(e['t_s']) for e in ev if e['kind'] == 'gc_end')
stw = [r for r in rows if r['alloc'] == 'goalloc-stw']
assert stw and all(r['alloc_env'] == {'GOALLOC_DEBUG': 'madvdontneed=0,gcstoptheworld=1'} for r in stw), stw
assert all('alloc_env' not in r for r in rows if r['alloc'] != 'goalloc-stw')
meta = json.load(open(d + '/meta.json'))
assert meta['backend_variants']['goalloc-stw']['backend'] == 'goalloc', meta
assert meta['allocators']['goalloc-stw'] == meta['allocators']['goalloc']
PY"
  stw=$(ls -d "$tmp"/run/cells/*_goalloc-stw_burst-gc_* | head -1)
  plain=$(ls -d "$tmp"/run/cells/*_goalloc_burst-gc_* | head -1)
  check "goalloc-stw's runner got gcstoptheworld=1 and the caller's key; goalloc's did not" \
    "grep -q 'gcstoptheworld=1 (environment)' '$stw/stderr.txt' &&
     grep -q 'madvdontneed=0 (environment)' '$stw/stderr.txt' &&
     grep -q 'gcstoptheworld=0 (default)' '$plain/stderr.txt'"
  check "the summary has a GC p99 column, n/a for sys on burst-gc" \
    "grep -q 'GC p99' '$tmp/out' && grep -E '^burst-gc .* sys .* n/a' '$tmp/out' >/dev/null"
  check "report: GC table with n/a for sys, the GC pauses chart naming every GC backend" \
    "python3 - '$tmp/run' '$allocs' <<'PY'
import glob, re, sys
d, allocs = sys.argv[1], sys.argv[2].split(',')
md = open(d + '/report.md').read()
assert '## Garbage collection' in md
assert re.search(r'\\| burst-gc [^|]*\\| sys \\| n/a \\| n/a \\| n/a \\| n/a \\| n/a \\|', md), md
assert re.search(r'!\\[GC pauses: burst-gc[^]]*\\]\\(plots/gc_pauses_burst-gc[^)]*\\.svg\\)', md)
dat = glob.glob(d + '/plots/gc_pauses_burst-gc*.dat')
gp = glob.glob(d + '/plots/gc_pauses_burst-gc*.gp')
assert len(dat) == 1 and len(gp) == 1, (dat, gp)
text = open(dat[0]).read()
series = re.findall(r'^# (\\S+) \\(cell ', text, re.M)
assert series == [a for a in allocs if a != 'sys'], series
script = open(gp[0]).read()
assert 'set logscale y' in script and 'with steps' in script and 'set logscale x' in script
for a in series:
    assert \"'%s (\" % a in script and \"'%s'\" % a in script, a
PY"
  "$abench" run --suite default --alloc goalloc,goalloc-stw --reps 1 --warmup 0 --dry-run \
    >"$tmp/dry" 2>"$tmp/dry_err"; rc=$?
  check "default suite: goalloc-stw runs exactly the lines where goalloc collects" "[ $rc -eq 0 ] && python3 - '$tmp/dry' <<'PY'
import sys
cells = [l.split() for l in open(sys.argv[1])]
stw = [c for c in cells if c[1] == 'goalloc-stw']
run = {c[2] + ' ' + ' '.join(c[5:]) for c in stw if c[-1] != 'n/a'}
assert run and all(w.split()[0] in ('churn-gc', 'burst-gc', 'memlimit-gc', 'binarytrees') or
                   'variant=gc' in w for w in run), run
assert {'churn-gc', 'burst-gc', 'memlimit-gc'} <= {w.split()[0] for w in run}, run
assert all(c[-1] == 'n/a' for c in stw if c[2] in ('churn', 'larson', 'tiny', 'burst')), stw
assert not any(c[-1] == 'n/a' for c in cells if c[1] == 'goalloc')
PY"
  ;;
*) echo "cli_test.sh: unknown case '$case_'" >&2; exit 2 ;;
esac
echo "cli $case_: $((total - fails)) of $total checks passed"
[ $fails -eq 0 ]
