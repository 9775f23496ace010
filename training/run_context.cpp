#include "training/run_context.h"

#include "core/device.h"
#include "core/error.h"
#if CATDOG_WITH_CUDA
#include "core/cuda_context.h"  // default_context
#endif

namespace catdog {

ExecContext make_exec_context(const std::string& device, const std::string& precision,
                              uint64_t seed) {
  ExecContext ctx;
  ctx.seed = seed;
  ctx.precision = parse_precision(precision);
  std::string why;
  if (device == "cpu") {
    ctx.device = Device::cpu;
  } else if (device == "cuda" || device == "auto") {
    if (cuda_available(&why)) {
      ctx.device = Device::cuda;
    } else if (device == "cuda") {
      fail("--device cuda: no usable GPU (", why, ")");
    } else {
      ctx.device = Device::cpu;
    }
  } else {
    fail("unknown --device '", device, "' (expected auto, cpu or cuda)");
  }
  if (ctx.device == Device::cpu) {
    CATDOG_CHECK(ctx.precision == Precision::fp32, "--precision ", precision,
                 " needs a GPU; on the CPU catdog computes in fp32");
    return ctx;
  }
  const std::string unsupported = precision_unsupported_reason(precision.c_str());
  CATDOG_CHECK(unsupported.empty(), "--precision ", precision, ": ", unsupported);
#if CATDOG_WITH_CUDA
  ctx.cuda = &cuda::default_context();
#endif
  return ctx;
}

void make_model_input(const Tensor& pixels, Preprocess mode, ExecContext& ctx, Tensor& staging,
                      Tensor& out) {
  CATDOG_CHECK(pixels.dtype() == DType::u8 && pixels.rank() == 4 && pixels.dim(3) == 3,
               "expected uint8 (N, H, W, 3) pixels, got ", dtype_name(pixels.dtype()), " ",
               to_string(pixels.shape()));
  const int64_t count = pixels.numel() / 3;
  out.reuse_as(pixels.shape(), DType::f32, ctx.device);
  const uint8_t* in = pixels.u8();
  if (ctx.on_gpu()) {  // the pixels travel as uint8, a quarter of the bytes of the floats
    staging.reuse_as(pixels.shape(), DType::u8, Device::cuda);
    staging.copy_from(pixels, ctx.cuda);
    in = staging.u8();
  }
  preprocess(in, count, mode, out.raw(), DType::f32, ctx);
}

}  // namespace catdog
