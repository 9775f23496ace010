// A naive 2-D convolution in double, NHWC input and HWIO kernel with TensorFlow's 'same' rule
// written out independently of kernels/cpu/conv_geometry.h: the reference the direct and bf16
// convolution tests (tests/conv_direct_test.cpp, tests/bf16_conv_test.cpp) compare against.
#pragma once

#include <string>
#include <vector>

namespace catdog::test {

struct NaiveConvShape {
  int n, h, w, c, f, kh, kw, sh, sw;
  bool same, bias, relu;
};
std::string describe(const NaiveConvShape& k);

struct NaiveConvResult {
  std::vector<double> y;      // act(b + sum x w), (N, OH, OW, F)
  std::vector<double> scale;  // |b| + sum |x w| per output: what rounding error is relative to
};
NaiveConvResult naive_conv(const NaiveConvShape& k, const std::vector<float>& x,
                           const std::vector<float>& w, const std::vector<float>& b);

}  // namespace catdog::test
