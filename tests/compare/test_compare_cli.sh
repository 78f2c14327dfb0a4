#!/usr/bin/env bash
# test_compare_cli.sh ABENCH FIXTURES - `abench compare` on the committed fixtures
# (gen_fixtures.py): known shift -> significant regression (exit 1), no shift -> "~" (exit 0),
# too few samples / noise / mismatched cells -> exit 2 (cannot judge), bad usage or corrupt
# input -> exit 64 with a clear message; --format json|csv keys; the environment header and its
# warning; a deterministic metric (instr_per_op): equal constant samples are "same", a +2%
# shift is a regression at its 1% default threshold.
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
check too-few 2 'cannot judge: n=10\+3, < 4 a side \(run with --reps 4 or more\)' -- "$F/a" "$F/few"
check too-few-verdict 2 'verdict: cannot judge \(exit 2\): cells with n < 4' -- "$F/a" "$F/few"
check noisy 2 'cannot judge: noise ±[0-9]+\.[0-9]% > threshold 5%' -- "$F/a" "$F/noisy"
check mismatch 2 'no cell in common' -- "$F/a" "$F/mismatch"
check corrupt 64 'abench compare: .*corrupt\.jsonl:3: expected object' -- "$F/a" "$F/corrupt.jsonl"
check badjson 64 'badjson\.jsonl:2: not valid JSON' -- "$F/badjson.jsonl" "$F/a"
check schema 64 'schema2\.jsonl:1: schema 2 is not supported' -- "$F/a" "$F/schema2.jsonl"
check missing 64 'nonexistent: no such file or folder' -- "$F/a" "$F/nonexistent"
check csv-vs-jsonl 0 'p=1\.000 n=10\+10' -- "$F/a" "$F/a_csv"
check metric-p99 0 'op=malloc' -- "$F/a" "$F/same" --metric p99
check metric-peak-rss 0 'MiB ± ' -- "$F/a" "$F/same" --metric peak_rss
check metric-throughput 0 'higher is better' -- "$F/a" "$F/same" --metric throughput
check bad-metric 64 "unknown metric 'speed'" -- "$F/a" "$F/same" --metric speed
check bad-threshold 64 "--threshold: 'x' is not a percentage" -- "$F/a" "$F/same" --threshold x
check one-arg 64 'needs two result sets' -- "$F/a"
check by-alloc 1 'churn t=1 size_max=256;size_min=8 .*\+2[0-9]\.[0-9]+%.*REGRESSION' -- --by alloc "$F/a" sys goalloc
check by-alloc-missing 64 'no ok row .* for alloc jemalloc' -- --by alloc "$F/a" sys jemalloc

check not-ok-rows-counted 2 'note: 1 row of B did not finish ok .* left out' -- --by alloc "$F/../../report/fixtures/run1" sys jemalloc

check bad-format 64 "--format: 'yaml' is not text, markdown, json or csv" -- "$F/a" "$F/same" --format yaml
check unknown-flag 64 "unknown option '--frobnicate'" -- "$F/a" "$F/same" --frobnicate
check flag-needs-value 64 "'--metric' needs a value" -- "$F/a" "$F/same" --metric
check options-before-paths 1 'REGRESSION' -- --threshold 5 "$F/a" "$F/slower"

# --format json: stable keys, one object per cell, the verdict and exit code inside.
check json 1 '"verdict": "regression"' -- "$F/a" "$F/slower" --format json
"$AB" compare "$F/a" "$F/slower" --format json >"$out" 2>"$err"
if python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["metric"] == "ns_per_op" and d["exit_code"] == 1 and d["threshold_pct"] == 5, d
assert set(d["a"]["env"]) == {"host", "cpu", "kernel", "commit", "compiler"}, d["a"]
keys = {"cell", "alloc", "workload", "threads", "params", "op", "n_a", "n_b", "median_a",
        "median_b", "noise_a_pct", "noise_b_pct", "delta_pct", "p", "significant", "verdict"}
