// Winograd convolution F(2x2,3x3) and F(4x4,3x3) for 3x3, stride-1 NHWC convolutions ('same' or
// 'valid'), with bias + activation in the output transform. The same contract as
// conv2d_forward_nhwc (kernels/cpu/conv2d.h): x (N, H, W, C), kernel (3, 3, C, F), y (N, OH, OW, F).
//
// What F(m, r) means: m outputs of an r-tap filter from m + r - 1 inputs. Computed directly that
// is m * r multiplications; Winograd's minimal filtering algorithm does it with m + r - 1, by
// evaluating both polynomials (the inputs' and the filter's) at m + r - 1 points, multiplying
// pointwise, and interpolating back. Nested in two dimensions, F(m x m, 3 x 3) turns an
// (m + 2) x (m + 2) input tile d and a 3x3 filter g into an m x m output tile
//
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A        (.) = elementwise product
//
// with alpha = m + 2: alpha^2 products instead of 9 m^2. F(2x2,3x3): 16 instead of 36 (2.25x
// fewer); F(4x4,3x3): 36 instead of 144 (4x fewer). Summed over the input channels, the elementwise
// products become alpha^2 independent matrix products, one per transform-domain position xi:
//
//   M[xi] (tiles, F) = V[xi] (tiles, C) * U[xi] (C, F)      (WinogradGemm below)
//
// where U = G g G^T is the filter transform (done once per frozen kernel and cached by the
// caller: WinogradFilter), V = B^T d B the input transform of every tile, and the output
// transform A^T M A (plus bias and activation) writes the m x m pixels of each tile. The tiles are
// processed in blocks (a few MB of V and M) so that the transforms' writes are still in cache
// when the GEMMs read them.
//
// The matrices are Lavin & Gray's ("Fast Algorithms for Convolutional Neural Networks", 2015).
// F(2,3) uses the points 0, 1, -1 (and infinity); F(4,3) uses 0, 1, -1, 2, -2 (and infinity).
//
// Where the error comes from: the transforms are exact in real numbers, but in float32 the input
// transform of F(4,3) adds inputs with weights up to 5 and 4, the filter transform divides by 6
// and 24, and the output transform multiplies by up to 8: the products' rounding errors are
// amplified by those weights before they cancel in A^T M A. F(2,3) uses weights of 1 and 1/2 and
// stays near im2col's error; F(4,3) loses about a decimal digit (measured per VGG16 layer in
// docs/PERFORMANCE.md), and larger tiles (points +-1/2, +-3) lose more, which is why this stops at
// m = 4. The filter transform is computed in double and rounded once.
#pragma once

#include <cstdint>
#include <vector>

#include "core/activation.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/conv_geometry.h"

namespace catdog::cpu {

// True when g is a convolution Winograd computes here: 3x3 window, stride 1 (any padding the
// geometry gives, 'same' or 'valid').
bool winograd_supports(const WindowGeometry& g);

// Who computes the alpha^2 transform-domain products: OpenBLAS sgemm, or the direct convolution's
// register-blocked tiles run as 1x1 kernels (kernels/cpu/conv_direct.h, gemm_direct_batched), in
// fp32 or, where the CPU has AVX512_BF16, with V and U rounded to bf16 and fp32 accumulation.
enum class WinogradGemm : uint8_t { openblas, direct_f32, direct_bf16 };
// direct_f32 where the CPU has AVX2 + FMA, else openblas.
WinogradGemm best_winograd_gemm();

// U = G g G^T for every (c, f), laid out (alpha^2, C, F): U[xi] is the B operand of GEMM xi. With
// OpenBLAS it is kept as floats (u); for the direct tiles each U[xi] is packed (packed[xi]) and u
// is not kept.
struct WinogradFilter {
  int m = 0;  // 2 or 4; 0: not computed
  int64_t c = 0, f = 0;
  WinogradGemm gemm = WinogradGemm::openblas;
  std::vector<float> u;
  std::vector<PackedConvKernel> packed;
};

// kernel (3, 3, C, F) -> its transform for F(m x m, 3 x 3), m = 2 or 4, for `gemm` (bf16: refused
// where the CPU lacks AVX512_BF16).
WinogradFilter winograd_transform_filter(int m, const float* kernel, int64_t c, int64_t f,
                                         WinogradGemm gemm = best_winograd_gemm());

// y = act(conv(x, kernel) + bias) with `filter` = winograd_transform_filter(m, kernel, g.c, g.f).
// bias may be null. tiles_per_block: the tile block (0: sized so V and M take about 8 MB).
void winograd_forward_nhwc(const WindowGeometry& g, const WinogradFilter& filter, const float* x,
                           const float* bias, Activation act, float* y,
                           int64_t tiles_per_block = 0);

}  // namespace catdog::cpu
