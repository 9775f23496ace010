// bf16 on the CPU: the scalar rounding that packs weights (round to nearest, ties to even), the
// bf16 direct convolution against two naive references written here (exact, within a bound
// derived from bf16's 2^-8 rounding; and with x and w rounded to bf16 by this file's own rounding,
// within fp32's accumulation error only, so truncating instead of rounding fails), the frozen
// Conv2D's bf16 forward (packed once, repacked after weights_changed), and the refusals:
// --precision bf16 on a CPU without AVX512_BF16 (faked by the CPU-feature seam), fp16/tf32 on the CPU.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "kernels/cpu/bf16.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/cpu_features.h"
#include "layers/conv2d.h"
#include "tests/support/naive_conv.h"
#include "tests/support/test_support.h"
#include "training/run_context.h"

namespace catdog {
namespace {

uint32_t bits_of(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
float float_of(uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// This file's own bf16 rounding, by value rather than by bit tricks: of the two bf16 neighbours
// of v, the nearer; on a tie the one whose last kept bit is 0.
float round_to_bf16(float v) {
  const float down = float_of(bits_of(v) & 0xffff0000u);
  const float up = float_of((bits_of(v) & 0xffff0000u) + 0x10000u);  // away from zero
  const double d_down = std::fabs(static_cast<double>(v) - down);
  const double d_up = std::fabs(static_cast<double>(up) - v);
  if (d_down < d_up) return down;
  if (d_up < d_down) return up;
  return (bits_of(down) & 0x10000u) == 0 ? down : up;
}

TEST(Bf16, ScalarRoundingIsNearestTiesToEven) {
  const uint32_t cases[][2] = {
      {0x3f808000u, 0x3f80u},  // 1 + 2^-8: a tie, the even neighbour (down)
      {0x3f818000u, 0x3f82u},  // a tie above an odd one: up
      {0x3f80c000u, 0x3f81u},  // above half: up
      {0x3f807fffu, 0x3f80u},  // below half: down
      {0xbf80c000u, 0xbf81u},  // negative, above half: away from zero
      {0x7f7fffffu, 0x7f80u},  // the largest float rounds to infinity, as RNE does
  };
  for (const auto& c : cases) {
    EXPECT_EQ(cpu::bf16_from_float(float_of(c[0])), c[1]) << std::hex << c[0];
  }
  EXPECT_TRUE(std::isnan(cpu::float_from_bf16(cpu::bf16_from_float(std::nanf("")))));
  for (float v : {0.1f, -3.7f, 1e-3f, 12345.678f}) {
    EXPECT_EQ(cpu::float_from_bf16(cpu::bf16_from_float(v)), round_to_bf16(v)) << v;
  }
}

using Case = test::NaiveConvShape;

const Case kCases[] = {
    {1, 7, 9, 5, 3, 3, 3, 1, 1, true, true, true},       // odd C (a zero channel pads the pair)
    {2, 11, 13, 17, 70, 3, 3, 1, 1, true, true, true},   // partial filter block
    {1, 12, 10, 32, 130, 3, 3, 2, 2, true, false, false},  // stride 2
    {3, 9, 8, 16, 48, 3, 3, 1, 1, false, true, false},   // valid
    {2, 6, 7, 24, 32, 1, 1, 1, 1, true, true, true},     // 1x1
    {1, 14, 14, 64, 64, 3, 3, 1, 1, true, true, true},   // a VGG-like tile grid
};

// In double: y and the |x w| scale, with x and w as given.
void naive(const Case& k, const std::vector<float>& x, const std::vector<float>& w,
           const std::vector<float>& b, std::vector<double>* y, std::vector<double>* scale) {
  test::NaiveConvResult r = test::naive_conv(k, x, w, b);
  *y = std::move(r.y);
  *scale = std::move(r.scale);
}

std::vector<float> rounded(std::vector<float> v) {
  for (float& e : v) e = round_to_bf16(e);
  return v;
}

TEST(Bf16Conv, MatchesNaiveWithinBf16RoundingAndExactlyRoundedReferenceTightly) {
  if (!cpu::direct_math_supported(cpu::DirectMath::bf16_avx512)) GTEST_SKIP() << "no AVX512_BF16";
  // Each product x~ w~ = x w (1 + e1)(1 + e2) with |e| <= u = 2^-8 (bf16 keeps 8 significant bits,
  // rounding to nearest errs by half of 2^-7): off by (2u + u^2) |x w| at most; the fp32 sum of
  // K terms adds K 2^-24 of sum |x w|.
  const double u = std::ldexp(1.0, -8);
  for (const Case& k : kCases) {
    SCOPED_TRACE(cat("case c", k.c, " f", k.f, " ", k.h, "x", k.w, " s", k.sh));
    const std::vector<float> x = test::random_tensor({k.n, k.h, k.w, k.c}, 5).to_vector();
    const std::vector<float> w = test::random_tensor({k.kh, k.kw, k.c, k.f}, 6).to_vector();
    const std::vector<float> b = test::random_tensor({k.f}, 7).to_vector();
    std::vector<double> exact, scale, bf16_ref, bf16_scale;
    naive(k, x, w, b, &exact, &scale);
    naive(k, rounded(x), rounded(w), b, &bf16_ref, &bf16_scale);
    std::vector<float> y(exact.size());
    cpu::conv2d_direct_forward_nhwc(
        make_window_geometry(k.n, k.h, k.w, k.c, k.kh, k.kw, k.sh, k.sw, k.same, k.f), x.data(),
        w.data(), k.bias ? b.data() : nullptr, k.relu ? Activation::relu : Activation::linear,
        y.data(), cpu::DirectMath::bf16_avx512);
    const double terms = k.kh * k.kw * k.c + 2;
    double worst = 0;
    for (size_t i = 0; i < exact.size(); ++i) {
      ASSERT_NEAR(y[i], exact[i], (2 * u + u * u + std::ldexp(terms, -24)) * scale[i] + 1e-30)
          << "output " << i;
      ASSERT_NEAR(y[i], bf16_ref[i], std::ldexp(terms, -24) * bf16_scale[i] + 1e-30)
          << "output " << i << " against the bf16-rounded reference";
      worst = std::max(worst, std::fabs(y[i] - exact[i]) / std::max(scale[i], 1e-30));
    }
    // Not trivially exact: bf16 really rounds (an fp32 path would pass the bounds above, too).
    EXPECT_GT(worst, std::ldexp(1.0, -14));
  }
}

std::unique_ptr<Conv2D> frozen_conv(int c, int f) {
  Conv2DConfig config;
  config.filters = f;
  config.padding = Padding::same;
  config.activation = Activation::relu;
  auto conv = std::make_unique<Conv2D>("conv_bf16", config);
  conv->build({1, 8, 8, c});
  conv->set_trainable(false);
  return conv;
}

TEST(Bf16Conv, FrozenConv2DRunsBf16AndRepacksAfterWeightsChanged) {
  if (!cpu::direct_math_supported(cpu::DirectMath::bf16_avx512)) GTEST_SKIP() << "no AVX512_BF16";
  const Case k = {2, 8, 8, 16, 32, 3, 3, 1, 1, true, true, true};
  const std::unique_ptr<Conv2D> frozen_conv_owner = frozen_conv(k.c, k.f);
  Conv2D& conv = *frozen_conv_owner;
  const Tensor x = test::random_tensor({k.n, k.h, k.w, k.c}, 8);
  ExecContext ctx;
  ctx.precision = Precision::bf16;
  for (int round = 0; round < 2; ++round) {
    std::vector<Param*> p = conv.params();
    p[0]->value = test::random_tensor({3, 3, k.c, k.f}, 30 + round);
    p[1]->value = test::random_tensor({k.f}, 40 + round);
    conv.weights_changed();
    Tensor y;
    conv.forward(x, y, ctx);
    conv.forward(x, y, ctx);
    EXPECT_EQ(conv.cpu_plan().kernel_packs(), round + 1);
    std::vector<double> ref, scale;
    naive(k, rounded(x.to_vector()), rounded(p[0]->value.to_vector()), p[1]->value.to_vector(),
          &ref, &scale);
    const std::vector<float> got = y.to_vector();
    for (size_t i = 0; i < ref.size(); ++i) {
      ASSERT_NEAR(got[i], ref[i], std::ldexp(9.0 * k.c + 2, -24) * scale[i] + 1e-30)
          << "round " << round << " at " << i;
    }
  }
}

// One frozen layer run in fp32, then bf16, then fp32 again (a profile of both precisions, or
// two commands sharing a model): each switch repacks, and each output is its own precision's.
TEST(Bf16Conv, FrozenConv2DRepacksWhenThePrecisionChanges) {
  if (!cpu::direct_math_supported(cpu::DirectMath::bf16_avx512)) GTEST_SKIP() << "no AVX512_BF16";
  const Case k = {1, 8, 8, 16, 32, 3, 3, 1, 1, true, true, true};
  const std::unique_ptr<Conv2D> owner = frozen_conv(k.c, k.f);
  Conv2D& conv = *owner;
  std::vector<Param*> p = conv.params();
  p[0]->value = test::random_tensor({3, 3, k.c, k.f}, 50);
  p[1]->value = test::random_tensor({k.f}, 51);
  conv.weights_changed();
  const Tensor x = test::random_tensor({k.n, k.h, k.w, k.c}, 52);
  std::vector<double> exact, scale, bf16_ref, bf16_scale;
  naive(k, x.to_vector(), p[0]->value.to_vector(), p[1]->value.to_vector(), &exact, &scale);
  naive(k, rounded(x.to_vector()), rounded(p[0]->value.to_vector()), p[1]->value.to_vector(),
        &bf16_ref, &bf16_scale);
  const double terms = 9.0 * k.c + 2;
  for (const Precision precision : {Precision::fp32, Precision::bf16, Precision::fp32}) {
    ExecContext ctx;
    ctx.precision = precision;
    Tensor y;
    conv.forward(x, y, ctx);
    const bool bf16 = precision == Precision::bf16;
    const std::vector<double>& ref = bf16 ? bf16_ref : exact;
    const std::vector<double>& ref_scale = bf16 ? bf16_scale : scale;
    const std::vector<float> got = y.to_vector();
    for (size_t i = 0; i < ref.size(); ++i) {
      ASSERT_NEAR(got[i], ref[i], std::ldexp(terms, -24) * ref_scale[i] + 1e-30)
          << (bf16 ? "bf16" : "fp32") << " at " << i;
    }
  }
  EXPECT_EQ(conv.cpu_plan().kernel_packs(), 3);
}

// A trainable Conv2D ignores --precision bf16 (the head computes in fp32): it matches fp32.
TEST(Bf16Conv, TrainableConv2DStaysFp32) {
  const std::unique_ptr<Conv2D> owner = frozen_conv(16, 16);
  Conv2D& conv = *owner;
  conv.set_trainable(true);
  const Tensor x = test::random_tensor({1, 8, 8, 16}, 9);
  ExecContext fp32, bf16;
  bf16.precision = Precision::bf16;
  Tensor a, b;
  conv.forward(x, a, fp32);
  conv.forward(x, b, bf16);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  EXPECT_EQ(conv.cpu_plan().kernel_packs(), 0);
}

// The seam fakes a CPU without AVX512_BF16 (this one may have it).
struct NoBf16Cpu : ::testing::Test {
  void SetUp() override {
    cpu::CpuFeatures f = cpu::cpu_features();
    f.avx512_bf16 = false;
    cpu::set_cpu_features_for_test(&f);
  }
  void TearDown() override { cpu::set_cpu_features_for_test(nullptr); }
};

TEST_F(NoBf16Cpu, PrecisionBf16OnTheCpuIsRefusedWithTheReason) {
  const std::string err = test::error_message([] { (void)make_exec_context("cpu", "bf16", 1); });
  EXPECT_NE(err.find("--precision bf16 --device cpu"), std::string::npos) << err;
  EXPECT_NE(err.find("AVX512_BF16"), std::string::npos) << err;
}

TEST_F(NoBf16Cpu, FrozenConv2DInBf16IsRefused) {
  const std::unique_ptr<Conv2D> owner = frozen_conv(16, 16);
  Conv2D& conv = *owner;
  ExecContext ctx;
  ctx.precision = Precision::bf16;
  const Tensor x = test::random_tensor({1, 8, 8, 16}, 10);
  const std::string err = test::error_message([&] {
    Tensor y;
    conv.forward(x, y, ctx);
  });
  EXPECT_NE(err.find("conv_bf16"), std::string::npos) << err;
  EXPECT_NE(err.find("AVX512_BF16"), std::string::npos) << err;
}

TEST(Bf16Conv, CpuAcceptsBf16WhereItHasAvx512Bf16AndRefusesGpuFormats) {
  if (cpu::cpu_features().avx512_bf16) {
    EXPECT_EQ(make_exec_context("cpu", "bf16", 1).precision, Precision::bf16);
  }
  for (const char* p : {"fp16", "tf32"}) {
    const std::string err = test::error_message([p] { (void)make_exec_context("cpu", p, 1); });
    EXPECT_NE(err.find("needs a GPU"), std::string::npos) << p << ": " << err;
  }
}

}  // namespace
}  // namespace catdog
