// The vector form of data/ycc_nearest.h, 32 output columns at a time, compiled with
// AVX-512 F + BW + VBMI (the top CMakeLists.txt); called only where ycc_vector_rows() says so.
//
// A block's 32 luma bytes come from one 128-byte window of the luma row through one two-table
// byte permute (vpermi2b), and its chroma samples at `at` and `side` from one 128-byte window of
// each chroma row the same way: the columns a nearest resize picks are gathered without a
// gather instruction. The colour conversion is jdcolor.c's table arithmetic in 16-bit lanes,
// and a last byte permute interleaves R, G and B.
// GCC 12 warns that the intrinsics' own _mm256_undefined_si256() "may be used uninitialized".
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "data/ycc_nearest.h"

namespace catdog::detail {
namespace {

// Output byte o of a block's 96 comes from pixel p = o / 3 of channel o % 3. The permute's
// tables are packus(R, G) and packus(B, B), which pack each 128-bit lane on its own: lane l holds
// R of pixels 8l..8l+7 then G of the same pixels, and B in the second table.
struct InterleaveIndex {
  alignas(64) uint8_t bytes[128] = {};
  InterleaveIndex() {
    for (int o = 0; o < 3 * kYccBlock; ++o) {
      const int p = o / 3, lane = 16 * (p / 8), i = p % 8;
      const int at[3] = {lane + i, lane + 8 + i, 64 + lane + i};
      bytes[o] = static_cast<uint8_t>(at[o % 3]);
    }
  }
};

// (x k + 32768) >> 16 in 16-bit lanes, exactly: the high half of x k, plus one where the low half
// is at least 32768.
inline __m512i mul_round(__m512i x, int16_t k) {
  const __m512i kk = _mm512_set1_epi16(k);
  return _mm512_add_epi16(_mm512_mulhi_epi16(x, kk), _mm512_srli_epi16(_mm512_mullo_epi16(x, kk), 15));
}

// jdcolor.c's arithmetic in 16-bit lanes, for 32 pixels of luma y and chroma xb = Cb - 128,
// xr = Cr - 128. The constants over 32767 are split into whole multiples of 65536, which come
// out of the shift exactly: 91881 = 65536 + 26345, 116130 = 2 x 65536 - 14942, and for green
// -46802 = -65536 + 18734, whose sum with -22554 xb must be rounded once, in 32 bits (vpmaddwd).
inline void ycc_to_rgb(__m512i y, __m512i xb, __m512i xr, __m512i& r, __m512i& g, __m512i& b) {
  const auto cr_r = static_cast<int16_t>(kYccCrR - 65536);
  const auto cb_b = static_cast<int16_t>(kYccCbB - 131072);
  r = _mm512_add_epi16(y, _mm512_add_epi16(xr, mul_round(xr, cr_r)));
  b = _mm512_add_epi16(y, _mm512_add_epi16(_mm512_add_epi16(xb, xb), mul_round(xb, cb_b)));
  const __m512i weights =
      _mm512_set1_epi32(static_cast<int32_t>((static_cast<uint32_t>(65536 - kYccCrG) << 16) |
                                             static_cast<uint16_t>(-kYccCbG)));
  auto green = [&](__m512i pairs) {
    const __m512i total =
        _mm512_add_epi32(_mm512_madd_epi16(pairs, weights), _mm512_set1_epi32(kYccHalf));
    return _mm512_srai_epi32(total, 16);
  };
  const __m512i sum = _mm512_packs_epi32(green(_mm512_unpacklo_epi16(xb, xr)),
                                         green(_mm512_unpackhi_epi16(xb, xr)));
  g = _mm512_add_epi16(y, _mm512_sub_epi16(sum, xr));
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
    __m512i r, g, bl;
    ycc_to_rgb(luma, cb, cr, r, g, bl);
    const __m512i rg = _mm512_packus_epi16(r, g);  // the clamp to 0..255
    const __m512i bb = _mm512_packus_epi16(bl, bl);
    uint8_t* out = dst + 3 * kYccBlock * b;
    _mm512_storeu_si512(out, _mm512_permutex2var_epi8(rg, out_lo, bb));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 64),
                        _mm512_castsi512_si256(_mm512_permutex2var_epi8(rg, out_hi, bb)));
  }
}

}  // namespace catdog::detail
