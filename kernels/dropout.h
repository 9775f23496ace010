// The dropout op: inverted dropout with the stateless mask of kernels/cpu/dropout_mask.h, CPU and
// CUDA twins with the same parameters (stream last), and dispatchers.
//
//   forward:  y[i]  = keep(i) ? x[i]  * 1 / (1 - rate) : 0        x, y (n)
//   backward: dx[i] = keep(i) ? dy[i] * 1 / (1 - rate) : 0        dy, dx (n)
//
// keep(i) = dropout_keep(seed, stream_id, step, first_index + i, rate): recomputed from (seed,
// stream_id, step, index), never stored, and the same on both sides, so CPU and GPU runs drop the
// same elements. first_index: where the buffer starts in the whole batch's input (a data-parallel
// rank's share of the rows, ExecContext::first_row), 0 otherwise.
// float32 only. CPU: kernels/cpu/dropout.cpp; CUDA: kernels/cuda/dropout.cu.
#pragma once

#include <cstdint>

#include "core/context.h"
#include "core/stream.h"

namespace catdog {

namespace cpu {
void dropout_forward(const float* x, float* y, int64_t n, float rate, uint64_t seed,
                     uint64_t stream_id, uint64_t step, uint64_t first_index, Stream stream);
void dropout_backward(const float* dy, float* dx, int64_t n, float rate, uint64_t seed,
                      uint64_t stream_id, uint64_t step, uint64_t first_index, Stream stream);
}  // namespace cpu

namespace cuda {  // the GPU twins: the same parameters, device pointers
void dropout_forward(const float* x, float* y, int64_t n, float rate, uint64_t seed,
                     uint64_t stream_id, uint64_t step, uint64_t first_index, Stream stream);
void dropout_backward(const float* dy, float* dx, int64_t n, float rate, uint64_t seed,
                      uint64_t stream_id, uint64_t step, uint64_t first_index, Stream stream);
}  // namespace cuda

inline void dropout_forward(const float* x, float* y, int64_t n, float rate, uint64_t seed,
                            uint64_t stream_id, uint64_t step, uint64_t first_index,
                            const ExecContext& ctx) {
  run_on(
      ctx,
      [&](Stream s) { cpu::dropout_forward(x, y, n, rate, seed, stream_id, step, first_index, s); },
      [&](Stream s) { cuda::dropout_forward(x, y, n, rate, seed, stream_id, step, first_index, s); });
}
inline void dropout_backward(const float* dy, float* dx, int64_t n, float rate, uint64_t seed,
                             uint64_t stream_id, uint64_t step, uint64_t first_index,
                             const ExecContext& ctx) {
  run_on(
      ctx,
      [&](Stream s) {
        cpu::dropout_backward(dy, dx, n, rate, seed, stream_id, step, first_index, s);
      },
      [&](Stream s) {
        cuda::dropout_backward(dy, dx, n, rate, seed, stream_id, step, first_index, s);
      });
}

}  // namespace catdog
