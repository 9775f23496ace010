#!/usr/bin/env bash
# Gather what a lent GPU machine (no Debian packages, no compiler) needs into carry/ (git-ignored,
# under 64 MiB): the built binaries, the shared libraries they load except the CUDA libraries
# that come with the machine's Python packages (cuDNN, cuBLAS) and glibc, and the shared fixtures.
# Builds nothing.   scripts/make-carry.sh [BUILD_DIR]   (default build-cuda)
# The 59 MB VGG16 weights are NOT carried: the reference test generates them on the device.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-cuda}
SHARED=${CATDOG_SHARED:-../shared}
rm -rf carry && mkdir -p carry/bin carry/lib carry/shared/weights
for f in "$BUILD"/catdog "$BUILD"/tests/gpu_*_test "$BUILD"/tests/reference_*_test \
         "$BUILD"/benchmarks/gpu_*_bench "$BUILD"/benchmarks/epoch_bench; do
  [ -x "$f" ] && cp "$f" carry/bin/
done
# Every resolved library except glibc's own and the big CUDA ones found on the device.
ldd carry/bin/* 2>/dev/null | awk '/=> \//{print $3}' | sort -u |
  grep -Ev '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*)\.so|libcudnn|libcublas|libcuda\.so' |
  while read -r lib; do cp -L "$lib" carry/lib/; done
strip --strip-unneeded carry/bin/* carry/lib/* 2>/dev/null || true  # debug info is most of the size
cp -r "$SHARED/reference" carry/shared/
cp "$SHARED"/weights/tiny_darknet_imagenet.* carry/shared/weights/
du -sh carry
total=$(du -sm carry | cut -f1)
[ "$total" -lt 64 ] || { echo "carry/ is ${total} MiB, over the 64 MiB limit" >&2; exit 1; }
