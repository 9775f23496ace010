#!/usr/bin/env bash
# One prepared run on a lent GPU machine (no Debian packages there): the GPU tests, compute-
# sanitizer memcheck and racecheck on them, the shared reference on the GPU, the benchmarks when
# present, then a short table.   scripts/gpu-check.sh [CARRY_DIR]   (default carry, from
# scripts/make-carry.sh). Logs go to $OUT (or gpu-check-out).
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
CARRY=$(cd "${1:-carry}" && pwd)
LOGS=${OUT:-gpu-check-out}
mkdir -p "$LOGS"
export CATDOG_SHARED=$CARRY/shared
# cuDNN and cuBLAS come with the machine's Python packages (nvidia-cudnn-cu*, nvidia-cublas-cu*).
libdirs=$(find / -xdev \( -name 'libcudnn.so.9*' -o -name 'libcublas.so.13*' -o -name 'libcudart.so.13*' \) \
          2>/dev/null | xargs -r -n1 dirname | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH=$CARRY/lib:${libdirs}${LD_LIBRARY_PATH:-}
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
nvidia-smi || echo "nvidia-smi not found"

declare -a rows
run() {  # run NAME COMMAND...: log to $LOGS/NAME.log, remember pass/fail and seconds
  local name=$1; shift
  local start=$SECONDS
  if "$@" >"$LOGS/$name.log" 2>&1; then status=ok; else status="FAIL($?)"; fi
  rows+=("$(printf '%-34s %-9s %4ds' "$name" "$status" $((SECONDS - start)))")
  tail -n 3 "$LOGS/$name.log"
}

for t in "$CARRY"/bin/gpu_*_test "$CARRY"/bin/reference_*_test; do
  [ -x "$t" ] && run "$(basename "$t")" "$t"
done

sanitizer=$(ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
[ -z "$sanitizer" ] && sanitizer=$(find / -xdev -name compute-sanitizer -type f -perm -u+x 2>/dev/null | head -1)
if [ -n "$sanitizer" ]; then
  for t in "$CARRY"/bin/gpu_*_test; do
    for tool in memcheck racecheck; do
      run "$tool $(basename "$t")" "$sanitizer" --tool "$tool" --error-exitcode 1 "$t"
    done
  done
else
  rows+=("compute-sanitizer                  absent (not run)")
fi

for b in "$CARRY"/bin/gpu_*_bench; do
  [ -x "$b" ] && run "$(basename "$b")" "$b" --benchmark_min_time=0.2
done
if [ -x "$REPO/scripts/gpu-bench.sh" ]; then  # helper gpubench's table with the PyTorch peer
  run "gpu-bench.sh --quick" "$REPO/scripts/gpu-bench.sh" --build "$CARRY/bin" --quick \
    --out "$LOGS/bench"
fi

echo; echo "== summary ($(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null))"
printf '%s\n' "${rows[@]}" | tee "$LOGS/summary.txt"
! grep -q FAIL "$LOGS/summary.txt"
