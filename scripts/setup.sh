#!/usr/bin/env bash
# Install everything catdog needs to build, test and train, from Debian's packages, then build it.
# Safe to run again: apt-get skips what is there, and the build is incremental.
#
#   scripts/setup.sh            install + build (Release, CUDA backend when the toolkit is found)
#   scripts/setup.sh --deps     install only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git
  libopenblas-dev          # the CPU GEMM under convolution and dense layers
  libhdf5-dev              # Keras .h5 weights and models
  libturbojpeg0-dev        # JPEG decoding (libjpeg-turbo's TurboJPEG API)
  libpng-dev libwebp-dev   # PNG, and WebP files that pretend to be something else
  zlib1g-dev               # inflating Keras 3 .keras zip entries
  nlohmann-json3-dev       # Keras model_config JSON
  libcli11-dev             # the command line
  libplplot-dev plplot-driver-cairo   # curves.png
  libgtest-dev libbenchmark-dev       # tests and benchmarks
  python3 python3-numpy python3-h5py python3-pil   # test fixtures made by independent tools
  libjpeg-turbo-progs      # djpeg: the decode-rate peer in the benchmarks
  curl unzip ca-certificates          # scripts/fetch-assets.sh
  graphviz                 # docs/diagrams (scripts/make-diagrams.sh)
  chromium fonts-dejavu-core   # report_test loads report.html in headless Chromium (skips without)
  clang libclang-rt-dev    # the libFuzzer targets (cmake --preset fuzz)
  libopenmpi-dev openmpi-bin   # mpirun -np N catdog train: data-parallel ranks (docs/DISTRIBUTED.md)
  iproute2                 # ip netns: the two-host MPI test
)

need=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  echo "setup: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
else
  echo "setup: all Debian packages are installed"
fi

[ "${1:-}" = "--deps" ] && exit 0

cmake --preset default
cmake --build --preset default -j "$(nproc)"
echo "setup: built build/catdog. Try: build/catdog demo"
