#!/usr/bin/env bash
# test_perf_gate.sh REPO BUILD - the plumbing of ci/perf-gate without timing anything: both
# sides use the given build, the test-only null backend and the deterministic `ops` metric, so
# A/A must be "~" with p = 1 and exit 0; a missing build and bad arguments exit 2.
set -u
REPO=$1 BUILD=$2
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fails=0
PERF_GATE_DIR=$W/gate "$REPO/ci/perf-gate" --a-build "$BUILD" --b-build "$BUILD" --alloc null \
    --metric ops --param ops=2000 --runs 10 >"$W/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^| null churn .*| ~ (p=1.000 n=10+10) ' "$W/out" &&
    grep -q 'verdict: no significant regression beyond 10% (exit 0)' "$W/out"; then
    echo "ok   A/A on a deterministic metric exits 0 with a Markdown table"
else
    echo "FAIL A/A (exit $rc)"; cat "$W/out"; fails=$((fails + 1))
fi
[ "$(wc -l <"$W/gate/gate/a.jsonl")" -eq 10 ] && [ "$(wc -l <"$W/gate/gate/b.jsonl")" -eq 10 ] &&
    echo "ok   10 interleaved runs per side" || { echo "FAIL run count"; fails=$((fails + 1)); }
"$REPO/ci/perf-gate" --a-build "$W/nope" --b-build "$BUILD" >"$W/out2" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "has no bin/abench" "$W/out2" && echo "ok   missing build: exit 2" ||
    { echo "FAIL missing build (exit $rc)"; cat "$W/out2"; fails=$((fails + 1)); }
"$REPO/ci/perf-gate" --metric ns_per_op --runs 3 >"$W/out3" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "must be a number >= 10" "$W/out3" && echo "ok   --runs 3 on wall time: exit 2" ||
    { echo "FAIL --runs 3 (exit $rc)"; fails=$((fails + 1)); }
[ $fails -eq 0 ]
