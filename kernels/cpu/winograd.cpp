#include "kernels/cpu/winograd.h"

#include <algorithm>
#include <cstring>

#include <cblas.h>

#include "core/error.h"
#include "kernels/bias_activation.h"
#include "kernels/cpu/parallel.h"

namespace catdog::cpu {

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

// Channels per inner step: one AVX-512 register of floats (the compiler vectorises the lane
// loops); a tail narrower than this is zero-filled and not stored.
constexpr int kLanes = 16;

// The output tiles: tiles_h x tiles_w per image, each m x m pixels (the last row and column of
// tiles may hang over the output's edge; those pixels are computed and not stored).
struct TileGrid {
  int64_t tiles_h = 0, tiles_w = 0;
  int64_t per_image() const { return tiles_h * tiles_w; }
};

float* scratch(int64_t floats) {
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < floats) buffer.resize(static_cast<size_t>(floats));
  return buffer.data();
}

// out[r][col][l] = sum_k w[r][k] in[k][col][l] for R rows, K inner, COLS columns of kLanes lanes.
template <int R, int K, int COLS, class W>
inline void left_multiply(const W (&w)[R][K], const float (&in)[K][COLS][kLanes],
                          float (&out)[R][COLS][kLanes]) {
  for (int r = 0; r < R; ++r) {
    for (int col = 0; col < COLS; ++col) {
      float acc[kLanes] = {};
      for (int k = 0; k < K; ++k) {
        const float wk = static_cast<float>(w[r][k]);
        if (wk == 0.0f) continue;
        for (int l = 0; l < kLanes; ++l) acc[l] += wk * in[k][col][l];
      }
      std::memcpy(out[r][col], acc, sizeof(acc));
    }
  }
}

// out[row][r][l] = sum_k in[row][k][l] w[r][k]: the right multiplication by w^T.
template <int ROWS, int R, int K, class W>
inline void right_multiply_transposed(const float (&in)[ROWS][K][kLanes], const W (&w)[R][K],
                                      float (&out)[ROWS][R][kLanes]) {
  for (int row = 0; row < ROWS; ++row) {
    for (int r = 0; r < R; ++r) {
      float acc[kLanes] = {};
      for (int k = 0; k < K; ++k) {
        const float wk = static_cast<float>(w[r][k]);
        if (wk == 0.0f) continue;
        for (int l = 0; l < kLanes; ++l) acc[l] += wk * in[row][k][l];
      }
      std::memcpy(out[row][r], acc, sizeof(acc));
    }
  }
}

// V[xi][t][c] = (B^T d B)[xi] for tiles t0 .. t0 + nt - 1, d read from x with zeros outside.
template <int M>
void input_transform(const WindowGeometry& g, const TileGrid& grid, const float* x, int64_t t0,
                     int64_t nt, float* v) {
  using T = Transform<M>;
  constexpr int A = T::alpha;
  parallel_for(nt, 4, [&](int64_t begin, int64_t end) {
    alignas(64) float d[A][A][kLanes];
    alignas(64) float tmp[A][A][kLanes];
    alignas(64) float out[A][A][kLanes];
    for (int64_t t = begin; t < end; ++t) {
      const int64_t tile = t0 + t, n = tile / grid.per_image(), r = tile % grid.per_image();
      const int64_t top = (r / grid.tiles_w) * M - g.pad_top;
      const int64_t left = (r % grid.tiles_w) * M - g.pad_left;
      for (int64_t c0 = 0; c0 < g.c; c0 += kLanes) {
        const int64_t cw = std::min<int64_t>(kLanes, g.c - c0);
        for (int i = 0; i < A; ++i) {
          const int64_t ih = top + i;
          for (int j = 0; j < A; ++j) {
            const int64_t iw = left + j;
            std::memset(d[i][j], 0, sizeof(d[i][j]));
            if (ih >= 0 && ih < g.h && iw >= 0 && iw < g.w) {
              std::memcpy(d[i][j], x + ((n * g.h + ih) * g.w + iw) * g.c + c0,
                          static_cast<size_t>(cw) * sizeof(float));
            }
          }
        }
        left_multiply(T::bt, d, tmp);               // B^T d
        right_multiply_transposed(tmp, T::bt, out);  // (B^T d) B
        for (int a = 0; a < A; ++a) {
          for (int b = 0; b < A; ++b) {
            std::memcpy(v + ((a * A + b) * nt + t) * g.c + c0, out[a][b],
                        static_cast<size_t>(cw) * sizeof(float));
          }
        }
      }
    }
  });
}

