// Winograd F(2x2,3x3) and F(4x4,3x3) (kernels/cpu/winograd.h) against a direct 3x3 convolution
// in double written here, on shapes whose sides are not multiples of the tile, channel counts
// that are not multiples of the 16-lane step, batches > 1, tile blocks that split the tiles
// unevenly; and the Conv2D choice (layers/cpu_conv_choice.h): the override honoured, the rule
// cached per shape, the filter transform cached and dropped by weights_changed().
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/bf16.h"
#include "kernels/cpu/winograd.h"
#include "kernels/cpu/winograd_tiles.h"
#include "layers/conv2d.h"
#include "tests/support/cli.h"
#include "tests/support/gradient_check.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::max_relative_error;
using test::random_tensor;

struct Case {
  int n, h, w, c, f;
  bool same, bias, relu;
};

std::string describe(const Case& k) {
  return cat("n", k.n, "_", k.h, "x", k.w, "x", k.c, "_f", k.f, k.same ? "_same" : "_valid",
             k.bias ? "_bias" : "", k.relu ? "_relu" : "");
}

// 3x3, stride 1: 'same' pads one pixel on every side, 'valid' none.
std::vector<float> direct_conv3x3(const Case& k, const std::vector<float>& x,
                                  const std::vector<float>& w, const std::vector<float>& b) {
  const int pad = k.same ? 1 : 0, oh = k.same ? k.h : k.h - 2, ow = k.same ? k.w : k.w - 2;
  std::vector<float> y(static_cast<size_t>(k.n) * oh * ow * k.f);
  size_t out = 0;
  for (int n = 0; n < k.n; ++n)
    for (int i = 0; i < oh; ++i)
      for (int j = 0; j < ow; ++j)
        for (int f = 0; f < k.f; ++f) {
          double s = k.bias ? b[static_cast<size_t>(f)] : 0.0;
          for (int di = 0; di < 3; ++di)
            for (int dj = 0; dj < 3; ++dj) {
              const int ih = i + di - pad, iw = j + dj - pad;
              if (ih < 0 || ih >= k.h || iw < 0 || iw >= k.w) continue;
              for (int c = 0; c < k.c; ++c) {
                s += static_cast<double>(x[((static_cast<size_t>(n) * k.h + ih) * k.w + iw) * k.c + c]) *
                     w[((static_cast<size_t>(di) * 3 + dj) * k.c + c) * k.f + f];
              }
            }
          y[out++] = static_cast<float>(k.relu && s < 0 ? 0.0 : s);
        }
  return y;
}

WindowGeometry geometry(const Case& k) {
  return make_window_geometry(k.n, k.h, k.w, k.c, 3, 3, 1, 1, k.same, k.f);
}

struct Problem {
  Tensor x, kernel, bias;
  std::vector<float> expected;
};

Problem problem(const Case& k, uint64_t seed) {
  Problem p{random_tensor({k.n, k.h, k.w, k.c}, seed), random_tensor({3, 3, k.c, k.f}, seed + 1),
            random_tensor({k.f}, seed + 2), {}};
  p.expected = direct_conv3x3(k, p.x.to_vector(), p.kernel.to_vector(), p.bias.to_vector());
  return p;
}

std::vector<float> winograd(const Case& k, const Problem& p, int m, int64_t tiles_per_block,
                            cpu::WinogradGemm gemm = cpu::best_winograd_gemm()) {
  const WindowGeometry g = geometry(k);
  std::vector<float> y(static_cast<size_t>(g.out_rows() * g.f), -7.0f);
  const cpu::WinogradFilter u = cpu::winograd_transform_filter(m, p.kernel.f32(), k.c, k.f, gemm);
  cpu::winograd_forward_nhwc(g, u, p.x.f32(), k.bias ? p.bias.f32() : nullptr,
                             k.relu ? Activation::relu : Activation::linear, y.data(),
                             tiles_per_block);
  return y;
}

const Case kCases[] = {
    {1, 5, 5, 3, 4, true, true, true},      {2, 7, 9, 17, 19, true, true, false},
    {1, 8, 8, 16, 32, false, false, false}, {3, 6, 11, 5, 33, false, true, true},
    {1, 13, 7, 20, 18, true, false, true},  {2, 1, 3, 4, 5, true, true, false},
    {1, 4, 4, 40, 8, true, true, true},
};

