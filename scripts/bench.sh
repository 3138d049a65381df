#!/usr/bin/env bash
# scripts/bench.sh: measures what lockgraph costs on this machine and prints one report: lockgraph next
# to std::mutex, absl::Mutex with deadlock detection, lockgraph with checking off and compiled out; the
# whole-process comparison with ThreadSanitizer; the cycle detector's scaling against a naive detector
# and Abseil's GraphCycles; and memory.
#
#   scripts/bench.sh            # install what is missing, build, run everything, print the report
#   scripts/bench.sh --record   # the same, and write the report to benchmarks/RESULTS.md
#   scripts/bench.sh --quick    # fewer repetitions and runs: a smoke test of the script (about 3 min)
#   scripts/bench.sh --report-only [--record]   # re-print (or record) the last run's results, no running
#
# The report itself is written by benchmarks/summarize.py from the raw JSON. LOCKGRAPH_JOBS: parallel
# compile jobs (default: the number of cores). About 8-10 minutes on 2 cores. Run it on a quiet
# machine: anything else running (a build, another benchmark) shows up as noise in the ratios. Numbers
# are from a RelWithDebInfo build (-O2 -g -DNDEBUG), the project's default build type, in build-bench/
# (LOCKGRAPH_BENCH_BUILD_DIR to change it).
#
# What runs (raw JSON in <build>/bench-results/):
#   mutex_bench                  Google Benchmark, every case as BM_Std<Case>/BM_Lockgraph<Case>/BM_Absl<Case>
#                                (5 repetitions, randomly interleaved, medians)
#   mutex_bench, enabled=0       the same binary with LOCKGRAPH_OPTIONS=enabled=0 in its own process (the
#                                option is read once per process)
#   mutex_bench_compiled_out     the same source against the LOCKGRAPH_DISABLED=1 headers
#   mutex_bench, 1-thread process  the non-threaded cases with LOCKGRAPH_BENCH_SINGLE_THREADED=1 (see mutex_bench.cpp)
#   nested_loop_{std,lockgraph,tsan}  whole processes, timed from outside; median of several runs each
#   graph_bench                  cycle-detector edge insertion and cycle rejection
#   memory_bench                 sizes, graph bytes, per-thread bytes; each peak-RSS case in its own process
# Exit status: 0 on success, 1 when a step fails, 2 on a usage error.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

record=0
quick=0
report_only=0
for arg in "$@"; do
  case $arg in
    --record) record=1 ;;
    --quick) quick=1 ;;
    --report-only) report_only=1 ;;
    -h|--help) sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument '$arg' (accepted: --record, --quick, --report-only)" >&2; exit 2 ;;
  esac
done

build=${LOCKGRAPH_BENCH_BUILD_DIR:-$root/build-bench}
out=$build/bench-results
build_type=RelWithDebInfo
jobs=${LOCKGRAPH_JOBS:-$(nproc 2>/dev/null || echo 2)}

if ((quick)); then
  reps=2; min_time=0.05; loop_runs=3; loop_iters=2000000
else
  reps=5; min_time=0.1; loop_runs=5; loop_iters=5000000
fi

step() { printf '\n== %s\n' "$*" >&2; }

