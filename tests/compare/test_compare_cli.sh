#!/usr/bin/env bash
# test_compare_cli.sh ABENCH FIXTURES - `abench compare` on the committed fixtures
# (gen_fixtures.py): known shift -> significant regression (exit 1), no shift -> "~" (exit 0),
# too few samples / noise / mismatched cells / corrupt input -> exit 2 with a clear message.
set -u
AB=$1
F=$2
fails=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

check() { # check NAME EXPECTED_EXIT GREP_PATTERN(stdout+stderr) -- ARGS...
    local name=$1 want=$2 pat=$3
    shift 4
    "$AB" compare "$@" >"$out" 2>"$err"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $name: exit $rc, expected $want"; cat "$out" "$err"; fails=$((fails + 1)); return
    fi
    if ! cat "$out" "$err" | grep -qE -- "$pat"; then
        echo "FAIL $name: output lacks /$pat/"; cat "$out" "$err"; fails=$((fails + 1)); return
    fi
    echo "ok   $name (exit $rc)"
}

check no-shift 0 'goalloc churn t=1 size_max=256;size_min=8 +[0-9.]+ ns ± [0-9]+% +[0-9.]+ ns ± [0-9]+% +~ \(p=0\.[0-9]+ n=10\+10\)' -- "$F/a" "$F/same"
check no-shift-verdict 0 'verdict: no significant regression beyond 5% \(exit 0\)' -- "$F/a" "$F/same"
check known-shift 1 'goalloc churn t=1 .* \+2[0-9]\.[0-9]+% \(p=0\.000 n=10\+10\) +REGRESSION' -- "$F/a" "$F/slower"
check known-shift-others-unchanged 1 'sys churn t=1 .*~ \(p=' -- "$F/a" "$F/slower"
check shift-below-threshold 0 'worse, below threshold' -- "$F/a" "$F/slower" --threshold 25
check improvement 0 'goalloc churn t=1 .* -[0-9.]+% \(p=0\.000 n=10\+10\) +better' -- "$F/a" "$F/faster"
check geomean 1 '^geomean .*\+4\.[0-9]+%' -- "$F/a" "$F/slower"
check markdown 1 '^\| goalloc churn t=1 size_max=256;size_min=8 +\| .* \| REGRESSION +\|$' -- "$F/a" "$F/slower" --format markdown
check too-few 2 'cannot judge: n < 4' -- "$F/a" "$F/few"
check too-few-verdict 2 'verdict: cannot judge \(exit 2\): cells with n < 4' -- "$F/a" "$F/few"
check noisy 2 'cannot judge: noise above threshold' -- "$F/a" "$F/noisy"
check mismatch 2 'no cell in common' -- "$F/a" "$F/mismatch"
check corrupt 2 'abench compare: .*corrupt\.jsonl:3: expected object' -- "$F/a" "$F/corrupt.jsonl"
check badjson 2 'badjson\.jsonl:2: not valid JSON' -- "$F/badjson.jsonl" "$F/a"
check schema 2 'schema2\.jsonl:1: schema 2 is not supported' -- "$F/a" "$F/schema2.jsonl"
check missing 2 'nonexistent: no such file or folder' -- "$F/a" "$F/nonexistent"
check csv-vs-jsonl 0 'p=1\.000 n=10\+10' -- "$F/a" "$F/a_csv"
check metric-p99 0 'op=malloc' -- "$F/a" "$F/same" --metric p99
check metric-peak-rss 0 'MiB ± ' -- "$F/a" "$F/same" --metric peak_rss
check metric-throughput 0 'higher is better' -- "$F/a" "$F/same" --metric throughput
check bad-metric 2 "unknown metric 'speed'" -- "$F/a" "$F/same" --metric speed
check bad-threshold 2 "--threshold: 'x' is not a percentage" -- "$F/a" "$F/same" --threshold x
check one-arg 2 'needs two result sets' -- "$F/a"
check by-alloc 1 'churn t=1 size_max=256;size_min=8 .*\+2[0-9]\.[0-9]+%.*REGRESSION' -- --by alloc "$F/a" sys goalloc
check by-alloc-missing 2 'no ok row .* for alloc jemalloc' -- --by alloc "$F/a" sys jemalloc

check not-ok-rows-counted 2 'note: 1 row of B did not finish ok .* left out' -- --by alloc "$F/../../report/fixtures/run1" sys jemalloc

[ "$fails" -eq 0 ] && echo "all compare CLI checks passed"
[ "$fails" -eq 0 ]