// Float32 transforms lose a little against the double direct sum; F(4,3) more (its weights reach
// 8 and 1/24). A wrong matrix entry or a misplaced pixel gives errors of order 1.
double bound_for(int m) { return m == 2 ? 2e-6 : 1e-5; }

TEST(Winograd, MatchesTheDirectConvolutionOnEveryShape) {
  uint64_t seed = 10;
  for (const Case& k : kCases) {
    const Problem p = problem(k, seed += 3);
    for (int m : {2, 4}) {
      for (int64_t block : {int64_t{0}, int64_t{1}, int64_t{3}}) {
        const std::vector<float> y = winograd(k, p, m, block);
        EXPECT_LE(max_relative_error(y, p.expected), bound_for(m))
            << "F(" << m << "x" << m << ",3x3) " << describe(k) << " tiles per block " << block;
      }
    }
  }
}

const char* gemm_name(cpu::WinogradGemm gemm) {
  return gemm == cpu::WinogradGemm::openblas     ? "OpenBLAS"
         : gemm == cpu::WinogradGemm::direct_f32 ? "direct tiles fp32"
                                                 : "direct tiles bf16";
}

// The transform-domain products through OpenBLAS and through the direct kernel's tiles, with the
// transforms compiled for every ISA this CPU has (AVX-512, AVX2, and the portable build when the
// CPU is made to look as if it had neither): the same answer within fp32's error each time.
TEST(Winograd, EveryGemmAndEveryTransformIsaMatchesTheDirectConvolution) {
  const cpu::CpuFeatures real = cpu::cpu_features();
  std::vector<cpu::CpuFeatures> isas = {real};
  if (real.avx512) isas.push_back({true, false, false});  // AVX2 only
  isas.push_back({false, false, false});                  // neither: portable, OpenBLAS
  uint64_t seed = 70;
  for (const cpu::CpuFeatures& isa : isas) {
    cpu::set_cpu_features_for_test(&isa);
    std::vector<cpu::WinogradGemm> gemms = {cpu::WinogradGemm::openblas};
    if (isa.avx2_fma) gemms.push_back(cpu::WinogradGemm::direct_f32);
    EXPECT_EQ(cpu::best_winograd_gemm(), gemms.back());
    for (const Case& k : kCases) {
      const Problem p = problem(k, seed += 3);
      for (cpu::WinogradGemm gemm : gemms) {
        for (int m : {2, 4}) {
          EXPECT_LE(max_relative_error(winograd(k, p, m, 2, gemm), p.expected), bound_for(m))
              << "F(" << m << "x" << m << ",3x3) " << describe(k) << " " << gemm_name(gemm)
              << " avx512 " << isa.avx512 << " avx2 " << isa.avx2_fma;
        }
      }
    }
  }
  cpu::set_cpu_features_for_test(nullptr);
}

// A channel count past one pass of the 1x1 tiles (576 fp32 channels) and several filter blocks.
// Sums of 600 terms round more than the 40 of kCases: 4x the bound (a pass left out is off by
// tens of percent).
TEST(Winograd, WideLayersSumEveryChannelPass) {
  const Case k{1, 6, 6, 600, 80, true, true, false};
  const Problem p = problem(k, 90);
  for (int m : {2, 4}) {
    EXPECT_LE(max_relative_error(winograd(k, p, m, 0), p.expected), 4 * bound_for(m)) << m;
  }
}

// bf16 GEMMs (V and U rounded to bf16, fp32 sums): within bf16's rounding of the answer, and that
// rounding really happens (the error is far above fp32's).
TEST(Winograd, Bf16ProductsStayWithinBf16sRounding) {
  if (!cpu::direct_math_supported(cpu::DirectMath::bf16_avx512)) {
    GTEST_SKIP() << "this CPU has no AVX512_BF16";
  }
  uint64_t seed = 110;
  for (const Case& k : kCases) {
    const Problem p = problem(k, seed += 3);
    const double err = max_relative_error(winograd(k, p, 2, 0, cpu::WinogradGemm::direct_bf16),
                                          p.expected);
    EXPECT_LE(err, 2e-2) << describe(k);
    EXPECT_GE(err, 1e-4) << describe(k) << ": no bf16 rounding?";
  }
}

