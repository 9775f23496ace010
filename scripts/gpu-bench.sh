#!/usr/bin/env bash
# The GPU performance table of issue 7, in one run on a lent GPU (docs/PERFORMANCE.md, "GPU: how to
# reproduce"): catdog's benchmarks and the PyTorch peer on the same GPU, then a summary with the
# ratios. Built elsewhere and carried: this script compiles nothing.
#
#   scripts/gpu-bench.sh [--build DIR] [--out DIR] [--count N] [--no-compile] [--quick]
#
#   --build DIR   where gpu_vgg16_bench, epoch_bench and catdog are (default: build)
#   --out DIR     where logs, JSON and summary.md go (default: $OUT when set, else gpu-bench-out)
#   --count N     synthetic JPEGs for the epoch benchmarks (default 25000, as issue 7)
#   --no-compile  skip torch.compile in the PyTorch forward peer (it costs a minute or two)
#   --quick       a rehearsal: 512 images, short benchmark times, no torch.compile
#   --no-peer     skip the PyTorch peer (a rehearsal on a machine without a GPU)
#
# Steps and their rough cost on an H200 (16 cores): synthetic set 10-20 s (one `catdog synth` per
# core); gpu_vgg16_bench 1-2 min; epoch_bench 10 epochs with the cache + 1 epoch without, fp32 and
# bf16, 1-2 min; PyTorch forward 1-3 min (with torch.compile); PyTorch tutorial loop, 1 epoch
# (extrapolated to 10, and said so), under 1 min.
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=build
OUTDIR=${OUT:-gpu-bench-out}
COUNT=25000
COMPILE=1
PEER=1
MIN_TIME=0.1
while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --out) OUTDIR=$2; shift 2 ;;
    --count) COUNT=$2; shift 2 ;;
    --no-compile) COMPILE=0; shift ;;
    --no-peer) PEER=0; shift ;;
    --quick) COUNT=512; COMPILE=0; MIN_TIME=0.02; shift ;;
    *) echo "gpu-bench: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUTDIR"
# A binary of the build: BUILD/NAME (a flat carry/bin) or BUILD/benchmarks/NAME (a CMake tree).
bin() {
  if [ -x "$BUILD/$1" ]; then echo "$BUILD/$1"; else echo "$BUILD/benchmarks/$1"; fi
}
# Carried libraries (scripts/make-carry.sh puts them in carry/lib beside carry/bin) and the CUDA
# libraries of the machine's Python packages, unless the caller (scripts/gpu-check.sh) set them.
if [[ "${LD_LIBRARY_PATH:-}" != *cudnn* ]]; then
  cuda_dirs=$(find / -xdev \( -name 'libcudnn.so.9*' -o -name 'libcublas.so.13*' \) 2>/dev/null |
              xargs -r -n1 dirname | sort -u | tr '\n' ':')
  export LD_LIBRARY_PATH=$BUILD/../lib:${cuda_dirs}${LD_LIBRARY_PATH:-}
fi
LOG=$OUTDIR/gpu-bench.log
DATA=${CATDOG_BENCH_DATA:-/tmp/catdog-synth-$COUNT}
PYTHON=${PYTHON:-python3}
status=0

step() { echo; echo "== $* ($(date +%T))" | tee -a "$LOG"; }
run() {  # run CMD...: log it, keep going on failure (one broken step must not hide the rest)
  echo "\$ $*" | tee -a "$LOG"
  "$@" 2>&1 | tee -a "$LOG"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" != 0 ]; then
    echo "gpu-bench: FAILED (exit $rc): $*" | tee -a "$LOG"
    status=1
  fi
}

step "device"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 |
  tee -a "$LOG" || echo "nvidia-smi: not found" | tee -a "$LOG"
echo "cores: $(nproc)" | tee -a "$LOG"

step "synthetic dataset: $COUNT JPEGs in $DATA"
if [ ! -f "$DATA/.complete" ]; then
  # `catdog synth` writes one folder with one thread; run one per core, each with its own seed,
  # then move each part's class folders under the shared ones (the dataset scan is recursive).
  rm -rf "$DATA" "$DATA.parts"
  mkdir -p "$DATA.parts"
  parts=$(nproc)
  start=$(date +%s.%N)
  for k in $(seq 1 "$parts"); do
    n=$(( COUNT / parts + (k <= COUNT % parts ? 1 : 0) ))
    "$(bin catdog)" synth --out "$DATA.parts/$k" --count "$n" --seed "$k" >/dev/null &
  done
  wait || true
  for split in train test; do
    for cls in cats dogs; do
      mkdir -p "$DATA/$split/$cls"
      for k in $(seq 1 "$parts"); do
        part=$DATA.parts/$k/$split/$cls
        [ -d "$part" ] && mv "$part" "$DATA/$split/$cls/part$k"
      done
    done
  done
  rm -rf "$DATA.parts"
  touch "$DATA/.complete"
  echo "synth: $(find "$DATA" -name '*.jpg' | wc -l) files, $(du -sh "$DATA" | cut -f1)," \
       "$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }") s" | tee -a "$LOG"
fi

step "catdog: VGG16 layers, base, head step, GEMM peak, peak memory"
run "$(bin gpu_vgg16_bench)" --benchmark_min_time="$MIN_TIME" \
  --benchmark_out="$OUTDIR/gpu_vgg16.json" --benchmark_out_format=json

step "catdog: whole epochs, feature cache on (10 epochs)"
run "$(bin epoch_bench)" --benchmark_filter='Epoch/vgg16/' --data="$DATA" --epochs=10 \
  --cache=on --precisions=fp32,bf16 \
  --benchmark_out="$OUTDIR/epoch_cache_on.json" --benchmark_out_format=json

step "catdog: whole epochs, feature cache off (1 epoch)"
run "$(bin epoch_bench)" --benchmark_filter='Epoch/vgg16/' --data="$DATA" --epochs=1 \
  --cache=off --precisions=fp32,bf16 \
  --benchmark_out="$OUTDIR/epoch_cache_off.json" --benchmark_out_format=json

if [ "$PEER" = 1 ]; then
  step "PyTorch: forward-only throughput of the frozen VGG16 base"
  compile_flag=()
  [ "$COMPILE" = 1 ] || compile_flag=(--no-compile)
  run env -u LD_LIBRARY_PATH PYTHONUNBUFFERED=1 "$PYTHON" benchmarks/peer/torch_gpu_peer.py forward \
    "${compile_flag[@]}" --iters 30
  grep '^peer,' "$LOG" >"$OUTDIR/peer.csv" || true

  step "PyTorch: the tutorial's loop, 1 epoch (10 extrapolated)"
  run env -u LD_LIBRARY_PATH PYTHONUNBUFFERED=1 "$PYTHON" benchmarks/peer/torch_gpu_peer.py tutorial --data "$DATA" \
    --epochs 1
  grep '^peer,' "$LOG" >"$OUTDIR/peer.csv" || true
fi

step "summary"
run env -u LD_LIBRARY_PATH "$PYTHON" benchmarks/peer/summarize_gpu.py --out "$OUTDIR"
exit $status
