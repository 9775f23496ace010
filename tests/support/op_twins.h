// What the op twin tests (tests/gpu_<op>_test.cpp) share: an op's cpu:: and cuda:: functions take
// the same parameters, so a test fills host inputs, copies them to the GPU, runs both twins into
// NaN-poisoned outputs (a kernel that forgets an element cannot pass) and compares. Without a GPU
// the cuda:: half skips (CATDOG_REQUIRE_GPU) and the cpu:: half still runs against the test's own
// naive loops.
#pragma once

#include <vector>

#include "core/stream.h"
#include "core/tensor.h"

namespace catdog::test {

// A float32 tensor of this shape on `device`, every element NaN.
Tensor nan_tensor(const Shape& shape, Device device);
// The stream the GPU twins are given: cuda::default_context().compute (a GPU must be present).
Stream gpu_stream();
// Tensor::to_vector after the GPU finished its queued work (to_vector of a GPU tensor waits too;
// this is for the reader).
std::vector<float> gpu_result(const Tensor& t);

}  // namespace catdog::test
