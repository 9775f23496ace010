// The direct convolution's fp32 tiles for AVX-512 (compiled with -mavx512f -mavx512bw -mavx512vl
// -mfma; called only when cpu_features().avx512). 32 zmm registers: tiles of 6 pixels x 4 vectors
// of 16 filters (24 accumulators), 8 x 3 or 8 x <= 2 for a narrower last block.
#include <immintrin.h>

#include "kernels/cpu/conv_direct_tiles.h"

namespace catdog::cpu::direct {
namespace {

struct F32Avx512 : Avx512Output {
  using In = float;
  using W = float;
  using Acc = __m512;
  using Wv = __m512;
  using Bv = __m512;
  static constexpr int64_t kLanes = 16, kStep = 1, kMaxVecs = 4;
  static constexpr int pixels(int vecs) { return vecs == 4 ? 6 : 8; }
  static Acc zero() { return _mm512_setzero_ps(); }
  static Wv load_w(const W* w) { return _mm512_loadu_ps(w); }
  static Bv bcast(const In* x) { return _mm512_set1_ps(*x); }
  static Acc madd(Acc acc, Wv w, Bv b) { return _mm512_fmadd_ps(w, b, acc); }
};

}  // namespace

void run_tiles_f32_avx512(const DirectConvJob& job, int64_t begin, int64_t end) {
  run_tiles<F32Avx512>(job, begin, end);
}

}  // namespace catdog::cpu::direct
