// Layout and element-type helpers for the GPU convolution (layers/conv2d.cu) and for reduced
// precision: CUDA only, as they have no CPU meaning (the CPU convolution reads Keras' HWIO kernel
// and TensorFlow's padding directly). Every function queues work on `stream` and checks the
// launch. No CUDA types here (core/stream.h), so plain C++ may include it under
// #if CATDOG_WITH_CUDA. CUDA: kernels/cuda/conv_layout.cu.
#pragma once

#include <cstdint>

#include "core/stream.h"
#include "core/tensor.h"

namespace catdog::cuda {

// Keras kernel (KH, KW, C, F) float32 -> cuDNN NHWC filter "KRSC" (F, KH, KW, C) in `dtype`.
void hwio_to_krsc(const float* hwio, void* krsc, DType dtype, int kh, int kw, int c, int f,
                  Stream stream);
// cuDNN filter gradient (F, KH, KW, C) -> Keras (KH, KW, C, F), float32.
void krsc_to_hwio(const float* krsc, float* hwio, int kh, int kw, int c, int f, Stream stream);
// Zero padding for asymmetric TF 'same' padding, which cuDNN cannot express:
// x (N, H, W, C) -> xp (N, HP, WP, C) with x at rows [top, top + H), columns [left, left + W).
void pad_nhwc(const void* x, void* xp, DType dtype, int n, int h, int w, int c, int hp, int wp,
              int top, int left, Stream stream);
// The reverse for gradients: dx (N, H, W, C) = dxp (N, HP, WP, C) rows [top..), cols [left..).
void crop_nhwc(const float* dxp, float* dx, int n, int h, int w, int c, int hp, int wp, int top,
               int left, Stream stream);
// dst (n) = src (n) converted (float32 <-> float16 <-> bfloat16, round to nearest even).
void convert_elements(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n,
                      Stream stream);

}  // namespace catdog::cuda
