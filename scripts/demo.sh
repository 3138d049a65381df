#!/usr/bin/env bash
# scripts/demo.sh: installs what is missing, builds lockgraph's examples and runs each through the CI
# gate (scripts/deadlock-gate.sh), so you see what lockgraph reports and the diagrams it draws.
#
#   scripts/demo.sh                  # everything below; writes only build-demo/ and demo-out/
#   scripts/demo.sh --update-docs    # also copy the bank transfer's diagram to docs/images/ (the README's)
#
# 1. bank_transfer (a lock-order inversion in a run that never hangs): its report is printed in full,
#    with the path of its SVG diagram; with --update-docs the SVG and PNG are also copied to
#    docs/images/bank_transfer.{svg,png}, which the README shows (tracked files: commit them).
# 2. dining_philosophers (a real deadlock: lockgraph reports it and aborts), consumer_waits_forever
#    (all threads asleep: a consumer waits for a producer that is gone), worker_exits_holding_lock (a thread exits
#    holding a lock): each one's output goes to demo-out/<example>/output.log, and the gate's summary
#    is printed.
# Each example writes its reports (JSON, DOT, SVG, PNG) to demo-out/<example>/.
#
# Environment: LOCKGRAPH_DEMO_BUILD_DIR (default build-demo), LOCKGRAPH_JOBS (default: the cores).
# Exit status: 0 when every example produced the report kind it is meant to, 1 otherwise, 2 on a usage
# error.
set -uo pipefail

update_docs=0
for arg in "$@"; do
  case $arg in
    --update-docs) update_docs=1 ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown argument '$arg' (accepted: --update-docs)" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
build=${LOCKGRAPH_DEMO_BUILD_DIR:-build-demo}
jobs=${LOCKGRAPH_JOBS:-$(nproc 2>/dev/null || echo 2)}
out=demo-out
gate=("$root/scripts/deadlock-gate.sh" --timeout 60)
unset LOCKGRAPH_OPTIONS

banner() { printf '\n==== demo: %s ====\n' "$*"; }

scripts/install-deps.sh || exit 1

banner "building the examples in $build/"
if ! cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
       -DLOCKGRAPH_BUILD_TESTS=OFF -DLOCKGRAPH_BUILD_BENCHMARKS=OFF -DLOCKGRAPH_BUILD_EXAMPLES=ON >/dev/null ||
   ! cmake --build "$build" -j"$jobs"; then
  echo "demo: the build failed" >&2
  exit 1
fi
examples=$build/examples

# kinds DIR: the "kind" of every JSON report in DIR, one per line.
kinds() {
  python3 - "$1" <<'PY'
import glob, json, os, sys
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    try:
        with open(path, encoding="utf-8") as f:
            print(json.load(f).get("kind", "?"))
    except (OSError, ValueError):
        print("unreadable")
PY
}

# svg_of DIR KIND: the SVG of the first report of that kind in DIR.
svg_of() {
  python3 - "$1" "$2" <<'PY'
import glob, json, os, sys
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    try:
        with open(path, encoding="utf-8") as f:
            if json.load(f).get("kind") == sys.argv[2]:
                print(path[:-len(".json")] + ".svg")
                break
    except (OSError, ValueError):
        pass
PY
}

rows=()
failed=0
# check NAME EXPECTED_KIND GATE_STATUS: records whether the example raised the kind it is meant to.
check() {
  local name=$1 expected=$2 status=$3 found
  found=$(kinds "$out/$name" | sort -u | paste -sd, -)
  if grep -qxF "$expected" < <(kinds "$out/$name"); then
    rows+=("$(printf '%-28s %-22s ok      gate exit %-3s (found: %s)' "$name" "$expected" "$status" "${found:-none}")")
  else
    rows+=("$(printf '%-28s %-22s MISSING gate exit %-3s (found: %s)' "$name" "$expected" "$status" "${found:-none}")")
    failed=1
  fi
}

# run_example NAME [ENV=VALUE...]: runs the example through the gate, output to demo-out/NAME/output.log;
# prints the gate's summary.
run_example() {
  local name=$1
  shift
  rm -rf "${out:?}/$name"
  mkdir -p "$out/$name"
  banner "$name"
  echo "(full output: $out/$name/output.log)"
  env "$@" "${gate[@]}" --dir "$out/$name" -- "$examples/$name" >"$out/$name/output.log" 2>&1
  local status=$?
  sed -n '/---- summary ----/,$p' "$out/$name/output.log"
  return "$status"
}

# ---- 1. the bank transfer, in full --------------------------------------------------------------------
rm -rf "${out:?}/bank_transfer"
mkdir -p "$out/bank_transfer"
banner "bank_transfer: two transfers in opposite directions, one after the other (never hangs)"
"${gate[@]}" --dir "$out/bank_transfer" -- "$examples/bank_transfer"
check bank_transfer lock_order_inversion $?
bank_svg=$(svg_of "$out/bank_transfer" lock_order_inversion)
if [[ -n $bank_svg && -f $bank_svg ]]; then
  if ((update_docs)); then
    mkdir -p docs/images
    cp "$bank_svg" docs/images/bank_transfer.svg
    cp "${bank_svg%.svg}.png" docs/images/bank_transfer.png
    echo "demo: the bank transfer's diagram: $bank_svg (copied to docs/images/bank_transfer.svg and .png)"
  else
    echo "demo: the bank transfer's diagram: $bank_svg (--update-docs copies it to docs/images/ for the README)"
  fi
elif ((update_docs)); then
  echo "demo: no diagram of the bank transfer's inversion: docs/images/ left as it was" >&2
  failed=1
fi

# ---- 2. the others, summaries only ----------------------------------------------------------------------
run_example dining_philosophers
check dining_philosophers deadlock $?
run_example consumer_waits_forever
check consumer_waits_forever all_threads_blocked $?
run_example worker_exits_holding_lock
check worker_exits_holding_lock unreleased_lock $?
run_example custom_spinlock
check custom_spinlock lock_order_inversion $?

# ---- summary ---------------------------------------------------------------------------------------------
banner "summary"
printf '%-28s %-22s\n' example "expected report"
for r in "${rows[@]}"; do echo "$r"; done
echo
echo "demo: diagrams (SVG, with a PNG beside each):"
find "$out" -name '*.svg' | sort | sed 's/^/  /'
if ((failed)); then
  echo "demo: some example did not produce the report it is meant to (see above)" >&2
  exit 1
fi
echo "demo: every example produced the report it is meant to"
exit 0
