// The direct convolution (kernels/cpu/conv_direct.h), fp32, both ISA paths (AVX-512 and the AVX2
// fallback, the latter also chosen through the CPU-feature seam), against a naive convolution
// written here in double: C and F off the 16-lane grid, odd sizes, strides, valid/same, batches,
// bias + relu; and Conv2D's frozen CPU forward, which packs once and repacks after weights_changed.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "kernels/cpu/bf16.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/cpu_features.h"
#include "layers/conv2d.h"
#include "tests/support/gradient_check.h"
#include "tests/support/naive_conv.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using Case = test::NaiveConvShape;
using test::naive_conv;

WindowGeometry geometry(const Case& k) {
  return make_window_geometry(k.n, k.h, k.w, k.c, k.kh, k.kw, k.sh, k.sw, k.same, k.f);
}

const Case kCases[] = {
    {1, 7, 9, 5, 3, 3, 3, 1, 1, true, true, true},      // C, F below one vector
    {2, 11, 13, 17, 70, 3, 3, 1, 1, true, true, true},  // F = 64 + 6: partial block
    {1, 12, 10, 33, 130, 3, 3, 2, 2, true, false, false},  // stride 2, 2 blocks + 2
    {3, 9, 8, 16, 48, 3, 3, 1, 1, false, true, false},  // valid, F = 3 vectors
    {1, 15, 6, 20, 21, 3, 3, 2, 1, false, true, true},   // valid, mixed strides
    {2, 6, 7, 24, 32, 1, 1, 1, 1, true, true, true},     // 1x1, F = 2 vectors
    {1, 8, 9, 7, 19, 2, 4, 1, 1, true, true, false},    // even kernel: odd pad
    {1, 5, 5, 64, 64, 5, 5, 1, 1, true, true, true},     // kernel as big as x
    {2, 3, 2, 3, 17, 3, 3, 1, 1, true, false, true},     // fewer pixels than a tile
};

// Runs every case through `math` and compares with the naive convolution within fp32's error:
// |y - ref| <= 2^-24 * (KH*KW*C + 2) * sum |x w|, the bound for a sum in float of that many terms.
void expect_all_cases_match(cpu::DirectMath math) {
  for (const Case& k : kCases) {
    SCOPED_TRACE(test::describe(k) + " " + cpu::direct_math_name(math));
    const std::vector<float> x = test::random_tensor({k.n, k.h, k.w, k.c}, 1).to_vector();
    const std::vector<float> w = test::random_tensor({k.kh, k.kw, k.c, k.f}, 2).to_vector();
    const std::vector<float> b = test::random_tensor({k.f}, 3).to_vector();
    const test::NaiveConvResult ref = naive_conv(k, x, w, b);
    const WindowGeometry g = geometry(k);
    std::vector<float> y(ref.y.size() + 64, std::nanf(""));  // poisoned, and 64 past the end
    cpu::conv2d_direct_forward_nhwc(g, x.data(), w.data(), k.bias ? b.data() : nullptr,
                                    k.relu ? Activation::relu : Activation::linear, y.data(), math);
    const double terms = k.kh * k.kw * k.c + 2;
    for (size_t i = 0; i < ref.y.size(); ++i) {
      ASSERT_NEAR(y[i], ref.y[i], std::ldexp(terms, -24) * ref.scale[i] + 1e-30)
          << "output " << i << " (pixel " << i / k.f << ", filter " << i % k.f << ")";
    }
    for (size_t i = ref.y.size(); i < y.size(); ++i) ASSERT_TRUE(std::isnan(y[i])) << "wrote past y";
  }
}

TEST(ConvDirect, Avx512MatchesNaive) {
  if (!cpu::direct_math_supported(cpu::DirectMath::f32_avx512)) GTEST_SKIP() << "no AVX-512";
  expect_all_cases_match(cpu::DirectMath::f32_avx512);
}

