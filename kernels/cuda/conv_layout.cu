// The CUDA side of kernels/conv_layout.h: Keras HWIO kernels <-> cuDNN's NHWC filter layout KRSC,
// zero padding / cropping for asymmetric 'same' convolutions, and element type conversion.
#include "core/cuda_checks.h"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/conv_layout.h"

namespace catdog::cuda {

namespace {

#define CATDOG_GRID_LOOP(i, n)                                                     \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); \
       i += int64_t(gridDim.x) * blockDim.x)

// One thread per KRSC element (f, r, s, c), reading HWIO[(r, s, c, f)].
template <class T>
__global__ void hwio_to_krsc_kernel(const float* hwio, T* krsc, int kh, int kw, int c, int f) {
  const int64_t total = int64_t(kh) * kw * c * f;
  CATDOG_GRID_LOOP(idx, total) {
    const int ci = static_cast<int>(idx % c);
    int64_t rest = idx / c;
    const int s = static_cast<int>(rest % kw);
    rest /= kw;
    const int r = static_cast<int>(rest % kh);
    const int fi = static_cast<int>(rest / kh);
    krsc[idx] = from_float<T>(hwio[((int64_t(r) * kw + s) * c + ci) * f + fi]);
  }
}

// One thread per HWIO element (r, s, c, f), reading KRSC[(f, r, s, c)].
__global__ void krsc_to_hwio_kernel(const float* krsc, float* hwio, int kh, int kw, int c, int f) {
  const int64_t total = int64_t(kh) * kw * c * f;
  CATDOG_GRID_LOOP(idx, total) {
    const int fi = static_cast<int>(idx % f);
    int64_t rest = idx / f;
    const int ci = static_cast<int>(rest % c);
    rest /= c;
    const int s = static_cast<int>(rest % kw);
    const int r = static_cast<int>(rest / kw);
    hwio[idx] = krsc[((int64_t(fi) * kh + r) * kw + s) * c + ci];
  }
}

// One thread per padded element: a copy of x inside, zero outside.
template <class T>
__global__ void pad_kernel(const T* x, T* xp, int n, int h, int w, int c, int hp, int wp, int top,
                           int left) {
  const int64_t total = int64_t(n) * hp * wp * c;
  CATDOG_GRID_LOOP(idx, total) {
    const int ci = static_cast<int>(idx % c);
    int64_t rest = idx / c;
    const int j = static_cast<int>(rest % wp) - left;
    rest /= wp;
    const int i = static_cast<int>(rest % hp) - top;
    const int64_t b = rest / hp;
    const bool inside = i >= 0 && i < h && j >= 0 && j < w;
    xp[idx] = inside ? x[((b * h + i) * w + j) * c + ci] : from_float<T>(0.0f);
  }
}

__global__ void crop_kernel(const float* dxp, float* dx, int n, int h, int w, int c, int hp,
                            int wp, int top, int left) {
  const int64_t total = int64_t(n) * h * w * c;
  CATDOG_GRID_LOOP(idx, total) {
    const int ci = static_cast<int>(idx % c);
    int64_t rest = idx / c;
    const int j = static_cast<int>(rest % w);
    rest /= w;
    const int i = static_cast<int>(rest % h);
    const int64_t b = rest / h;
    dx[idx] = dxp[((b * hp + i + top) * wp + j + left) * c + ci];
  }
}

template <class S, class D>
__global__ void convert_kernel(const S* src, D* dst, int64_t n) {
  CATDOG_GRID_LOOP(i, n) { dst[i] = from_float<D>(to_float(src[i])); }
}

}  // namespace

void hwio_to_krsc(const float* hwio, void* krsc, DType dtype, int kh, int kw, int c, int f,
                  cudaStream_t stream) {
  const int64_t total = int64_t(kh) * kw * c * f;
  if (total <= 0) return;
  with_element_type(dtype, "hwio_to_krsc", [&](auto tag) {
    using T = decltype(tag);
    launch(hwio_to_krsc_kernel<T>, blocks_for(total), kThreads, 0, stream, hwio,
           static_cast<T*>(krsc), kh, kw, c, f);
  });
  cudaCheckLaunch("hwio_to_krsc_kernel", "kernel (", kh, ", ", kw, ", ", c, ", ", f, ")");
}

void krsc_to_hwio(const float* krsc, float* hwio, int kh, int kw, int c, int f,
                  cudaStream_t stream) {
  const int64_t total = int64_t(kh) * kw * c * f;
  if (total <= 0) return;
  launch(krsc_to_hwio_kernel, blocks_for(total), kThreads, 0, stream, krsc, hwio, kh, kw, c, f);
  cudaCheckLaunch("krsc_to_hwio_kernel", "kernel (", kh, ", ", kw, ", ", c, ", ", f, ")");
}

void pad_nhwc(const void* x, void* xp, DType dtype, int n, int h, int w, int c, int hp, int wp,
              int top, int left, cudaStream_t stream) {
  const int64_t total = int64_t(n) * hp * wp * c;
  if (total <= 0) return;
  with_element_type(dtype, "pad_nhwc", [&](auto tag) {
    using T = decltype(tag);
    launch(pad_kernel<T>, blocks_for(total), kThreads, 0, stream, static_cast<const T*>(x),
           static_cast<T*>(xp), n, h, w, c, hp, wp, top, left);
  });
  cudaCheckLaunch("pad_kernel", "x (", n, ", ", h, ", ", w, ", ", c, ") -> (", hp, ", ", wp, ")");
}

void crop_nhwc(const float* dxp, float* dx, int n, int h, int w, int c, int hp, int wp, int top,
               int left, cudaStream_t stream) {
  const int64_t total = int64_t(n) * h * w * c;
  if (total <= 0) return;
  launch(crop_kernel, blocks_for(total), kThreads, 0, stream, dxp, dx, n, h, w, c, hp, wp, top,
         left);
  cudaCheckLaunch("crop_kernel", "dx (", n, ", ", h, ", ", w, ", ", c, ") from (", hp, ", ", wp,
                  ")");
}

void convert_elements(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n,
                      cudaStream_t stream) {
  if (n <= 0) return;
  with_element_type(src_dtype, "convert (source)", [&](auto src_tag) {
    using S = decltype(src_tag);
    with_element_type(dst_dtype, "convert (destination)", [&](auto dst_tag) {
      using D = decltype(dst_tag);
      launch(convert_kernel<S, D>, blocks_for(n), kThreads, 0, stream, static_cast<const S*>(src),
             static_cast<D*>(dst), n);
    });
  });
  cudaCheckLaunch("convert_kernel", n, " elements ", dtype_name(src_dtype), " -> ",
                  dtype_name(dst_dtype));
}

}  // namespace catdog::cuda
