// Internal: Winograd's input and output transforms (kernels/cpu/winograd.h) over a range of tiles,
// one template per tile size, included by the portable driver (winograd.cpp) and by the ISA files
// (winograd_avx2.cpp, winograd_avx512.cpp), each compiled for its ISA so that the lane loops below
// become 8- or 16-float vector code. As in conv_direct_job.h: only plain data and plain functions
// cross between the files, and the templates live in an anonymous namespace and use no std::
// template, so no AVX-512 instantiation can be shared with portable code by the linker.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/cpu/conv_geometry.h"

namespace catdog::cpu::winograd {

// One block of tiles: tiles [t0, t0 + nt) of a tiles_h x tiles_w grid per image (each tile m x m
// output pixels; the last row and column of tiles may hang over the output's edge: those pixels are
// computed and not stored). V is (alpha^2, nt, C), M is (alpha^2, nt, F).
struct TileJob {
  WindowGeometry g;
  int64_t tiles_h = 0, tiles_w = 0;
  int64_t t0 = 0, nt = 0;
  const float* x = nullptr;  // input transform: x (N, H, W, C) -> v, or v16 when set
  float* v = nullptr;
  uint16_t* v16 = nullptr;   // bf16 products: V rounded to bf16, (alpha^2, nt, C rounded up to even)
  const float* m = nullptr;  // output transform: m -> y (N, OH, OW, F), + bias, relu
  const float* bias = nullptr;
  bool relu = false;
  float* y = nullptr;
};

// Tiles [begin, end) of the block (0 <= begin <= end <= nt), for F(m x m, 3 x 3), m = 2 or 4.
void input_tiles_portable(int m, const TileJob& job, int64_t begin, int64_t end);
void output_tiles_portable(int m, const TileJob& job, int64_t begin, int64_t end);
void input_tiles_avx2(int m, const TileJob& job, int64_t begin, int64_t end);
void output_tiles_avx2(int m, const TileJob& job, int64_t begin, int64_t end);
void input_tiles_avx512(int m, const TileJob& job, int64_t begin, int64_t end);
void output_tiles_avx512(int m, const TileJob& job, int64_t begin, int64_t end);

// Vec below is passed by value only between these internal-linkage functions, so the -Wpsabi note
// (a 64-byte vector's calling convention differs without AVX-512) cannot affect any caller.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

namespace {

// Lavin & Gray's matrices, row-major: B^T (alpha x alpha), G (alpha x 3), A^T (m x alpha).
template <int M>
struct Transform;

template <>
struct Transform<2> {  // points 0, 1, -1, infinity
  static constexpr int alpha = 4;
  static constexpr float bt[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
  static constexpr double g[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  static constexpr float at[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
};

template <>
struct Transform<4> {  // points 0, 1, -1, 2, -2, infinity
  static constexpr int alpha = 6;
  static constexpr float bt[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0},
                                     {0, 4, -4, -1, 1, 0}, {0, -2, -1, 2, 1, 0},
                                     {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
  static constexpr double g[6][3] = {{1.0 / 4, 0, 0},
                                     {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                     {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                     {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                     {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                     {0, 0, 1}};
  static constexpr float at[4][6] = {
      {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};
};

// Channels per inner step: 16 floats as one GCC vector (one AVX-512 register, two AVX2 ones, four
// SSE ones: each ISA file lowers it to its own instructions). A tail narrower than this is
// zero-filled and not stored.
constexpr int kLanes = 16;
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float)), aligned(4)));

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }
// The first `lanes` floats from p, the rest zero; and the first `lanes` floats of v to p.
inline Vec load_part(const float* p, int64_t lanes) {
  Vec v = {};
  std::memcpy(&v, p, static_cast<size_t>(lanes) * sizeof(float));
  return v;
}
inline void store_part(float* p, Vec v, int64_t lanes) {
  std::memcpy(p, &v, static_cast<size_t>(lanes) * sizeof(float));
}

// v rounded to bf16 as kernels/cpu/bf16.h's bf16_from_float does, lane by lane: NaN stays NaN,
// denormals flush to zero, else round to nearest, ties to even, on the 16 bits dropped.
typedef uint32_t Bits __attribute__((vector_size(kLanes * sizeof(uint32_t)), aligned(4)));
typedef uint16_t Halves __attribute__((vector_size(kLanes * sizeof(uint16_t)), aligned(2)));
inline void store_bf16_part(uint16_t* p, Vec v, int64_t lanes) {
  Bits bits;
  std::memcpy(&bits, &v, sizeof bits);
  const Bits magnitude = bits & 0x7fffffffu;
  bits = (bits & 0x7f800000u) == 0 ? bits & 0x80000000u : bits;
  const Bits rounded = (bits + (0x7fffu + ((bits >> 16) & 1u))) >> 16;
  const Bits nan = (bits >> 16) | 0x40u;
  const Halves h = __builtin_convertvector(magnitude > 0x7f800000u ? nan : rounded, Halves);
  std::memcpy(p, &h, static_cast<size_t>(lanes) * sizeof(uint16_t));
}

// out[r][col] = sum_k w[r][k] in[k][col] for R rows, K inner, COLS columns of vectors. The
// matrices are constants, so once unrolled the zero weights cost nothing and the ones no multiply.
template <int R, int K, int COLS, class W>
inline void left_multiply(const W (&w)[R][K], const Vec (&in)[K][COLS], Vec (&out)[R][COLS]) {
  for (int r = 0; r < R; ++r) {
    for (int col = 0; col < COLS; ++col) {
      Vec acc = {};
      for (int k = 0; k < K; ++k) {
        const float wk = static_cast<float>(w[r][k]);
        if (wk != 0.0f) acc += wk * in[k][col];
      }
      out[r][col] = acc;
    }
  }
}

// out[row][r] = sum_k in[row][k] w[r][k]: the right multiplication by w^T.
template <int ROWS, int R, int K, class W>
inline void right_multiply_transposed(const Vec (&in)[ROWS][K], const W (&w)[R][K],
                                      Vec (&out)[ROWS][R]) {
  for (int row = 0; row < ROWS; ++row) {
    for (int r = 0; r < R; ++r) {
      Vec acc = {};
      for (int k = 0; k < K; ++k) {
        const float wk = static_cast<float>(w[r][k]);
        if (wk != 0.0f) acc += wk * in[row][k];
      }
      out[row][r] = acc;
    }
  }
}

// V[xi][t][c] = (B^T d B)[xi] for the block's tiles [begin, end), d read from x with zeros outside.
template <int M>
void input_tiles(const TileJob& job, int64_t begin, int64_t end) {
  using T = Transform<M>;
  constexpr int A = T::alpha;
  const WindowGeometry& g = job.g;
  const int64_t per_image = job.tiles_h * job.tiles_w;
  Vec d[A][A], tmp[A][A], out[A][A];
  for (int64_t t = begin; t < end; ++t) {
    const int64_t tile = job.t0 + t, n = tile / per_image, r = tile % per_image;
    const int64_t top = (r / job.tiles_w) * M - g.pad_top;
    const int64_t left = (r % job.tiles_w) * M - g.pad_left;
    const bool inside = top >= 0 && top + A <= g.h && left >= 0 && left + A <= g.w;
    const float* corner = job.x + ((n * g.h + top) * g.w + left) * g.c;
    for (int64_t c0 = 0; c0 < g.c; c0 += kLanes) {
      const int64_t cw = g.c - c0 < kLanes ? g.c - c0 : kLanes;
      if (inside && cw == kLanes) {
        for (int i = 0; i < A; ++i)
          for (int j = 0; j < A; ++j) d[i][j] = load(corner + (i * g.w + j) * g.c + c0);
      } else {
        for (int i = 0; i < A; ++i) {
          const int64_t ih = top + i;
          for (int j = 0; j < A; ++j) {
            const int64_t iw = left + j;
            d[i][j] = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w
                          ? load_part(job.x + ((n * g.h + ih) * g.w + iw) * g.c + c0, cw)
                          : Vec{};
          }
        }
      }
      left_multiply(T::bt, d, tmp);               // B^T d
      right_multiply_transposed(tmp, T::bt, out);  // (B^T d) B
      if (job.v16) {
        // bf16 rows of C rounded up to even: an odd C's last lane is a transformed zero.
        const int64_t cx = (g.c + 1) / 2 * 2, lanes = c0 + kLanes <= cx ? kLanes : cx - c0;
        uint16_t* dst = job.v16 + t * cx + c0;
        for (int a = 0; a < A; ++a)
          for (int b = 0; b < A; ++b) store_bf16_part(dst + (a * A + b) * job.nt * cx, out[a][b], lanes);
        continue;
      }
      float* dst = job.v + t * g.c + c0;
      const int64_t xi_stride = job.nt * g.c;
      for (int a = 0; a < A; ++a) {
        for (int b = 0; b < A; ++b) {
          if (cw == kLanes) {
            store(dst + (a * A + b) * xi_stride, out[a][b]);
          } else {
            store_part(dst + (a * A + b) * xi_stride, out[a][b], cw);
          }
        }
      }
    }
  }
}

// y pixels of the block's tiles [begin, end) = act(A^T M A + bias), the pixels inside the output.
template <int M>
void output_tiles(const TileJob& job, int64_t begin, int64_t end) {
  using T = Transform<M>;
  constexpr int A = T::alpha;
  const WindowGeometry& g = job.g;
  const int64_t per_image = job.tiles_h * job.tiles_w;
  const int64_t xi_stride = job.nt * g.f;
  Vec m[A][A], tmp[M][A], out[M][M];
  for (int64_t t = begin; t < end; ++t) {
    const int64_t tile = job.t0 + t, n = tile / per_image, r = tile % per_image;
    const int64_t oh0 = (r / job.tiles_w) * M, ow0 = (r % job.tiles_w) * M;
    for (int64_t f0 = 0; f0 < g.f; f0 += kLanes) {
      const int64_t fw = g.f - f0 < kLanes ? g.f - f0 : kLanes;
      const float* src = job.m + t * g.f + f0;
      for (int a = 0; a < A; ++a) {
        for (int b = 0; b < A; ++b) {
          m[a][b] = fw == kLanes ? load(src + (a * A + b) * xi_stride)
                                 : load_part(src + (a * A + b) * xi_stride, fw);
        }
      }
      left_multiply(T::at, m, tmp);               // A^T M
      right_multiply_transposed(tmp, T::at, out);  // (A^T M) A
      const Vec bias = job.bias ? load_part(job.bias + f0, fw) : Vec{};
      const Vec zero = {};
      for (int i = 0; i < M; ++i) {
        if (oh0 + i >= g.oh) break;
        for (int j = 0; j < M; ++j) {
          if (ow0 + j >= g.ow) break;
          float* dst = job.y + ((n * g.oh + oh0 + i) * g.ow + ow0 + j) * g.f + f0;
          Vec s = out[i][j] + bias;
          if (job.relu) s = s > zero ? s : zero;  // as the CPU's relu: NaN -> 0
          if (fw == kLanes) {
            store(dst, s);
          } else {
            store_part(dst, s, fw);
          }
        }
      }
    }
  }
}

}  // namespace

#pragma GCC diagnostic pop

// Defines input_tiles_<isa> and output_tiles_<isa> in the file that expands it.
#define CATDOG_WINOGRAD_TILES(isa)                                                           \
  void input_tiles_##isa(int m, const TileJob& job, int64_t begin, int64_t end) {            \
    if (m == 2) {                                                                            \
      input_tiles<2>(job, begin, end);                                                       \
    } else {                                                                                 \
      input_tiles<4>(job, begin, end);                                                       \
    }                                                                                        \
  }                                                                                          \
  void output_tiles_##isa(int m, const TileJob& job, int64_t begin, int64_t end) {           \
    if (m == 2) {                                                                            \
      output_tiles<2>(job, begin, end);                                                      \
    } else {                                                                                 \
      output_tiles<4>(job, begin, end);                                                      \
    }                                                                                        \
  }

}  // namespace catdog::cpu::winograd
