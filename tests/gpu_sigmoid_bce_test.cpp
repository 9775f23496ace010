// The sigmoid_bce op (kernels/sigmoid_bce.h): cpu:: and cuda:: each against a naive double
// reference written here (large |z|, where only the stable form is exact), and against each
// other on the same inputs. The GPU half skips with the reason when no GPU is present.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#include "kernels/sigmoid_bce.h"
#include "tests/support/op_twins.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::gpu_result;
using test::gpu_stream;
using test::nan_tensor;
using test::random_tensor;

struct Reference {
  double loss_sum = 0, correct = 0;
  std::vector<double> grad;
};

// n logits in [-30, 30), labels 1 for every third index.
struct Batch {
  Tensor z, t;
  Reference ref;
};

Batch make_batch(int64_t n, uint64_t seed) {
  Batch b;
  b.z = random_tensor({n}, seed, -30.0f, 30.0f);
  std::vector<float> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[i] = (i * 7 % 3 == 0) ? 1.0f : 0.0f;
  b.t = Tensor::from_vector({n}, labels);
  b.ref.grad.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    const double zi = b.z.f32()[i], ti = labels[i];
    b.ref.loss_sum += std::max(zi, 0.0) - zi * ti + std::log1p(std::exp(-std::fabs(zi)));
    b.ref.grad[i] = (1.0 / (1.0 + std::exp(-zi)) - ti) / n;
    if ((zi >= 0) == (ti >= 0.5)) b.ref.correct += 1;
  }
  return b;
}

void expect_matches(const Reference& ref, double loss_sum, double correct,
                    const std::vector<float>& dz, const char* side) {
  EXPECT_NEAR(loss_sum, ref.loss_sum, 1e-6 * std::max(1.0, ref.loss_sum)) << side;
  EXPECT_EQ(correct, ref.correct) << side;
  for (size_t i = 0; i < dz.size(); ++i) {
    EXPECT_NEAR(dz[i], ref.grad[i], 1e-5 * std::fabs(ref.grad[i]) + 1e-9) << side << " " << i;
  }
}

TEST(SigmoidBceOp, CpuMatchesNaiveDoubleReference) {
  const int64_t n = 300;
  const Batch b = make_batch(n, 1);
  Tensor dz = nan_tensor({n}, Device::cpu);
  double loss_sum = -1, correct = -1;
  cpu::sigmoid_bce(b.z.f32(), b.t.f32(), dz.f32(), n, &loss_sum, &correct, nullptr);
  expect_matches(b.ref, loss_sum, correct, dz.to_vector(), "cpu");
}

TEST(SigmoidBceOp, CudaMatchesNaiveDoubleReferenceAndCpu) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  const int64_t n = 300;  // more than one reduction block's worth of threads
  const Batch b = make_batch(n, 2);
  // Two device doubles (loss_sum, correct), held as the bytes of four floats.
  Tensor dz = nan_tensor({n}, Device::cuda), sums({4}, DType::f32, Device::cuda);
  const Tensor zd = b.z.to(Device::cuda), td = b.t.to(Device::cuda);
  double* device_sums = static_cast<double*>(sums.raw());
  cuda::sigmoid_bce(zd.f32(), td.f32(), dz.f32(), n, device_sums, device_sums + 1, gpu_stream());
  const std::vector<float> gpu_dz = gpu_result(dz);
  const Tensor host_sums = sums.to(Device::cpu);
  const double* s = static_cast<const double*>(host_sums.raw());
  expect_matches(b.ref, s[0], s[1], gpu_dz, "cuda");

  Tensor cpu_dz = nan_tensor({n}, Device::cpu);
  double loss_sum = -1, correct = -1;
  cpu::sigmoid_bce(b.z.f32(), b.t.f32(), cpu_dz.f32(), n, &loss_sum, &correct, nullptr);
  EXPECT_NEAR(s[0], loss_sum, 1e-9 * std::max(1.0, loss_sum));
  EXPECT_EQ(s[1], correct);
  EXPECT_LE(test::max_relative_error(gpu_dz, cpu_dz.to_vector()), 1e-6);
#endif
}

}  // namespace
}  // namespace catdog