TEST(ConvDirect, Avx2MatchesNaive) {
  if (!cpu::direct_math_supported(cpu::DirectMath::f32_avx2)) GTEST_SKIP() << "no AVX2 + FMA";
  expect_all_cases_match(cpu::DirectMath::f32_avx2);
}

// Linear output is unclipped: a negative sum stays negative (relu is the epilogue's, not always on).
TEST(ConvDirect, LinearKeepsNegativeSums) {
  const Case k = {1, 4, 4, 16, 16, 3, 3, 1, 1, true, false, false};
  const std::vector<float> x(4 * 4 * 16, 1.0f), w(9 * 16 * 16, -1.0f);
  std::vector<float> y(4 * 4 * 16);
  cpu::conv2d_direct_forward_nhwc(geometry(k), x.data(), w.data(), nullptr, Activation::linear, y.data(),
                                  cpu::best_direct_f32_math());
  EXPECT_EQ(y[0], -4.0f * 16);        // a corner: 4 taps inside
  EXPECT_EQ(y[5 * 16], -9.0f * 16);   // pixel (1, 1): all 9 taps inside
}

// The seam: a CPU without AVX-512 gets the AVX2 path; the kernel packed for it says so.
TEST(ConvDirect, CpuWithoutAvx512ChoosesAvx2) {
  if (!cpu::cpu_features().avx2_fma) GTEST_SKIP() << "no AVX2 + FMA";
  cpu::CpuFeatures avx2_only;
  avx2_only.avx2_fma = true;
  cpu::set_cpu_features_for_test(&avx2_only);
  EXPECT_EQ(cpu::best_direct_f32_math(), cpu::DirectMath::f32_avx2);
  EXPECT_FALSE(cpu::direct_math_supported(cpu::DirectMath::f32_avx512));
  const std::string err = test::error_message([] {
    const float w[9] = {};
    (void)cpu::pack_conv_kernel(make_window_geometry(1, 3, 3, 1, 3, 3, 1, 1, true, 1), w,
                                cpu::DirectMath::f32_avx512);
  });
  EXPECT_NE(err.find("lacks"), std::string::npos) << err;
  cpu::set_cpu_features_for_test(nullptr);
  if (cpu::cpu_features().avx512) {
    EXPECT_EQ(cpu::best_direct_f32_math(), cpu::DirectMath::f32_avx512);
  }
}

TEST(ConvDirect, PackedKernelOfAnotherShapeIsRefused) {
  const std::vector<float> w(9 * 4 * 8, 0.0f);
  const WindowGeometry g = make_window_geometry(1, 5, 5, 4, 3, 3, 1, 1, true, 8);
  const cpu::PackedConvKernel packed = cpu::pack_conv_kernel(g, w.data(), cpu::best_direct_f32_math());
  const WindowGeometry other = make_window_geometry(1, 5, 5, 4, 3, 3, 1, 1, true, 9);
  std::vector<float> x(5 * 5 * 4), y(5 * 5 * 9);
  const std::string err = test::error_message([&] {
    cpu::conv2d_direct_forward_packed(other, x.data(), packed, nullptr, Activation::linear, y.data());
  });
  EXPECT_NE(err.find("does not fit"), std::string::npos) << err;
}

