// The preprocess op (kernels/preprocess.h): cuda:: against cpu:: on the same pixels in every mode,
// exactly in float32 and rounded once in float16. cpu:: itself is checked against the Keras
// formulas in tests/preprocess_test.cpp. Skips with the reason when no GPU is present.
#include <algorithm>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#include "kernels/conv_layout.h"
#include "kernels/preprocess.h"
#include "tests/support/op_twins.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::gpu_result;
using test::gpu_stream;
using test::max_relative_error;
using test::nan_tensor;
using test::random_tensor;

[[maybe_unused]] std::vector<uint8_t> random_pixels(size_t count, uint64_t seed) {
  Tensor r = random_tensor({static_cast<int64_t>(count)}, seed, 0.0f, 256.0f);
  std::vector<uint8_t> out(count);
  for (size_t i = 0; i < count; ++i) out[i] = static_cast<uint8_t>(std::min(255.0f, r.f32()[i]));
  return out;
}

TEST(PreprocessOp, CudaMatchesCpuInEveryMode) {
  CATDOG_REQUIRE_GPU();
#if CATDOG_WITH_CUDA
  const Shape shape = {2, 5, 7, 3};
  const int64_t pixels = 2 * 5 * 7;
  const auto bytes = random_pixels(pixels * 3, 5);
  Tensor host(shape, DType::u8);
  std::copy(bytes.begin(), bytes.end(), host.u8());
  const Tensor in = host.to(Device::cuda);
  for (Preprocess mode :
       {Preprocess::caffe, Preprocess::tutorial, Preprocess::scale, Preprocess::none}) {
    Tensor cpu_out = nan_tensor(shape, Device::cpu);
    cpu::preprocess(bytes.data(), pixels, mode, cpu_out.raw(), DType::f32, nullptr);
    Tensor out = nan_tensor(shape, Device::cuda);
    cuda::preprocess(in.u8(), pixels, mode, out.raw(), DType::f32, gpu_stream());
    EXPECT_EQ(gpu_result(out), cpu_out.to_vector()) << preprocess_name(mode);
    // Reduced precision: the same values rounded once.
    Tensor half(shape, DType::f16, Device::cuda), back = nan_tensor(shape, Device::cuda);
    cuda::preprocess(in.u8(), pixels, mode, half.raw(), DType::f16, gpu_stream());
    cuda::convert_elements(half.raw(), DType::f16, back.raw(), DType::f32, half.numel(),
                           gpu_stream());
    EXPECT_LE(max_relative_error(gpu_result(back), cpu_out.to_vector()), 1e-3)
        << preprocess_name(mode);
  }
#endif
}

}  // namespace
}  // namespace catdog