// The input transform rounds V to bf16 itself (16 lanes at a time): bit for bit what
// bf16_from_float gives, on ties both ways, NaNs whose payload is only in the dropped bits,
// infinities, signed zeros, denormals (flushed) and the largest float, and on random bit patterns.
TEST(Winograd, TheTransformsBf16RoundingIsTheScalarOnes) {
  std::vector<uint32_t> patterns = {0x3f808000u, 0x3f818000u, 0x3f808001u, 0x7f800001u,
                                    0xff800001u, 0x7fc00000u, 0x7f800000u, 0xff800000u,
                                    0x00000000u, 0x80000000u, 0x00000001u, 0x807fffffu,
                                    0x7f7fffffu, 0x00800000u, 0xbf7fffffu, 0x3f7f7fffu};
  uint32_t state = 12345;
  for (int i = 0; i < 4096; ++i) patterns.push_back(state = state * 1664525u + 1013904223u);
  for (size_t i = 0; i < patterns.size(); i += cpu::winograd::kLanes) {
    cpu::winograd::Vec v;
    std::memcpy(&v, patterns.data() + i, sizeof v);
    uint16_t got[cpu::winograd::kLanes];
    cpu::winograd::store_bf16_part(got, v, cpu::winograd::kLanes);
    for (int l = 0; l < cpu::winograd::kLanes; ++l) {
      float f;
      std::memcpy(&f, &patterns[i + l], sizeof f);
      ASSERT_EQ(got[l], cpu::bf16_from_float(f)) << std::hex << "bits 0x" << patterns[i + l];
    }
  }
}

TEST(Winograd, Bf16IsRefusedWithoutAvx512Bf16) {
  const cpu::CpuFeatures no_bf16{true, true, false};
  cpu::set_cpu_features_for_test(&no_bf16);
  const std::vector<float> kernel(3 * 3 * 4 * 4, 0.5f);
  test::expect_error_mentions(
      [&] { cpu::winograd_transform_filter(2, kernel.data(), 4, 4, cpu::WinogradGemm::direct_bf16); },
      {"AVX512_BF16"});
  cpu::set_cpu_features_for_test(nullptr);
}

TEST(Winograd, RefusesWhatItDoesNotCompute) {
  WindowGeometry g = make_window_geometry(1, 8, 8, 4, 3, 3, 2, 2, true, 4);
  EXPECT_FALSE(cpu::winograd_supports(g));
  EXPECT_FALSE(cpu::winograd_supports(make_window_geometry(1, 8, 8, 4, 1, 1, 1, 1, true, 4)));
  EXPECT_TRUE(cpu::winograd_supports(make_window_geometry(1, 8, 8, 4, 3, 3, 1, 1, false, 4)));
  const std::vector<float> kernel(3 * 3 * 4 * 4, 0.5f);
  const cpu::WinogradFilter u = cpu::winograd_transform_filter(2, kernel.data(), 4, 4);
  std::vector<float> x(8 * 8 * 4), y(4 * 4 * 4);
  test::expect_error_mentions(
      [&] { cpu::winograd_forward_nhwc(g, u, x.data(), nullptr, Activation::linear, y.data()); },
      {"3x3 stride-1"});
  EXPECT_THROW(cpu::winograd_transform_filter(3, kernel.data(), 4, 4), Error);
}

// A Conv2D layer with the case's sizes and the problem's weights.
struct Layer2D {
  Conv2D conv;
  Shape in;
  Layer2D(const Case& k, const Problem& p, bool frozen)
      : conv("conv_under_test", [&] {
          Conv2DConfig c;
          c.filters = k.f;
          c.padding = k.same ? Padding::same : Padding::valid;
          c.use_bias = k.bias;
          c.activation = k.relu ? Activation::relu : Activation::linear;
          return c;
        }()),
        in({k.n, k.h, k.w, k.c}) {
    conv.build(in);
    std::vector<Param*> params = conv.params();
    params[0]->value.copy_from(p.kernel);
    if (k.bias) params[1]->value.copy_from(p.bias);
    conv.set_trainable(!frozen);
    static_cast<Layer&>(conv).weights_changed();
  }
  std::vector<float> forward(const Tensor& x, ConvAlgo algo,
                             Precision precision = Precision::fp32) {
    ExecContext ctx;
    ctx.conv_algo = algo;
    ctx.precision = precision;
    Tensor y;
    conv.forward(x, y, ctx);
    return y.to_vector();
  }
};

