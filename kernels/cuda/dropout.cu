// The CUDA side of kernels/dropout.h: inverted dropout with the CPU's mask function
// (kernels/cpu/dropout_mask.h), so a model trained on either device drops exactly the same
// elements. Twin of kernels/cpu/dropout.cpp.
#include "core/cuda_checks.h"
#include "kernels/cpu/dropout_mask.h"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/dropout.h"

namespace catdog::cuda {

namespace {

// out[i] = keep(i) ? in[i] * scale : 0; the same kernel serves forward (x -> y) and backward
// (dy -> dx), as the mask is recomputed from (seed, stream_id, step, i).
__global__ void dropout_kernel(const float* in, float* out, int64_t n, float rate, uint64_t seed,
                               uint64_t stream_id, uint64_t step, uint64_t first_index) {
  const float scale = dropout_scale(rate);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const uint64_t index = first_index + static_cast<uint64_t>(i);
    const bool keep = dropout_keep(seed, stream_id, step, index, rate);
    out[i] = keep ? in[i] * scale : 0.0f;
  }
}

void run_dropout(const float* in, float* out, int64_t n, float rate, uint64_t seed,
                 uint64_t stream_id, uint64_t step, uint64_t first_index, Stream stream,
                 const char* what) {
  if (n <= 0) return;
  launch(dropout_kernel, blocks_for(n), kThreads, 0, stream, in, out, n, rate, seed, stream_id,
         step, first_index);
  cudaCheckLaunch(what, "n=", n, " rate=", rate);
}

}  // namespace

void dropout_forward(const float* x, float* y, int64_t n, float rate, uint64_t seed,
                     uint64_t stream_id, uint64_t step, uint64_t first_index, Stream stream) {
  run_dropout(x, y, n, rate, seed, stream_id, step, first_index, stream,
              "dropout_kernel (forward)");
}

void dropout_backward(const float* dy, float* dx, int64_t n, float rate, uint64_t seed,
                      uint64_t stream_id, uint64_t step, uint64_t first_index, Stream stream) {
  run_dropout(dy, dx, n, rate, seed, stream_id, step, first_index, stream,
              "dropout_kernel (backward)");
}

}  // namespace catdog::cuda
