#include "kernels/cpu/winograd.h"

#include <algorithm>
#include <cstring>

#include <cblas.h>

#include "core/error.h"
#include "kernels/bias_activation.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/winograd_tiles.h"

namespace catdog::cpu {

namespace winograd {
CATDOG_WINOGRAD_TILES(portable)
}  // namespace winograd

namespace {

using winograd::TileJob;
using winograd::Transform;

using TileFn = void (*)(int, const TileJob&, int64_t, int64_t);
struct TileFns {
  TileFn input, output;
};

// The widest transforms this CPU runs.
TileFns tile_fns() {
  const CpuFeatures f = cpu_features();
  if (f.avx512) return {winograd::input_tiles_avx512, winograd::output_tiles_avx512};
  if (f.avx2_fma) return {winograd::input_tiles_avx2, winograd::output_tiles_avx2};
  return {winograd::input_tiles_portable, winograd::output_tiles_portable};
}

float* scratch(int64_t floats) {
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < floats) buffer.resize(static_cast<size_t>(floats));
  return buffer.data();
}

template <int M>
void forward(const WindowGeometry& g, const WinogradFilter& filter, const float* x,
             const float* bias, Activation act, float* y, int64_t tiles_per_block) {
  constexpr int A = Transform<M>::alpha;
  TileJob job;
  job.g = g;
  job.tiles_h = (g.oh + M - 1) / M, job.tiles_w = (g.ow + M - 1) / M;
  const int64_t tiles = g.n * job.tiles_h * job.tiles_w;
  if (tiles == 0 || g.f == 0) return;
  constexpr int64_t kBlockFloats = int64_t{2} << 20;  // V + M of one block: 8 MB
  int64_t block = tiles_per_block > 0
                      ? tiles_per_block
                      : std::max<int64_t>(16, kBlockFloats / (A * A * (g.c + g.f)));
  block = std::min(block, tiles);
  // bf16 products: the input transform writes V as bf16 (C rounded up to even) into its own
  // buffer, and only M takes floats.
  const bool bf16 = filter.gemm == WinogradGemm::direct_bf16;
  const int64_t cx = (g.c + 1) / 2 * 2;
  float* v = scratch(A * A * block * ((bf16 ? 0 : g.c) + g.f));
  float* mbuf = v + (bf16 ? 0 : A * A * block * g.c);
  thread_local std::vector<uint16_t> v16_buffer;
  if (bf16 && static_cast<int64_t>(v16_buffer.size()) < A * A * block * cx) {
    v16_buffer.resize(static_cast<size_t>(A * A * block * cx));
  }
  job.x = x, job.v = v, job.m = mbuf, job.y = y, job.bias = bias;
  job.v16 = bf16 ? v16_buffer.data() : nullptr;
  job.relu = act == Activation::relu;
  const TileFns fns = tile_fns();
  const int ic = static_cast<int>(g.c), jf = static_cast<int>(g.f);
  for (int64_t t0 = 0; t0 < tiles; t0 += block) {
    job.t0 = t0, job.nt = std::min(block, tiles - t0);
    parallel_for(job.nt, 4, [&](int64_t b, int64_t e) { fns.input(M, job, b, e); });
    if (bf16) {
      gemm_direct_batched_bf16(A * A, job.nt, job.v16, filter.packed.data(), mbuf);
    } else if (filter.gemm == WinogradGemm::direct_f32) {
      gemm_direct_batched(A * A, job.nt, v, filter.packed.data(), mbuf);
    } else {
      const int nt = static_cast<int>(job.nt);
      for (int xi = 0; xi < A * A; ++xi) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nt, jf, ic, 1.0f,
                    v + xi * job.nt * g.c, ic, filter.u.data() + xi * g.c * g.f, jf, 0.0f,
                    mbuf + xi * job.nt * g.f, jf);
      }
    }
    parallel_for(job.nt, 4, [&](int64_t b, int64_t e) { fns.output(M, job, b, e); });
  }
  if (act != Activation::linear && !job.relu) {
    bias_activation_forward(y, DType::f32, nullptr, g.out_rows(), g.f, act, 0.0f, Stream{});
  }
}

