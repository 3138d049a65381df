#!/usr/bin/env bash
# The CI gate end to end on the example programs: an inversion fails the gate with a table row, a JSON
# report and a rendered SVG; a hang is signalled, dumped and ends with 124. Usage: gate_test.sh EXAMPLES_DIR
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
echo "gate_test: 2 passed, 0 failed"