std::vector<float> im2col(const Case& k, const Problem& p) {
  const WindowGeometry g = geometry(k);
  std::vector<float> y(static_cast<size_t>(g.out_rows() * g.f));
  cpu::conv2d_forward_nhwc(g, p.x.f32(), p.kernel.f32(), k.bias ? p.bias.f32() : nullptr,
                           k.relu ? Activation::relu : Activation::linear, y.data(), 0);
  return y;
}

TEST(CpuConvChoice, TheOverrideIsHonoured) {
  const Case k{2, 9, 7, 24, 20, true, true, true};
  const Problem p = problem(k, 5);
  Layer2D layer(k, p, true);
  EXPECT_EQ(layer.forward(p.x, ConvAlgo::im2col), im2col(k, p));
  EXPECT_EQ(layer.forward(p.x, ConvAlgo::winograd2), winograd(k, p, 2, 0));
  EXPECT_EQ(layer.forward(p.x, ConvAlgo::winograd4), winograd(k, p, 4, 0));
  EXPECT_EQ(layer.conv.cpu_plan().rule_evaluations(), 0) << "a forced algorithm asks no rule";
  // Where Winograd does not apply (stride 2) the forced choice falls back to im2col.
  const Tensor x = random_tensor({1, 8, 8, 3}, 9);
  Conv2DConfig c;
  c.filters = 4;
  c.stride_h = c.stride_w = 2;
  Conv2D strided("strided", c);
  strided.build(x.shape());
  ExecContext ctx;
  Tensor y_im2col, y_forced;
  strided.forward(x, y_im2col, ctx);
  ctx.conv_algo = ConvAlgo::winograd4;
  strided.forward(x, y_forced, ctx);
  EXPECT_EQ(y_forced.to_vector(), y_im2col.to_vector());
}

TEST(CpuConvChoice, AutoFollowsTheRuleOncePerShapeForAFrozenLayer) {
  const Case k{1, 10, 10, 64, 32, true, true, true};
  const Problem p = problem(k, 21);
  Layer2D layer(k, p, true);
  const WindowGeometry g = geometry(k);
  const ConvAlgo rule = choose_cpu_conv_algo(g);
  ASSERT_EQ(rule, ConvAlgo::direct) << "the rule for 64 channels, 3x3 stride 1";
  const std::vector<float> y = layer.forward(p.x, ConvAlgo::auto_pick);
  EXPECT_EQ(y, layer.forward(p.x, ConvAlgo::direct)) << "auto ran what the rule says";
  EXPECT_LE(max_relative_error(y, p.expected), 1e-5);
  EXPECT_EQ(layer.conv.cpu_plan().rule_evaluations(), 1);
  EXPECT_EQ(layer.conv.cpu_plan().kernel_packs(), 1) << "the packed kernel is reused";
  const Tensor x2 = random_tensor({2, 10, 10, 64}, 22);  // a new batch size: a new shape
  layer.forward(x2, ConvAlgo::auto_pick);
  layer.forward(x2, ConvAlgo::auto_pick);
  EXPECT_EQ(layer.conv.cpu_plan().rule_evaluations(), 2);
  EXPECT_EQ(layer.conv.cpu_plan().kernel_packs(), 1) << "the kernel did not change";
  EXPECT_EQ(layer.conv.cpu_plan().filter_transforms(), 0) << "no Winograd under this rule";
}

