// ExecContext: what a layer needs to know about the run it is part of, passed explicitly (no
// global mode switches): where to compute, training or inference, the seed for dropout, the
// precision of the frozen part, and the CUDA handles when on the GPU.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace catdog {

struct CudaContext;  // streams, cuBLAS/cuDNN handles, workspace: core/cuda_context.h

// Precision of the frozen (inference-only) part of a model on the GPU. The trainable head always
// keeps float32 master weights and computes in float32.
enum class Precision : uint8_t { fp32, tf32, fp16, bf16 };
const char* precision_name(Precision precision);
Precision parse_precision(const std::string& name);  // throws catdog::Error on an unknown name

struct ExecContext {
  Device device = Device::cpu;
  bool training = false;      // dropout is active only when training
  uint64_t seed = 1;          // dropout masks are a counter-based hash of (seed, step, layer, i)
  uint64_t step = 0;          // the optimizer step, advanced by the trainer
  Precision precision = Precision::fp32;
  CudaContext* cuda = nullptr;  // set when device == cuda

  bool on_gpu() const { return device == Device::cuda; }
};

}  // namespace catdog
