// A deterministic column reduction for the bias and batch_norm gradients (no atomics):
//
//   out[c] = (float) sum over r of term(r, c),  r in [0, rows), c in [0, channels)
//
// accumulated in double, as the CPU twins do: pass 1 sums chunks of rows per column (a warp
// reads consecutive columns of a row, so loads are coalesced), pass 2 sums the chunk partials in
// fixed order. `term` is a device functor `double operator()(int64_t r, int64_t c) const`.
// Internal to kernels/cuda.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/cuda_checks.h"
#include "core/device.h"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launch.cuh"

namespace catdog::cuda {

// The plain term: m[r, c] of a (rows, channels) float32 matrix, in double.
struct MatrixElement {
  const float* m;
  int64_t channels;
  __device__ double operator()(int64_t r, int64_t c) const { return m[r * channels + c]; }
};

// Kernels with internal linkage: each .cu that includes this header gets its own copies.
namespace {

template <class Term>
__global__ void column_partial_kernel(Term term, double* partial, int64_t rows, int64_t channels,
                                      int64_t rows_per_chunk) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int64_t chunk = blockIdx.y;
  if (c >= channels) return;
  const int64_t begin = chunk * rows_per_chunk;
  const int64_t end = min(rows, begin + rows_per_chunk);
  double sum = 0.0;
  for (int64_t r = begin; r < end; ++r) sum += term(r, c);
  partial[chunk * channels + c] = sum;
}

__global__ void column_total_kernel(const double* partial, float* out, int64_t chunks,
                                           int64_t channels) {
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (c >= channels) return;
  double sum = 0.0;
  for (int64_t k = 0; k < chunks; ++k) sum += partial[k * channels + c];
  out[c] = static_cast<float>(sum);
}

}  // namespace

template <class Term>
void column_sum(const Term& term, float* out, int64_t rows, int64_t channels,
                cudaStream_t stream, const char* what) {
  if (channels <= 0) return;
  // 256 rows a chunk, more when that would pass the grid's y limit (65535 chunks).
  const int64_t rows_per_chunk = std::max<int64_t>(256, (rows + 65534) / 65535);
  const int64_t chunks = rows > 0 ? (rows + rows_per_chunk - 1) / rows_per_chunk : 1;
  // Scratch from the caching allocator (core/device.h), so it counts against --max-device-memory
  // and the peak. Freed right after the second pass is queued: the allocator hands the block out
  // again only to work queued later on the same stream, which runs after this pass.
  const DeviceBuffer scratch(static_cast<size_t>(chunks * channels) * sizeof(double));
  double* partial = static_cast<double*>(scratch.get());
  const dim3 grid(static_cast<unsigned>((channels + kThreads - 1) / kThreads),
                  static_cast<unsigned>(chunks));
  launch(column_partial_kernel<Term>, grid, kThreads, 0, stream, term, partial, rows, channels,
         rows_per_chunk);
  cudaCheckLaunch(what, " (column partial sums) rows=", rows, " channels=", channels);
  launch(column_total_kernel, grid.x, kThreads, 0, stream, partial, out, chunks, channels);
  cudaCheckLaunch(what, " (column totals) rows=", rows, " channels=", channels);
}

}  // namespace catdog::cuda
