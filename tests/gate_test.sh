#!/usr/bin/env bash
# The CI gate end to end on the example programs: an inversion fails the gate with a table row, a JSON
# report and a rendered SVG; a hang is signalled, dumped and ends with 124; a baseline is written (one
# entry for one bug seen by two processes), passes its own run, fails a new report and lists its stale
# entry; a bad baseline is exit 2. Usage: gate_test.sh EXAMPLES_DIR
set -uo pipefail
examples=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "gate_test: FAIL: $*" >&2; exit 1; }

# An inversion: exit 1 (the program exits 0, but a report was raised), one JSON, its SVG rendered.
out=$("$root/scripts/deadlock-gate.sh" --timeout 60 --dir "$work/inv" -- "$examples/bank_transfer" 2>&1)
status=$?
[[ $status -eq 1 ]] || fail "bank_transfer: gate exit $status, expected 1; output: $out"
grep -q "lock_order_inversion" <<<"$out" || fail "bank_transfer: no lock_order_inversion row in: $out"
ls "$work"/inv/lockgraph-*.json >/dev/null 2>&1 || fail "bank_transfer: no JSON report"
ls "$work"/inv/lockgraph-*.svg >/dev/null 2>&1 || fail "bank_transfer: no SVG rendered"

# A hang: the philosophers deadlock but lockgraph is told not to abort, so only the time-out ends it.
out=$(LOCKGRAPH_OPTIONS=abort_on_deadlock=0 "$root/scripts/deadlock-gate.sh" --timeout 3 --dir "$work/hang" -- \
        "$examples/dining_philosophers" 2>&1)
status=$?
[[ $status -eq 124 ]] || fail "dining_philosophers: gate exit $status, expected 124; output: $out"
ls "$work"/hang/lockgraph-*-waitfor-*.dot >/dev/null 2>&1 || fail "no wait-for graph dumped on the time-out signal"
grep -q "deadlock" <<<"$out" || fail "dining_philosophers: no deadlock row in: $out"

# Baselines. Two runs of the same program in one command (two processes, two JSON files): one bug,
# one fingerprint in the baseline, with its kind and summary as a comment; the gate passes.
out=$("$root/scripts/deadlock-gate.sh" --timeout 60 --dir "$work/rec" --write-baseline "$work/baseline.txt" -- \
        bash -c '"$1"; "$1"' _ "$examples/bank_transfer" 2>&1)
status=$?
[[ $status -eq 0 ]] || fail "--write-baseline: gate exit $status, expected 0; output: $out"
grep -Eq "^  lock_order_inversion .* 2 +/.*lockgraph-[0-9]+-0001.json \(\+1 more\)$" <<<"$out" ||
  fail "--write-baseline: the two processes' reports are not one row with 2 occurrences: $out"
entries=$(grep -cv '^#' "$work/baseline.txt")
[[ $entries -eq 1 ]] || fail "--write-baseline: $entries entries, expected 1: $(cat "$work/baseline.txt")"
grep -Eq '^[0-9a-f]{16}  # lock_order_inversion: lock-order inversion: account alice => account bob => account alice$' \
  "$work/baseline.txt" || fail "--write-baseline: entry without its comment: $(cat "$work/baseline.txt")"

# The same run against that baseline: known, passes.
out=$("$root/scripts/deadlock-gate.sh" --timeout 60 --dir "$work/known" --baseline "$work/baseline.txt" -- \
        "$examples/bank_transfer" 2>&1)
status=$?
[[ $status -eq 0 ]] || fail "--baseline, known report: gate exit $status, expected 0; output: $out"
grep -q "^  known  *lock_order_inversion" <<<"$out" || fail "--baseline: no 'known' row in: $out"
grep -q "1 known report(s), 0 new" <<<"$out" || fail "--baseline: no count line in: $out"

# Another program against it: its report is new (fails), and the baseline's entry no longer occurs.
out=$("$root/scripts/deadlock-gate.sh" --timeout 60 --dir "$work/new" --baseline "$work/baseline.txt" -- \
        "$examples/worker_exits_holding_lock" 2>&1)
status=$?
[[ $status -eq 1 ]] || fail "--baseline, new report: gate exit $status, expected 1; output: $out"
grep -q "^  new  *unreleased_lock" <<<"$out" || fail "--baseline: no 'new' row in: $out"
grep -q "1 baseline entry no longer occur" <<<"$out" || fail "--baseline: stale entry not listed in: $out"
grep -q "account alice => account bob" <<<"$out" || fail "--baseline: stale entry's comment not shown in: $out"

# A bad baseline: one line naming file:line, exit 2, before running anything.
printf '# ok\nnot-a-fingerprint\n' >"$work/bad.txt"
out=$("$root/scripts/deadlock-gate.sh" --baseline "$work/bad.txt" -- true 2>&1)
status=$?
[[ $status -eq 2 ]] || fail "bad baseline: gate exit $status, expected 2; output: $out"
grep -q "bad.txt:2: bad baseline entry 'not-a-fingerprint'" <<<"$out" || fail "bad baseline: message: $out"
echo "gate_test: 6 passed, 0 failed"
