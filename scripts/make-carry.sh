#!/usr/bin/env bash
# Pack what a lent GPU machine needs (it has no Debian packages and no compiler) into ONE archive:
# the built binaries, the shared libraries they load except glibc's and the CUDA libraries of the
# device (scripts/bundle-libs.sh says which), the shared fixtures the GPU and reference tests read,
# the PyTorch peer, a launcher and a MANIFEST. Builds nothing: run it after the README's setup.
#
#   scripts/make-carry.sh [--build DIR] [--out FILE]   (default: build, carry/catdog-bundle.tar.xz)
#
# Unpacked, the archive is one folder, catdog-bundle/:
#   run        launcher: `catdog-bundle/run CMD...` runs CMD with the bundle's libraries and the
#              CATDOG_* variables the tests read (see the file)
#   bin/       catdog, cuda_probe, every test binary, every benchmark (debug info stripped)
#   lib/       the non-glibc, non-CUDA shared libraries they need, found with ldd
#   shared/    reference/ and weights/tiny_darknet_imagenet.* (the 59 MB VGG16 weights are not
#              carried: the reference test generates them with make_reference.py)
#   peer/      benchmarks/peer/*.py
#   ompi/ pmix/  Open MPI's components and help files, PMIx's components (bin/mpirun beside the
#              binaries), when catdog was built with MPI: the GPU check's 2-rank NCCL test
#   MANIFEST   every file with its size and sha256, and the CUDA libraries expected on the device
# libstdc++ and libgcc_s ARE carried: the device's distribution is unknown, our binaries need
# GCC 12's GLIBCXX_3.4.30, and they load only into catdog's processes (the launcher's
# LD_LIBRARY_PATH), never into Python's (scripts/gpu-check.sh runs the PyTorch peer without it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bundle-libs.sh
BUILD=build
ARCHIVE=carry/catdog-bundle.tar.xz
while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --out) ARCHIVE=$2; shift 2 ;;
    *) echo "make-carry: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
