#!/usr/bin/env bash
# The CI gate end to end on the example programs: an inversion fails the gate with a table row, a JSON
# report and a rendered SVG; a hang is signalled, dumped and ends with 124; a baseline is written (one
# entry for one bug seen by two processes), passes its own run, fails a new report and lists its stale
# entry; a bad baseline is exit 2; with lockgraph-merge, two processes with opposite lock orders fail
# the gate with a suite report. Usage: gate_test.sh EXAMPLES_DIR [LOCKGRAPH_MERGE SUITE_ORDER_PROGRAM]
set -uo pipefail
examples=$1
merge=${2:-}
suite_program=${3:-}
[[ -n $merge ]] && export LOCKGRAPH_MERGE=$merge  # every run below also merges its edge logs
passed=2
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
# One process saw the whole cycle and reported it: the suite merge adds no second report.
[[ $(ls "$work"/inv/*.json | wc -l) -eq 1 ]] || fail "bank_transfer: expected exactly one JSON report: $(ls "$work"/inv)"
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
passed=$((passed + 4))

# A whole run: two processes, each clean on its own (opposite orders of the same two lock classes);
# only the merge of their edge logs sees the cycle: exit 1, a "(suite)" row naming it, its SVG.
if [[ -n $merge && -n $suite_program ]]; then
  run_both="'$suite_program' --gtest_filter=SuiteOrder.AccountsThenLedger && '$suite_program' --gtest_filter=SuiteOrder.LedgerThenAccounts"
  out=$("$root/scripts/deadlock-gate.sh" --timeout 60 --dir "$work/suite" -- bash -c "$run_both" 2>&1)
  status=$?
  [[ $status -eq 1 ]] || fail "suite: gate exit $status, expected 1; output: $out"
  grep -q "lock_order_inversion (suite)" <<<"$out" || fail "suite: no suite inversion row in: $out"
  grep -q "suite lock order: checked 2 logs from 2 processes: 2 classes, 2 edges (0 same-class), 1 cycles" <<<"$out" ||
    fail "suite: no merge summary in: $out"
  [[ -f $work/suite/lockgraph-suite-0001.svg ]] || fail "suite: the suite report's diagram was not rendered: $(ls "$work/suite")"
  grep -q "SuiteOrder.LedgerThenAccounts" "$work/suite/lockgraph-suite-0001.dot" || fail "suite: the diagram does not name the test"
  # The same directory again with one order only: the earlier run's logs and suite reports do not count.
  out=$("$root/scripts/deadlock-gate.sh" --timeout 60 --dir "$work/suite" -- \
          "$suite_program" --gtest_filter=SuiteOrder.AccountsThenLedger 2>&1)
  status=$?
  [[ $status -eq 0 ]] || fail "suite rerun: gate exit $status, expected 0; output: $out"
  grep -q "checked 1 logs from 1 processes" <<<"$out" || fail "suite rerun: no merge summary in: $out"
  # The processes' suppressions=FILE applies to the suite's reports too: the same run passes.
  printf 'lock_order_inversion:suite.ledger\n' >"$work/suite.supp"
  out=$(LOCKGRAPH_OPTIONS="suppressions=$work/suite.supp" "$root/scripts/deadlock-gate.sh" --timeout 60 \
          --dir "$work/suite-supp" -- bash -c "$run_both" 2>&1)
  status=$?
  [[ $status -eq 0 ]] || fail "suite, suppressed: gate exit $status, expected 0; output: $out"
  passed=$((passed + 3))
fi
echo "gate_test: $passed passed, 0 failed"
