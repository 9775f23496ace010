// Version 4: Winograd F(2x2,3x3) and F(4x4,3x3), the product's kernels/cpu/winograd.h. The
// filter transform is done before timing (the product caches it per frozen kernel); the timed
// part is the input transform, 16 or 36 GEMMs of (tiles x C) * (C x F), and the output transform
// with bias + relu. The FLOP rate is of direct-convolution FLOPs, so it can pass 100% of peak.
#include <memory>

#include "benchmarks/conv_lab/conv_lab.h"
#include "kernels/cpu/winograd.h"

namespace catdog::lab {
namespace {

LabVersion winograd_version(int m) {
  return {4, m == 2 ? "winograd F(2x2,3x3)" : "winograd F(4x4,3x3)",
          [m](const LabProblem& p) -> TimedBody {
            auto u = std::make_shared<cpu::WinogradFilter>(
                cpu::winograd_transform_filter(m, p.kernel, p.g.c, p.g.f));
            return [p, u](float* y) {
              cpu::winograd_forward_nhwc(p.g, *u, p.x, p.bias, Activation::relu, y);
            };
          }};
}

const bool kRegistered =
    register_lab_version(winograd_version(2)) && register_lab_version(winograd_version(4));

}  // namespace
}  // namespace catdog::lab
