#!/usr/bin/env bash
# The bundle of scripts/make-carry.sh proves itself without a GPU (ctest label `bundle`):
#   tests/bundle_test.sh selfcontained ARCHIVE   size < 40 MiB; unpacked into an empty folder,
#       every library resolves inside it (but glibc's and the CUDA libraries of the MANIFEST), and
#       `catdog --help` and a CPU test run from it under `env -i` (only the launcher's variables)
#   tests/bundle_test.sh rehearsal ARCHIVE       scripts/gpu-check.sh --rehearse: exit 0, at most
#       8 files with plain names, each under 16 MiB, a summary row per step, the timeout honoured
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
mode=$1 archive=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/catdog-bundle-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "bundle_test: $*" >&2; exit 1; }

case $mode in
selfcontained)
  bytes=$(stat -c %s "$archive")
  echo "bundle: $bytes bytes"
  [ "$bytes" -lt $((40 << 20)) ] || fail "bundle is $bytes bytes, over 40 MiB"
  tar -C "$work" -xJf "$archive"
  b=$work/catdog-bundle
  grep -q '^# cuda-expected: ' "$b/MANIFEST" || fail "MANIFEST names no CUDA libraries"
  (cd "$work" && grep -v '^#' "$b/MANIFEST" | awk '{print $2 "  " $3}' | sha256sum --quiet -c -) ||
    fail "MANIFEST sha256 mismatch"
  if ls "$b"/lib | grep -E '^(libc|libm|libdl|librt|libpthread|libresolv|libnss_|libutil|libanl|libmvec|ld-linux)[.-]'; then
    fail "a glibc library is carried"
  fi
  source "$REPO/scripts/bundle-libs.sh"
  CATDOG_CUDA_LIBS="" bundle_check_libs "$b" || fail "ldd: see above"
  echo "ldd: $(ls "$b"/bin | wc -l) binaries and $(ls "$b"/lib | wc -l) libraries resolve"
  env -i CATDOG_CUDA_LIBS= "$b/run" "$b/bin/catdog" --help > "$work/help.txt" || fail "catdog --help failed"
  grep -qi usage "$work/help.txt" || fail "catdog --help printed no usage"
  env -i CATDOG_CUDA_LIBS= CATDOG_TEST_TMP="$work/tmp" "$b/run" "$b/bin/npy_test" > "$work/npy.txt" 2>&1 ||
    { cat "$work/npy.txt"; fail "npy_test failed from the bundle"; }
  tail -n 1 "$work/npy.txt"
  if [ -x "$b/bin/mpirun" ]; then
    # The carried Open MPI starts 2 ranks (nccl_ranks_test's broadcast); where a mount namespace
    # is allowed, with this machine's Open MPI hidden, so that only the bundle's can serve.
    mpi_check=(env -i CATDOG_CUDA_LIBS= CATDOG_TEST_TMP="$work/tmp" "$b/run" "$b/bin/nccl_ranks_test"
               --gtest_filter=RanksBroadcast.EveryRankGetsRankZerosBytes)
    hide='for d in /usr/lib/x86_64-linux-gnu/openmpi /usr/lib/x86_64-linux-gnu/pmix2 /usr/share/openmpi /usr/share/pmix /etc/openmpi; do
            [ -d "$d" ] && mount -t tmpfs none "$d"; done
          for f in /usr/bin/mpirun /usr/bin/orterun /usr/bin/mpiexec; do [ -e "$f" ] && mount --bind /dev/null "$f"; done
          exec "$@"'
    rc=0
    if unshare -m true 2>/dev/null; then
      where="system Open MPI hidden"
      unshare -m bash -c "$hide" hide "${mpi_check[@]}" > "$work/mpi.txt" 2>&1 || rc=$?
    else
      where="system Open MPI visible: no mount namespace"
      "${mpi_check[@]}" > "$work/mpi.txt" 2>&1 || rc=$?
    fi
    [ $rc = 0 ] && grep -q '^\[  PASSED  \] 1 test' "$work/mpi.txt" ||
      { cat "$work/mpi.txt"; fail "2 ranks from the bundle's mpirun failed ($where)"; }
    echo "mpirun: 2 ranks from the bundle ($where)"
  fi
  ;;
rehearsal)
  # Debian's Python, with numpy and h5py, as the tests use here (the device's is its first python3)
  OUT=$work/out CATDOG_PYTHON=${CATDOG_PYTHON:-/usr/bin/python3} "$REPO/scripts/gpu-check.sh" --rehearse "$archive" | tee "$work/stdout.txt" ||
    fail "the rehearsal failed"
  files=$(find "$work/out" -type f | wc -l)
  [ "$files" -le 8 ] || fail "$files files in \$OUT, at most 8 come back"
  for f in summary.txt results.json logs.tar.xz; do [ -f "$work/out/$f" ] || fail "no $f"; done
  find "$work/out" -type f -printf '%f %s\n' | while read -r name size; do
    [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || fail "file name '$name' would not come back"
    [ "$size" -lt $((16 << 20)) ] || fail "$name is $size bytes, over 16 MiB"
  done
  tar -tJf "$work/out/logs.tar.xz" | grep -Ev '^logs/([0-9]{2}-[A-Za-z0-9._-]+\.log)?$' &&
    fail "a log name that would not come back"
  grep -Eq '^[0-9]+ +timeout_selftest +pass' "$work/out/summary.txt" || fail "the timeout was not honoured"
  grep -Eq '^[0-9]+ +gpu_sgd_momentum_test +no-GPU' "$work/out/summary.txt" || fail "a GPU step did not say no GPU"
  grep -Eq '^[0-9]+ +ldd_check +pass' "$work/out/summary.txt" || fail "the ldd check did not pass"
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["failed"] == 0 and r["not_run"] > 0, r' \
    "$work/out/results.json" || fail "results.json"
  ;;
*) fail "unknown mode '$mode'" ;;
esac
echo "bundle_test $mode: ok"
