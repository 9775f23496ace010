// The vector form of data/ycc_nearest.h's step 2, 32 output columns at a time, compiled with
// AVX-512 F + BW + VBMI (the top CMakeLists.txt); called only where ycc_vector_rows() says so.
//
// A block's 32 luma bytes come from one 128-byte window of the luma row through one two-table
// byte permute (vpermi2b), and its chroma samples at `at` and `side` from one 128-byte window of
// each chroma row the same way: the columns a nearest resize picks are gathered without a
// gather instruction. The
// colour conversion is jdcolor.c's table arithmetic done with 32-bit multiplies, and a last byte
// permute interleaves R, G and B.
// GCC 12 warns that the intrinsics' own _mm256_undefined_si256() "may be used uninitialized".
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "data/ycc_nearest.h"

namespace catdog::detail {
namespace {

// Output byte o of a block's 96 comes from pixel o / 3 of channel o % 3, with R at [0, 32), G at
// [32, 64) and B at [64, 96) of the permute's two tables.
struct InterleaveIndex {
  alignas(64) uint8_t bytes[128] = {};
  InterleaveIndex() {
    for (int o = 0; o < 3 * kYccBlock; ++o) bytes[o] = static_cast<uint8_t>(o % 3 * kYccBlock + o / 3);
  }
};

// 16 pixels: luma and the two chroma values (Cb, Cr less 128) as int32 -> R, G, B bytes.
inline void rgb16(__m512i y, __m512i xb, __m512i xr, __m128i& r, __m128i& g, __m128i& b) {
  const __m512i half = _mm512_set1_epi32(kYccHalf), zero = _mm512_setzero_si512();
  auto mul = [](__m512i v, int32_t k) { return _mm512_mullo_epi32(v, _mm512_set1_epi32(k)); };
  const __m512i rv = _mm512_add_epi32(y, _mm512_srai_epi32(_mm512_add_epi32(mul(xr, kYccCrR), half), 16));
  const __m512i gv = _mm512_add_epi32(
      y, _mm512_srai_epi32(_mm512_sub_epi32(_mm512_sub_epi32(half, mul(xb, kYccCbG)), mul(xr, kYccCrG)), 16));
  const __m512i bv = _mm512_add_epi32(y, _mm512_srai_epi32(_mm512_add_epi32(mul(xb, kYccCbB), half), 16));
  // Negative values to 0 first: the narrowing saturates as unsigned, so only the top is clamped.
  r = _mm512_cvtusepi32_epi8(_mm512_max_epi32(rv, zero));
  g = _mm512_cvtusepi32_epi8(_mm512_max_epi32(gv, zero));
  b = _mm512_cvtusepi32_epi8(_mm512_max_epi32(bv, zero));
}

}  // namespace

void ycc_blocks_avx512(const YccRows& rows, const YccColumns& columns, uint8_t* dst) {
  static const InterleaveIndex interleave;
  const __m512i out_lo = _mm512_load_si512(interleave.bytes);
  const __m512i out_hi = _mm512_load_si512(interleave.bytes + 64);
  const __m512i center = _mm512_set1_epi16(128);
  // 64 bytes picked from the 128 at `row`.
  auto pick = [](const uint8_t* row, __m512i index) {
    return _mm512_permutex2var_epi8(_mm512_loadu_si512(row), index, _mm512_loadu_si512(row + 64));
  };
  auto low = [](__m512i v) { return _mm512_cvtepu8_epi16(_mm512_castsi512_si256(v)); };
  auto high = [](__m512i v) { return _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(v, 1)); };
  auto times3 = [](__m512i v) { return _mm512_add_epi16(_mm512_add_epi16(v, v), v); };
  for (int b = 0; b < columns.blocks; ++b) {
    const __m512i luma = low(pick(rows.y + columns.y_base[b],
                                  _mm512_loadu_si512(columns.y_index.data() + 64 * b)));
    const __m512i c_index = _mm512_loadu_si512(columns.c_index.data() + 64 * b);
    const __m512i bias = _mm512_loadu_si512(columns.bias.data() + kYccBlock * b);
    // Per column: colsum(k) = 3 near[k] + far[k] at k = at (the low 32 bytes picked) and
    // k = side (the high 32), then (3 colsum(at) + colsum(side) + bias) >> 4, less 128.
    auto chroma = [&](const uint8_t* near_row, const uint8_t* far_row) {
      const __m512i near = pick(near_row + columns.c_base[b], c_index);
      const __m512i far = pick(far_row + columns.c_base[b], c_index);
      const __m512i at = _mm512_add_epi16(times3(low(near)), low(far));
      const __m512i side = _mm512_add_epi16(times3(high(near)), high(far));
      const __m512i v = _mm512_add_epi16(_mm512_add_epi16(times3(at), side), bias);
      return _mm512_sub_epi16(_mm512_srli_epi16(v, 4), center);
    };
    const __m512i cb = chroma(rows.cb_near, rows.cb_far), cr = chroma(rows.cr_near, rows.cr_far);
    __m128i r[2], g[2], bl[2];
    for (int h = 0; h < 2; ++h) {
      auto widen = [h](__m512i v) {
        return _mm512_cvtepi16_epi32(h ? _mm512_extracti64x4_epi64(v, 1) : _mm512_castsi512_si256(v));
      };
      rgb16(widen(luma), widen(cb), widen(cr), r[h], g[h], bl[h]);
    }
    const __m512i rg = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set_m128i(r[1], r[0])),
                                          _mm256_set_m128i(g[1], g[0]), 1);
    const __m512i bb = _mm512_castsi256_si512(_mm256_set_m128i(bl[1], bl[0]));
    uint8_t* out = dst + 3 * kYccBlock * b;
    _mm512_storeu_si512(out, _mm512_permutex2var_epi8(rg, out_lo, bb));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 64),
                        _mm512_castsi512_si256(_mm512_permutex2var_epi8(rg, out_hi, bb)));
  }
}

}  // namespace catdog::detail
