#include "data/ycc_nearest.h"

#include <algorithm>
#include <atomic>

namespace catdog::detail {
namespace {

// jdcolor.c's tables (build_ycc_rgb_table), 16 fraction bits: R = Y + Cr_r[Cr],
// G = Y + ((Cb_g[Cb] + Cr_g[Cr]) >> 16), B = Y + Cb_b[Cb], each clamped to 0..255. The vector
// form computes the same integers with multiplies (data/ycc_nearest_avx512.cpp).
struct YccTables {
  int32_t cr_r[256], cb_b[256], cr_g[256], cb_g[256];
  YccTables() {
    for (int i = 0; i < 256; ++i) {
      const int32_t x = i - 128;
      cr_r[i] = (kYccCrR * x + kYccHalf) >> 16;
      cb_b[i] = (kYccCbB * x + kYccHalf) >> 16;
      cr_g[i] = -kYccCrG * x;
      cb_g[i] = -kYccCbG * x + kYccHalf;  // the rounding of G's shift, folded in
    }
  }
};
const YccTables& ycc_tables() {
  static const YccTables tables;
  return tables;
}

inline uint8_t clamp255(int v) { return static_cast<uint8_t>(std::min(std::max(v, 0), 255)); }

}  // namespace

void ycc_columns(ChromaLayout layout, const std::vector<int>& sx, int chroma_width,
                 bool vector_blocks, YccColumns& out) {
  const int n = static_cast<int>(sx.size());
  out.sx.assign(sx.begin(), sx.end());
  out.at.resize(n);
  out.side.resize(n);
  out.bias.resize(n);
  for (int x = 0; x < n; ++x) {
    const int at = sx[x] / 2;
    const bool odd = sx[x] & 1;
    // jdsample.c: an even output column leans on the sample to its left, an odd one on the
    // sample to its right, past either edge on the edge sample itself.
    out.at[x] = at;
    out.side[x] = odd ? std::min(at + 1, chroma_width - 1) : std::max(at - 1, 0);
    out.bias[x] = static_cast<int16_t>(layout == ChromaLayout::h2v2 ? 8 - odd : 4 * (1 + odd));
  }
  out.blocks = 0;
  if (!vector_blocks) return;
  const int blocks = n / kYccBlock;
  out.y_base.resize(blocks);
  out.c_base.resize(blocks);
  out.y_index.assign(static_cast<size_t>(blocks) * 64, 0);
  out.c_index.resize(static_cast<size_t>(blocks) * 64);
  for (int b = 0; b < blocks; ++b) {
    const int x0 = b * kYccBlock, x1 = x0 + kYccBlock - 1;
    // sx, at and side never decrease along x, and side >= at - 1.
    const int y_base = sx[x0], c_base = std::min(out.at[x0], out.side[x0]);
    if (sx[x1] - y_base >= 128 || std::max(out.at[x1], out.side[x1]) - c_base >= 128) return;
    out.y_base[b] = y_base;
    out.c_base[b] = c_base;
    for (int i = 0; i < kYccBlock; ++i) {
      out.y_index[b * 64 + i] = static_cast<uint8_t>(sx[x0 + i] - y_base);
      out.c_index[b * 64 + i] = static_cast<uint8_t>(out.at[x0 + i] - c_base);
      out.c_index[b * 64 + kYccBlock + i] = static_cast<uint8_t>(out.side[x0 + i] - c_base);
    }
  }
  out.blocks = blocks;
}

namespace {
bool detect_vector_rows() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vbmi");
#else
  return false;
#endif
}
std::atomic<bool> g_vector_rows_off{false};
}  // namespace

bool ycc_vector_rows() {
  static const bool detected = detect_vector_rows();
  return detected && !g_vector_rows_off.load();
}

void set_ycc_vector_rows_off_for_test(bool off) { g_vector_rows_off.store(off); }

void ycc_nearest_row(const YccRows& rows, const YccColumns& columns, int out_w, uint8_t* dst) {
  int x = 0;
  if (columns.blocks > 0) {
    ycc_blocks_avx512(rows, columns, dst);
    x = columns.blocks * kYccBlock;
  }
  const YccTables& t = ycc_tables();
  for (; x < out_w; ++x) {
    const int at = columns.at[x], side = columns.side[x], bias = columns.bias[x];
    auto chroma = [&](const uint8_t* near, const uint8_t* far) {
      return (3 * (3 * near[at] + far[at]) + 3 * near[side] + far[side] + bias) >> 4;
    };
    const int cb = chroma(rows.cb_near, rows.cb_far), cr = chroma(rows.cr_near, rows.cr_far);
    const int luma = rows.y[columns.sx[x]];
    uint8_t* p = dst + 3 * x;
    p[0] = clamp255(luma + t.cr_r[cr]);
    p[1] = clamp255(luma + ((t.cb_g[cb] + t.cr_g[cr]) >> 16));
    p[2] = clamp255(luma + t.cb_b[cb]);
  }
}

}  // namespace catdog::detail
