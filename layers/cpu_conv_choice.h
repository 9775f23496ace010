// Which algorithm a Conv2D computes its CPU forward with, and what that choice keeps between
// calls. The algorithms (ConvAlgo, core/context.h): im2col + sgemm (kernels/cpu/conv2d.h), Winograd
// F(2x2,3x3) and F(4x4,3x3) (kernels/cpu/winograd.h), and the direct convolution
// (kernels/cpu/conv_direct.h). The plan also keeps what those algorithms derive from the kernel
// (Winograd's filter transforms, the direct kernel's packed copy), until weights_changed().
//
// Under --conv-algo auto a frozen layer gets choose_cpu_conv_algo(shape), a rule written from the
// per-layer speed and error table in docs/PERFORMANCE.md, evaluated once per input shape and
// cached. A trainable layer keeps im2col under auto: its backward is im2col's, and its kernel
// changes every step, so a cached filter transform would be recomputed each time. A forced
// algorithm applies wherever it can (Winograd: 3x3 stride-1 windows); elsewhere im2col runs.
#pragma once

#include <array>
#include <cstdint>
#include <map>

#include "core/context.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/winograd.h"

namespace catdog {

// The rule for a frozen layer of geometry g (the measured reasons in docs/PERFORMANCE.md).
ConvAlgo choose_cpu_conv_algo(const WindowGeometry& g);
// What a frozen layer of geometry g under --precision bf16 runs instead of `fp32_algo` (the
// rule's answer or a forced choice): Winograd F(2x2,3x3) in bf16 where fp32 would run Winograd and
// the layer is wide enough, else the direct bf16 kernel (there is no bf16 im2col).
ConvAlgo bf16_conv_algo(const WindowGeometry& g, ConvAlgo fp32_algo);

class CpuConvPlan {
 public:
  // The algorithm for g: `requested` where it applies, else (auto) the cached rule for a frozen
  // layer or im2col for a trainable one.
  ConvAlgo algo_for(const WindowGeometry& g, ConvAlgo requested, bool frozen);
  // The Winograd transform of `kernel` (3, 3, C, F) for tile m and `gemm`, computed on first use
  // after construction or weights_changed() (or when the GEMM changes) and reused.
  const cpu::WinogradFilter& winograd_filter(int m, const float* kernel, int64_t c, int64_t f,
                                             cpu::WinogradGemm gemm);
  // `kernel` (g.kh, g.kw, g.c, g.f) packed for the direct convolution's `math`, packed on first
  // use after construction or weights_changed() (or when the math changes) and reused.
  const cpu::PackedConvKernel& direct_kernel(const WindowGeometry& g, const float* kernel,
                                             cpu::DirectMath math);
  void weights_changed();  // the kernel's values changed: drop the transforms and the packed copy

  int64_t rule_evaluations() const { return rule_evaluations_; }    // for tests
  int64_t filter_transforms() const { return filter_transforms_; }  // for tests
  int64_t kernel_packs() const { return kernel_packs_; }            // for tests

 private:
  std::map<std::array<int64_t, 4>, ConvAlgo> chosen_;  // input (N, H, W, C) -> the rule's answer
  cpu::WinogradFilter filters_[2];                     // m = 2, m = 4
  cpu::PackedConvKernel packed_;                       // empty until the direct kernel runs
  int64_t rule_evaluations_ = 0, filter_transforms_ = 0, kernel_packs_ = 0;
};

}  // namespace catdog