// A frozen Conv2D on the CPU runs the direct path from a kernel packed once; new weights
// (weights_changed, as a weight load calls it) are packed again, and the output follows them.
TEST(ConvDirect, FrozenConv2DRepacksAfterWeightsChanged) {
  const Case k = {2, 9, 9, 32, 64, 3, 3, 1, 1, true, true, true};
  Conv2DConfig config;
  config.filters = k.f;
  config.padding = Padding::same;
  config.activation = Activation::relu;
  Conv2D conv("conv", config);
  conv.build({k.n, k.h, k.w, k.c});
  conv.set_trainable(false);
  ASSERT_EQ(choose_cpu_conv_algo(geometry(k)), ConvAlgo::direct);
  const Tensor x = test::random_tensor({k.n, k.h, k.w, k.c}, 4);
  ExecContext ctx;
  for (int round = 0; round < 2; ++round) {
    std::vector<Param*> p = conv.params();
    p[0]->value = test::random_tensor({k.kh, k.kw, k.c, k.f}, 10 + round);
    p[1]->value = test::random_tensor({k.f}, 20 + round);
    conv.weights_changed();
    Tensor y;
    conv.forward(x, y, ctx);
    conv.forward(x, y, ctx);  // the second forward reuses the packed kernel
    EXPECT_EQ(conv.cpu_plan().kernel_packs(), round + 1);
    const test::NaiveConvResult ref =
        naive_conv(k, x.to_vector(), p[0]->value.to_vector(), p[1]->value.to_vector());
    const std::vector<float> got = y.to_vector();
    for (size_t i = 0; i < ref.y.size(); ++i) {
      ASSERT_NEAR(got[i], ref.y[i], 1e-5 * ref.scale[i] + 1e-30) << "round " << round << " at " << i;
    }
  }
}

// gemm_direct_batched: count independent (rows, C) x (C, F) products through the 1x1 tiles, against
// a double sum here. Rows off the 6-pixel tile, F off the 16-lane grid and past one 64-filter
// block, C past one pass of channels (576 fp32, 1152 bf16), every matrix its own kernel; bf16
// within its rounding. The output is poisoned and guarded past its end.
TEST(ConvDirect, BatchedGemmMatchesADoubleSumForEveryMatrix) {
  const struct {
    int64_t count, rows, c, f;
  } shapes[] = {{3, 13, 70, 37}, {2, 5, 600, 130}, {1, 1, 3, 1}, {4, 31, 1200, 20}};
  for (cpu::DirectMath math :
       {cpu::DirectMath::f32_avx512, cpu::DirectMath::f32_avx2, cpu::DirectMath::bf16_avx512}) {
    if (!cpu::direct_math_supported(math)) continue;
    for (const auto& s : shapes) {
      SCOPED_TRACE(std::string(cpu::direct_math_name(math)) + " count " + std::to_string(s.count) +
                   " rows " + std::to_string(s.rows) + " C " + std::to_string(s.c) + " F " +
                   std::to_string(s.f));
      const std::vector<float> a = test::random_tensor({s.count, s.rows, s.c}, 7).to_vector();
      const std::vector<float> b = test::random_tensor({s.count, s.c, s.f}, 8).to_vector();
      const WindowGeometry g1 = make_window_geometry(1, 1, 1, s.c, 1, 1, 1, 1, false, s.f);
      std::vector<cpu::PackedConvKernel> kernels;
      for (int64_t i = 0; i < s.count; ++i) {
        kernels.push_back(cpu::pack_conv_kernel(g1, b.data() + i * s.c * s.f, math));
      }
      std::vector<float> c(static_cast<size_t>(s.count * s.rows * s.f + 64), std::nanf(""));
      cpu::gemm_direct_batched(s.count, s.rows, a.data(), kernels.data(), c.data());
      const bool bf16 = math == cpu::DirectMath::bf16_avx512;
      for (int64_t i = 0; i < s.count; ++i)
        for (int64_t r = 0; r < s.rows; ++r)
          for (int64_t f = 0; f < s.f; ++f) {
            double sum = 0, scale = 0;
            for (int64_t k = 0; k < s.c; ++k) {
              const double term = static_cast<double>(a[(i * s.rows + r) * s.c + k]) *
                                  b[(i * s.c + k) * s.f + f];
              sum += term, scale += std::fabs(term);
            }
            // fp32: a sum of C terms in float; bf16: both operands off by up to 2^-9 each.
            const double bound = bf16 ? std::ldexp(scale, -7) : std::ldexp(s.c + 2.0, -24) * scale;
            ASSERT_NEAR(c[(i * s.rows + r) * s.f + f], sum, bound + 1e-30)
                << "matrix " << i << " row " << r << " column " << f;
          }
      for (size_t i = s.count * s.rows * s.f; i < c.size(); ++i) {
        ASSERT_TRUE(std::isnan(c[i])) << "wrote past c";
      }
    }
  }
}

