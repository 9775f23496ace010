#include "training/run_context.h"

#include "core/device.h"
#include "core/error.h"
#include "kernels/cpu/cpu_features.h"
#if CATDOG_WITH_CUDA
#include "core/cuda_context.h"  // default_context
#endif

namespace catdog {

ExecContext make_exec_context(const std::string& device, const std::string& precision,
                              uint64_t seed, int gpu) {
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
    // The CPU has fp32 and, with AVX512_BF16, bf16 for the frozen base (kernels/cpu/conv_direct.h);
    // tf32 and fp16 are GPU formats.
    if (ctx.precision == Precision::bf16) {
      const std::string why = cpu::cpu_bf16_unsupported_reason();
      CATDOG_CHECK(why.empty(), "--precision bf16 --device cpu: ", why);
      return ctx;
    }
    CATDOG_CHECK(ctx.precision == Precision::fp32, "--precision ", precision,
                 " needs a GPU; on the CPU catdog computes in fp32 or (with AVX512_BF16) bf16");
    return ctx;
  }
  const std::string unsupported = precision_unsupported_reason(precision.c_str());
  CATDOG_CHECK(unsupported.empty(), "--precision ", precision, ": ", unsupported);
#if CATDOG_WITH_CUDA
  cuda::set_default_gpu(gpu);
  ctx.cuda = &cuda::default_context();
#else
  (void)gpu;
#endif
  return ctx;
}

namespace {

void check_pixels(const Tensor& pixels) {
  CATDOG_CHECK(pixels.dtype() == DType::u8 && pixels.rank() == 4 && pixels.dim(3) == 3,
               "expected uint8 (N, H, W, 3) pixels, got ", dtype_name(pixels.dtype()), " ",
               to_string(pixels.shape()));
}

}  // namespace

void preprocess_pixels(const Tensor& pixels, Preprocess mode, ExecContext& ctx, Tensor& out) {
  check_pixels(pixels);
  CATDOG_CHECK(pixels.device() == ctx.device, "pixels on the ", device_name(pixels.device()),
               " for a model on the ", device_name(ctx.device));
  out.reuse_as(pixels.shape(), DType::f32, ctx.device);
  preprocess(pixels.u8(), pixels.numel() / 3, mode, out.raw(), DType::f32, ctx);
}

void make_model_input(const Tensor& pixels, Preprocess mode, ExecContext& ctx, Tensor& staging,
                      Tensor& out) {
  if (!ctx.on_gpu()) {
    preprocess_pixels(pixels, mode, ctx, out);
    return;
  }
  // The pixels travel as uint8, a quarter of the bytes of the floats.
  check_pixels(pixels);
  staging.reuse_as(pixels.shape(), DType::u8, Device::cuda);
  staging.copy_from(pixels, ctx.cuda);
  preprocess_pixels(staging, mode, ctx, out);
}

}  // namespace catdog
