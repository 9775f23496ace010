#!/usr/bin/env bash
# The one prepared run on a lent GPU (docs/PERFORMANCE.md, "How the GPU check runs"), from the
# bundle of scripts/make-carry.sh. Correctness before speed, every step under its own `timeout`,
# the whole within 8 minutes; a summary row as each step ends.
#
#   scripts/gpu-check.sh BUNDLE             on the GPU machine (BUNDLE: the .tar.xz, or unpacked)
#   scripts/gpu-check.sh --rehearse BUNDLE  the same steps here without a GPU: GPU steps only prove
#                                           their binary starts, report "no GPU" and count as not
#                                           run; exit 0 when nothing failed
#
# Writes three files to $OUT (default gpu-check-out): summary.txt, results.json, logs.tar.xz (one
# log per step, NN-name.log). catdog's processes get the bundle's LD_LIBRARY_PATH through its
# launcher (catdog-bundle/run); Python never does.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
source "$REPO/scripts/bundle-libs.sh"
REHEARSE=0
if [ "${1:-}" = "--rehearse" ]; then REHEARSE=1; shift; fi
[ $# -eq 1 ] || { echo "usage: scripts/gpu-check.sh [--rehearse] BUNDLE" >&2; exit 2; }
BUNDLE=$1
OUTDIR=${OUT:-gpu-check-out}
mkdir -p "$OUTDIR" && OUTDIR=$(cd "$OUTDIR" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/catdog-gpu-check.XXXXXX")
LOGS=$WORK/logs
mkdir -p "$LOGS"
TOTAL_BUDGET=480        # seconds: the device tool allows 10 minutes a command; leave room
START=$SECONDS
# The device's venv Python (the first python3 on PATH there), with numpy, h5py and torch; for the
# tests' snippets as for the peer. $CATDOG_PYTHON overrides it (the rehearsal: Debian's).
PYTHON=${CATDOG_PYTHON:-$(command -v python3 || echo /usr/bin/python3)}
export CATDOG_PYTHON=$PYTHON

# name|budget seconds|kind (cpu: runs in the rehearsal too; gpu; sanitizer: also needs a working
# compute-sanitizer)|command (run by bash -c in the bundle folder; $B is the bundle, $R its launcher)
STEPS=(
  "unpack|15|cpu|unpack_bundle"
  "nvidia_smi|10|gpu|nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv && nvidia-smi"
  "ldd_check|15|cpu|bundle_check_libs \"\$B\" && echo 'ldd: every library resolves'"
  "cpu_test_npy|15|cpu|\$R \$B/bin/npy_test"
  "cuda_probe|10|gpu|\$R \$B/bin/cuda_probe"
  "sanitizer_probe|25|gpu|sanitizer_probe"
  "gpu_device_test|20|gpu|CATDOG_REQUIRE_GPU=1 \$R \$B/bin/gpu_device_test"
)
# The twin test of each op header (kernels/<op>.h): cuda:: against cpu:: on the same inputs.
OPS="gpu_activation_test gpu_bias_activation_test gpu_batch_norm_test gpu_dropout_test
     gpu_max_pool2d_test gpu_global_average_pool2d_test gpu_preprocess_test gpu_sigmoid_bce_test
     gpu_sgd_momentum_test gpu_conv_layout_test"
OPS=$(echo $OPS)
for t in $OPS; do STEPS+=("$t|8|gpu|CATDOG_REQUIRE_GPU=1 \$R \$B/bin/$t"); done
STEPS+=(
  "gpu_layers_test|45|gpu|CATDOG_REQUIRE_GPU=1 \$R \$B/bin/gpu_layers_test"
  "gpu_real_sizes_test|45|gpu|CATDOG_REQUIRE_GPU=1 \$R \$B/bin/gpu_real_sizes_test"
  "reference_extract_test|55|gpu|CATDOG_REQUIRE_GPU=1 \$R \$B/bin/reference_extract_test"
  "reference_head_sgd_test|20|gpu|CATDOG_REQUIRE_GPU=1 \$R \$B/bin/reference_head_sgd_test"
  "gpu_grad_cam_test|20|gpu|CATDOG_REQUIRE_GPU=1 \$R \$B/bin/gpu_grad_cam_test"
  "trace_test_gpu|30|gpu|CATDOG_REQUIRE_GPU=1 \$R \$B/bin/trace_test --gtest_filter=TraceOfTraining.OnTheGpu*"
  "gpu_nccl_train_test|75|gpu|nccl_step \$R \$B/bin/gpu_nccl_train_test"
  "memcheck_gpu_op_twins|45|sanitizer|for t in \$OPS; do CATDOG_REQUIRE_GPU=1 \$R \$SAN --tool memcheck --error-exitcode 1 \${B}/bin/\$t || exit 1; done"
  "memcheck_gpu_layers_test|50|sanitizer|CATDOG_REQUIRE_GPU=1 \$R \$SAN --tool memcheck --error-exitcode 1 \$B/bin/gpu_layers_test"
  "racecheck_gpu_op_twins|45|sanitizer|for t in \$OPS; do CATDOG_REQUIRE_GPU=1 \$R \$SAN --tool racecheck --error-exitcode 1 \${B}/bin/\$t || exit 1; done"
  "gpu_vgg16_bench|35|gpu|\$R \$B/bin/gpu_vgg16_bench --benchmark_min_time=0.05 --benchmark_out=\$LOGS/gpu_vgg16_bench.json --benchmark_out_format=json"
  "torch_gpu_peer|45|gpu|env -u LD_LIBRARY_PATH \"\$PYTHON\" \$B/peer/torch_gpu_peer.py forward --no-compile --iters 20"
)
if [ "$REHEARSE" = 1 ]; then
  # Proves that a step past its budget is stopped and reported as a timeout, not as a pass.
  STEPS+=("timeout_selftest|1|cpu|sleep 30")
fi

budget_sum=0
for s in "${STEPS[@]}"; do budget_sum=$((budget_sum + $(cut -d'|' -f2 <<<"$s"))); done
mode=$([ "$REHEARSE" = 1 ] && echo "rehearsal, no GPU" || echo "GPU")
echo "gpu-check ($mode): ${#STEPS[@]} steps, step budgets ${budget_sum} s, whole run capped at ${TOTAL_BUDGET} s"
echo "bundle $BUNDLE; out $OUTDIR; python $PYTHON"

B=$WORK/catdog-bundle
R=$B/run
SAN=""
SAN_OK=0
unpack_bundle() {
  if [ -d "$BUNDLE" ]; then cp -a "$BUNDLE"/. "$B"/
  else tar -C "$WORK" -xJf "$BUNDLE"; fi
  [ -x "$R" ] && head -3 "$B"/MANIFEST && echo "$(grep -vc '^#' "$B"/MANIFEST) files"
}
mkdir -p "$B"
sanitizer_probe() {  # compute-sanitizer must pass the probe and catch its deliberate bug
  SAN=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
  [ -n "$SAN" ] || { echo "compute-sanitizer: not found"; return 1; }
  echo "compute-sanitizer: $SAN"
  timeout -k 2 10 "$R" "$SAN" --tool memcheck --error-exitcode 9 "$B"/bin/cuda_probe || return 1
  timeout -k 2 10 "$R" "$SAN" --tool memcheck --error-exitcode 9 "$B"/bin/cuda_probe --oob
  [ $? -eq 9 ] || { echo "compute-sanitizer did not catch the out-of-bounds write"; return 1; }
  echo "compute-sanitizer works: the out-of-bounds write was caught"
}
# 2 ranks on the one GPU through NCCL (training/nccl_ranks.h), started by the bundle's mpirun
# (its launcher puts it first on PATH). A bundle made without MPI carries none: then the step is
# skipped (exit 77) with the reason, unless the machine has one. libnccl.so.2 comes from the
# machine (the nvidia-nccl Python package, or a CUDA toolkit).
nccl_step() {
  [ -x "$B/bin/mpirun" ] || command -v mpirun >/dev/null ||
    { echo "skipped: no mpirun in the bundle (built without MPI) nor on this machine"; exit 77; }
  CATDOG_REQUIRE_GPU=1 "$@"
}
export -f bundle_check_libs nccl_step
export BUNDLE_GLIBC_RE BUNDLE_CUDA_RE

rows=() json=() passed=0 failed=0 notrun=0 skipped=0 n=0
printf '%-3s %-30s %-8s %6s %6s  %s\n' "#" step status secs budget note | tee "$WORK/summary.txt"
for s in "${STEPS[@]}"; do
  IFS='|' read -r name budget kind cmd <<<"$s"
  n=$((n + 1))
  log=$(printf '%02d-%s.log' "$n" "$name")
  left=$((TOTAL_BUDGET - (SECONDS - START)))
  t0=$SECONDS rc=0 note=""
  if [ "$left" -le 1 ]; then
    status=not-run note="whole-run budget spent"
  elif [ "$REHEARSE" = 1 ] && [ "$kind" != cpu ]; then
    status=no-GPU note="not run"
    # Still prove the binary starts from the bundle (its libraries resolve).
    bin=$(grep -o '\$B/bin/[a-z0-9_]*' <<<"$cmd" | tail -1)
    if [ -n "$bin" ]; then
      if timeout 10 "$R" "${bin/\$B/$B}" --help >"$LOGS/$log" 2>&1; then note="not run; binary starts"
      else status=FAIL note="binary does not start: see $log"; fi
    fi
  elif [ "$kind" = sanitizer ] && [ "$SAN_OK" != 1 ]; then
    status=not-run note="compute-sanitizer unavailable (sanitizer_probe)"
  else
    [ "$budget" -gt "$left" ] && budget=$left
    if [ "$name" = unpack ] || [ "$name" = sanitizer_probe ]; then
      # functions of this shell, which set B and SAN for the steps after them
      "$(cut -d' ' -f1 <<<"$cmd")" >"$LOGS/$log" 2>&1 & pid=$!
      ( sleep "$budget"; kill $pid 2>/dev/null ) & watch=$!
      wait $pid; rc=$?; kill $watch 2>/dev/null; wait $watch 2>/dev/null
      [ "$rc" -ge 128 ] && rc=124
      [ "$name" = sanitizer_probe ] && [ "$rc" = 0 ] && SAN_OK=1 &&
        SAN=$(grep -o '^compute-sanitizer: .*' "$LOGS/$log" | head -1 | cut -d' ' -f2)
    else
      (cd "$B" && B=$B R=$R SAN=$SAN LOGS=$LOGS PYTHON=$PYTHON OPS=$OPS \
         timeout -k 5 "$budget" bash -c "$cmd") >"$LOGS/$log" 2>&1
      rc=$?
    fi
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status=TIMEOUT note="over ${budget} s"
    elif [ "$rc" = 77 ]; then status=skipped note=$(tail -n 1 "$LOGS/$log")
    elif [ "$rc" != 0 ]; then status=FAIL note="exit $rc"
    elif grep -q '^\[  SKIPPED \]' "$LOGS/$log"; then status=FAIL note="a test skipped"
    elif grep -q 'ERROR OCCURRED\|no GPU:' "$LOGS/$log"; then status=FAIL note="a benchmark errored"
    else status=pass; fi
    [ "$name" = timeout_selftest ] && [ "$status" = TIMEOUT ] && status=pass note="stopped after ${budget} s, as it must be"
  fi
  secs=$((SECONDS - t0))
  case $status in pass) passed=$((passed + 1)) ;; no-GPU|not-run) notrun=$((notrun + 1)) ;;
    skipped) skipped=$((skipped + 1)) ;; *) failed=$((failed + 1)) ;; esac
  row=$(printf '%-3s %-30s %-8s %6s %6s  %s' "$n" "$name" "$status" "$secs" "$budget" "$note")
  echo "$row" | tee -a "$WORK/summary.txt"
  case $status in FAIL|TIMEOUT) [ -s "$LOGS/$log" ] && tail -n 5 "$LOGS/$log" | sed 's/^/    | /' ;; esac
  json+=("$(printf '{"step": %d, "name": "%s", "kind": "%s", "status": "%s", "seconds": %d, "budget_s": %d, "exit": %d, "log": "%s", "note": "%s"}' \
              "$n" "$name" "$kind" "$status" "$secs" "$budget" "$rc" "$log" "${note//\"/\'}")")
done
total=$((SECONDS - START))
verdict="passed $passed, failed $failed, not run $notrun, skipped $skipped, of ${#STEPS[@]} steps in ${total} s ($mode)"
echo "$verdict" | tee -a "$WORK/summary.txt"

{
  printf '{"mode": "%s", "total_s": %d, "budget_s": %d, "passed": %d, "failed": %d, "not_run": %d,\n "steps": [\n  ' \
    "$mode" "$total" "$TOTAL_BUDGET" "$passed" "$failed" "$notrun"
  (IFS=$'\n'; echo "${json[*]}") | sed '$!s/$/,/' | sed '2,$s/^/  /'
  printf ' ]}\n'
} > "$WORK/results.json"
# Logs: each cut to its first 1 MiB and last 2 MiB, so the archive stays far below 16 MiB.
for f in "$LOGS"/*; do
  [ "$(stat -c %s "$f")" -le $((3 << 20)) ] && continue
  { head -c $((1 << 20)) "$f"; echo; echo "... [cut] ..."; tail -c $((2 << 20)) "$f"; } > "$f.cut" && mv "$f.cut" "$f"
done
tar -C "$WORK" -cJf "$WORK/logs.tar.xz" logs
cp "$WORK"/summary.txt "$WORK"/results.json "$WORK"/logs.tar.xz "$OUTDIR"/
rm -rf "$WORK"
[ "$failed" = 0 ] && { [ "$REHEARSE" = 1 ] || [ "$notrun" = 0 ]; }
