#!/usr/bin/env bash
# scripts/test.sh: installs what is missing, builds lockgraph and runs the whole test suite: the
# normal build (g++), the packaging checks, and the suite again under ThreadSanitizer (g++) and under
# AddressSanitizer+UBSan built with clang. This is what CI runs (.ci/run).
#
#   scripts/test.sh                  # everything (about 9 min on 2 quiet cores, most of it the three builds)
#   scripts/test.sh --quick          # only the first build (build/) and its tests
#   scripts/test.sh --no-sanitizers  # everything but the sanitizer builds
#
# Stages, each printed in the summary at the end:
#   deps               scripts/install-deps.sh
#   build, test        build/ (RelWithDebInfo, -DLOCKGRAPH_WERROR=ON), ctest
#   consumer-install   cmake --install build into a fresh prefix, whose CMake and pkg-config files must
#                      name no absolute path outside it; tests/consumer (C++17, -fno-exceptions -fno-rtti,
#                      g++, GoogleTest hidden) finds it with find_package(lockgraph CONFIG REQUIRED) and
#                      must see exactly one report
#   consumer-gtest     the same with COMPONENTS gtest: a test program linked with lockgraph::gtest_main
#                      must fail exactly its test with the inversion
#   consumer-clang     the find_package consumer again, compiled by clang++
#   consumer-pkgconfig the consumer built with `pkg-config --static --cflags --libs lockgraph`, run through
#                      the installed bin/lockgraph-gate: exit 1, one inversion, one SVG
#   consumer-disabled  tests/consumer with add_subdirectory(<repo>) and -DLOCKGRAPH_DISABLE=ON: must see none
#   parent             tests/parent: add_subdirectory(<repo>) in a project with -fno-exceptions -fno-rtti
#                      and no build type that installs and exports its own library linking lockgraph;
#                      then lockgraph installed beside it (--component lockgraph) and
#                      tests/parent/downstream built against that prefix
#   configure-minimal  a top-level configure with GoogleTest and Google Benchmark hidden: must succeed,
#                      tests and benchmarks skipped with a notice
#   consumer-libcxx    tests/consumer with add_subdirectory(<repo>), clang++ -stdlib=libc++ and
#                      -DLOCKGRAPH_STACKTRACE=libdw (no Boost): must see one report, its stack naming main.cpp
#   tsan-build, tsan-test    build-tsan/ (g++, -DLOCKGRAPH_SANITIZE=thread), ctest
#   clang-asan-build, clang-asan-test
#                      build-clang-asan/ (clang++ 14, -DLOCKGRAPH_SANITIZE=address: ASan + UBSan,
#                      -DLOCKGRAPH_WERROR=ON; library, tests and examples), ctest: the clang build of
#                      the whole suite, sanitized in the same pass (cheaper than one more plain build)
# A failed stage does not stop the stages that do not depend on it, so one run shows every failure.
#
# Environment:
#   LOCKGRAPH_JOBS         parallel compile and test jobs (default: the number of cores)
#   LOCKGRAPH_BUILD_DIR    the first build's directory (default: build); the others are named after it
#                          (<dir>-tsan, <dir>-clang-asan), so a second checkout or a second user can keep theirs apart
#   LOCKGRAPH_CLANG        the clang++ for the clang stages (default: clang++)
# Exit status: 0 when every stage that ran passed, 1 otherwise, 2 on a usage error.
# shellcheck disable=SC2317  # the stage functions are called through run_stage
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1

quick=0
sanitizers=1
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    --no-sanitizers) sanitizers=0 ;;
    -h|--help) sed -n '2,44p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg' (accepted: --quick, --no-sanitizers)" >&2; exit 2 ;;
  esac
done

