#include "kernels/dropout.h"

#include "kernels/cpu/dropout_mask.h"
#include "kernels/cpu/parallel.h"

namespace catdog::cpu {

namespace {

// out[i] = keep(i) ? in[i] * scale : 0: forward (x -> y) and backward (dy -> dx) alike.
void apply_mask(const float* in, float* out, int64_t n, float rate, uint64_t seed,
                uint64_t stream_id, uint64_t step, uint64_t first_index) {
  const float scale = dropout_scale(rate);
  parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const uint64_t index = first_index + static_cast<uint64_t>(i);
      const bool keep = dropout_keep(seed, stream_id, step, index, rate);
      out[i] = keep ? in[i] * scale : 0.0f;
    }
  });
}

}  // namespace

void dropout_forward(const float* x, float* y, int64_t n, float rate, uint64_t seed,
                     uint64_t stream_id, uint64_t step, uint64_t first_index, Stream) {
  apply_mask(x, y, n, rate, seed, stream_id, step, first_index);
}

void dropout_backward(const float* dy, float* dx, int64_t n, float rate, uint64_t seed,
                      uint64_t stream_id, uint64_t step, uint64_t first_index, Stream) {
  apply_mask(dy, dx, n, rate, seed, stream_id, step, first_index);
}

}  // namespace catdog::cpu
