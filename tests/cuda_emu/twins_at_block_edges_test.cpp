// Every hand-written CUDA kernel against its CPU twin at the sizes where index arithmetic goes
// wrong: 1, one short of a 256-thread block, a block, one past it, two blocks either side, and
// three random odd sizes; odd channel counts, and 257 channels (a second block of columns for
// the column sums) with up to 257 rows (a second chunk of rows). Outputs are poisoned with NaN;
// tolerances are the GPU twin tests'.
// Built for the cuda-emu preset only (tests/cuda_emu/CMakeLists.txt), where a "GPU" is always
// present; on a real GPU, tests/gpu_<op>_test.cpp run the same comparisons at their own sizes.
#include <cstdint>
#include <random>
#include <utility>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#include "kernels/activation.h"
#include "kernels/batch_norm.h"
#include "kernels/bias_activation.h"
#include "kernels/conv_layout.h"
#include "kernels/cpu/conv_geometry.h"
#include "kernels/dropout.h"
#include "kernels/global_average_pool2d.h"
#include "kernels/max_pool2d.h"
#include "kernels/preprocess.h"
#include "kernels/sgd_momentum.h"
#include "kernels/sigmoid_bce.h"
#include "tests/support/op_twins.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::gpu_result;
using test::gpu_stream;
using test::max_relative_error;
using test::nan_tensor;
using test::random_tensor;

std::vector<int64_t> edge_sizes() {
  std::vector<int64_t> sizes = {1, 255, 256, 257, 511, 513};
  std::mt19937 random(15);
  for (int k = 0; k < 3; ++k) sizes.push_back(2 * int64_t(random() % 600) + 1);
  return sizes;
}

// (rows, channels) pairs: every edge size with few channels, the block edges with 257.
std::vector<std::pair<int64_t, int64_t>> edge_matrices(int64_t few_channels) {
  std::vector<std::pair<int64_t, int64_t>> shapes;
  for (int64_t rows : edge_sizes()) shapes.push_back({rows, few_channels});
  for (int64_t rows : {1, 255, 256, 257}) shapes.push_back({rows, 257});
  return shapes;
}

// The relative difference of a GPU output and its CPU twin's.
double twin_error(const Tensor& gpu, const Tensor& cpu) {
  return max_relative_error(gpu_result(gpu), cpu.to_vector());
}

TEST(KernelTwinsAtBlockEdges, Activation) {
  for (int64_t n : edge_sizes()) {
    const Tensor x = random_tensor({n}, 1, -9.0f, 9.0f), dy = random_tensor({n}, 2);
    const Tensor xd = x.to(Device::cuda), dyd = dy.to(Device::cuda);
    for (Activation act : {Activation::linear, Activation::relu, Activation::sigmoid,
                           Activation::leaky_relu}) {
      Tensor y = nan_tensor({n}, Device::cpu), yd = nan_tensor({n}, Device::cuda);
      Tensor dx = nan_tensor({n}, Device::cpu), dxd = nan_tensor({n}, Device::cuda);
      cpu::activation_forward(x.raw(), y.raw(), DType::f32, n, act, 0.1f, nullptr);
      cuda::activation_forward(xd.raw(), yd.raw(), DType::f32, n, act, 0.1f, gpu_stream());
      const Tensor yd_cpu = y.to(Device::cuda);  // the same y on both sides
      cpu::activation_backward(x.f32(), y.f32(), dy.f32(), dx.f32(), n, act, 0.1f, nullptr);
      cuda::activation_backward(xd.f32(), yd_cpu.f32(), dyd.f32(), dxd.f32(), n, act, 0.1f,
                                gpu_stream());
      EXPECT_LE(twin_error(yd, y), 1e-6) << "n=" << n << " " << activation_name(act);
      EXPECT_LE(twin_error(dxd, dx), 1e-6) << "n=" << n << " " << activation_name(act);
    }
  }
}

TEST(KernelTwinsAtBlockEdges, BiasActivationAndItsColumnSum) {
  for (const auto& [rows, c] : edge_matrices(3)) {
    const Tensor y0 = random_tensor({rows, c}, 3, -3.0f, 3.0f), bias = random_tensor({c}, 4);
    const Tensor bias_d = bias.to(Device::cuda);
    Tensor y = y0.clone(), yd = y0.to(Device::cuda);
    cpu::bias_activation_forward(y.raw(), DType::f32, bias.f32(), rows, c, Activation::relu,
                                 0.0f, nullptr);
    cuda::bias_activation_forward(yd.raw(), DType::f32, bias_d.f32(), rows, c,
                                  Activation::relu, 0.0f, gpu_stream());
    EXPECT_LE(twin_error(yd, y), 1e-6) << rows << " x " << c;
    const Tensor dz = random_tensor({rows, c}, 5), dzd = dz.to(Device::cuda);
    Tensor db = nan_tensor({c}, Device::cpu), dbd = nan_tensor({c}, Device::cuda);
    cpu::bias_backward(dz.f32(), db.f32(), rows, c, nullptr);
    cuda::bias_backward(dzd.f32(), dbd.f32(), rows, c, gpu_stream());
    EXPECT_LE(twin_error(dbd, db), 1e-6) << rows << " x " << c;
  }
}

