// The dropout keep mask, shared by the CPU kernel and its CUDA twin (header-only, host+device).
//
// Element i of a Dropout layer's input (flat NHWC index in the whole batch, also when a
// data-parallel rank holds only some of its rows) at optimizer step `step` is kept iff
//
//     uniform01(seed, 0xD0000000 | stream_id, (step << 32) | i) >= rate
//
// with uniform01 the splitmix64-based 24-bit uniform of core/random.h, compared in double,
// `seed` the run seed (ExecContext::seed) and `stream_id` the layer's Dropout::stream_id().
// Kept elements are multiplied by dropout_scale(rate) = 1.0f / (1.0f - rate) (float arithmetic),
// the others become 0 (inverted dropout, as Keras).
//
// Why this shape: the stream tag 0xD0000000 keeps dropout's numbers apart from the weight
// initialisers' streams (0, 1, 2, ... per parameter); the step sits in the high 32 bits of the
// index, so masks never repeat across steps (for tensors under 2^32 elements, i.e. always), and
// no state has to be stored between forward and backward.
#pragma once

#include <cstdint>

#include "core/random.h"

namespace catdog {

CATDOG_HOST_DEVICE inline bool dropout_keep(uint64_t seed, uint64_t stream_id, uint64_t step,
                                            uint64_t i, float rate) {
  const uint64_t stream = 0xD0000000ull | (stream_id & 0x0FFFFFFFull);
  return uniform01(seed, stream, (step << 32) | (i & 0xFFFFFFFFull)) >= static_cast<double>(rate);
}

CATDOG_HOST_DEVICE inline float dropout_scale(float rate) { return 1.0f / (1.0f - rate); }

}  // namespace catdog