jobs=${LOCKGRAPH_JOBS:-$(nproc 2>/dev/null || echo 2)}
build=${LOCKGRAPH_BUILD_DIR:-build}
[[ $build == /* ]] || build=$root/$build
build_tsan=$build-tsan
build_asan=$build-clang-asan
clang=${LOCKGRAPH_CLANG:-clang++}
export CTEST_PARALLEL_LEVEL=$jobs
export CMAKE_BUILD_PARALLEL_LEVEL=$jobs
# The tests set up their own LOCKGRAPH_OPTIONS where they need any; an inherited value would change them.
unset LOCKGRAPH_OPTIONS

# ---- stage bookkeeping ----------------------------------------------------------------------------------
stage_names=()
stage_results=()
tests_passed=0
tests_failed=0
failed=0

banner() { printf '\n==== test.sh: %s ====\n' "$*"; }

# run_stage NAME COMMAND...: runs COMMAND, records ok/FAILED with its duration.
run_stage() {
  local name=$1
  shift
  banner "$name"
  local start=$SECONDS
  if "$@"; then
    stage_names+=("$name")
    stage_results+=("ok      $((SECONDS - start))s")
    return 0
  fi
  stage_names+=("$name")
  stage_results+=("FAILED  $((SECONDS - start))s")
  failed=1
  return 1
}

skip_stage() {
  stage_names+=("$1")
  stage_results+=("skipped ($2)")
}

# build_tree DIR TARGET CMAKE_ARGS...: (re)configures DIR with Ninja and builds TARGET ("" = all).
build_tree() {
  local dir=$1 target=$2
  shift 2
  cmake -S "$root" -B "$dir" -G Ninja "$@" && cmake --build "$dir" ${target:+--target "$target"} -j"$jobs"
}

# run_ctest DIR: ctest with its output teed to DIR/ctest.log, adding its counts to the totals.
run_ctest() {
  local dir=$1 log=$1/ctest.log
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  # "100% tests passed, 0 tests failed out of 57"
  local line total failed_here
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
  if [[ -n $line ]]; then
    failed_here=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* tests failed out of ([0-9]+).*/\1/' <<<"$line")
    tests_passed=$((tests_passed + total - failed_here))
    tests_failed=$((tests_failed + failed_here))
  elif grep -q 'No tests were found' "$log"; then
    echo "test.sh: ctest in $dir found no tests" >&2
    return 1
  fi
  return "$status"
}

# consumer NAME EXPECTED CMAKE_ARGS...: configures, builds and runs tests/consumer in $build/_consumer/NAME.
consumer() {
  local name=$1 expected=$2
  shift 2
  local dir=$build/_consumer/$name
  rm -rf "$dir"
  cmake -S "$root/tests/consumer" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
    cmake --build "$dir" &&
    "$dir/consumer" --expect-reports="$expected"
  local status=$?
  if ((status == 0)); then
    tests_passed=$((tests_passed + 1))
  else
    tests_failed=$((tests_failed + 1))
  fi
  return "$status"
}

prefix=$build/_consumer/prefix

# relocatable DIR PREFIX: fails when a CMake or pkg-config file under DIR names an absolute path outside
# PREFIX (e.g. the builder's /usr/lib/gcc/.../libbacktrace.a): the package must work wherever it is copied.
relocatable() {
  local dir=$1 prefix=$2 hits="" file found line
  while IFS= read -r -d '' file; do
    # Absolute paths: a / after a start of line, blank, quote, ( ; = : < or >, then a name character.
    found=$(grep -noE '(^|[[:space:]"(;=:<>])/[A-Za-z0-9_.+-][^[:space:]";)>]*' "$file" |
      grep -vE "^[0-9]+:.?$(sed 's/[][\.*^$+?(){}|/]/\\&/g' <<<"$prefix")(/|\$)" || true)
    [[ -n $found ]] && hits+=$(while IFS= read -r line; do echo "$file:$line"; done <<<"$found")$'\n'
  done < <(find "$dir" -type f \( -name '*.cmake' -o -name '*.pc' \) -print0)
  if [[ -n $hits ]]; then
    echo "test.sh: the installed package names absolute paths outside $prefix:" >&2
    echo "$hits" >&2
    return 1
  fi
  echo "test.sh: no absolute path outside the prefix in $dir's CMake and pkg-config files"
}

# The install, consumed from a clean prefix with find_package: the core package must not need
# GoogleTest (it is hidden from the consumer).
consumer_install() {
  rm -rf "$prefix"
  cmake --install "$build" --prefix "$prefix" >/dev/null &&
    relocatable "$prefix" "$prefix" &&
    consumer find-package 1 -DCMAKE_CXX_COMPILER=g++ -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON
}

# find_package(lockgraph COMPONENTS gtest): lockgraph::gtest_main fails exactly the test with the inversion.
consumer_gtest() {
  local dir=$build/_consumer/gtest log
  consumer gtest 1 -DCMAKE_CXX_COMPILER=g++ -DCMAKE_PREFIX_PATH="$prefix" -DLOCKGRAPH_CONSUMER_GTEST=ON || return 1
  log=$dir/gtest_consumer.log
  "$dir/gtest_consumer" >"$log" 2>&1
  local status=$?
  if ((status == 1)) && grep -q '^\[  FAILED  \] Inversion.Fails' "$log" && grep -q '1 FAILED TEST' "$log"; then
    echo "test.sh: gtest_consumer: Inversion.Fails failed, Clean.Passes passed, as expected"
    return 0
  fi
  cat "$log"
  echo "test.sh: gtest_consumer exited $status; expected 1 with exactly Inversion.Fails failed" >&2
  tests_failed=$((tests_failed + 1))
  tests_passed=$((tests_passed - 1))
  return 1
}

# The consumer compiled by clang++ against the g++-built package (headers and the static library).
consumer_clang() {
  consumer clang 1 -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON
}

# lockgraph.pc: tests/consumer/main.cpp compiled and linked with pkg-config's flags only, and the
# installed gate (bin/lockgraph-gate, which renders with bin/lockgraph-render-dot) run on it.
consumer_pkgconfig() {
  local dir=$build/_consumer/pkg-config flags
  rm -rf "$dir" && mkdir -p "$dir" || return 1
  flags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig:$(echo "$prefix"/lib/*/pkgconfig) pkg-config --static --cflags --libs lockgraph) || return 1
  echo "pkg-config --static --cflags --libs lockgraph: $flags"
  # shellcheck disable=SC2086  # the flags are words
  g++ -std=c++17 -fno-exceptions -fno-rtti "$root/tests/consumer/main.cpp" -o "$dir/consumer" $flags || return 1
  (cd "$dir" && "$prefix/bin/lockgraph-gate" --timeout 60 --dir reports -- ./consumer --expect-reports=1) >"$dir/gate.log" 2>&1
  local status=$?
  local svgs
  svgs=$(find "$dir/reports" -name 'lockgraph-*.svg' | wc -l)
  if ((status == 1)) && grep -q 'lock_order_inversion' "$dir/gate.log" && ((svgs == 1)); then
    echo "test.sh: installed lockgraph-gate: exit 1, one lock_order_inversion, one SVG, as expected"
    tests_passed=$((tests_passed + 1))
    return 0
  fi
  cat "$dir/gate.log"
  echo "test.sh: installed lockgraph-gate exited $status with $svgs SVG(s); expected 1 with one inversion and one SVG" >&2
  tests_failed=$((tests_failed + 1))
  return 1
}

consumer_disabled() {
  consumer add-subdirectory-disabled 0 -DLOCKGRAPH_CONSUMER_SOURCE_DIR="$root" -DLOCKGRAPH_DISABLE=ON
}

# tests/parent: lockgraph as a subproject of a project that builds with -fno-exceptions -fno-rtti,
# sets no build type, and installs and exports its own library linking lockgraph.
parent_project() {
  local dir=$build/_consumer/parent parent_prefix=$build/_consumer/parent-prefix
  rm -rf "$dir" "$dir-downstream" "$parent_prefix"
  cmake -S "$root/tests/parent" -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=g++ -DLOCKGRAPH_PARENT_SOURCE_DIR="$root" &&
    cmake --build "$dir" && "$dir/parent_app" &&
    cmake --install "$dir" --prefix "$parent_prefix" >/dev/null &&
    grep -q 'lockgraph::lockgraph' "$parent_prefix/lib/cmake/parent/parentTargets.cmake" &&
    if [[ -e $parent_prefix/include/lockgraph ]]; then
      echo "test.sh: the parent's install also installed lockgraph (LOCKGRAPH_INSTALL is OFF in a subproject)" >&2
      false
    fi &&
    # lockgraph installed beside the parent's library; a user of that prefix builds against both.
    cmake --install "$dir" --prefix "$parent_prefix" --component lockgraph >/dev/null &&
    relocatable "$parent_prefix" "$parent_prefix" &&
    cmake -S "$root/tests/parent/downstream" -B "$dir-downstream" -G Ninja -DCMAKE_CXX_COMPILER=g++ \
      -DCMAKE_PREFIX_PATH="$parent_prefix" >/dev/null &&
    cmake --build "$dir-downstream" && "$dir-downstream/parent_app" 2>/dev/null
  local status=$?
  if ((status == 0)); then tests_passed=$((tests_passed + 1)); else tests_failed=$((tests_failed + 1)); fi
  return "$status"
}

# A top-level configure on a machine without GoogleTest and Google Benchmark (hidden from CMake): the
# library configures; tests and benchmarks are skipped with a notice.
configure_minimal() {
  local dir=$build/_consumer/minimal log
  rm -rf "$dir" && mkdir -p "$dir" || return 1
  log=$dir/configure.log
  cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON \
    -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON >"$log" 2>&1
  local status=$?
  if ((status == 0)) && grep -q "GoogleTest not found: lockgraph's C++ tests are skipped" "$log" &&
     grep -q "Google Benchmark not found: lockgraph's benchmarks are skipped" "$log"; then
    echo "test.sh: configured without GoogleTest and Google Benchmark; both skipped with a notice"
    tests_passed=$((tests_passed + 1))
    return 0
  fi
  cat "$log"
  tests_failed=$((tests_failed + 1))
  return 1
}

# The no-Boost stack backend with clang and libc++ (Debian's Boost.Stacktrace is built for libstdc++):
# the library and the consumer built with -stdlib=libc++; the report's stack must name the consumer's
# source line, which takes libdw's DWARF reading.
consumer_libcxx() {
  local dir=$build/_consumer/libcxx
  rm -rf "$dir"
  CXX=$clang cmake -S "$root/tests/consumer" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS=-stdlib=libc++ -DCMAKE_EXE_LINKER_FLAGS=-stdlib=libc++ \
    -DLOCKGRAPH_CONSUMER_SOURCE_DIR="$root" -DLOCKGRAPH_STACKTRACE=libdw \
    -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON -DCMAKE_DISABLE_FIND_PACKAGE_boost_stacktrace_backtrace=ON &&
    cmake --build "$dir" &&
    "$dir/consumer" --expect-reports=1 2>"$dir/stderr.txt"
  local status=$?
  cat "$dir/stderr.txt"
  if ((status == 0)) && ! grep -q 'consumer/main.cpp:[0-9]' "$dir/stderr.txt"; then
    echo "test.sh: consumer-libcxx: the report's stack names no consumer/main.cpp line" >&2
    status=1
  fi
  # Not `ldd | grep -q`: under pipefail, grep -q leaving at the first match can kill ldd with SIGPIPE
  # and fail the pipeline although libc++ is there (seen: a libc++ consumer reported as not linked).
  local libs
  libs=$(ldd "$dir/consumer")
  if ((status == 0)) && [[ $libs != *libc++* ]]; then
    echo "test.sh: consumer-libcxx: the consumer is not linked with libc++" >&2
    status=1
  fi
  if ((status == 0)); then
    tests_passed=$((tests_passed + 1))
  else
    tests_failed=$((tests_failed + 1))
  fi
  return "$status"
}

# ---- stages ---------------------------------------------------------------------------------------------
total_start=$SECONDS

run_stage deps "$root/scripts/install-deps.sh" || {
  echo "test.sh: cannot continue without the dependencies" >&2
  printf '\ntest.sh: deps FAILED\n'
  exit 1
}

if run_stage build build_tree "$build" "" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOCKGRAPH_WERROR=ON; then
  run_stage test run_ctest "$build"
  if ((!quick)); then
    if run_stage consumer-install consumer_install; then
      run_stage consumer-gtest consumer_gtest
      run_stage consumer-clang consumer_clang
      run_stage consumer-pkgconfig consumer_pkgconfig
    else
      for st in consumer-gtest consumer-clang consumer-pkgconfig; do skip_stage "$st" "consumer-install failed"; done
    fi
  fi
else
  skip_stage test "build failed"
  if ((!quick)); then
    for st in consumer-install consumer-gtest consumer-clang consumer-pkgconfig; do skip_stage "$st" "build failed"; done
  fi
fi

if ((!quick)); then
  run_stage consumer-disabled consumer_disabled
  run_stage parent parent_project
  run_stage configure-minimal configure_minimal
  run_stage consumer-libcxx consumer_libcxx
fi

if ((!quick && sanitizers)); then
  # Only the test binary and the programs it runs (its dependencies) are built here.
  sanitizer_common=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOCKGRAPH_BUILD_BENCHMARKS=OFF -DLOCKGRAPH_BUILD_EXAMPLES=OFF)

  # TSan's own deadlock detector is off: the tests create inversions on purpose. tests/CMakeLists.txt
  # sets the same per test; this covers test discovery and anything else ctest starts.
  export TSAN_OPTIONS="detect_deadlocks=0:halt_on_error=1:second_deadlock_stack=1"
  if run_stage tsan-build build_tree "$build_tsan" lockgraph_tests "${sanitizer_common[@]}" -DLOCKGRAPH_SANITIZE=thread; then
    run_stage tsan-test run_ctest "$build_tsan"
  else
    skip_stage tsan-test "tsan-build failed"
  fi
  unset TSAN_OPTIONS

  # The clang stage: everything but the benchmarks (they measure speed, which a sanitizer voids; the
  # plain g++ build compiles them), with -Werror, under ASan + UBSan.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  if run_stage clang-asan-build build_tree "$build_asan" "" -DCMAKE_CXX_COMPILER="$clang" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
       -DLOCKGRAPH_BUILD_BENCHMARKS=OFF -DLOCKGRAPH_WERROR=ON -DLOCKGRAPH_SANITIZE=address; then
    run_stage clang-asan-test run_ctest "$build_asan"
  else
    skip_stage clang-asan-test "clang-asan-build failed"
  fi
  unset ASAN_OPTIONS UBSAN_OPTIONS
fi

# ---- summary --------------------------------------------------------------------------------------------
printf '\n==== test.sh: summary (%ds) ====\n' $((SECONDS - total_start))
for i in "${!stage_names[@]}"; do
  printf 'test.sh: %-18s %s\n' "${stage_names[$i]}" "${stage_results[$i]}"
done
((quick)) && echo "test.sh: --quick: packaging checks and sanitizer builds not run"
((!quick && !sanitizers)) && echo "test.sh: --no-sanitizers: sanitizer builds not run"
# One closing line with the totals over every ctest run and packaging check.
echo "tests: $tests_passed passed, $tests_failed failed"
exit "$failed"
