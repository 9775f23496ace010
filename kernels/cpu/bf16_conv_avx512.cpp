// The direct convolution's bf16 tiles (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512bf16;
// called only when cpu_features().avx512_bf16), and the rounding of the input to bf16.
//
// vdpbf16ps acc, w, x: for each of 16 lanes, acc += w[2i] * x[2i] + w[2i+1] * x[2i+1], the
// products exact (bf16 x bf16 fits fp32's 24-bit mantissa) and the sum in fp32. So a weight vector
// holds 16 filters x 2 channels ([tap][channel pair][filter][2], kernels/cpu/conv_direct.cpp packs
// it), the input broadcast is one 32-bit pair of channels, and one instruction does the work of two
// fp32 FMAs: the same 6 x 4 tile as the fp32 path, consuming two channels a step.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/conv_direct_tiles.h"

namespace catdog::cpu::direct {
namespace {

struct Bf16Avx512 : Avx512Output {
  using In = uint16_t;
  using W = uint16_t;
  using Acc = __m512;
  using Wv = __m512bh;
  using Bv = __m512bh;
  static constexpr int64_t kLanes = 16, kStep = 2, kMaxVecs = 4;
  static constexpr int pixels(int vecs) { return vecs == 4 ? 6 : 8; }
  static Acc zero() { return _mm512_setzero_ps(); }
  static Wv load_w(const W* w) { return (Wv)_mm512_loadu_si512(w); }
  static Bv bcast(const In* x) {
    int32_t pair;
    std::memcpy(&pair, x, sizeof pair);
    return (Bv)_mm512_set1_epi32(pair);
  }
  static Acc madd(Acc acc, Wv w, Bv b) { return _mm512_dpbf16_ps(acc, w, b); }
};

}  // namespace

void run_tiles_bf16_avx512(const DirectConvJob& job, int64_t begin, int64_t end) {
  run_tiles<Bf16Avx512>(job, begin, end);
}

void floats_to_bf16_avx512(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512bh pair = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
    _mm512_storeu_si512(dst + i, (__m512i)pair);
  }
  for (; i < n; i += 16) {
    const int64_t left = n - i < 16 ? n - i : 16;
    const __mmask16 mask = static_cast<__mmask16>((1u << left) - 1);
    const __m256bh half = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, src + i));
    _mm256_mask_storeu_epi16(dst + i, mask, (__m256i)half);
  }
}

}  // namespace catdog::cpu::direct