assert len(d["cells"]) == 4 and all(set(c) == keys for c in d["cells"]), d["cells"]
g = [c for c in d["cells"] if c["alloc"] == "goalloc" and c["workload"] == "churn"][0]
assert g["verdict"] == "regression" and g["threads"] == 1 and g["n_a"] == 10 and 20 < g["delta_pct"] < 30, g
assert 4 < d["geomean"]["delta_pct"] < 5, d["geomean"]
PY
then echo "ok   json-keys"; else echo "FAIL json-keys"; cat "$out"; fails=$((fails + 1)); fi
check csv 1 '^cell,alloc,workload,threads,params,op,n_a,n_b,median_a,median_b,noise_a_pct,noise_b_pct,delta_pct,p,significant,verdict$' -- "$F/a" "$F/slower" --format csv
check csv-row 1 '^goalloc churn t=1 size_max=256;size_min=8,goalloc,churn,1,size_max=256;size_min=8,,10,10,([0-9.]+,){5}[0-9.e-]+,1,regression$' -- "$F/a" "$F/slower" --format csv

# Generated sides: a deterministic metric and differing environments.
gen=$(mktemp -d)
trap 'rm -f "$out" "$err"; rm -rf "$gen"' EXIT
mkside() { # mkside DIR HOST COMMIT N VALUE [VALUE2]: N reps of churn for sys and goalloc
    mkdir -p "$1"
    printf '{"schema": 1, "host": "%s", "cpu_model": "cpu-x", "kernel": "6.1", "git_commit": "%s", "compiler": "GNU 12"}\n' "$2" "$3" >"$1/meta.json"
    : >"$1/runs.jsonl"
    for alloc in sys goalloc; do
        for ((r = 0; r < $4; r++)); do
            v=$5; [ "$alloc" = goalloc ] && [ -n "${6:-}" ] && v=$6
            printf '{"schema": 1, "cell_id": "c_%s_%d", "alloc": "%s", "workload": "churn", "threads": 1, "rep": %d, "status": "ok", "ns_per_op": %s, "instr_per_op": %s}\n' \
                "$alloc" "$r" "$alloc" "$r" "2$r.5" "$v" >>"$1/runs.jsonl"
        done
    done
}
mkside "$gen/i_a" hostA aaaa 4 1000
mkside "$gen/i_same" hostA aaaa 4 1000
mkside "$gen/i_slower" hostA aaaa 4 1000 1020
mkside "$gen/i_small" hostA aaaa 4 1000 1005
mkside "$gen/i_few" hostA aaaa 2 1000
mkside "$gen/i_other" hostB bbbb 4 1000
check instr-aa 0 'verdict: no significant regression beyond 1% \(exit 0\)' -- "$gen/i_a" "$gen/i_same" --metric instr_per_op
check instr-aa-constant 0 'sys churn t=1 .*~ \(p=1\.000 n=4\+4\) +same \(constant\)' -- "$gen/i_a" "$gen/i_same" --metric instr_per_op
check instr-constant-few 0 'same \(constant\)' -- "$gen/i_a" "$gen/i_few" --metric instr_per_op
check instr-shift 1 'goalloc churn t=1 .*\+2\.00% .*REGRESSION' -- "$gen/i_a" "$gen/i_slower" --metric instr_per_op
check instr-shift-threshold 0 'worse, below threshold' -- "$gen/i_a" "$gen/i_slower" --metric instr_per_op --threshold 5
check instr-below-1pct 0 'worse, below threshold' -- "$gen/i_a" "$gen/i_small" --metric instr_per_op
check env-header 0 'host +hostA' -- "$gen/i_a" "$gen/i_same" --metric instr_per_op
check env-warning 0 'warning: A and B differ in host commit' -- "$gen/i_a" "$gen/i_other" --metric instr_per_op
check env-warning-json 0 'warning: A and B differ in host, commit' -- "$gen/i_a" "$gen/i_other" --metric instr_per_op --format json
check env-no-warning 0 '^commit +aaaa$' -- "$gen/i_a" "$gen/i_same" --metric instr_per_op
if "$AB" compare "$gen/i_a" "$gen/i_same" --metric instr_per_op 2>&1 | grep -q warning; then
    echo "FAIL env-no-warning: a warning for equal environments"; fails=$((fails + 1))
else echo "ok   env-no-warning-text"; fi

[ "$fails" -eq 0 ] && echo "all compare CLI checks passed"
[ "$fails" -eq 0 ]
