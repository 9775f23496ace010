#!/usr/bin/env bash
# Build catdog (if needed) and run every test. Tests that need a GPU skip with the reason when
# there is none; tests that need ../shared (or $CATDOG_SHARED) skip when it is absent.
#
#   scripts/test.sh                 Release build (CUDA backend when the toolkit is found) + ctest
#   scripts/test.sh --preset asan   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   scripts/test.sh --preset cuda-emu   the CUDA kernels on the host emulator, against their CPU
#                                   twins, under ASan + UBSan (docs/how-it-works.md, section 14)
#   scripts/test.sh -L gpu          extra arguments go to ctest (here: only the GPU tests)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=default
if [ "${1:-}" = "--preset" ]; then preset=$2; shift 2; fi
jobs=$(nproc)
if [ "$preset" = asan ] || [ "$preset" = cuda-emu ]; then
  # Any leak, bad access or undefined behaviour fails its test; known leaks inside third-party
  # libraries (fontconfig under PLplot) are listed, with the reason, in tests/lsan.supp.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
  export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}"
fi

cmake --preset "$preset" > /dev/null
cmake --build --preset "$preset" -j "$jobs"
ctest --preset "$preset" -j "$jobs" --timeout 900 "$@"

# Benchmarks are not timed tests; run each once, on its smallest case, to prove it still works.
# Without a GPU the GPU benchmarks skip with the reason.
smoke_filter() {
  case "$1" in
    cpu_conv_bench|decode_bench) echo 'Smoke' ;;
    epoch_bench) echo 'Epoch/tiny-darknet/cpu' ;;
    *) echo '.' ;;
  esac
}
if [ "$preset" = default ] && [ $# -eq 0 ]; then
  for bench in build/benchmarks/*_bench; do
    [ -x "$bench" ] || continue
    name=$(basename "$bench")
    echo "smoke: $name"
    "$bench" --benchmark_filter="$(smoke_filter "$name")" --benchmark_min_time=0.001 > /dev/null
  done
  echo "benchmark smoke runs: ok"
fi