TEST(KernelTwinsAtBlockEdges, BatchNorm) {
  constexpr float kEps = 1e-3f;
  for (const auto& [rows, c] : edge_matrices(5)) {
    const Tensor gamma = random_tensor({c}, 6, 0.5f, 2.0f), beta = random_tensor({c}, 7);
    const Tensor mean = random_tensor({c}, 8), var = random_tensor({c}, 9, 0.2f, 2.0f);
    const Tensor x = random_tensor({rows, c}, 10, -3.0f, 3.0f), dy = random_tensor({rows, c}, 11);
    const Tensor gd = gamma.to(Device::cuda), bd = beta.to(Device::cuda);
    const Tensor md = mean.to(Device::cuda), vd = var.to(Device::cuda);
    const Tensor xd = x.to(Device::cuda), dyd = dy.to(Device::cuda);
    Tensor a = nan_tensor({c}, Device::cpu), b = nan_tensor({c}, Device::cpu);
    Tensor ad = nan_tensor({c}, Device::cuda), b_d = nan_tensor({c}, Device::cuda);
    cpu::batch_norm_fold(gamma.f32(), beta.f32(), mean.f32(), var.f32(), kEps, c, a.f32(),
                         b.f32(), nullptr);
    cuda::batch_norm_fold(gd.f32(), bd.f32(), md.f32(), vd.f32(), kEps, c, ad.f32(), b_d.f32(),
                          gpu_stream());
    EXPECT_LE(twin_error(ad, a), 1e-6);
    EXPECT_LE(twin_error(b_d, b), 1e-6);
    const Tensor a_same = a.to(Device::cuda), b_same = b.to(Device::cuda);
    Tensor y = nan_tensor({rows, c}, Device::cpu), yd = nan_tensor({rows, c}, Device::cuda);
    cpu::channel_affine_forward(x.raw(), y.raw(), DType::f32, rows, c, a.f32(), b.f32(),
                                nullptr);
    cuda::channel_affine_forward(xd.raw(), yd.raw(), DType::f32, rows, c, a_same.f32(),
                                 b_same.f32(), gpu_stream());
    EXPECT_LE(twin_error(yd, y), 1e-6) << rows << " x " << c;
    Tensor dx = nan_tensor({rows, c}, Device::cpu), dxd = nan_tensor({rows, c}, Device::cuda);
    Tensor dg = nan_tensor({c}, Device::cpu), dgd = nan_tensor({c}, Device::cuda);
    Tensor dbeta = nan_tensor({c}, Device::cpu), dbeta_d = nan_tensor({c}, Device::cuda);
    cpu::batch_norm_backward(x.f32(), dy.f32(), a.f32(), mean.f32(), var.f32(), kEps, rows, c,
                             dx.f32(), dg.f32(), dbeta.f32(), nullptr);
    cuda::batch_norm_backward(xd.f32(), dyd.f32(), a_same.f32(), md.f32(), vd.f32(), kEps, rows,
                              c, dxd.f32(), dgd.f32(), dbeta_d.f32(), gpu_stream());
    EXPECT_LE(twin_error(dxd, dx), 1e-6) << rows << " x " << c;
    EXPECT_LE(twin_error(dgd, dg), 1e-6) << rows << " x " << c;
    EXPECT_LE(twin_error(dbeta_d, dbeta), 1e-6) << rows << " x " << c;
  }
}

TEST(KernelTwinsAtBlockEdges, DropoutMasksAreIdentical) {
  for (int64_t n : edge_sizes()) {
    const Tensor x = random_tensor({n}, 12), xd = x.to(Device::cuda);
    Tensor y = nan_tensor({n}, Device::cpu), yd = nan_tensor({n}, Device::cuda);
    cpu::dropout_forward(x.f32(), y.f32(), n, 0.3f, 11, 4, 9, 0, nullptr);
    cuda::dropout_forward(xd.f32(), yd.f32(), n, 0.3f, 11, 4, 9, 0, gpu_stream());
    EXPECT_EQ(gpu_result(yd), y.to_vector()) << n;
    Tensor dx = nan_tensor({n}, Device::cpu), dxd = nan_tensor({n}, Device::cuda);
    cpu::dropout_backward(x.f32(), dx.f32(), n, 0.3f, 11, 4, 9, 0, nullptr);
    cuda::dropout_backward(xd.f32(), dxd.f32(), n, 0.3f, 11, 4, 9, 0, gpu_stream());
    EXPECT_EQ(gpu_result(dxd), dx.to_vector()) << n;
  }
}

