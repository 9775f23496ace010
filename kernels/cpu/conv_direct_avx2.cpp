// The direct convolution's fp32 tiles for AVX2 + FMA (compiled with -mavx2 -mfma; the fallback
// where AVX-512 is missing). 16 ymm registers of 8 floats: tiles of 6 pixels x 2 vectors (12
// accumulators, 2 weight vectors, 1 broadcast), or 8 pixels x 1 vector for a narrow last block.
#include <immintrin.h>

#include "kernels/cpu/conv_direct_tiles.h"

namespace catdog::cpu::direct {
namespace {

struct F32Avx2 {
  using In = float;
  using W = float;
  using Acc = __m256;
  using Wv = __m256;
  using Bv = __m256;
  static constexpr int64_t kLanes = 8, kStep = 1, kMaxVecs = 2;
  static constexpr int pixels(int vecs) { return vecs == 2 ? 6 : 8; }
  static Acc zero() { return _mm256_setzero_ps(); }
  static Wv load_w(const W* w) { return _mm256_loadu_ps(w); }
  static Bv bcast(const In* x) { return _mm256_broadcast_ss(x); }
  static Acc madd(Acc acc, Wv w, Bv b) { return _mm256_fmadd_ps(w, b, acc); }
  static __m256i lane_mask(int64_t lanes) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(lanes)), index);
  }
  static Acc load_y(const float* y, int64_t lanes) {
    return lanes == kLanes ? _mm256_loadu_ps(y) : _mm256_maskload_ps(y, lane_mask(lanes));
  }
  static void store(float* y, Acc acc, const float* bias, bool relu, int64_t lanes) {
    Acc v = bias ? _mm256_add_ps(acc, _mm256_loadu_ps(bias)) : acc;
    if (relu) v = _mm256_max_ps(v, _mm256_setzero_ps());
    if (lanes == kLanes) {
      _mm256_storeu_ps(y, v);
    } else {
      _mm256_maskstore_ps(y, lane_mask(lanes), v);
    }
  }
};

}  // namespace

void run_tiles_f32_avx2(const DirectConvJob& job, int64_t begin, int64_t end) {
  run_tiles<F32Avx2>(job, begin, end);
}

}  // namespace catdog::cpu::direct
