// The CUDA-only layout helpers of kernels/conv_layout.h (they have no CPU twin): element type
// conversion rounds to nearest and round-trips, HWIO <-> KRSC is the permutation written here.
// Skips with the reason when no GPU is present.
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#include "kernels/conv_layout.h"
#include "tests/support/op_twins.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::gpu_result;
using test::gpu_stream;
using test::nan_tensor;

TEST(ConvLayout, ConvertRoundTripsAndRoundsToNearest) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  // 1 + 2^-11 is halfway between two float16 values: nearest-even gives 1; bfloat16 keeps 8 bits.
  Tensor src =
      Tensor::from_vector({4}, {1.0f + 1.0f / 2048, -2.5f, 65504.0f, 0.1f}).to(Device::cuda);
  Tensor half(src.shape(), DType::f16, Device::cuda), bf(src.shape(), DType::bf16, Device::cuda);
  Tensor back = nan_tensor(src.shape(), Device::cuda);
  cuda::convert_elements(src.raw(), DType::f32, half.raw(), DType::f16, 4, gpu_stream());
  cuda::convert_elements(half.raw(), DType::f16, back.raw(), DType::f32, 4, gpu_stream());
  const auto h = gpu_result(back);
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.5f);
  EXPECT_EQ(h[2], 65504.0f);
  EXPECT_NEAR(h[3], 0.1f, 1e-4);
  // f16 -> bf16 directly
  cuda::convert_elements(half.raw(), DType::f16, bf.raw(), DType::bf16, 4, gpu_stream());
  back = nan_tensor(src.shape(), Device::cuda);
  cuda::convert_elements(bf.raw(), DType::bf16, back.raw(), DType::f32, 4, gpu_stream());
  const auto b = gpu_result(back);
  EXPECT_EQ(b[1], -2.5f);
  EXPECT_NEAR(b[3], 0.1f, 1e-3);
#endif
}

TEST(ConvLayout, HwioToKrscIsThePermutationAndBack) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  const int kh = 3, kw = 2, c = 5, f = 4;
  const int64_t n = int64_t(kh) * kw * c * f;
  std::vector<float> hwio(n);
  for (int64_t i = 0; i < n; ++i) hwio[i] = static_cast<float>(i);  // each value names its place
  const Tensor hwio_d = Tensor::from_vector({kh, kw, c, f}, hwio).to(Device::cuda);
  Tensor krsc = nan_tensor({f, kh, kw, c}, Device::cuda);
  Tensor round_trip = nan_tensor({kh, kw, c, f}, Device::cuda);
  cuda::hwio_to_krsc(hwio_d.f32(), krsc.raw(), DType::f32, kh, kw, c, f, gpu_stream());
  cuda::krsc_to_hwio(krsc.f32(), round_trip.f32(), kh, kw, c, f, gpu_stream());
  std::vector<float> expected(n);
  for (int fi = 0; fi < f; ++fi)
    for (int r = 0; r < kh; ++r)
      for (int s = 0; s < kw; ++s)
        for (int ci = 0; ci < c; ++ci) {
          expected[((int64_t(fi) * kh + r) * kw + s) * c + ci] =
              hwio[((int64_t(r) * kw + s) * c + ci) * f + fi];
        }
  EXPECT_EQ(gpu_result(krsc), expected);
  EXPECT_EQ(gpu_result(round_trip), hwio);
#endif
}

}  // namespace
}  // namespace catdog