TEST(KernelTwinsAtBlockEdges, SgdMomentum) {
  for (int64_t n : edge_sizes()) {
    const Tensor g = random_tensor({n}, 13), gd = g.to(Device::cuda);
    Tensor w = random_tensor({n}, 14), v = random_tensor({n}, 15);
    Tensor wd = w.to(Device::cuda), vd = v.to(Device::cuda);
    cpu::sgd_momentum_update(w.f32(), v.f32(), g.f32(), n, 0.001f, 0.9f, nullptr);
    cuda::sgd_momentum_update(wd.f32(), vd.f32(), gd.f32(), n, 0.001f, 0.9f, gpu_stream());
    EXPECT_LE(twin_error(vd, v), 1e-6) << n;
    EXPECT_LE(twin_error(wd, w), 1e-6) << n;
  }
}

TEST(KernelTwinsAtBlockEdges, GlobalAveragePool2d) {
  for (int64_t size : edge_sizes()) {
    // (n, hw, c) with n * c at the edge (forward threads), then hw at it (backward threads).
    for (const Shape& s : {Shape{1, 7, size}, Shape{3, size, 3}}) {
      const int64_t n = s[0], hw = s[1], c = s[2];
      const Tensor x = random_tensor(s, 16), dy = random_tensor({n, c}, 17);
      const Tensor xd = x.to(Device::cuda), dyd = dy.to(Device::cuda);
      Tensor y = nan_tensor({n, c}, Device::cpu), yd = nan_tensor({n, c}, Device::cuda);
      Tensor dx = nan_tensor(s, Device::cpu), dxd = nan_tensor(s, Device::cuda);
      cpu::global_average_pool2d_forward(x.raw(), y.raw(), DType::f32, n, hw, c, nullptr);
      cuda::global_average_pool2d_forward(xd.raw(), yd.raw(), DType::f32, n, hw, c, gpu_stream());
      cpu::global_average_pool2d_backward(dy.f32(), dx.f32(), n, hw, c, nullptr);
      cuda::global_average_pool2d_backward(dyd.f32(), dxd.f32(), n, hw, c, gpu_stream());
      EXPECT_LE(twin_error(yd, y), 1e-5) << n << " " << hw << " " << c;
      EXPECT_LE(twin_error(dxd, dx), 1e-6) << n << " " << hw << " " << c;
    }
  }
}

TEST(KernelTwinsAtBlockEdges, MaxPool2dOddShapes) {
  std::mt19937 random(16);
  for (int k = 0; k < 6; ++k) {
    const int64_t n = 1 + random() % 2, h = 1 + 2 * (random() % 9), w = 1 + 2 * (random() % 9);
    const int64_t c = 1 + 2 * (random() % 40);
    for (bool same : {true, false}) {
      const WindowGeometry g = make_window_geometry(n, h, w, c, 3, 3, 2, 2, same, c);
      if (g.oh == 0 || g.ow == 0) continue;
      const Shape in = {n, h, w, c}, out = {n, g.oh, g.ow, c};
      const Tensor x = random_tensor(in, 18), dy = random_tensor(out, 19);
      const Tensor xd = x.to(Device::cuda), dyd = dy.to(Device::cuda);
      Tensor y = nan_tensor(out, Device::cpu), yd = nan_tensor(out, Device::cuda);
      Tensor dx = nan_tensor(in, Device::cpu), dxd = nan_tensor(in, Device::cuda);
      cpu::max_pool2d_forward(g, x.raw(), y.raw(), DType::f32, nullptr);
      cuda::max_pool2d_forward(g, xd.raw(), yd.raw(), DType::f32, gpu_stream());
      cpu::max_pool2d_backward(g, x.f32(), dy.f32(), dx.f32(), nullptr);
      cuda::max_pool2d_backward(g, xd.f32(), dyd.f32(), dxd.f32(), gpu_stream());
      const std::string what = cat(to_string(in), same ? " same" : " valid");
      EXPECT_EQ(gpu_result(yd), y.to_vector()) << what;
      EXPECT_LE(test::max_abs_difference(gpu_result(dxd), dx.to_vector()), 1e-6) << what;
    }
  }
}

