# Sourced by scripts/make-carry.sh, scripts/gpu-check.sh and tests/bundle_test.sh: which shared
# libraries a bundle carries and which it expects from the machine, and the check that an unpacked
# bundle has everything else.

# glibc's own libraries: always the machine's (a carried one would be loaded over its newer glibc).
BUNDLE_GLIBC_RE='^(linux-vdso|ld-linux-[a-z0-9_-]+|libc|libm|libdl|librt|libpthread|libresolv|libnss_[a-z0-9]+|libutil|libanl|libmvec)\.so(\.[0-9]+)*$'
# The CUDA libraries the device provides: the driver (libcuda), and cuBLAS and cuDNN from the
# Python packages nvidia-cublas (13) and nvidia-cudnn-cu13 (site-packages/nvidia/*/lib). The CUDA
# runtime is linked statically (CMakeLists.txt), so libcudart is not among them.
BUNDLE_CUDA_RE='^(libcuda|libcublas|libcublasLt|libcudnn|libcudnn_[a-z_]+|libnvrtc[a-z-]*)\.so(\.[0-9]+)*$'
BUNDLE_CUDA_EXPECTED="libcuda.so.1 libcublas.so.13 libcublasLt.so.13 libcudnn.so.9 (and what it loads: libcudnn_graph, _ops, _cnn, _adv, _heuristic, _engines_precompiled, _engines_runtime_compiled .so.9; libnvrtc.so.13 for runtime-compiled engines)"

# bundle_check_libs DIR: ldd every binary and library of the unpacked bundle DIR with only DIR/lib
# on LD_LIBRARY_PATH (plus $CATDOG_CUDA_LIBS when set). Every library must resolve inside DIR/lib,
# be glibc's, or be a CUDA library of BUNDLE_CUDA_RE (which may be "not found" here). Prints one
# line per problem and returns 1 when there is any.
bundle_check_libs() {
  local dir=$1 bad=0 file name path
  local lib_path=$dir/lib${CATDOG_CUDA_LIBS:+:$CATDOG_CUDA_LIBS}
  for file in "$dir"/bin/* "$dir"/lib/*.so*; do
    [ -f "$file" ] || continue
    while read -r name path; do
      if [[ $name =~ $BUNDLE_GLIBC_RE || $name =~ $BUNDLE_CUDA_RE ]]; then continue; fi
      if [ "$path" = "not found" ]; then
        echo "ldd: $(basename "$file"): $name not found"; bad=1
      elif [[ $path != "$dir/lib/"* ]]; then
        echo "ldd: $(basename "$file"): $name resolved outside the bundle ($path)"; bad=1
      fi
    done < <(env -i LD_LIBRARY_PATH="$lib_path" ldd "$file" 2>/dev/null |
             awk '$2 == "=>" { p = ($3 == "not") ? "not found" : $3; print $1, p; next }
                  /^\t\// { n = $1; sub(".*/", "", n); print n, $1 }')
  done
  return $bad
}
