#!/usr/bin/env bash
# scripts/render-dot.sh DIR (installed as bin/lockgraph-render-dot): renders every DIR/*.dot
# (lockgraph's report diagrams) to DIR/<name>.svg and DIR/<name>.png with Graphviz `dot`, printing each
# output path on its own line.
#
#   LOCKGRAPH_OPTIONS=report_dir=/tmp/lg ./my_program; scripts/render-dot.sh /tmp/lg
#
# Installs graphviz (scripts/install-deps.sh) when `dot` is missing and it runs from the source tree.
# Exit status: 0 when every file rendered without an error; 1 when any `dot` run failed (its messages
# are printed, the other files are still rendered); 2 on a usage error. A directory without .dot files
# is not an error.
set -euo pipefail

usage() { echo "usage: $0 DIR   (renders DIR/*.dot to .svg and .png)" >&2; exit 2; }
[[ $# -eq 1 && $1 != -* ]] || usage
dir=$1
[[ -d $dir ]] || { echo "render-dot: '$dir' is not a directory" >&2; exit 2; }

if ! command -v dot >/dev/null 2>&1; then
  # In the source tree, install what is missing; installed (bin/lockgraph-render-dot), say what is.
  install_deps=$(dirname "${BASH_SOURCE[0]}")/install-deps.sh
  if [[ -x $install_deps ]]; then
    "$install_deps" >&2
  fi
  command -v dot >/dev/null 2>&1 || { echo "render-dot: Graphviz 'dot' is not available (install the graphviz package)" >&2; exit 1; }
fi

shopt -s nullglob
status=0
for src in "$dir"/*.dot; do
  for format in svg png; do
    out="${src%.dot}.$format"
    extra=()
    [[ $format == png ]] && extra=(-Gdpi=144 -Gbgcolor=white)  # sharp and opaque in a README or a CI artifact
    # dot prints warnings on stderr but still exits 0; a syntax error exits non-zero.
    if dot -T"$format" "${extra[@]}" -o "$out.tmp" "$src"; then
      mv -f "$out.tmp" "$out"
      echo "$out"
    else
      rm -f "$out.tmp"
      echo "render-dot: dot failed on $src (-T$format)" >&2
      status=1
    fi
  done
done
exit "$status"
