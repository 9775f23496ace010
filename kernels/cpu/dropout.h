// Inverted dropout with the stateless mask of dropout_mask.h.
//   out[i] = keep(i) ? in[i] * 1 / (1 - rate) : 0
// The same function serves forward (in = x, out = y) and backward (in = dy, out = dx): the mask
// is recomputed from (seed, stream_id, step, i), never stored.
#pragma once

#include <cstdint>

namespace catdog::cpu {

void dropout_apply(const float* in, float* out, int64_t n, float rate, uint64_t seed,
                   uint64_t stream_id, uint64_t step);

}  // namespace catdog::cpu