TEST(KernelTwinsAtBlockEdges, Preprocess) {
  for (int64_t pixels : edge_sizes()) {
    std::vector<uint8_t> bytes(pixels * 3);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 37 + 11);
    uint8_t* bytes_d = static_cast<uint8_t*>(device_malloc(bytes.size()));
    copy_host_to_device(bytes_d, bytes.data(), bytes.size());
    for (Preprocess mode :
         {Preprocess::caffe, Preprocess::tutorial, Preprocess::scale, Preprocess::none}) {
      Tensor out = nan_tensor({pixels, 3}, Device::cpu);
      Tensor out_d = nan_tensor({pixels, 3}, Device::cuda);
      cpu::preprocess(bytes.data(), pixels, mode, out.raw(), DType::f32, nullptr);
      cuda::preprocess(bytes_d, pixels, mode, out_d.raw(), DType::f32, gpu_stream());
      EXPECT_EQ(gpu_result(out_d), out.to_vector()) << pixels << " " << preprocess_name(mode);
    }
    device_free(bytes_d);
  }
}

TEST(KernelTwinsAtBlockEdges, SigmoidBce) {
  for (int64_t n : edge_sizes()) {
    const Tensor z = random_tensor({n}, 20, -6.0f, 6.0f), t = random_tensor({n}, 21, 0.0f, 1.0f);
    const Tensor zd = z.to(Device::cuda), td = t.to(Device::cuda);
    Tensor dz = nan_tensor({n}, Device::cpu), dzd = nan_tensor({n}, Device::cuda);
    double loss = 0, correct = 0;
    cpu::sigmoid_bce(z.f32(), t.f32(), dz.f32(), n, &loss, &correct, nullptr);
    double* sums_d = static_cast<double*>(device_malloc(2 * sizeof(double)));
    cuda::sigmoid_bce(zd.f32(), td.f32(), dzd.f32(), n, sums_d, sums_d + 1, gpu_stream());
    double sums[2];
    copy_device_to_host(sums, sums_d, sizeof sums);
    device_free(sums_d);
    EXPECT_NEAR(sums[0], loss, 1e-9 * std::max(1.0, loss)) << n;
    EXPECT_EQ(sums[1], correct) << n;
    EXPECT_LE(twin_error(dzd, dz), 1e-5) << n;
  }
}

// pad_nhwc and crop_nhwc have no CPU twin (only the cuDNN path uses them): against the loops.
TEST(KernelTwinsAtBlockEdges, PadAndCropAreTheLoopsWrittenHere) {
  std::mt19937 random(17);
  for (int k = 0; k < 6; ++k) {
    const int n = 1 + random() % 2, h = 1 + random() % 9, w = 1 + random() % 9;
    const int c = 1 + 2 * (random() % 40), top = random() % 2, left = random() % 2;
    const int hp = h + top + random() % 2, wp = w + left + random() % 2;
    const Tensor x = random_tensor({n, h, w, c}, 22), xd = x.to(Device::cuda);
    const Tensor dxp = random_tensor({n, hp, wp, c}, 23), dxpd = dxp.to(Device::cuda);
    Tensor xpd = nan_tensor({n, hp, wp, c}, Device::cuda);
    Tensor dxd = nan_tensor({n, h, w, c}, Device::cuda);
    cuda::pad_nhwc(xd.raw(), xpd.raw(), DType::f32, n, h, w, c, hp, wp, top, left, gpu_stream());
    cuda::crop_nhwc(dxpd.f32(), dxd.f32(), n, h, w, c, hp, wp, top, left, gpu_stream());
    std::vector<float> xp_ref(size_t(n) * hp * wp * c, 0.0f), dx_ref(x.numel());
    for (int b = 0; b < n; ++b)
      for (int i = 0; i < h; ++i)
        for (int j = 0; j < w; ++j)
          for (int ch = 0; ch < c; ++ch) {
            const size_t inside = ((size_t(b) * h + i) * w + j) * c + ch;
            const size_t padded = ((size_t(b) * hp + i + top) * wp + j + left) * c + ch;
            xp_ref[padded] = x.f32()[inside];
            dx_ref[inside] = dxp.f32()[padded];
          }
    const std::string what = cat(to_string(x.shape()), " -> (", hp, ", ", wp, ")");
    EXPECT_EQ(gpu_result(xpd), xp_ref) << what;
    EXPECT_EQ(gpu_result(dxd), dx_ref) << what;
  }
}

}  // namespace
}  // namespace catdog
