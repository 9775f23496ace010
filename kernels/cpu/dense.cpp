#include "kernels/cpu/dense.h"

#include <cstring>

#include <cblas.h>

#include "kernels/bias_activation.h"

namespace catdog::cpu {

void dense_forward(const float* x, const float* w, const float* b, Activation act, float* y,
                   int64_t n, int64_t k, int64_t m) {
  if (n == 0 || m == 0) return;
  if (k == 0) {
    std::memset(y, 0, static_cast<size_t>(n * m) * sizeof(float));
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n),
                static_cast<int>(m), static_cast<int>(k), 1.0f, x, static_cast<int>(k), w,
                static_cast<int>(m), 0.0f, y, static_cast<int>(m));
  }
  bias_activation_forward(y, DType::f32, b, n, m, act, 0.0f, nullptr);
}

void dense_backward(const float* x, const float* w, const float* dz, float* dx, float* dw,
                    float* db, int64_t n, int64_t k, int64_t m) {
  const int in = static_cast<int>(n), ik = static_cast<int>(k), im = static_cast<int>(m);
  if (dw) {
    if (n == 0) {
      std::memset(dw, 0, static_cast<size_t>(k * m) * sizeof(float));
    } else {
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ik, im, in, 1.0f, x, ik, dz, im, 0.0f,
                  dw, im);
    }
  }
  if (db) bias_backward(dz, db, n, m, nullptr);
  if (dx && n > 0 && k > 0) {
    if (m == 0) {
      std::memset(dx, 0, static_cast<size_t>(n * k) * sizeof(float));
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, in, ik, im, 1.0f, dz, im, w, im, 0.0f,
                  dx, ik);
    }
  }
}

}  // namespace catdog::cpu
