#!/usr/bin/env bash
# The detector's layers point down only (docs/DESIGN.md): a file in detector/<layer>/ may include
# headers of its own layer and of the layers below it, never of a layer above or of a sibling.
#   base < report < graph, threads (siblings) < runtime, merge (siblings: lockgraph-merge) < gtest
# Also: no include loop between detector headers. Prints each violation; exits 1 if there is one.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root/detector"

rank() {
  case $1 in
    base) echo 0 ;; report) echo 1 ;; graph | threads) echo 2 ;; runtime | merge) echo 3 ;; gtest) echo 4 ;;
    *) echo -1 ;;
  esac
}

bad=0
for f in */*.hpp */*.cpp; do
  layer=${f%%/*}
  r=$(rank "$layer")
  if [[ $r -lt 0 ]]; then
    echo "layers: $f: unknown layer '$layer' (accepted: base, report, graph, threads, runtime, merge, gtest)"
    bad=1
    continue
  fi
  while IFS= read -r inc; do
    target=${inc%%/*}
    [[ $inc == */* ]] || { echo "layers: $f includes \"$inc\" without its layer directory"; bad=1; continue; }
    [[ $target == lockgraph ]] && continue  # the public headers are the floor
    t=$(rank "$target")
    if [[ $t -lt 0 || $t -gt $r || ($t -eq $r && $target != "$layer") ]]; then
      echo "layers: $f ($layer) includes $inc ($target): not below it"
      bad=1
    fi
  done < <(sed -n 's/^#include "\(.*\)".*/\1/p' "$f" | grep -v '^options.hpp$\|^stack_trace.hpp$' || true)
done

# Include loops among detector headers: a depth-first walk from every header.
declare -A deps
for f in */*.hpp; do
  deps[$f]=$(sed -n 's/^#include "\([a-z_]*\/[a-z_]*\.hpp\)".*/\1/p' "$f" | grep -v '^lockgraph/' | tr '\n' ' ' || true)
done
declare -A state
visit() {
  local n=$1 d
  state[$n]=1
  for d in ${deps[$n]:-}; do
    if [[ ${state[$d]:-0} == 1 ]]; then
      echo "layers: include loop through $n -> $d"
      bad=1
    elif [[ ${state[$d]:-0} == 0 ]]; then
      visit "$d"
    fi
  done
  state[$n]=2
}
for f in "${!deps[@]}"; do [[ ${state[$f]:-0} == 0 ]] && visit "$f"; done

exit $bad
