// The last two steps of libjpeg-turbo's default decode, done only at the pixels a nearest resize
// keeps (internal to data/): "fancy" chroma upsampling (a triangle filter between neighbouring
// chroma samples) and the YCbCr -> RGB conversion, both bit for bit libjpeg's.
//
// Why: a 500x375 photo resized to 224x224 keeps 27% of its pixels. With libjpeg's raw output
// (the planes its IDCT writes) and this file, the other 73% are never upsampled nor converted.
// The formulas are libjpeg's own (jdsample.c h2v2_fancy_upsample and h2v1_fancy_upsample,
// jdcolor.c ycc_rgb_convert). tests/data_decode_test.cpp holds the result against TurboJPEG's
// full decode for every layout, and tests/reference_decode_test.cpp against PIL.
//
// Per output pixel, libjpeg's two upsampling passes fold into one formula. With the chroma
// rows `near` (the row of the pixel's position, sy / 2 under h2v2) and `far` (its neighbour on
// sy's side; the same row under h2v1), and the chroma columns `at` (sx / 2) and `side` (its
// neighbour on sx's side):
//     colsum(k) = 3 x near[k] + far[k]
//     chroma    = (3 x colsum(at) + colsum(side) + bias) >> 4
// h2v2_fancy_upsample's bias is 8 on even columns and 7 on odd ones. Under h2v1 colsum is
// 4 x the row, so h2v1_fancy_upsample's (3 x a + b + 1 or 2) >> 2 is the same with bias 4 or 8.
// Then R, G, B from Y and the two chroma values with jdcolor.c's arithmetic.
//
// The vector form does 32 output columns at a time with AVX-512 VBMI byte permutes where the
// CPU has them (data/ycc_nearest_avx512.cpp). In plain C++ the formula is slower than libjpeg's
// own SIMD passes over every pixel, so the decoder uses this file only where the vector form
// applies (ycc_vector_rows, YccColumns::blocks); the plain loop does the columns after the last
// whole block.
#pragma once

#include <cstdint>
#include <vector>

namespace catdog::detail {

// libjpeg's sampling factors of Y when Cb and Cr are 1x1: 4:2:2 and 4:2:0.
enum class ChromaLayout : uint8_t { h2v1, h2v2 };

// The columns at which a row is sampled, worked out once an image.
struct YccColumns {
  // Per output column: the luma column (a nearest_sources column), the chroma columns at and
  // side (clamped to the plane: libjpeg replicates the edge samples), and the bias.
  std::vector<int32_t> sx, at, side;
  std::vector<int16_t> bias;
  // The vector form, `blocks` blocks of 32 columns (0 where it does not apply): for block b, the
  // first column of its luma window and of its chroma window (128 bytes of a row each), and each
  // column's place in them: 64 bytes a block for luma (32 used), and for chroma the 32 `at`
  // places then the 32 `side` places.
  int blocks = 0;
  std::vector<int32_t> y_base, c_base;
  std::vector<uint8_t> y_index, c_index;
};
constexpr int kYccBlock = 32;
// jdcolor.c's constants, FIX(x) = x * 65536 rounded: 1.40200 (Cr -> R), 1.77200 (Cb -> B),
// 0.71414 (Cr -> G), 0.34414 (Cb -> G), and one half.
constexpr int32_t kYccCrR = 91881, kYccCbB = 116130, kYccCrG = 46802, kYccCbG = 22554,
                  kYccHalf = 32768;
// The vector form reads a row up to this many bytes past its end.
constexpr int kYccSlack = 128;

// Fills `out` for output columns sx of a picture whose chroma planes are chroma_width samples
// wide. `vector_blocks`: also fill the vector form, where every block's windows fit (a picture
// at most about 4 times as wide as the output).
void ycc_columns(ChromaLayout layout, const std::vector<int>& sx, int chroma_width,
                 bool vector_blocks, YccColumns& out);
// Whether this CPU runs the vector form (AVX-512 F + BW + VBMI). data/ sits beside the kernels,
// not on them (scripts/check-layers.py), so it asks the CPU itself rather than
// kernels/cpu/cpu_features.h.
bool ycc_vector_rows();
// Tests only: true makes ycc_vector_rows() false, so the decoder takes libjpeg's rows.
void set_ycc_vector_rows_off_for_test(bool off);

// One output row of out_w RGB pixels from luma row y and the chroma rows. With
// columns.blocks > 0, every row must be readable kYccSlack bytes past its end.
struct YccRows {
  const uint8_t *y, *cb_near, *cb_far, *cr_near, *cr_far;
};
void ycc_nearest_row(const YccRows& rows, const YccColumns& columns, int out_w, uint8_t* dst);

// The vector form for blocks [0, columns.blocks) (data/ycc_nearest_avx512.cpp).
void ycc_blocks_avx512(const YccRows& rows, const YccColumns& columns, uint8_t* dst);

}  // namespace catdog::detail
