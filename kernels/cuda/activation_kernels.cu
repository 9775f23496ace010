// Elementwise kernels: fill, activations forward/backward, the bias+activation epilogue, and the
// column sum used for bias gradients. Twins of the CPU math in layers/activations.cpp,
// layers/conv2d.cpp and layers/dense.cpp.
#include <algorithm>

#include "core/cuda_checks.h"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launchers.h"

namespace catdog::cuda {

namespace {

__device__ __forceinline__ float activate(float v, ActKind act, float alpha) {
  switch (act) {
    case ActKind::relu: return v > 0.0f ? v : 0.0f;
    case ActKind::leaky_relu: return v > 0.0f ? v : alpha * v;
    // The two-branch form never overflows exp (as the CPU's catdog::sigmoid).
    case ActKind::sigmoid: {
      if (v >= 0.0f) return 1.0f / (1.0f + expf(-v));
      const float e = expf(v);
      return e / (1.0f + e);
    }
    default: return v;
  }
}

template <class T>
__global__ void activation_forward_kernel(const T* x, T* y, int64_t n, ActKind act, float alpha) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    y[i] = from_float<T>(activate(to_float(x[i]), act, alpha));
  }
}

// y (rows, channels): element i has channel i % channels.
template <class T>
__global__ void bias_activation_kernel(T* y, const float* bias, int64_t n, int64_t channels,
                                       ActKind act, float alpha) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    float v = to_float(y[i]);
    if (bias) v += bias[i % channels];
    y[i] = from_float<T>(activate(v, act, alpha));
  }
}

__global__ void activation_backward_kernel(const float* x, const float* y, const float* dy,
                                           float* dx, int64_t n, ActKind act, float alpha) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float g = dy[i];
    switch (act) {
      case ActKind::relu: dx[i] = x[i] > 0.0f ? g : 0.0f; break;
      case ActKind::leaky_relu: dx[i] = x[i] > 0.0f ? g : alpha * g; break;
      case ActKind::sigmoid: dx[i] = g * y[i] * (1.0f - y[i]); break;
      default: dx[i] = g;
    }
  }
}

__global__ void multiply_kernel(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    out[i] = a[i] * b[i];
  }
}

// Pass 1: partial[chunk, c] = sum of in[r, c] over the rows of one chunk. Threads of a warp read
// consecutive channels of a row, so loads are coalesced.
__global__ void column_partial_kernel(const float* in, float* partial, int64_t rows,
                                      int64_t channels, int64_t rows_per_chunk) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int64_t chunk = blockIdx.y;
  if (c >= channels) return;
  const int64_t begin = chunk * rows_per_chunk;
  const int64_t end = min(rows, begin + rows_per_chunk);
  float sum = 0.0f;
  for (int64_t r = begin; r < end; ++r) sum += in[r * channels + c];
  partial[chunk * channels + c] = sum;
}

// Pass 2: out[c] = sum over chunks of partial[chunk, c] (in fixed order: deterministic).
__global__ void column_total_kernel(const float* partial, float* out, int64_t chunks,
                                    int64_t channels) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (c >= channels) return;
  float sum = 0.0f;
  for (int64_t k = 0; k < chunks; ++k) sum += partial[k * channels + c];
  out[c] = sum;
}

}  // namespace

void activation_forward(const void* x, void* y, DType dtype, int64_t n, ActKind act, float alpha,
                        cudaStream_t stream) {
  if (n <= 0) return;
  with_element_type(dtype, "activation_forward", [&](auto tag) {
    using T = decltype(tag);
    activation_forward_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(
        static_cast<const T*>(x), static_cast<T*>(y), n, act, alpha);
  });
  cudaCheckLaunch("activation_forward_kernel", "n=", n, " dtype=", dtype_name(dtype));
}

void bias_activation_forward(void* y, DType dtype, const float* bias, int64_t rows,
                             int64_t channels, ActKind act, float alpha, cudaStream_t stream) {
  const int64_t n = rows * channels;
  if (n <= 0) return;
  if (!bias && act == ActKind::linear) return;  // nothing to do
  with_element_type(dtype, "bias_activation_forward", [&](auto tag) {
    using T = decltype(tag);
    bias_activation_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(static_cast<T*>(y), bias, n,
                                                                      channels, act, alpha);
  });
  cudaCheckLaunch("bias_activation_kernel", "rows=", rows, " channels=", channels);
}

void activation_backward(const float* x, const float* y, const float* dy, float* dx, int64_t n,
                         ActKind act, float alpha, cudaStream_t stream) {
  if (n <= 0) return;
  activation_backward_kernel<<<blocks_for(n), kThreads, 0, stream>>>(x, y, dy, dx, n, act, alpha);
  cudaCheckLaunch("activation_backward_kernel", "n=", n);
}

void multiply_elements(const float* a, const float* b, float* out, int64_t n,
                       cudaStream_t stream) {
  if (n <= 0) return;
  multiply_kernel<<<blocks_for(n), kThreads, 0, stream>>>(a, b, out, n);
  cudaCheckLaunch("multiply_kernel", "n=", n);
}

void column_sum(const float* in, float* out, int64_t rows, int64_t channels, cudaStream_t stream) {
  if (channels <= 0) return;
  // 256 rows a chunk, more when that would pass the grid's y limit (65535 chunks).
  const int64_t rows_per_chunk = std::max<int64_t>(256, (rows + 65534) / 65535);
  const int64_t chunks = rows > 0 ? (rows + rows_per_chunk - 1) / rows_per_chunk : 1;
  float* partial = nullptr;
  // Scratch from the stream-ordered pool: freed after the second pass is queued, reused safely.
  cudaCheck(cudaMallocAsync(&partial, chunks * channels * sizeof(float), stream),
            "column_sum scratch rows=", rows, " channels=", channels);
  const dim3 grid(static_cast<unsigned>((channels + kThreads - 1) / kThreads),
                  static_cast<unsigned>(chunks));
  column_partial_kernel<<<grid, kThreads, 0, stream>>>(in, partial, rows, channels,
                                                      rows_per_chunk);
  cudaCheckLaunch("column_partial_kernel", "rows=", rows, " channels=", channels);
  column_total_kernel<<<grid.x, kThreads, 0, stream>>>(partial, out, chunks, channels);
  cudaCheckLaunch("column_total_kernel", "rows=", rows, " channels=", channels);
  cudaCheck(cudaFreeAsync(partial, stream), "column_sum scratch");
}

}  // namespace catdog::cuda