// y pixels of tiles t0 .. t0 + nt - 1 = act(A^T M A + bias), the pixels inside the output only.
template <int M>
void output_transform(const WindowGeometry& g, const TileGrid& grid, const float* mbuf,
                      int64_t t0, int64_t nt, const float* bias, bool relu, float* y) {
  using T = Transform<M>;
  constexpr int A = T::alpha;
  parallel_for(nt, 4, [&](int64_t begin, int64_t end) {
    alignas(64) float m[A][A][kLanes];
    alignas(64) float tmp[M][A][kLanes];
    alignas(64) float out[M][M][kLanes];
    for (int64_t t = begin; t < end; ++t) {
      const int64_t tile = t0 + t, n = tile / grid.per_image(), r = tile % grid.per_image();
      const int64_t oh0 = (r / grid.tiles_w) * M, ow0 = (r % grid.tiles_w) * M;
      for (int64_t f0 = 0; f0 < g.f; f0 += kLanes) {
        const int64_t fw = std::min<int64_t>(kLanes, g.f - f0);
        for (int a = 0; a < A; ++a) {
          for (int b = 0; b < A; ++b) {
            std::memset(m[a][b], 0, sizeof(m[a][b]));
            std::memcpy(m[a][b], mbuf + ((a * A + b) * nt + t) * g.f + f0,
                        static_cast<size_t>(fw) * sizeof(float));
          }
        }
        left_multiply(T::at, m, tmp);               // A^T M
        right_multiply_transposed(tmp, T::at, out);  // (A^T M) A
        float b[kLanes] = {};
        if (bias) std::memcpy(b, bias + f0, static_cast<size_t>(fw) * sizeof(float));
        for (int i = 0; i < M; ++i) {
          if (oh0 + i >= g.oh) break;
          for (int j = 0; j < M; ++j) {
            if (ow0 + j >= g.ow) break;
            float* dst = y + ((n * g.oh + oh0 + i) * g.ow + ow0 + j) * g.f + f0;
            for (int l = 0; l < kLanes; ++l) {
              const float s = out[i][j][l] + b[l];
              out[i][j][l] = relu && s < 0.0f ? 0.0f : s;
            }
            std::memcpy(dst, out[i][j], static_cast<size_t>(fw) * sizeof(float));
          }
        }
      }
    }
  });
}

template <int M>
void forward(const WindowGeometry& g, const WinogradFilter& filter, const float* x,
             const float* bias, Activation act, float* y, int64_t tiles_per_block) {
  constexpr int A = Transform<M>::alpha;
  const TileGrid grid{(g.oh + M - 1) / M, (g.ow + M - 1) / M};
  const int64_t tiles = g.n * grid.per_image();
  if (tiles == 0 || g.f == 0) return;
  constexpr int64_t kBlockFloats = int64_t{2} << 20;  // V + M of one block: 8 MB
  int64_t block = tiles_per_block > 0
                      ? tiles_per_block
                      : std::max<int64_t>(16, kBlockFloats / (A * A * (g.c + g.f)));
  block = std::min(block, tiles);
  float* v = scratch(A * A * block * (g.c + g.f));
  float* mbuf = v + A * A * block * g.c;
  const bool relu = act == Activation::relu;
  const int ic = static_cast<int>(g.c), jf = static_cast<int>(g.f);
  for (int64_t t0 = 0; t0 < tiles; t0 += block) {
    const int64_t nt = std::min(block, tiles - t0);
    input_transform<M>(g, grid, x, t0, nt, v);
    for (int xi = 0; xi < A * A; ++xi) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(nt), jf, ic, 1.0f,
                  v + xi * nt * g.c, ic, filter.u.data() + xi * g.c * g.f, jf, 0.0f,
                  mbuf + xi * nt * g.f, jf);
    }
    output_transform<M>(g, grid, mbuf, t0, nt, bias, relu, y);
  }
  if (act != Activation::linear && !relu) {
    bias_activation_forward(y, DType::f32, nullptr, g.out_rows(), g.f, act, 0.0f, Stream{});
  }
}

template <int M>
WinogradFilter transform_filter(const float* kernel, int64_t c, int64_t f) {
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
  return out;
}

}  // namespace

bool winograd_supports(const WindowGeometry& g) {
  return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1;
}

WinogradFilter winograd_transform_filter(int m, const float* kernel, int64_t c, int64_t f) {
  CATDOG_CHECK(m == 2 || m == 4, "Winograd F(", m, "x", m, ",3x3): only m = 2 or 4");
  return m == 2 ? transform_filter<2>(kernel, c, f) : transform_filter<4>(kernel, c, f);
}

void winograd_forward_nhwc(const WindowGeometry& g, const WinogradFilter& filter, const float* x,
                           const float* bias, Activation act, float* y, int64_t tiles_per_block) {
  CATDOG_CHECK(winograd_supports(g), "Winograd convolution: needs a 3x3 stride-1 window, got ",
               g.kh, "x", g.kw, " stride ", g.sh, "x", g.sw);
  CATDOG_CHECK(filter.c == g.c && filter.f == g.f && !filter.u.empty(),
               "Winograd convolution: the filter transform is for (C, F) = (", filter.c, ", ",
               filter.f, "), the input needs (", g.c, ", ", g.f, ")");
  if (filter.m == 2) {
    forward<2>(g, filter, x, bias, act, y, tiles_per_block);
  } else {
    forward<4>(g, filter, x, bias, act, y, tiles_per_block);
  }
}

}  // namespace catdog::cpu
