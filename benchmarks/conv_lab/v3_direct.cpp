// Version 3: the register-blocked direct (implicit-GEMM) convolution, the product's
// kernels/cpu/conv_direct.h: each step of the micro-kernel loads one input value per output pixel
// and four 16-filter weight vectors, and issues a block of FMAs into accumulators that stay in
// registers across all C channels and the 9 taps, so nothing like im2col's copy of every patch is
// written or read. The kernel is packed before timing (the product packs a frozen kernel once).
// Rows: AVX-512, the AVX2 + FMA fallback, and bf16 with fp32 accumulation (vdpbf16ps), each where
// this CPU has the instructions; bf16's error against version 1 is bf16's, not a bug.
#include <memory>

#include "benchmarks/conv_lab/conv_lab.h"
#include "kernels/cpu/conv_direct.h"

namespace catdog::lab {
namespace {

// bf16 keeps 8 significant bits: each input and weight is off by up to 2^-9 relative, so a dot
// product of positive-and-negative terms can be off by about 2^-8 of its terms' magnitude, which is
// a few times 1e-3 of the output's largest value; 2e-2 leaves room and still catches a wrong tap.
LabVersion direct_version(cpu::DirectMath math, const char* name) {
  LabVersion v{3, name, [math](const LabProblem& p) -> TimedBody {
                 auto packed = std::make_shared<cpu::PackedConvKernel>(
                     cpu::pack_conv_kernel(p.g, p.kernel, math));
                 return [p, packed](float* y) {
                   cpu::conv2d_direct_forward_packed(p.g, p.x, *packed, p.bias, Activation::relu,
                                                     y);
                 };
               }};
  if (math == cpu::DirectMath::bf16_avx512) v.tolerance = 2e-2;
  return v;
}

bool register_supported() {
  const struct {
    cpu::DirectMath math;
    const char* name;
  } versions[] = {{cpu::DirectMath::f32_avx512, "direct fp32 AVX-512"},
                  {cpu::DirectMath::f32_avx2, "direct fp32 AVX2"},
                  {cpu::DirectMath::bf16_avx512, "direct bf16 AVX512_BF16"}};
  for (const auto& v : versions) {
    if (cpu::direct_math_supported(v.math)) register_lab_version(direct_version(v.math, v.name));
  }
  return true;
}

const bool kRegistered = register_supported();

}  // namespace
}  // namespace catdog::lab
