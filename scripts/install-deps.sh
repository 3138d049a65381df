#!/usr/bin/env bash
# scripts/install-deps.sh: installs the Debian 12 packages lockgraph needs to build, test, run its
# examples and render its diagrams. Idempotent: a package already installed is left alone, and when
# nothing is missing no apt command runs at all.
#
#   scripts/install-deps.sh          # as root (CI, a fresh container); prints one line per package installed
#
# Exit status: 0 when everything is present afterwards; 1 when something is missing and cannot be
# installed (not root, no dpkg, apt-get failed).
set -euo pipefail

packages=(
  g++                       # the compiler (pulls in libc6-dev, binutils)
  cmake                     # >= 3.25; also ctest
  ninja-build               # the build tool the scripts use
  pkg-config                # used by some of the CMake package configs below
  libtbb-dev                # oneTBB: the detector's concurrent containers
  clang                     # the second compiler CI builds with (clang 14 on Debian 12)
  libc++-14-dev             # libc++ and libc++abi: the clang + libc++ consumer check
  libc++abi-14-dev
  libclang-rt-14-dev        # clang's sanitizer runtimes
  libdw-dev                 # elfutils' libdw: symbolizes stacks in reports (LOCKGRAPH_STACKTRACE=libdw)
  libboost-stacktrace-dev   # Boost.Stacktrace: the alternative stack backend (LOCKGRAPH_STACKTRACE=boost)
  libgtest-dev              # GoogleTest: the test suite
  libgmock-dev              # GoogleMock: matchers used by the tests
  libbenchmark-dev          # Google Benchmark: benchmarks/
  libabsl-dev               # Abseil: the benchmarks' baseline (absl::Mutex deadlock detection)
  graphviz                  # dot: renders the DOT diagrams (tests and scripts/render-dot.sh)
  python3                   # scripts/deadlock-gate.sh reads the JSON reports with it
  clang                     # clang++: the Thread Safety Analysis -verify test (tests/compile/), in any build
  libc++-14-dev             # libc++ (Debian 12's clang 14): the same test on libc++
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps: dpkg-query not found: this script installs Debian packages (Debian 12); install the equivalents of: ${packages[*]}" >&2
  exit 1
fi

installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all dependencies present"
  exit 0
fi

if ((EUID != 0)); then
  echo "install-deps: missing ${missing[*]}; run as root, or: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

log=$(mktemp "${TMPDIR:-/tmp}/lockgraph-install-deps.XXXXXX")
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]} (apt-get output in case of failure only)"
if ! apt-get update >"$log" 2>&1 ||
   ! apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "install-deps: apt-get failed installing: ${missing[*]}" >&2
  exit 1
fi

status=0
for p in "${missing[@]}"; do
  if installed "$p"; then
    echo "install-deps: installed $p"
  else
    echo "install-deps: $p is still not installed after apt-get install" >&2
    status=1
  fi
done
exit "$status"
