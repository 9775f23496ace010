// The hand-written CUDA kernels, one launcher each: the GPU twins of kernels/cpu and of the math
// in layers/*.cpp. Every launcher queues work on `stream`, returns at once and checks the launch
// (cudaGetLastError), throwing catdog::Error with the shapes on failure.
//
// `void*` activations are float32, float16 or bfloat16 as `dtype` says (the frozen part of a
// model may run in reduced precision); they are loaded to float, computed in float, stored back.
// `float*` arguments are float32 only (everything trainable is float32).
// Only .cu files include this header (it names cudaStream_t).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "core/tensor.h"

namespace catdog::cuda {

enum class ActKind : uint8_t { linear, relu, leaky_relu, sigmoid };

// ---- elementwise (kernels/cuda/activation_kernels.cu) -----------------------------------------
// y = act(x), x and y (n), may alias. alpha: LeakyReLU slope.
void activation_forward(const void* x, void* y, DType dtype, int64_t n, ActKind act, float alpha,
                        cudaStream_t stream);
// In place y[r, c] = act(y[r, c] + bias[c]), y (rows, channels), bias (channels) or null.
// The epilogue of a convolution or a dense layer.
void bias_activation_forward(void* y, DType dtype, const float* bias, int64_t rows,
                             int64_t channels, ActKind act, float alpha, cudaStream_t stream);
// dx = dy * act'(.) , all (n). relu / leaky_relu read `x` (the activation's input: x > 0), sigmoid
// reads `y` (y (1 - y)). For relu, passing the output as `x` is the same test (y > 0 iff x > 0).
// dx may alias dy.
void activation_backward(const float* x, const float* y, const float* dy, float* dx, int64_t n,
                         ActKind act, float alpha, cudaStream_t stream);
// out[i] = a[i] * b[i], all (n); out may alias a or b.
void multiply_elements(const float* a, const float* b, float* out, int64_t n, cudaStream_t stream);
// out[c] = sum over rows of in[r, c]: in (rows, channels), out (channels). Deterministic (no
// atomics): partial sums over row chunks, then a sum of the partials. The bias gradient.
void column_sum(const float* in, float* out, int64_t rows, int64_t channels, cudaStream_t stream);

// ---- batch normalization, inference (kernels/cuda/normalization_kernels.cu) -------------------
// scale[c] = gamma[c] / sqrt(var[c] + eps), shift[c] = beta[c] - scale[c] * mean[c];
// gamma/beta may be null (Keras scale=False / center=False: 1 and 0).
void batchnorm_fold(const float* gamma, const float* beta, const float* mean, const float* var,
                    float epsilon, int64_t channels, float* scale, float* shift,
                    cudaStream_t stream);
// y[r, c] = scale[c] * x[r, c] + shift[c]; x, y (rows, channels), may alias.
void channel_affine_forward(const void* x, void* y, DType dtype, int64_t rows, int64_t channels,
                            const float* scale, const float* shift, cudaStream_t stream);
// dx[r, c] = scale[c] * dy[r, c]
void channel_scale_backward(const float* dy, float* dx, int64_t rows, int64_t channels,
                            const float* scale, cudaStream_t stream);

// ---- pooling (kernels/cuda/pooling_kernels.cu) --------------------------------------------------
struct PoolShape {
  int n, h, w, c;          // input (N, H, W, C)
  int oh, ow;              // output (N, OH, OW, C)
  int ph, pw, sh, sw;      // window and stride
  int pad_top, pad_left;   // TF 'same': (total padding) / 2 before, the rest after
};
// y[n, i, j, c] = max over the window of x, padding counting as -infinity (TensorFlow 'same').
void max_pool_forward(const void* x, void* y, DType dtype, const PoolShape& s, cudaStream_t stream);
// dx[n, h, w, c] = sum of dy over the windows whose FIRST maximum (row-major scan) is (h, w).
// A gather (each input position looks at the windows covering it), so no atomics and the same
// tie rule as the CPU: dy goes to the first maximum only.
void max_pool_backward(const float* x, const float* dy, float* dx, const PoolShape& s,
                       cudaStream_t stream);
// y[n, c] = mean over (h, w) of x[n, h, w, c]; x (N, HW, C), y (N, C).
void global_avg_pool_forward(const void* x, void* y, DType dtype, int64_t n, int64_t hw,
                             int64_t c, cudaStream_t stream);
// dx[n, p, c] = dy[n, c] / HW
void global_avg_pool_backward(const float* dy, float* dx, int64_t n, int64_t hw, int64_t c,
                              cudaStream_t stream);

// ---- layout helpers for convolution (kernels/cuda/layout_kernels.cu) -----------------------------
// Keras kernel (KH, KW, C, F) float32 -> cuDNN NHWC filter "KRSC" (F, KH, KW, C) in `dtype`.
void hwio_to_krsc(const float* hwio, void* krsc, DType dtype, int kh, int kw, int c, int f,
                  cudaStream_t stream);
// cuDNN filter gradient (F, KH, KW, C) -> Keras (KH, KW, C, F), float32.
void krsc_to_hwio(const float* krsc, float* hwio, int kh, int kw, int c, int f,
                  cudaStream_t stream);
// Zero padding for asymmetric TF 'same' padding, which cuDNN cannot express:
// x (N, H, W, C) -> xp (N, HP, WP, C) with x at rows [top, top + H), columns [left, left + W).
void pad_nhwc(const void* x, void* xp, DType dtype, int n, int h, int w, int c, int hp, int wp,
              int top, int left, cudaStream_t stream);
// The reverse for gradients: dx (N, H, W, C) = dxp (N, HP, WP, C) rows [top..), cols [left..).
void crop_nhwc(const float* dxp, float* dx, int n, int h, int w, int c, int hp, int wp, int top,
               int left, cudaStream_t stream);
// dst (n) = src (n) converted (float32 <-> float16 <-> bfloat16, round to nearest even).
void convert_elements(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n,
                      cudaStream_t stream);

// ---- dropout (kernels/cuda/dropout_kernels.cu) ----------------------------------------------------
// Inverted dropout with the counter-based mask of kernels/cpu/dropout_mask.h (identical to the
// CPU): y = keep ? x / (1 - rate) : 0. Backward: dx = keep ? dy / (1 - rate) : 0.
void dropout_forward(const float* x, float* y, int64_t n, float rate, uint64_t seed, uint64_t step,
                     uint64_t stream_id, cudaStream_t stream);
void dropout_backward(const float* dy, float* dx, int64_t n, float rate, uint64_t seed,
                      uint64_t step, uint64_t stream_id, cudaStream_t stream);

// ---- training step (kernels/cuda/training_kernels.cu) --------------------------------------------
// v = momentum v - lr g; w += v.   w, v, g (n)
void sgd_momentum(float* w, float* v, const float* g, int64_t n, float lr, float momentum,
                  cudaStream_t stream);
// Fused sigmoid + binary cross-entropy from logits z (n), labels t (n):
//   loss_sum (one double)  = sum_i max(z,0) - z t + log1p(exp(-|z|))
//   correct  (one double)  = count of (z >= 0) == (t >= 0.5)
//   dz (n, nullable)       = (sigmoid(z) - t) / n
// One block reduces in double (n is a batch, at most a few thousand).
void sigmoid_bce(const float* z, const float* t, float* dz, int64_t n, double* loss_sum,
                 double* correct, cudaStream_t stream);

}  // namespace catdog::cuda
