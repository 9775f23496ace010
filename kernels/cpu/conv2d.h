// 2-D convolution over NHWC input with an HWIO kernel, as im2col + GEMM (OpenBLAS sgemm).
//
//   x (N, H, W, C), kernel (KH, KW, C, F), bias (F), y (N, OH, OW, F)
//
// Why im2col: each output pixel is the dot product of its input patch (KH*KW*C values) with each
// filter. Copying every patch into one row of a matrix col (N*OH*OW, KH*KW*C) turns the whole
// convolution into one matrix product y = col * kernel, and the HWIO kernel, read as a
// (KH*KW*C, F) row-major matrix, is already the right operand: no conversion. The rows are
// processed in chunks of about `im2col_floats` floats (0: the default, 8M floats = 32 MB; the
// Conv2D layer passes ExecContext::im2col_floats) so that col stays a few tens of MB whatever the
// batch size. A 1x1,
// stride-1 convolution needs no im2col at all: x itself, read as (N*H*W, C), is col.
#pragma once

#include "core/activation.h"
#include "kernels/cpu/conv_geometry.h"

namespace catdog::cpu {

// y = act(conv(x, kernel) + bias). bias may be null. `g` gives every size (g.f = F).
void conv2d_forward_nhwc(const WindowGeometry& g, const float* x, const float* kernel,
                         const float* bias, Activation act, float* y, int64_t im2col_floats);

// Given dz = dL/d(conv(x, kernel) + bias), shape (N, OH, OW, F) (the activation's derivative
// already applied), write
//   dx      (N, H, W, C)       = dz convolved back through the kernel (col2im of dz * kernel^T)
//   dkernel (KH, KW, C, F)     = col^T * dz
//   dbias   (F)                = sum of dz over N, OH, OW
// Each output pointer may be null to skip that result; results are written, not accumulated.
void conv2d_backward_nhwc(const WindowGeometry& g, const float* x, const float* kernel,
                          const float* dz, float* dx, float* dkernel, float* dbias,
                          int64_t im2col_floats);

}  // namespace catdog::cpu
