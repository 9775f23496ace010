#include "layers/conv_algorithm.h"

#include "core/error.h"

namespace catdog {

const char* conv_math_name(ConvMath math) {
  switch (math) {
    case ConvMath::fma: return "FMA";
    case ConvMath::default_math: return "DEFAULT";
    case ConvMath::tensor_op: return "TENSOR_OP";
    case ConvMath::tensor_op_allow_conversion: return "TENSOR_OP_ALLOW_CONVERSION";
  }
  return "?";
}

namespace {

bool strict(ConvMath math, int sm_major) {
  return math == ConvMath::fma || (math == ConvMath::default_math && sm_major < 8);
}

}  // namespace

bool conv_math_preferred(ConvMath math, Precision precision, int sm_major) {
  switch (precision) {
    case Precision::fp32: return strict(math, sm_major);
    case Precision::tf32: return math == ConvMath::tensor_op ||
                                 (math == ConvMath::default_math && sm_major >= 8);
    case Precision::fp16:
    case Precision::bf16:
      return math == ConvMath::tensor_op || math == ConvMath::tensor_op_allow_conversion;
  }
  return false;
}

bool conv_math_keeps(ConvMath math, Precision precision, int sm_major) {
  if (precision == Precision::fp32) return strict(math, sm_major);
  return conv_math_preferred(math, precision, sm_major) || strict(math, sm_major);
}

ConvChoice choose_conv_algorithm(const std::vector<ConvCandidate>& ranked, Precision precision,
                                 int sm_major, bool want_deterministic,
                                 const std::function<bool(size_t)>& workspace_available) {
  ConvChoice choice;
  int supported = 0, allowed = 0;
  size_t smallest_refused = 0;
  for (const ConvCandidate& c : ranked) {
    if (!c.supported) continue;
    ++supported;
    if (conv_math_keeps(c.math, precision, sm_major)) ++allowed;
  }
  // pass: 0/1 the precision's own math, 2/3 strict math (reduced precision only); even passes
  // want determinism when asked, odd ones take any.
  for (int pass = 0; pass < 4; ++pass) {
    const bool own_math = pass < 2;
    if (!own_math && precision == Precision::fp32) break;  // strict is fp32's own math
    const bool deterministic_only = want_deterministic && pass % 2 == 0;
    for (size_t i = 0; i < ranked.size(); ++i) {
      const ConvCandidate& c = ranked[i];
      if (!c.supported) continue;
      const bool math_ok = own_math ? conv_math_preferred(c.math, precision, sm_major)
                                    : strict(c.math, sm_major);
      if (!math_ok || (deterministic_only && !c.deterministic)) continue;
      if (c.workspace > 0 && !workspace_available(c.workspace)) {
        if (smallest_refused == 0 || c.workspace < smallest_refused) smallest_refused = c.workspace;
        continue;
      }
      choice.index = static_cast<int>(i);
      return choice;
    }
  }
  const int count = static_cast<int>(ranked.size());
  if (supported == 0) {
    choice.why_none = cat("cuDNN supports none of its ", count,
                          " candidate algorithms for this shape and data type");
  } else if (allowed == 0) {
    choice.why_none = cat("none of cuDNN's ", supported, " supported algorithms computes in ",
                          precision_name(precision), " (their math would lose precision)");
  } else {
    choice.why_none = cat("GPU memory: the smallest workspace among the ", allowed,
                          " suitable algorithms, ", smallest_refused, " bytes, cannot be had");
  }
  return choice;
}

}  // namespace catdog
