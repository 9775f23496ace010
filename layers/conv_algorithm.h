// Which of cuDNN's ranked convolution algorithms a plan runs (layers/conv2d.cu). cuDNN's
// heuristic (cudnnGetConvolution*Algorithm_v7) lists candidates best first, each with the math it
// would use, whether it is deterministic and the workspace it needs. This is the rule that picks
// one, kept free of cuDNN types so that it is tested without a GPU (tests/conv_algorithm_test.cpp).
//
// The rule, in passes over the ranked list (the first candidate that passes wins):
//   1. the precision's own math, deterministic (when determinism is wanted: backward passes);
//   2. the precision's own math, any;
//   3. for reduced precision only, strict math as a fallback, deterministic, then any.
// The precision's own math: strict fp32 takes FMA only (DEFAULT math means TF32 on sm_80 and
// newer, so it counts as strict only before sm_80); tf32 wants TF32 tensor cores (DEFAULT or
// TENSOR_OP math on fp32 data, never ALLOW_CONVERSION, which would round the data to fp16);
// fp16/bf16 want tensor cores (TENSOR_OP, either form). Strict fp32 never falls back to other math:
// that would break its 1e-4 agreement with the CPU. A candidate whose workspace cannot be had is
// passed over; when nothing is left the reason says which it was (nothing supported, no candidate
// with allowed math, or memory), so memory is blamed only when memory is the cause.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/context.h"

namespace catdog {

enum class ConvMath { fma, default_math, tensor_op, tensor_op_allow_conversion };
const char* conv_math_name(ConvMath math);

struct ConvCandidate {
  int algo = 0;            // cuDNN's algorithm enum value
  bool supported = true;   // cuDNN's status for it was CUDNN_STATUS_SUCCESS
  ConvMath math = ConvMath::fma;
  bool deterministic = true;
  size_t workspace = 0;    // bytes
};

// Whether `math` computes within `precision` on a GPU of compute capability `sm_major`.x.
bool conv_math_keeps(ConvMath math, Precision precision, int sm_major);
// Whether `math` is `precision`'s own (what its speed comes from), as opposed to a fallback.
bool conv_math_preferred(ConvMath math, Precision precision, int sm_major);

struct ConvChoice {
  int index = -1;       // into the candidates; -1: none
  std::string why_none; // when index is -1: a sentence saying why
};

// `workspace_available(bytes)` says whether that much scratch can be had (it may allocate it).
ConvChoice choose_conv_algorithm(const std::vector<ConvCandidate>& ranked, Precision precision,
                                 int sm_major, bool want_deterministic,
                                 const std::function<bool(size_t)>& workspace_available);

}  // namespace catdog
