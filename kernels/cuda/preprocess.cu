// The CUDA side of kernels/preprocess.h: uint8 pixels -> model input. Twin of
// kernels/cpu/preprocess.cpp.
#include "core/cuda_checks.h"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/preprocess.h"

namespace catdog::cuda {

namespace {

// One thread per output element (pixel p, channel ch) of (pixels, 3).
template <class T>
__global__ void preprocess_kernel(const uint8_t* in, int64_t pixels, Preprocess mode, T* out) {
  const int64_t n = pixels * 3;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = i / 3;
    const int ch = static_cast<int>(i % 3);
    float v;
    switch (mode) {
      case Preprocess::caffe: {  // BGR order, minus the ImageNet mean of B, G, R
        const float mean[3] = {103.939f, 116.779f, 123.68f};
        v = static_cast<float>(in[3 * p + (2 - ch)]) - mean[ch];
        break;
      }
      case Preprocess::tutorial: {  // RGB order, minus the mean of R, G, B
        const float mean[3] = {123.68f, 116.779f, 103.939f};
        v = static_cast<float>(in[i]) - mean[ch];
        break;
      }
      case Preprocess::scale: v = static_cast<float>(in[i]) / 255.0f; break;
      default: v = static_cast<float>(in[i]);
    }
    out[i] = from_float<T>(v);
  }
}

}  // namespace

void preprocess(const uint8_t* in, int64_t pixels, Preprocess mode, void* out, DType out_dtype,
                Stream stream) {
  if (pixels <= 0) return;
  with_element_type(out_dtype, "preprocess", [&](auto tag) {
    using T = decltype(tag);
    launch(preprocess_kernel<T>, blocks_for(pixels * 3), kThreads, 0, stream, in, pixels, mode,
           static_cast<T*>(out));
  });
  cudaCheckLaunch("preprocess_kernel", pixels, " pixels, mode ", preprocess_name(mode), " to ",
                  dtype_name(out_dtype));
}

}  // namespace catdog::cuda