// The measured rule (docs/PERFORMANCE.md, the lab's per-layer table), on VGG16's shapes: the
// direct kernel for RGB input, for block1_conv2 and for strides; Winograd F(4x4) from block2_conv1
// on, F(2x2) where F(4x4) would have under 32 tiles an image; im2col for a 1x1 window, and everywhere on a
// CPU without AVX2.
TEST(CpuConvChoice, TheRuleFollowsTheMeasuredTable) {
  auto rule = [](int64_t n, int64_t side, int64_t c, int64_t f, int64_t k = 3, int64_t s = 1) {
    return choose_cpu_conv_algo(make_window_geometry(n, side, side, c, k, k, s, s, true, f));
  };
  EXPECT_EQ(rule(1, 224, 3, 64), ConvAlgo::direct);             // block1_conv1
  EXPECT_EQ(rule(1, 224, 64, 64), ConvAlgo::direct);            // block1_conv2
  EXPECT_EQ(rule(1, 112, 64, 128), ConvAlgo::winograd4);        // block2_conv1
  EXPECT_EQ(rule(1, 28, 512, 512), ConvAlgo::winograd4);        // block4: 49 tiles
  EXPECT_EQ(rule(1, 14, 512, 512), ConvAlgo::winograd2);        // block5: 16 tiles an image
  EXPECT_EQ(rule(8, 14, 512, 512), ConvAlgo::winograd2);        // whatever the batch
  EXPECT_EQ(rule(1, 21, 512, 512), ConvAlgo::winograd4);        // 36 tiles
  EXPECT_EQ(rule(1, 56, 256, 64, 1), ConvAlgo::im2col);         // 1x1
  EXPECT_EQ(rule(1, 56, 256, 256, 3, 2), ConvAlgo::direct);     // stride 2
  const cpu::CpuFeatures none{false, false, false};
  cpu::set_cpu_features_for_test(&none);
  EXPECT_EQ(rule(1, 56, 256, 256), ConvAlgo::im2col);
  EXPECT_EQ(rule(1, 224, 3, 64), ConvAlgo::im2col);
  cpu::set_cpu_features_for_test(nullptr);
}

// Under bf16: F(4x4) in bf16 from block3_conv1 on (C F / (C + F) over 64), whichever Winograd
// fp32 would run; the direct bf16 kernel before it and for every other answer.
TEST(CpuConvChoice, TheBf16RuleKeepsWinogradForWideLayersOnly) {
  auto g = [](int64_t side, int64_t c, int64_t f) {
    return make_window_geometry(1, side, side, c, 3, 3, 1, 1, true, f);
  };
  EXPECT_EQ(bf16_conv_algo(g(112, 128, 128), ConvAlgo::winograd4), ConvAlgo::direct);
  EXPECT_EQ(bf16_conv_algo(g(56, 128, 256), ConvAlgo::winograd4), ConvAlgo::winograd4);
  EXPECT_EQ(bf16_conv_algo(g(14, 512, 512), ConvAlgo::winograd2), ConvAlgo::winograd4);
  EXPECT_EQ(bf16_conv_algo(g(56, 128, 128), ConvAlgo::winograd4), ConvAlgo::direct);  // 64 exactly
  EXPECT_EQ(bf16_conv_algo(g(56, 256, 256), ConvAlgo::direct), ConvAlgo::direct);
  EXPECT_EQ(bf16_conv_algo(g(56, 256, 256), ConvAlgo::im2col), ConvAlgo::direct);
}

// A frozen wide layer under auto runs Winograd; under bf16 it runs F(4x4) with bf16 products,
// and a forced F(2x2) in fp32 transforms the kernel again for fp32 products.
TEST(CpuConvChoice, AFrozenWideLayerRunsWinogradInEitherPrecision) {
  const Case k{2, 24, 24, 128, 256, true, true, true};  // 36 tiles of 4x4 an image
  const Problem p = problem(k, 131);
  Layer2D layer(k, p, true);
  ASSERT_EQ(choose_cpu_conv_algo(geometry(k)), ConvAlgo::winograd4);
  EXPECT_EQ(layer.forward(p.x, ConvAlgo::auto_pick), winograd(k, p, 4, 0));
  EXPECT_EQ(layer.conv.cpu_plan().filter_transforms(), 1);
  if (!cpu::direct_math_supported(cpu::DirectMath::bf16_avx512)) {
    GTEST_SKIP() << "this CPU has no AVX512_BF16";
  }
  EXPECT_EQ(layer.forward(p.x, ConvAlgo::auto_pick, Precision::bf16),
            winograd(k, p, 4, 0, cpu::WinogradGemm::direct_bf16));
  EXPECT_EQ(layer.forward(p.x, ConvAlgo::winograd2), winograd(k, p, 2, 0));
  EXPECT_EQ(layer.conv.cpu_plan().filter_transforms(), 3) << "F(4x4) in fp32, in bf16, then F(2x2) in fp32";
}