template <int M>
WinogradFilter transform_filter(const float* kernel, int64_t c, int64_t f, WinogradGemm gemm) {
  using T = Transform<M>;
  constexpr int A = T::alpha;
  WinogradFilter out;
  out.m = M, out.c = c, out.f = f;
  out.u.resize(static_cast<size_t>(A * A * c * f));
  float* u = out.u.data();
  parallel_for(c, 16, [&](int64_t begin, int64_t end) {
    for (int64_t ci = begin; ci < end; ++ci) {
      for (int64_t fi = 0; fi < f; ++fi) {
        double k[3][3], gk[A][3];
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j) k[i][j] = kernel[((i * 3 + j) * c + ci) * f + fi];
        for (int a = 0; a < A; ++a)
          for (int j = 0; j < 3; ++j)
            gk[a][j] = T::g[a][0] * k[0][j] + T::g[a][1] * k[1][j] + T::g[a][2] * k[2][j];
        for (int a = 0; a < A; ++a) {
          for (int b = 0; b < A; ++b) {
            const double s = gk[a][0] * T::g[b][0] + gk[a][1] * T::g[b][1] + gk[a][2] * T::g[b][2];
            u[((a * A + b) * c + ci) * f + fi] = static_cast<float>(s);
          }
        }
      }
    }
  });
  out.gemm = gemm;
  if (gemm == WinogradGemm::openblas) return out;
  // Each U[xi] (C, F) is a 1x1 kernel for the direct tiles: packed once, and u is not kept.
  const DirectMath math =
      gemm == WinogradGemm::direct_bf16 ? DirectMath::bf16_avx512 : best_direct_f32_math();
  const WindowGeometry g1 = make_window_geometry(1, 1, 1, c, 1, 1, 1, 1, false, f);
  out.packed.reserve(A * A);
  for (int xi = 0; xi < A * A; ++xi) out.packed.push_back(pack_conv_kernel(g1, u + xi * c * f, math));
  out.u = std::vector<float>{};
  return out;
}

}  // namespace

WinogradGemm best_winograd_gemm() {
  return direct_math_supported(DirectMath::f32_avx512) || direct_math_supported(DirectMath::f32_avx2)
             ? WinogradGemm::direct_f32
             : WinogradGemm::openblas;
}

bool winograd_supports(const WindowGeometry& g) {
  return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1;
}

WinogradFilter winograd_transform_filter(int m, const float* kernel, int64_t c, int64_t f,
                                         WinogradGemm gemm) {
  CATDOG_CHECK(m == 2 || m == 4, "Winograd F(", m, "x", m, ",3x3): only m = 2 or 4");
  CATDOG_CHECK(gemm != WinogradGemm::direct_bf16 || direct_math_supported(DirectMath::bf16_avx512),
               "Winograd in bf16: ", cpu_bf16_unsupported_reason());
  return m == 2 ? transform_filter<2>(kernel, c, f, gemm) : transform_filter<4>(kernel, c, f, gemm);
}

void winograd_forward_nhwc(const WindowGeometry& g, const WinogradFilter& filter, const float* x,
                           const float* bias, Activation act, float* y, int64_t tiles_per_block) {
  CATDOG_CHECK(winograd_supports(g), "Winograd convolution: needs a 3x3 stride-1 window, got ",
               g.kh, "x", g.kw, " stride ", g.sh, "x", g.sw);
  CATDOG_CHECK(filter.c == g.c && filter.f == g.f && (!filter.u.empty() || !filter.packed.empty()),
               "Winograd convolution: the filter transform is for (C, F) = (", filter.c, ", ",
               filter.f, "), the input needs (", g.c, ", ", g.f, ")");
  if (filter.m == 2) {
    forward<2>(g, filter, x, bias, act, y, tiles_per_block);
  } else {
    forward<4>(g, filter, x, bias, act, y, tiles_per_block);
  }
}

}  // namespace catdog::cpu