SHARED=${CATDOG_SHARED:-../shared}
[ -x "$BUILD/catdog" ] || { echo "make-carry: no $BUILD/catdog; build first (scripts/setup.sh)" >&2; exit 1; }
[ -d "$SHARED/reference" ] || { echo "make-carry: no $SHARED/reference (set CATDOG_SHARED)" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/catdog-bundle
mkdir -p "$root"/bin "$root"/lib "$root"/shared/weights "$root"/peer
for f in "$BUILD"/catdog "$BUILD"/cuda_probe "$BUILD"/tests/*_test "$BUILD"/benchmarks/*_bench; do
  [ -x "$f" ] && [ -f "$f" ] && cp "$f" "$root"/bin/
done
strip --strip-debug "$root"/bin/*  # keeps the symbol table, for compute-sanitizer's stacks

# Open MPI, when catdog was built with it: mpirun, its components and help files, and PMIx's
# components, so that the GPU check can start 2 ranks (a lent GPU machine has no mpirun). They
# keep Open MPI's layout under ompi/ and pmix/; the launcher points OPAL_PREFIX and PMIx's
# component path there (relocated: docs/DISTRIBUTED.md, "GPUs").
ompi_dirs=()
if ldd "$root"/bin/catdog | grep -q 'libmpi\.so' && command -v mpirun >/dev/null && command -v ompi_info >/dev/null; then
  prefix=$(ompi_info --path prefix --parsable | cut -d: -f3-)
  pkglibdir=$(ompi_info --path pkglibdir --parsable | cut -d: -f3-)
  pkgdatadir=$(ompi_info --path pkgdatadir --parsable | cut -d: -f3-)
  cp -L "$(command -v mpirun)" "$root"/bin/mpirun
  mkdir -p "$root/ompi/${pkglibdir#$prefix/}" "$root/ompi/${pkgdatadir#$prefix/}" "$root"/pmix/lib
  # Not the components for fabrics (UCX, libfabric, PSM, verbs) and OpenSHMEM, which one host
  # does not use and whose libraries would add 9 MB.
  ls "$pkglibdir" | grep '\.so$' |
    grep -Ev '^mca_(atomic|memheap|scoll|spml|sshmem|mtl)_|^mca_(btl_ofi|btl_openib|osc_ucx|pml_ucx)\.so$' |
    while read -r c; do cp -L "$pkglibdir/$c" "$root/ompi/${pkglibdir#$prefix/}/"; done
  cp -L "$pkgdatadir"/help-*.txt "$root/ompi/${pkgdatadir#$prefix/}/"
  # PMIx (Debian's pmix2): its components beside libpmix, its help files in ../share/pmix.
  pmix_lib=$(dirname "$(readlink -f "$(ldconfig -p | awk '/libpmix\.so\.2 / {print $NF; exit}')")")
  if [ -d "$pmix_lib/pmix" ]; then
    cp -rL "$pmix_lib/pmix" "$root"/pmix/lib/
    [ -d "$pmix_lib/../share/pmix" ] && mkdir -p "$root"/pmix/share && cp -rL "$pmix_lib/../share/pmix" "$root"/pmix/share/
  fi
  ompi_dirs=("$root"/ompi/"${pkglibdir#$prefix/}"/*.so "$root"/pmix/lib/pmix/*.so)
fi

# Every library ldd resolves, except glibc's and the device's CUDA libraries.
ldd "$root"/bin/* "${ompi_dirs[@]}" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
  while read -r name path; do
    [[ $name =~ $BUNDLE_GLIBC_RE || $name =~ $BUNDLE_CUDA_RE ]] && continue
    cp -L "$path" "$root/lib/$name"
  done
strip --strip-unneeded "$root"/lib/*

cp -r "$SHARED"/reference "$root"/shared/
cp "$SHARED"/weights/tiny_darknet_imagenet.* "$root"/shared/weights/
cp benchmarks/peer/*.py "$root"/peer/

cat > "$root"/run <<'LAUNCHER'
#!/bin/sh
# catdog-bundle/run CMD...: run CMD (a binary of bin/) with the bundle's libraries first on
# LD_LIBRARY_PATH, then the device's CUDA libraries ($CATDOG_CUDA_LIBS when set, else the lib/
# folders of the Python packages site-packages/nvidia/*, else /usr/local/cuda/lib64). It sets
# CATDOG_EXE, CATDOG_SHARED, CATDOG_PYTHON (the first python3 on PATH), CATDOG_TEST_TMP and
# CATDOG_BUNDLE, and PATH when empty. Only for catdog's processes: never run Python through it.
here=$(cd "$(dirname "$0")" && pwd)
PATH=${PATH:-/usr/local/bin:/usr/bin:/bin}
CATDOG_PYTHON=${CATDOG_PYTHON:-$(command -v python3 || echo /usr/bin/python3)}
if [ -z "${CATDOG_CUDA_LIBS+set}" ]; then
  CATDOG_CUDA_LIBS=$("$CATDOG_PYTHON" -c 'import glob, os, sys
print(":".join(sorted({d for p in sys.path for d in glob.glob(os.path.join(p, "nvidia", "*", "lib"))})))' 2>/dev/null)
  for d in /usr/local/cuda/lib64 /usr/local/cuda/lib; do
    [ -d "$d" ] && CATDOG_CUDA_LIBS=${CATDOG_CUDA_LIBS:+$CATDOG_CUDA_LIBS:}$d
  done
fi
LD_LIBRARY_PATH=$here/lib${CATDOG_CUDA_LIBS:+:$CATDOG_CUDA_LIBS}
CATDOG_EXE=$here/bin/catdog
CATDOG_SHARED=$here/shared
CATDOG_TEST_TMP=${CATDOG_TEST_TMP:-${TMPDIR:-/tmp}/catdog-bundle-tmp}
CATDOG_BUNDLE=$here
if [ -x "$here/bin/mpirun" ]; then  # the carried Open MPI, relocated; its mpirun first on PATH
  PATH=$here/bin:$PATH
  OPAL_PREFIX=$here/ompi
  PMIX_MCA_mca_base_component_path=$here/pmix/lib/pmix
  PMIX_INSTALL_PREFIX=$here/pmix
  export OPAL_PREFIX PMIX_MCA_mca_base_component_path PMIX_INSTALL_PREFIX
fi
export PATH LD_LIBRARY_PATH CATDOG_EXE CATDOG_SHARED CATDOG_PYTHON CATDOG_TEST_TMP CATDOG_BUNDLE CATDOG_CUDA_LIBS
mkdir -p "$CATDOG_TEST_TMP"
exec "$@"
LAUNCHER
chmod +x "$root"/run

{
  echo "# catdog bundle, made $(date -u +%FT%TZ) from $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "# cuda-expected: $BUNDLE_CUDA_EXPECTED"
  echo "# cuda-regex: $BUNDLE_CUDA_RE"
  echo "# size-bytes sha256 path"
  (cd "$stage" && find catdog-bundle -type f ! -path catdog-bundle/MANIFEST | sort | while read -r f; do
     printf '%s %s %s\n' "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)" "$f"
   done)
} > "$root"/MANIFEST

mkdir -p "$(dirname "$ARCHIVE")"
# One stream with a dictionary larger than the binaries together: every test binary carries the
# same static library and 5-architecture fatbinary, and xz finds the repeats only within its
# dictionary (-6 alone: 8 MiB, and -T splits the input). 37 MiB -> 29 MiB; unpacking needs 256 MiB.
tar -C "$stage" -cf - catdog-bundle | xz -T1 --lzma2=preset=6,dict=256MiB > "$ARCHIVE.part"
mv "$ARCHIVE.part" "$ARCHIVE"
bytes=$(stat -c %s "$ARCHIVE")
echo "make-carry: $ARCHIVE: $((bytes / 1048576)) MiB ($bytes bytes; unpacked $(du -sm "$root" | cut -f1) MiB," \
     "$(ls "$root"/bin | wc -l) binaries, $(ls "$root"/lib | wc -l) libraries)"
[ "$bytes" -lt $((40 * 1048576)) ] || { echo "make-carry: over 40 MiB" >&2; exit 1; }
