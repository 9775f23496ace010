// The preprocess op: uint8 RGB images -> the float input a model was trained on, CPU and CUDA
// twins with the same parameters (stream last), and the dispatcher.
//
//   caffe     Keras vgg16.preprocess_input: RGB -> BGR, minus the ImageNet mean per channel
//             (B 103.939, G 116.779, R 123.68), no scaling. For the ImageNet VGG16 weights.
//   tutorial  RGB kept in order, minus [123.68, 116.779, 103.939] (the tutorial's
//             ImageDataGenerator featurewise mean), no flip.
//   scale     x / 255 (Tiny Darknet, the from-scratch baselines).
//   none      the values as float.
#pragma once

#include <cstdint>
#include <string>

#include "core/context.h"
#include "core/stream.h"
#include "core/tensor.h"

namespace catdog {

enum class Preprocess : uint8_t { caffe, tutorial, scale, none };

Preprocess parse_preprocess(const std::string& name);  // "caffe", "tutorial", "scale", "none"
const char* preprocess_name(Preprocess mode);

// in: uint8 (N, H, W, 3) RGB with pixels = N*H*W; out (N, H, W, 3) in out_dtype: float32 on the
// CPU; float32, float16 or bfloat16 on the GPU (computed in float32, then rounded).
// CPU: kernels/cpu/preprocess.cpp; CUDA: kernels/cuda/preprocess.cu.
namespace cpu {
void preprocess(const uint8_t* in, int64_t pixels, Preprocess mode, void* out, DType out_dtype,
                Stream stream);
}  // namespace cpu
namespace cuda {  // the GPU twin: the same parameters, device pointers
void preprocess(const uint8_t* in, int64_t pixels, Preprocess mode, void* out, DType out_dtype,
                Stream stream);
}  // namespace cuda

inline void preprocess(const uint8_t* in, int64_t pixels, Preprocess mode, void* out,
                       DType out_dtype, const ExecContext& ctx) {
  run_on(
      ctx, [&](Stream s) { cpu::preprocess(in, pixels, mode, out, out_dtype, s); },
      [&](Stream s) { cuda::preprocess(in, pixels, mode, out, out_dtype, s); });
}

}  // namespace catdog