if ((!report_only)); then
  # ---- dependencies ------------------------------------------------------------------------------
  step "dependencies"
  if [[ -x scripts/install-deps.sh ]]; then
    bash scripts/install-deps.sh >&2
  fi
  # What the benchmarks need beyond the project's list (or everything, without install-deps.sh).
  need=(g++ cmake ninja-build libtbb-dev libboost-stacktrace-dev libbenchmark-dev libabsl-dev libtsan2 python3 util-linux)
  missing=()
  for p in "${need[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == "install ok installed" ]] || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if ((EUID != 0)); then
      echo "bench.sh: missing ${missing[*]}; run as root or install them" >&2
      exit 1
    fi
    echo "bench.sh: installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi

  # ---- build ---------------------------------------------------------------------------------------
  step "configure and build ($build_type, $build)"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=$build_type \
    -DLOCKGRAPH_BUILD_BENCHMARKS=ON -DLOCKGRAPH_BUILD_TESTS=OFF -DLOCKGRAPH_BUILD_EXAMPLES=OFF \
    -DLOCKGRAPH_INSTALL=OFF -DLOCKGRAPH_DISABLE=OFF -DLOCKGRAPH_SANITIZE= >/dev/null
  cmake --build "$build" -j "$jobs" --target mutex_bench mutex_bench_compiled_out memory_bench graph_bench \
    nested_loop_std nested_loop_lockgraph nested_loop_tsan >&2

  rm -rf "$out"
  mkdir -p "$out"
  # Which source was measured: the commit, and whether tracked files differed from it.
  if rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null); then
    [[ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]] && rev="$rev + uncommitted changes"
    echo "$rev" > "$out/source_rev"
  fi
  bin=$build/benchmarks
  common=("--benchmark_min_time=$min_time" "--benchmark_repetitions=$reps" --benchmark_enable_random_interleaving=true
          --benchmark_report_aggregates_only=true --benchmark_out_format=json)
  # A user's LOCKGRAPH_OPTIONS would change what is measured.
  unset LOCKGRAPH_OPTIONS

  # How busy the machine is without us: CPU use over 3 s while this script only sleeps.
  cpu_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
  read -r b0 t0 < <(cpu_busy); sleep 3; read -r b1 t1 < <(cpu_busy)
  echo "$(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))" > "$out/others_busy_percent"

  step "mutex_bench: checking on"
  "$bin/mutex_bench" "${common[@]}" --benchmark_out="$out/mutex_on.json" >&2
  step "mutex_bench: checking off (LOCKGRAPH_OPTIONS=enabled=0)"
  LOCKGRAPH_OPTIONS=enabled=0 "$bin/mutex_bench" "${common[@]}" --benchmark_filter='^BM_(Std|Lockgraph)' \
    --benchmark_out="$out/mutex_off.json" >&2
  step "mutex_bench_compiled_out: LOCKGRAPH_DISABLED=1"
  "$bin/mutex_bench_compiled_out" "${common[@]}" --benchmark_filter='^BM_(Std|Lockgraph)' \
    --benchmark_out="$out/mutex_compiled_out.json" >&2
  step "mutex_bench: single-threaded process"
  LOCKGRAPH_BENCH_SINGLE_THREADED=1 "$bin/mutex_bench" "${common[@]}" \
    --benchmark_filter='^BM_(Std|Lockgraph|Absl)(Single|NestedPair|Depth4)$' --benchmark_out="$out/mutex_1thread.json" >&2

  step "graph_bench"
  graph_args=()
  ((quick)) && graph_args=(--benchmark_filter='/(1000|10000)(/|$)')
  "$bin/graph_bench" "${graph_args[@]}" --benchmark_out="$out/graph.json" --benchmark_out_format=json >&2

  step "memory_bench"
  "$bin/memory_bench" --benchmark_filter='^BM_(Sizeof|GraphPer|PerThread)' \
    --benchmark_out="$out/memory_static.json" --benchmark_out_format=json >&2
  for c in RssLifetimes/std RssLifetimes/lockgraph RssLive/std RssLive/lockgraph; do
    "$bin/memory_bench" --benchmark_filter="^BM_$c/" --benchmark_out="$out/memory_${c//\//_}.json" \
      --benchmark_out_format=json >&2
  done
fi

# ---- whole-process runs and the report (benchmarks/summarize.py) -------------------------------------
summarize=(python3 "$root/benchmarks/summarize.py" --results "$out" --build-type "$build_type")
((record)) && summarize+=(--record "$root/benchmarks/RESULTS.md")
if ((!report_only)); then
  step "whole process: nested_loop (std, lockgraph, TSan) x $loop_runs runs"
  summarize+=(--run-loops --bin "$build/benchmarks" --loop-runs "$loop_runs" --loop-iters "$loop_iters")
fi
"${summarize[@]}"
