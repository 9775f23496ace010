#!/usr/bin/env bash
# Build the libFuzzer targets (the 'fuzz' preset: clang, ASan + UBSan) and run each for a while on
# a copy of its seed corpus, then print what it found.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 60 s, every fuzz/fuzz_*.cpp
#
# Work goes to build-fuzz/fuzz-work/<target>/ (corpus/ grows there; the committed fuzz/corpus is
# only read), artifacts/ holds crash-*, leak-*, timeout-* and oom-* inputs, log.txt the output.
# Fork mode with -ignore_crashes keeps a target running to the end after a finding, so one bug does
# not hide the next. Runs at nice 19 (NICE= to change), one target at a time. Exits 1 when any
# target has findings, 2 when the build fails.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
SECONDS_PER_TARGET=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
if [ $# -gt 0 ]; then
  TARGETS=("$@")
else
  TARGETS=($(ls fuzz/fuzz_*.cpp | xargs -n1 basename | sed 's/\.cpp$//'))
fi

mkdir -p build-fuzz
{ cmake --preset fuzz && cmake --build --preset fuzz -j "${JOBS:-2}"; } >build-fuzz/build.log 2>&1 \
  || { tail -n 30 build-fuzz/build.log; echo "fuzz build failed (build-fuzz/build.log)"; exit 2; }

rows=()
total_findings=0
for target in "${TARGETS[@]}"; do
  work=build-fuzz/fuzz-work/$target
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts" "$work/tmp"
  [ -d "fuzz/corpus/$target" ] && find "fuzz/corpus/$target" -maxdepth 1 -type f ! -name '*.md' \
                                     -exec cp {} "$work/corpus/" \;
  dict=()
  [ -f "fuzz/$target.dict" ] && dict=("-dict=fuzz/$target.dict")
  echo "== $target: ${SECONDS_PER_TARGET}s"
  start=$SECONDS
  # The targets' temporary files (one per process; a crashed one leaves its own) go to tmp/.
  # fuzz/lsan.supp names leaks inside libhdf5 by the HDF5 function that loses the memory; libhdf5
  # has no frame pointers, so the .h5 targets record each allocation's stack the slow, full way.
  unwind=""
  case "$target" in fuzz_keras_h5|fuzz_checkpoint) unwind="fast_unwind_on_malloc=0" ;; esac
  ASAN_OPTIONS="${unwind}${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
  LSAN_OPTIONS="suppressions=$REPO/fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
  TMPDIR=$PWD/$work/tmp nice -n "${NICE:-19}" "build-fuzz/fuzz/$target" "$work/corpus" "${dict[@]}" \
    -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 \
    -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
    -artifact_prefix="$work/artifacts/" >"$work/log.txt" 2>&1
  elapsed=$((SECONDS - start))
  rm -rf "$work/tmp"
  # Fork mode's status lines: "#EXECS: cov: ... time: Ns job: N ..."; the last one is the total.
  execs=$(grep -oE '^#[0-9]+: cov' "$work/log.txt" | tail -n 1 | tr -dc '0-9')
  count() { find "$work/artifacts" -name "$1-*" | wc -l; }
  crash=$(count crash) leak=$(count leak) timeout=$(count timeout) oom=$(count oom)
  findings=$((crash + leak + timeout + oom))
  total_findings=$((total_findings + findings))
  rows+=("$(printf '%-20s %7s %12s %6s %5s %8s %4s %9s' "$target" "$elapsed" "${execs:-?}" \
            "$crash" "$leak" "$timeout" "$oom" "$findings")")
done

echo
printf '%-20s %7s %12s %6s %5s %8s %4s %9s\n' target seconds executions crash leak timeout oom findings
printf '%s\n' "${rows[@]}"
if [ "$total_findings" -gt 0 ]; then
  echo "findings: see build-fuzz/fuzz-work/<target>/artifacts/ and log.txt (reproduce one with"
  echo "  build-fuzz/fuzz/<target> build-fuzz/fuzz-work/<target>/artifacts/<file>)"
  exit 1
fi
