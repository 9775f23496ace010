// Must not compile (tests/cuda_emu/CMakeLists.txt: cuda_emu.warp_intrinsics_are_refused): the
// emulator has no warps, so a warp shuffle is a compile error that says so, not a wrong answer.
__global__ void warp_sum(float* x) {
  float v = x[threadIdx.x];
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  x[threadIdx.x] = v;
}
