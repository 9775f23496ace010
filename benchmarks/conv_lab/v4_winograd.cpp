// Version 4: Winograd F(2x2,3x3) and F(4x4,3x3), the product's kernels/cpu/winograd.h. The
// filter transform is done before timing (the product caches it per frozen kernel); the timed
// part is the input transform, 16 or 36 GEMMs of (tiles x C) * (C x F), and the output transform
// with bias + relu. The FLOP rate is of direct-convolution FLOPs, so it can pass 100% of peak.
//
// Three rows per tile size, one per way of doing the GEMMs: OpenBLAS sgemm (the first Winograd,
// kept to show the step), the direct kernel's register-blocked tiles run as 1x1 kernels (the
// product's fp32), and the same tiles in bf16 (V and U rounded to bf16, fp32 accumulation) where
// the CPU has AVX512_BF16.
#include <memory>
#include <string>

#include "benchmarks/conv_lab/conv_lab.h"
#include "kernels/cpu/winograd.h"

namespace catdog::lab {
namespace {

LabVersion winograd_version(int m, cpu::WinogradGemm gemm) {
  std::string name = m == 2 ? "winograd F(2x2,3x3)" : "winograd F(4x4,3x3)";
  name += gemm == cpu::WinogradGemm::openblas     ? " OpenBLAS"
          : gemm == cpu::WinogradGemm::direct_f32 ? " tiles"
                                                  : " bf16";
  LabVersion v{4, name, [m, gemm](const LabProblem& p) -> TimedBody {
                 auto u = std::make_shared<cpu::WinogradFilter>(
                     cpu::winograd_transform_filter(m, p.kernel, p.g.c, p.g.f, gemm));
                 return [p, u](float* y) {
                   cpu::winograd_forward_nhwc(p.g, *u, p.x, p.bias, Activation::relu, y);
                 };
               }};
  // bf16's own bound (v3_direct.cpp says why) for F(2x2), whose transforms' weights (1 and 1/2)
  // keep its rounding near the direct kernel's. F(4x4)'s weights (up to 8, and 1/24) amplify it
  // to about 5e-2 of the output, yet the product runs it on the wide layers under --precision bf16
  // (layers/cpu_conv_choice.cpp: bf16_conv_algo): end to end it stays inside bf16's 1e-1 bound.
  if (gemm == cpu::WinogradGemm::direct_bf16) v.tolerance = m == 2 ? 2e-2 : 1e-1;
  return v;
}

bool register_all() {
  for (int m : {2, 4}) {
    register_lab_version(winograd_version(m, cpu::WinogradGemm::openblas));
    if (cpu::best_winograd_gemm() == cpu::WinogradGemm::direct_f32) {
      register_lab_version(winograd_version(m, cpu::WinogradGemm::direct_f32));
    }
    if (cpu::direct_math_supported(cpu::DirectMath::bf16_avx512)) {
      register_lab_version(winograd_version(m, cpu::WinogradGemm::direct_bf16));
    }
  }
  return true;
}

const bool kRegistered = register_all();

}  // namespace
}  // namespace catdog::lab