// What lets a job split over ranks or batches compute what one process does: under auto, an
// image's output does not depend on the batch it came in, bit for bit, on shapes the rule sends to
// F(4x4) and to F(2x2) (each tile and each GEMM row is summed alone, in a fixed order).
TEST(CpuConvChoice, AnImagesOutputDoesNotDependOnItsBatch) {
  for (const Case& k : {Case{5, 24, 24, 128, 256, true, true, true},
                        Case{5, 14, 14, 128, 256, true, true, false}}) {
    const Problem p = problem(k, 141);
    Layer2D layer(k, p, true);
    const ConvAlgo rule = choose_cpu_conv_algo(geometry(k));
    ASSERT_TRUE(rule == ConvAlgo::winograd4 || rule == ConvAlgo::winograd2) << describe(k);
    const std::vector<float> whole = layer.forward(p.x, ConvAlgo::auto_pick);
    const std::vector<float> xs = p.x.to_vector();
    const size_t in = xs.size() / k.n, out = whole.size() / k.n;
    for (int i = 0; i < k.n; ++i) {
      Tensor one({1, k.h, k.w, k.c});
      std::copy(xs.begin() + i * in, xs.begin() + (i + 1) * in, one.f32());
      const std::vector<float> alone = layer.forward(one, ConvAlgo::auto_pick);
      EXPECT_TRUE(std::equal(alone.begin(), alone.end(), whole.begin() + i * out))
          << describe(k) << " image " << i;
    }
  }
}

TEST(CpuConvChoice, AutoKeepsIm2colForATrainableLayer) {
  const Case k{1, 10, 10, 64, 32, true, true, true};
  const Problem p = problem(k, 31);
  Layer2D layer(k, p, false);
  EXPECT_EQ(layer.forward(p.x, ConvAlgo::auto_pick), im2col(k, p));
  EXPECT_EQ(layer.conv.cpu_plan().filter_transforms(), 0);
}

// New kernel values + weights_changed(): the next forward transforms the new kernel.
TEST(CpuConvChoice, WeightsChangedDropsTheCachedFilterTransform) {
  const Case k{1, 9, 9, 20, 24, true, true, false};
  const Problem p = problem(k, 41), q = problem(k, 51);
  for (ConvAlgo algo : {ConvAlgo::winograd2, ConvAlgo::winograd4}) {
    Layer2D layer(k, p, true);
    const int m = algo == ConvAlgo::winograd2 ? 2 : 4;
    EXPECT_LE(max_relative_error(layer.forward(p.x, algo), p.expected), bound_for(m));
    std::vector<Param*> params = layer.conv.params();
    params[0]->value.copy_from(q.kernel);
    params[1]->value.copy_from(q.bias);
    static_cast<Layer&>(layer.conv).weights_changed();
    EXPECT_LE(max_relative_error(layer.forward(q.x, algo), q.expected), bound_for(m))
        << conv_algo_name(algo);
    EXPECT_EQ(layer.conv.cpu_plan().filter_transforms(), 2);
  }
}

TEST(CpuConvChoice, ParsesTheFlagValues) {
  for (ConvAlgo a : {ConvAlgo::auto_pick, ConvAlgo::im2col, ConvAlgo::winograd2,
                     ConvAlgo::winograd4}) {
    EXPECT_EQ(parse_conv_algo(conv_algo_name(a)), a);
  }
  test::expect_error_mentions([] { parse_conv_algo("fft"); }, {"--conv-algo 'fft'"});
}

// An unknown --conv-algo on the command line: one error line naming the flag, non-zero exit.
TEST(CpuConvChoice, TheCommandLineRefusesAnUnknownAlgorithm) {
  const std::string work = test::temp_dir("winograd_cli");
  const test::CliResult r = test::run_catdog(
      {"profile", "--model", "vgg1", "--image-size", "32", "--device", "cpu", "--conv-algo", "fft"},
      work);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--conv-algo 'fft'"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

}  // namespace
}  // namespace catdog