// Input already in bf16 (as Winograd's input transform writes it, C rounded up to even): the same
// products, bit for bit, as letting gemm_direct_batched round the floats; an odd C included.
TEST(ConvDirect, BatchedGemmTakesInputAlreadyInBf16) {
  if (!cpu::direct_math_supported(cpu::DirectMath::bf16_avx512)) GTEST_SKIP() << "no AVX512_BF16";
  const int64_t count = 3, rows = 11, c = 37, f = 70, cx = 38;
  const std::vector<float> a = test::random_tensor({count, rows, c}, 17).to_vector();
  const std::vector<float> b = test::random_tensor({count, c, f}, 18).to_vector();
  const WindowGeometry g1 = make_window_geometry(1, 1, 1, c, 1, 1, 1, 1, false, f);
  std::vector<cpu::PackedConvKernel> kernels;
  for (int64_t i = 0; i < count; ++i) {
    kernels.push_back(cpu::pack_conv_kernel(g1, b.data() + i * c * f, cpu::DirectMath::bf16_avx512));
  }
  std::vector<uint16_t> a16(static_cast<size_t>(count * rows * cx), 0);
  for (int64_t r = 0; r < count * rows; ++r)
    for (int64_t k = 0; k < c; ++k) a16[r * cx + k] = cpu::bf16_from_float(a[r * c + k]);
  std::vector<float> from_floats(static_cast<size_t>(count * rows * f));
  std::vector<float> from_bf16(from_floats.size());
  cpu::gemm_direct_batched(count, rows, a.data(), kernels.data(), from_floats.data());
  cpu::gemm_direct_batched_bf16(count, rows, a16.data(), kernels.data(), from_bf16.data());
  EXPECT_EQ(from_bf16, from_floats);
  const std::vector<cpu::PackedConvKernel> f32 = {
      cpu::pack_conv_kernel(g1, b.data(), cpu::best_direct_f32_math())};
  test::expect_error_mentions(
      [&] { cpu::gemm_direct_batched_bf16(1, rows, a16.data(), f32.data(), from_bf16.data()); },
      {"bf16 input needs kernels packed for bf16"});
}

TEST(ConvDirect, BatchedGemmRefusesKernelsPackedUnalike) {
  const WindowGeometry g1 = make_window_geometry(1, 1, 1, 8, 1, 1, 1, 1, false, 4);
  const WindowGeometry g2 = make_window_geometry(1, 1, 1, 8, 1, 1, 1, 1, false, 5);
  const WindowGeometry g3 = make_window_geometry(1, 3, 3, 8, 3, 3, 1, 1, true, 4);
  const std::vector<float> w(3 * 3 * 8 * 5, 0.25f), a(2 * 3 * 8, 1.0f);
  std::vector<float> c(2 * 3 * 5);
  const cpu::DirectMath math = cpu::best_direct_f32_math();
  const std::vector<cpu::PackedConvKernel> unalike = {cpu::pack_conv_kernel(g1, w.data(), math),
                                                      cpu::pack_conv_kernel(g2, w.data(), math)};
  test::expect_error_mentions(
      [&] { cpu::gemm_direct_batched(2, 3, a.data(), unalike.data(), c.data()); },
      {"kernel 1", "not packed like kernel 0"});
  const cpu::PackedConvKernel k3 = cpu::pack_conv_kernel(g3, w.data(), math);
  test::expect_error_mentions([&] { cpu::gemm_direct_batched(1, 3, a.data(), &k3, c.data()); },
                              {"1x1", "3x3"});
}

}  // namespace
}  // namespace catdog
