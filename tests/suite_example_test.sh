#!/usr/bin/env bash
# examples/suite end to end: install this build, configure the example against the install
# (find_package + lockgraph_add_suite_check), build it and run its ctest. Every test passes on its own;
# the suite check must fail, naming both tests of the cross-test inversion, with a diagram.
# Usage: suite_example_test.sh BUILD_DIR CXX_COMPILER
set -uo pipefail
build=$1
cxx=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "suite_example_test: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/prefix" --component lockgraph >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "cmake --install"; }
[[ -x $work/prefix/bin/lockgraph-merge ]] || fail "bin/lockgraph-merge was not installed"
cmake -S "$root/examples/suite" -B "$work/example" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; fail "configure examples/suite"; }
cmake --build "$work/example" -j2 >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build examples/suite"; }

# LOCKGRAPH_OPTIONS of this run must not leak in (the check appends edge_log to it).
out=$(env -u LOCKGRAPH_OPTIONS ctest --test-dir "$work/example" --output-on-failure 2>&1)
status=$?
echo "$out"
((status != 0)) || fail "ctest passed; the suite check should have failed"
grep -q "Transfer.MovesMoney .*Passed" <<<"$out" || fail "Transfer.MovesMoney should pass on its own"
grep -q "Audit.BalancesSumToZero .*Passed" <<<"$out" || fail "Audit.BalancesSumToZero should pass on its own"
grep -q "bank_lock_order .*Failed" <<<"$out" || fail "the suite check bank_lock_order did not fail"
grep -q "lock-order-inversion across the test suite" <<<"$out" || fail "no suite inversion in the output"
grep -q "test Transfer.MovesMoney" <<<"$out" || fail "the report does not name Transfer.MovesMoney"
grep -q "test Audit.BalancesSumToZero" <<<"$out" || fail "the report does not name Audit.BalancesSumToZero"
dot=$work/example/bank_lock_order/reports/lockgraph-suite-0001.dot
[[ -f $dot ]] || fail "no diagram $dot"
grep -q "Transfer.MovesMoney" "$dot" && grep -q "Audit.BalancesSumToZero" "$dot" || fail "the diagram does not name both tests"
if command -v dot >/dev/null 2>&1; then
  [[ -f ${dot%.dot}.svg ]] || fail "dot is installed but no SVG was rendered"
fi
echo "suite_example_test: passed (ctest failed on the cross-test inversion only, with a diagram naming both tests)"
