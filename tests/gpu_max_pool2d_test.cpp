// The max_pool2d op (kernels/max_pool2d.h): cuda:: against cpu:: on the same inputs and one
// WindowGeometry, 'valid' and TensorFlow 'same' padding, overlapping windows, and exact ties
// (small integers: many windows hold equal maxima, and both sides must send the gradient to the
// first). cpu:: itself is checked against loops in tests/max_pooling2d_test.cpp; here a direct
// call shows padding never wins. The GPU half skips with the reason when no GPU is present.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#include "kernels/max_pool2d.h"
#include "tests/support/op_twins.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::gpu_result;
using test::gpu_stream;
using test::nan_tensor;
using test::random_tensor;

struct PoolCase {
  int64_t n, h, w, c, k, s;
  bool same;
};

const PoolCase kCases[] = {
    {2, 8, 8, 5, 2, 2, false}, {2, 7, 8, 3, 3, 2, true}, {1, 5, 5, 4, 2, 1, false},
    {1, 5, 5, 2, 2, 2, true},  {3, 9, 4, 33, 3, 1, true},
};

// Values in {-2, -1, 0, 1, 2}: exact ties everywhere.
[[maybe_unused]] Tensor tied_values(const Shape& shape, uint64_t seed) {
  Tensor t = random_tensor(shape, seed, -2.0f, 3.0f);
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = std::floor(t.f32()[i]);
  return t;
}

TEST(MaxPool2dOp, CpuSamePaddingIsNeverTheMaximum) {
  // All inputs negative: a padded cell counted as 0 would win every border window.
  const WindowGeometry g = make_window_geometry(1, 3, 3, 1, 2, 2, 2, 2, true, 1);
  const Tensor x = random_tensor({1, 3, 3, 1}, 1, -5.0f, -1.0f);
  Tensor y = nan_tensor({1, g.oh, g.ow, 1}, Device::cpu);
  cpu::max_pool2d_forward(g, x.raw(), y.raw(), DType::f32, nullptr);
  for (float v : y.to_vector()) EXPECT_LT(v, 0.0f);
  EXPECT_EQ(y.f32()[3], x.f32()[8]);  // the bottom-right window holds one real pixel
}

TEST(MaxPool2dOp, CudaMatchesCpuIncludingTies) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  for (const PoolCase& k : kCases) {
    const WindowGeometry g = make_window_geometry(k.n, k.h, k.w, k.c, k.k, k.k, k.s, k.s, k.same,
                                                  k.c);
    const Shape in = {k.n, k.h, k.w, k.c}, out = {k.n, g.oh, g.ow, k.c};
    const Tensor x = tied_values(in, 2), dy = random_tensor(out, 3);
    const Tensor xd = x.to(Device::cuda), dyd = dy.to(Device::cuda);
    Tensor y = nan_tensor(out, Device::cpu), yd = nan_tensor(out, Device::cuda);
    Tensor dx = nan_tensor(in, Device::cpu), dxd = nan_tensor(in, Device::cuda);
    cpu::max_pool2d_forward(g, x.raw(), y.raw(), DType::f32, nullptr);
    cpu::max_pool2d_backward(g, x.f32(), dy.f32(), dx.f32(), nullptr);
    cuda::max_pool2d_forward(g, xd.raw(), yd.raw(), DType::f32, gpu_stream());
    cuda::max_pool2d_backward(g, xd.f32(), dyd.f32(), dxd.f32(), gpu_stream());
    const std::string what = cat(k.k, "x", k.k, " stride ", k.s, k.same ? " same" : " valid");
    EXPECT_EQ(gpu_result(yd), y.to_vector()) << what;
    // Each input sums the same dy values, possibly in another order: near, not equal.
    EXPECT_LE(test::max_abs_difference(gpu_result(dxd), dx.to_vector()), 1e-6) << what;
  }
#endif
}

}  // namespace
}  // namespace catdog
