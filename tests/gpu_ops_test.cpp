// The CUDA entry points of kernels/cuda/ops.h against naive references written here (loss, SGD,
// accuracy) or their CPU twins (preprocess_cpu, augment_rgb), with outputs poisoned first.
// Skips with the reason when no GPU is present.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "data/augment.h"
#include "core/device.h"
#include "kernels/cpu/preprocess.h"
#include "tests/support/test_support.h"
#if CATDOG_WITH_CUDA
#include "core/cuda_context.h"
#include "kernels/cuda/ops.h"
#endif

namespace catdog {
namespace {

using test::max_relative_error;
using test::random_tensor;

const float kNaN = std::numeric_limits<float>::quiet_NaN();

#if CATDOG_WITH_CUDA
Tensor gpu_nan(const Shape& shape) {
  Tensor t(shape, DType::f32, Device::cuda);
  t.fill(kNaN);
  return t;
}

TEST(GpuOps, SigmoidBceMatchesNaiveDoubleReference) {
  CATDOG_REQUIRE_GPU();
  const int64_t n = 300;  // more than one reduction block's worth of threads
  Tensor z = random_tensor({n}, 1, -30.0f, 30.0f);  // large |z|: the stable form matters
  std::vector<float> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[i] = (i * 7 % 3 == 0) ? 1.0f : 0.0f;
  Tensor t = Tensor::from_vector({n}, labels);
  double loss = 0;
  int64_t right = 0;
  std::vector<double> grad(n);
  for (int64_t i = 0; i < n; ++i) {
    const double zi = z.f32()[i], ti = labels[i];
    loss += std::max(zi, 0.0) - zi * ti + std::log1p(std::exp(-std::fabs(zi)));
    grad[i] = (1.0 / (1.0 + std::exp(-zi)) - ti) / n;
    if ((zi >= 0) == (ti >= 0.5)) ++right;
  }
  Tensor dz = gpu_nan({n});
  int64_t correct = -1;
  const double got = cuda::sigmoid_bce_from_logits(z.to(Device::cuda).f32(),
                                                   t.to(Device::cuda).f32(), dz.f32(), n, &correct,
                                                   cuda::default_context());
  EXPECT_NEAR(got, loss / n, 1e-6 * std::max(1.0, loss / n));
  EXPECT_EQ(correct, right);
  EXPECT_EQ(cuda::count_correct(z.to(Device::cuda).f32(), t.to(Device::cuda).f32(), n,
                                cuda::default_context()),
            right);
  const std::vector<float> d = dz.to_vector();
  for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(d[i], grad[i], 1e-5 * std::fabs(grad[i]) + 1e-9);
}

TEST(GpuOps, SgdMomentumMatchesFormula) {
  CATDOG_REQUIRE_GPU();
  const int64_t n = 1000;
  Tensor w = random_tensor({n}, 2), v = random_tensor({n}, 3), g = random_tensor({n}, 4);
  Tensor wd = w.to(Device::cuda), vd = v.to(Device::cuda), gd = g.to(Device::cuda);
  cuda::sgd_momentum_update(wd.f32(), vd.f32(), gd.f32(), n, 0.001f, 0.9f, cuda::default_context());
  std::vector<float> w_ref(n), v_ref(n);
  for (int64_t i = 0; i < n; ++i) {
    v_ref[i] = 0.9f * v.f32()[i] - 0.001f * g.f32()[i];
    w_ref[i] = w.f32()[i] + v_ref[i];
  }
  EXPECT_LE(max_relative_error(vd.to_vector(), v_ref), 1e-6);
  EXPECT_LE(max_relative_error(wd.to_vector(), w_ref), 1e-6);
}

std::vector<uint8_t> random_pixels(size_t count, uint64_t seed) {
  Tensor r = random_tensor({static_cast<int64_t>(count)}, seed, 0.0f, 256.0f);
  std::vector<uint8_t> out(count);
  for (size_t i = 0; i < count; ++i) out[i] = static_cast<uint8_t>(std::min(255.0f, r.f32()[i]));
  return out;
}

Tensor u8_on_gpu(const std::vector<uint8_t>& bytes, const Shape& shape) {
  Tensor host(shape, DType::u8);
  std::copy(bytes.begin(), bytes.end(), host.u8());
  return host.to(Device::cuda);
}

TEST(GpuOps, PreprocessMatchesCpuInEveryMode) {
  CATDOG_REQUIRE_GPU();
  const int64_t pixels = 2 * 5 * 7;
  const auto bytes = random_pixels(pixels * 3, 5);
  Tensor in = u8_on_gpu(bytes, {2, 5, 7, 3});
  for (Preprocess mode :
       {Preprocess::caffe, Preprocess::tutorial, Preprocess::scale, Preprocess::none}) {
    std::vector<float> cpu(pixels * 3);
    preprocess_cpu(bytes.data(), pixels, mode, cpu.data());
    Tensor out = gpu_nan({2, 5, 7, 3});
    cuda::preprocess(in.u8(), pixels, mode, out.raw(), DType::f32, cuda::default_context());
    EXPECT_EQ(out.to_vector(), cpu) << preprocess_name(mode);
    // Reduced precision: the same values rounded once.
    Tensor half(out.shape(), DType::f16, Device::cuda), back = gpu_nan(out.shape());
    cuda::preprocess(in.u8(), pixels, mode, half.raw(), DType::f16, cuda::default_context());
    cuda::convert(half.raw(), DType::f16, back.raw(), DType::f32, half.numel(),
                  cuda::default_context());
    EXPECT_LE(max_relative_error(back.to_vector(), cpu), 1e-3) << preprocess_name(mode);
  }
}

TEST(GpuOps, ConvertRoundTripsAndRoundsToNearest) {
  CATDOG_REQUIRE_GPU();
  // 1 + 2^-11 is halfway between two float16 values: nearest-even gives 1; bfloat16 keeps 8 bits.
  Tensor src = Tensor::from_vector({4}, {1.0f + 1.0f / 2048, -2.5f, 65504.0f, 0.1f}).to(Device::cuda);
  Tensor half(src.shape(), DType::f16, Device::cuda), bf(src.shape(), DType::bf16, Device::cuda);
  Tensor back = gpu_nan(src.shape());
  auto& ctx = cuda::default_context();
  cuda::convert(src.raw(), DType::f32, half.raw(), DType::f16, 4, ctx);
  cuda::convert(half.raw(), DType::f16, back.raw(), DType::f32, 4, ctx);
  const auto h = back.to_vector();
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.5f);
  EXPECT_EQ(h[2], 65504.0f);
  EXPECT_NEAR(h[3], 0.1f, 1e-4);
  cuda::convert(half.raw(), DType::f16, bf.raw(), DType::bf16, 4, ctx);  // f16 -> bf16 directly
  back.fill(kNaN);
  cuda::convert(bf.raw(), DType::bf16, back.raw(), DType::f32, 4, ctx);
  const auto b = back.to_vector();
  EXPECT_EQ(b[1], -2.5f);
  EXPECT_NEAR(b[3], 0.1f, 1e-3);
}

TEST(GpuOps, AugmentMatchesCpuExactly) {
  CATDOG_REQUIRE_GPU();
  const int images = 3, h = 9, w = 11;
  const auto bytes = random_pixels(static_cast<size_t>(images) * h * w * 3, 6);
  std::vector<AugmentParams> params(images);
  for (int b = 0; b < images; ++b) params[b] = draw_augment(1, 2, b, h, w);
  params[0].flip = true;   // make sure both branches are seen
  params[1].flip = false;
  params[2].shift_rows = -3.25;  // far outside: clamped to the edge
  std::vector<uint8_t> cpu(bytes.size());
  const size_t image_bytes = static_cast<size_t>(h) * w * 3;
  for (int b = 0; b < images; ++b) {
    augment_rgb(bytes.data() + b * image_bytes, h, w, params[b], cpu.data() + b * image_bytes);
  }
  Tensor in = u8_on_gpu(bytes, {images, h, w, 3});
  Tensor out = u8_on_gpu(std::vector<uint8_t>(bytes.size(), 0xAB), {images, h, w, 3});
  cuda::augment_flip_shift(in.u8(), out.u8(), images, h, w, params.data(), cuda::default_context());
  Tensor host = out.to(Device::cpu);
  EXPECT_EQ(std::vector<uint8_t>(host.u8(), host.u8() + bytes.size()), cpu);
}
#endif  // CATDOG_WITH_CUDA

}  // namespace
}  // namespace catdog
