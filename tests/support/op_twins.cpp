#include "tests/support/op_twins.h"

#include <limits>

#include "core/device.h"
#include "core/error.h"
#if CATDOG_WITH_CUDA && !CATDOG_CUDA_EMU
#include "core/cuda_context.h"
#endif

namespace catdog::test {

Tensor nan_tensor(const Shape& shape, Device device) {
  Tensor t(shape, DType::f32, device);
  t.fill(std::numeric_limits<float>::quiet_NaN());
  return t;
}

Stream gpu_stream() {
#if CATDOG_CUDA_EMU
  return nullptr;  // the emulator's launches are synchronous: any stream is the default one
#elif CATDOG_WITH_CUDA
  return cuda::default_context().compute;
#else
  fail("gpu_stream: built without the CUDA backend");
#endif
}

std::vector<float> gpu_result(const Tensor& t) {
  device_synchronize();
  return t.to_vector();
}

}  // namespace catdog::test
