#include "kernels/cpu/conv2d.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include <cblas.h>

#include "kernels/bias_activation.h"
#include "kernels/cpu/parallel.h"

namespace catdog::cpu {

namespace {

constexpr int64_t kDefaultBudget = int64_t{8} << 20;

// Rows of col (output pixels) per chunk: the budget over the patch size, at least one row.
int64_t rows_per_chunk(const WindowGeometry& g, int64_t im2col_floats) {
  const int64_t budget = im2col_floats > 0 ? im2col_floats : kDefaultBudget;
  return std::max<int64_t>(1, budget / g.patch_size());
}

// A 1x1 kernel at stride 1 reads each input pixel once, in order: x is col already.
bool is_pointwise(const WindowGeometry& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.oh == g.h && g.ow == g.w;
}

// A scratch buffer per thread, grown as needed and reused across calls (allocating 32 MB per
// layer per step would cost page faults every time).
float* scratch(int64_t floats) {
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < floats) buffer.resize(static_cast<size_t>(floats));
  return buffer.data();
}

// col rows [r0, r1) <- the input patches of output pixels r0..r1-1 (row r = (n, oh, ow) flat),
// each laid out (KH, KW, C) with zeros where the window hangs over the padding.
void im2col_rows(const WindowGeometry& g, const float* x, int64_t r0, int64_t r1, float* col) {
  const int64_t k = g.patch_size();
  const size_t pixel_bytes = static_cast<size_t>(g.c) * sizeof(float);
  parallel_for(r1 - r0, 256, [&](int64_t b, int64_t e) {
    for (int64_t r = r0 + b; r < r0 + e; ++r) {
      const int64_t n = r / (g.oh * g.ow), rem = r % (g.oh * g.ow);
      const int64_t top = (rem / g.ow) * g.sh - g.pad_top, left = (rem % g.ow) * g.sw - g.pad_left;
      float* out = col + (r - r0) * k;
      for (int64_t i = 0; i < g.kh; ++i) {
        const int64_t ih = top + i;
        const bool row_inside = ih >= 0 && ih < g.h;
        for (int64_t j = 0; j < g.kw; ++j, out += g.c) {
          const int64_t iw = left + j;
          if (row_inside && iw >= 0 && iw < g.w) {
            std::memcpy(out, x + ((n * g.h + ih) * g.w + iw) * g.c, pixel_bytes);
          } else {
            std::memset(out, 0, pixel_bytes);
          }
        }
      }
    }
  });
}

// dx += col2im(dcol) for rows [r0, r1): each patch value goes back to the input pixel it was
// copied from. Serial, because overlapping windows add into the same pixels.
void col2im_rows(const WindowGeometry& g, const float* dcol, int64_t r0, int64_t r1, float* dx) {
  const int64_t k = g.patch_size();
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / (g.oh * g.ow), rem = r % (g.oh * g.ow);
    const int64_t top = (rem / g.ow) * g.sh - g.pad_top, left = (rem % g.ow) * g.sw - g.pad_left;
    const float* in = dcol + (r - r0) * k;
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t ih = top + i;
      for (int64_t j = 0; j < g.kw; ++j, in += g.c) {
        const int64_t iw = left + j;
        if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
        float* out = dx + ((n * g.h + ih) * g.w + iw) * g.c;
        for (int64_t c = 0; c < g.c; ++c) out[c] += in[c];
      }
    }
  }
}

// C (m, n) = A (m, k) * B (k, n) + beta * C, all row-major and dense.
void gemm_nn(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float beta,
             float* c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), 1.0f, a, static_cast<int>(k), b, static_cast<int>(n), beta, c,
              static_cast<int>(n));
}

}  // namespace

void conv2d_forward_nhwc(const WindowGeometry& g, const float* x, const float* kernel,
                         const float* bias, Activation act, float* y, int64_t im2col_floats) {
  const int64_t rows = g.out_rows(), k = g.patch_size();
  if (rows == 0) return;
  if (is_pointwise(g)) {
    gemm_nn(rows, g.f, k, x, kernel, 0.0f, y);
    bias_activation_forward(y, DType::f32, bias, rows, g.f, act, 0.0f, nullptr);
    return;
  }
  const int64_t chunk = rows_per_chunk(g, im2col_floats);
  float* col = scratch(std::min(rows, chunk) * k);
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t r1 = std::min(rows, r0 + chunk);
    im2col_rows(g, x, r0, r1, col);
    float* y_chunk = y + r0 * g.f;
    gemm_nn(r1 - r0, g.f, k, col, kernel, 0.0f, y_chunk);
    bias_activation_forward(y_chunk, DType::f32, bias, r1 - r0, g.f, act, 0.0f, nullptr);
  }
}

void conv2d_backward_nhwc(const WindowGeometry& g, const float* x, const float* kernel,
                          const float* dz, float* dx, float* dkernel, float* dbias,
                          int64_t im2col_floats) {
  const int64_t rows = g.out_rows(), k = g.patch_size();
  const int kf = static_cast<int>(g.f), kk = static_cast<int>(k);
  if (dbias) bias_backward(dz, dbias, rows, g.f, nullptr);
  if (dx) std::memset(dx, 0, static_cast<size_t>(g.n * g.h * g.w * g.c) * sizeof(float));
  if (dkernel && rows == 0) std::memset(dkernel, 0, static_cast<size_t>(k * g.f) * sizeof(float));
  if (rows == 0 || (!dx && !dkernel)) return;

  const bool pointwise = is_pointwise(g);
  const int64_t chunk = pointwise ? rows : rows_per_chunk(g, im2col_floats);
  float* col = pointwise ? nullptr : scratch(2 * std::min(rows, chunk) * k);
  float* dcol = pointwise ? dx : col + std::min(rows, chunk) * k;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t r1 = std::min(rows, r0 + chunk);
    const int m = static_cast<int>(r1 - r0);
    const float* dz_chunk = dz + r0 * g.f;
    if (dkernel) {
      // dkernel (K, F) (+)= col^T (K, m) * dz (m, F); the first chunk overwrites.
      const float* a = x;
      if (!pointwise) {
        im2col_rows(g, x, r0, r1, col);
        a = col;
      }
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kk, kf, m, 1.0f, a, kk, dz_chunk, kf,
                  r0 == 0 ? 0.0f : 1.0f, dkernel, kf);
    }
    if (dx) {
      // dcol (m, K) = dz (m, F) * kernel^T (F, K), then scattered back into dx.
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, kk, kf, 1.0f, dz_chunk, kf, kernel,
                  kf, 0.0f, dcol, kk);
      if (!pointwise) col2im_rows(g, dcol, r0, r1, dx);
    }
  }
}

}  // namespace catdog::cpu
