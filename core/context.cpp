#include "core/context.h"

#include "core/error.h"
#if CATDOG_WITH_CUDA
#include "core/cuda_context.h"
#endif

namespace catdog {

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::fp32: return "fp32";
    case Precision::tf32: return "tf32";
    case Precision::fp16: return "fp16";
    case Precision::bf16: return "bf16";
  }
  return "?";
}

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::fp32;
  if (name == "tf32") return Precision::tf32;
  if (name == "fp16") return Precision::fp16;
  if (name == "bf16") return Precision::bf16;
  fail("unknown precision '", name, "' (expected fp32, tf32, fp16 or bf16)");
}

const char* conv_algo_name(ConvAlgo algo) {
  switch (algo) {
    case ConvAlgo::auto_pick: return "auto";
    case ConvAlgo::im2col: return "im2col";
    case ConvAlgo::winograd2: return "winograd2";
    case ConvAlgo::winograd4: return "winograd4";
    case ConvAlgo::direct: return "direct";
  }
  return "?";
}

ConvAlgo parse_conv_algo(const std::string& name) {
  for (ConvAlgo a : {ConvAlgo::auto_pick, ConvAlgo::im2col, ConvAlgo::winograd2,
                     ConvAlgo::winograd4, ConvAlgo::direct}) {
    if (name == conv_algo_name(a)) return a;
  }
  fail("unknown --conv-algo '", name, "' (expected auto, im2col, winograd2, winograd4 or direct)");
}

#if CATDOG_WITH_CUDA
Stream compute_stream(const ExecContext& ctx) {
  CATDOG_CHECK(ctx.cuda != nullptr, "GPU run without a CUDA context (ExecContext::cuda is null)");
  return ctx.cuda->compute;
}
#endif

}  // namespace catdog
