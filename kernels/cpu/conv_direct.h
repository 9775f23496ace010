// Direct (implicit-GEMM) 2-D convolution over NHWC input, register-blocked: the CPU's fastest fp32
// path for the frozen base's 3x3 convolutions, and its bf16 path (AVX512_BF16).
//
//   x (N, H, W, C), kernel (KH, KW, C, F) HWIO, bias (F), y (N, OH, OW, F); any KH x KW, stride,
//   'same' / 'valid' (the sizes and padding come in WindowGeometry, kernels/cpu/conv_geometry.h).
//
// Register blocking. A convolution is a GEMM y (pixels, F) = patches (pixels, KH*KW*C) x kernel
// (KH*KW*C, F) whose left matrix is never written down: row p, column (i, j, c) is the input pixel
// under tap (i, j) of output pixel p, read in place ("implicit" GEMM). The micro-kernel keeps a tile
// of 6 output pixels x 64 filters (4 zmm registers of 16 floats each) in 24 zmm accumulators for
// the whole sum over the KH*KW taps and the C channels. Each step (one tap, one channel) loads the
// 64 filters' weights (4 vector loads), broadcasts each of the 6 pixels' input value (6 loads), and
// issues 6 x 4 = 24 FMAs: 10 loads for 24 FMAs (0.42 a FMA), under the two loads a cycle the
// core sustains next to its two FMAs, and 24 independent chains cover the FMA's 4-cycle latency on
// two ports (8 would do). Only when the sum is done does the tile leave the registers, once, with
// bias + ReLU applied on the way (the epilogue): no second pass over y.
//
// The kernel is packed once into filter-block-major order, [block of 64 filters][tap][c][64], so
// that each step's 4 weight vectors are one contiguous 256-byte line pair: pack_conv_kernel. A
// frozen layer keeps the packed copy and repacks only after weights_changed (layers/conv2d.cpp).
//
// Why it beats im2col + sgemm: im2col writes each input value KH*KW = 9 times into col (for
// block1_conv2 at batch 8 that is 9 x 103 MB) and the GEMM then reads col back and repacks it into
// its own panels, so the memory traffic grows with the 9x copy while the arithmetic does not;
// direct reads x in place (a 6-pixel tile's 3 input rows fit L1, the 64-filter weight block L2),
// and bias + activation ride in the epilogue instead of another pass over y.
//
// The napkin math: this 2-core Xeon does 2 x 16-lane FMAs a cycle per core = 64 flops/cycle/core;
// the peak for 2 threads is measured by an FMA loop (docs/PERFORMANCE.md). VGG16's big layers run
// 9*C steps of 24 FMAs per tile between stores, so the loop overhead is the tile's pointer setup
// per tap and its stores, a few percent.
//
// ISA paths, chosen at run time (kernels/cpu/cpu_features.h), each in its own file compiled for
// its ISA so the binary still runs on a CPU without AVX-512:
//   f32_avx512  16-float zmm, tiles of 6 pixels x 64 filters (conv_direct_avx512.cpp)
//   f32_avx2    8-float ymm, 16 registers: tiles of 6 pixels x 16 filters (conv_direct_avx2.cpp)
//   bf16_avx512 the input rounded to bf16 (round to nearest even), weights packed to bf16 in
//               channel pairs, vdpbf16ps: each instruction multiplies 16 filters x 2 channels and
//               adds both products into fp32 accumulators, so twice the FMA path's work per
//               instruction (bf16_conv_avx512.cpp)
// Threads: kernels/cpu/parallel.h, over (filter block, pixel tile) tasks, filter block outermost
// so a thread keeps one block of weights hot in its L2.
#pragma once

#include <cstdint>
#include <vector>

#include "core/activation.h"
#include "kernels/cpu/conv_geometry.h"

namespace catdog::cpu {

enum class DirectMath : uint8_t { f32_avx2, f32_avx512, bf16_avx512 };
const char* direct_math_name(DirectMath math);

// The fastest fp32 path this CPU runs (cpu_features()); an error when it has not even AVX2 + FMA.
DirectMath best_direct_f32_math();
// Whether this CPU can run `math` at all.
bool direct_math_supported(DirectMath math);

// The kernel in the layout `math`'s micro-kernel reads (see above). Filters past F in the last
// block and the bf16 path's odd channel (C rounded up to even) are zeros.
struct PackedConvKernel {
  DirectMath math = DirectMath::f32_avx512;
  int64_t kh = 0, kw = 0, c = 0, f = 0;
  std::vector<float> f32;      // the f32 paths
  std::vector<uint16_t> bf16;  // bf16_avx512: bf16 bit patterns
  bool empty() const { return f32.empty() && bf16.empty(); }
};

// Pack an HWIO kernel (g.kh, g.kw, g.c, g.f) for `math` (checked supported).
PackedConvKernel pack_conv_kernel(const WindowGeometry& g, const float* kernel, DirectMath math);

// y = act(conv(x, kernel) + bias) with a packed kernel (its sizes must match g). bias may be null.
void conv2d_direct_forward_packed(const WindowGeometry& g, const float* x,
                                  const PackedConvKernel& kernel, const float* bias,
                                  Activation act, float* y);

// count independent GEMMs through the 1x1 tiles: c_i (rows, F) = a_i (rows, C) * kernel_i (C, F),
// a_i = a + i rows C and c_i = c + i rows F, every kernels[i] packed alike for a 1x1 window
// (pack_conv_kernel of a (1, 1, C, F) kernel). One thread hand-off for all of them: Winograd's
// alpha^2 transform-domain products (kernels/cpu/winograd.h) are exactly this.
void gemm_direct_batched(int64_t count, int64_t rows, const float* a,
                         const PackedConvKernel* kernels, float* c);
// The same with a already rounded to bf16 (bf16_from_float's rounding), each row C rounded up to
// even with the odd channel zero, for kernels packed for bf16_avx512: Winograd's input transform
// writes V this way, saving a pass over it.
void gemm_direct_batched_bf16(int64_t count, int64_t rows, const uint16_t* a,
                              const PackedConvKernel* kernels, float* c);

// The same as kernels/cpu/conv2d.h's conv2d_forward_nhwc, packing the kernel on every call (the
// kernel lab and tests; a layer keeps a PackedConvKernel instead).
void conv2d_direct_forward_nhwc(const WindowGeometry& g, const float* x, const float* kernel,
                                const float* bias, Activation act, float* y, DirectMath math);

}  // namespace catdog::cpu
