// Version 2: im2col + OpenBLAS sgemm, the product's kernels/cpu/conv2d.h. The 9 * C patch of
// every output pixel is copied into a row, and one (pixels x 9C) * (9C x F) GEMM does the rest:
// the GEMM's packing and register-blocked micro-kernel reach most of the FMA peak, paid for by
// writing and reading the 9x larger patch matrix.
#include "benchmarks/conv_lab/conv_lab.h"
#include "kernels/cpu/conv2d.h"

namespace catdog::lab {
namespace {

const bool kRegistered = register_lab_version(
    {2, "im2col + OpenBLAS sgemm", [](const LabProblem& p) -> TimedBody {
       return [p](float* y) {
         cpu::conv2d_forward_nhwc(p.g, p.x, p.kernel, p.bias, Activation::relu, y, 0);
       };
     }});

}  // namespace
}  // namespace catdog::lab
