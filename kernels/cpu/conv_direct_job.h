// Internal to kernels/cpu/conv_direct*.cpp and bf16_conv*.cpp: what the portable driver
// (conv_direct.cpp) hands the ISA-specific tile loops (conv_direct_avx2.cpp, conv_direct_avx512.cpp,
// bf16_conv_avx512.cpp). Plain data and plain functions only: the ISA files are compiled with
// -mavx512f etc., so no inline function or template shared with portable code may be instantiated
// there (the linker could keep the AVX-512 copy for everyone).
#pragma once

#include <cstdint>

#include "kernels/cpu/conv_geometry.h"

namespace catdog::cpu::direct {

// Filters per block (the widest tile) and pixels per tile, per ISA.
constexpr int64_t kAvx512Block = 64, kAvx2Block = 16;

struct DirectConvJob {
  WindowGeometry g;
  const void* x = nullptr;        // float NHWC, or bf16 NHWC with `x_channels` channels
  int64_t x_channels = 0;         // channels a pixel of x holds (C; bf16: C rounded up to even)
  const void* weights = nullptr;  // the packed kernel (PackedConvKernel)
  const float* bias = nullptr;    // F rounded up to the block, zeros where there is none
  const void* zeros = nullptr;    // x_channels zeros: where a tap falls in the padding
  bool relu = false;              // epilogue: max(., 0) after the bias
  float* y = nullptr;
  int64_t tile_pixels = 0;        // pixels a tile covers (the ISA's)
  int64_t block = 0;              // filters a block covers (the ISA's)
  int64_t chunk_steps = 0;        // channel steps summed per pass over the tiles (L2 blocking)
};

// Tiles [begin, end) of the task list: task t = (filter block t / tiles, pixel tile t % tiles).
void run_tiles_f32_avx2(const DirectConvJob& job, int64_t begin, int64_t end);
void run_tiles_f32_avx512(const DirectConvJob& job, int64_t begin, int64_t end);
void run_tiles_bf16_avx512(const DirectConvJob& job, int64_t begin, int64_t end);
// dst[i] = bf16(src[i]) with round-to-nearest-even, n floats (vcvtne2ps2bf16).
void floats_to_bf16_avx512(const float* src, uint16_t* dst, int64_t n);

}  // namespace catdog::cpu::direct
