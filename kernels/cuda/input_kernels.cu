// The input side on the GPU: uint8 pixels -> model input (preprocess), flip/shift augmentation,
// and element type conversion. Twins of kernels/cpu/preprocess.cpp and data/augment.cpp.
#include <vector>

#include "core/cuda_checks.h"
#include "core/cuda_context.h"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launchers.h"
#include "kernels/cuda/ops.h"

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

struct Taps {
  int lo, hi;
  float w;  // weight of hi
};

// Bilinear taps at coordinate c along an axis of n, clamped to the edge ("nearest" fill). The
// fraction is taken in double and rounded to float, exactly as data/augment.cpp does.
__device__ Taps taps_at(double c, int n) {
  const double f = floor(c);
  const int i0 = static_cast<int>(f);
  return {min(max(i0, 0), n - 1), min(max(i0 + 1, 0), n - 1), static_cast<float>(c - f)};
}

// a * (1 - w) + b * w with each product and sum rounded separately (no fused multiply-add), so
// the result is bit-identical to the CPU's.
__device__ float lerp_exact(float a, float b, float w) {
  return __fadd_rn(__fmul_rn(a, __fsub_rn(1.0f, w)), __fmul_rn(b, w));
}

// One thread per output element (image b, row i, output column jo, channel ch).
__global__ void augment_kernel(const uint8_t* in, uint8_t* out, int64_t images, int height,
                               int width, const AugmentParams* params) {
  const int64_t n = images * height * width * 3;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < n;
       idx += int64_t(gridDim.x) * blockDim.x) {
    const int ch = static_cast<int>(idx % 3);
    int64_t rest = idx / 3;
    const int jo = static_cast<int>(rest % width);
    rest /= width;
    const int i = static_cast<int>(rest % height);
    const int64_t b = rest / height;
    const AugmentParams p = params[b];
    const int j = p.flip ? width - 1 - jo : jo;  // output column jo shows source column j
    const Taps r = taps_at(i + p.shift_rows, height);
    const Taps c = taps_at(j + p.shift_cols, width);
    const uint8_t* image = in + b * height * width * 3;
    const uint8_t* r0 = image + int64_t(r.lo) * width * 3;
    const uint8_t* r1 = image + int64_t(r.hi) * width * 3;
    const float top = lerp_exact(r0[3 * c.lo + ch], r0[3 * c.hi + ch], c.w);
    const float bottom = lerp_exact(r1[3 * c.lo + ch], r1[3 * c.hi + ch], c.w);
    const float v = __fadd_rn(lerp_exact(top, bottom, r.w), 0.5f);
    out[idx] = static_cast<uint8_t>(fminf(255.0f, fmaxf(0.0f, v)));
  }
}

}  // namespace

void preprocess(const uint8_t* in, int64_t pixels, Preprocess mode, void* out, DType out_dtype,
                CudaContext& ctx) {
  if (pixels <= 0) return;
  with_element_type(out_dtype, "preprocess", [&](auto tag) {
    using T = decltype(tag);
    preprocess_kernel<T><<<blocks_for(pixels * 3), kThreads, 0, ctx.compute>>>(
        in, pixels, mode, static_cast<T*>(out));
  });
  cudaCheckLaunch("preprocess_kernel", pixels, " pixels, mode ", preprocess_name(mode), " to ",
                  dtype_name(out_dtype));
}

void convert(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n,
             CudaContext& ctx) {
  convert_elements(src, src_dtype, dst, dst_dtype, n, ctx.compute);
}

void augment_flip_shift(const uint8_t* in, uint8_t* out, int64_t images, int height, int width,
                        const AugmentParams* params, CudaContext& ctx) {
  if (images <= 0) return;
  const size_t bytes = static_cast<size_t>(images) * sizeof(AugmentParams);
  AugmentParams* device_params = nullptr;
  cudaCheck(cudaMallocAsync(&device_params, bytes, ctx.compute), "augment parameters for ", images,
            " images");
  cudaCheck(cudaMemcpyAsync(device_params, params, bytes, cudaMemcpyHostToDevice, ctx.compute),
            "augment parameters for ", images, " images");
  const int64_t n = images * height * width * 3;
  augment_kernel<<<blocks_for(n), kThreads, 0, ctx.compute>>>(in, out, images, height, width,
                                                              device_params);
  cudaCheckLaunch("augment_kernel", "(", images, ", ", height, ", ", width, ", 3)");
  cudaCheck(cudaFreeAsync(device_params, ctx.compute), "augment parameters");
  // `params` is pageable host memory the caller may reuse: wait until the copy has read it.
  cudaCheck(cudaStreamSynchronize(ctx.compute), "augment parameters");
}

}  // namespace catdog::cuda
