#include "kernels/cpu/dropout.h"

#include "kernels/cpu/dropout_mask.h"
#include "kernels/cpu/parallel.h"

namespace catdog::cpu {

void dropout_apply(const float* in, float* out, int64_t n, float rate, uint64_t seed,
                   uint64_t stream_id, uint64_t step) {
  const float scale = dropout_scale(rate);
  parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const bool keep = dropout_keep(seed, stream_id, step, static_cast<uint64_t>(i), rate);
      out[i] = keep ? in[i] * scale : 0.0f;
    }
  });
}

}  // namespace catdog::cpu
