// ExecContext: what a layer needs to know about the run it is part of, passed explicitly (no
// global mode switches): where to compute, training or inference, the seed for dropout, the
// precision of the frozen part, the CUDA handles when on the GPU, and the CPU convolution's
// scratch budget. Also run_on(), the one rule by which the op dispatchers of kernels/<op>.h pick
// the CPU or CUDA twin.
#pragma once

#include <cstdint>

#include "core/error.h"
#include "core/stream.h"
#include "core/tensor.h"

namespace catdog {

struct CudaContext;  // streams, cuBLAS/cuDNN handles, workspace: core/cuda_context.h

// Precision of the frozen (inference-only) part of a model on the GPU. The trainable head always
// keeps float32 master weights and computes in float32.
enum class Precision : uint8_t { fp32, tf32, fp16, bf16 };
const char* precision_name(Precision precision);
Precision parse_precision(const std::string& name);  // throws catdog::Error on an unknown name

// The CPU convolution's algorithm (`--conv-algo`): auto lets Conv2D pick per layer shape
// (layers/cpu_conv_choice.h); the others force one where it applies (Winograd: 3x3 stride 1).
// direct is the slot for the register-blocked direct kernel (kernels/cpu/conv_direct*).
enum class ConvAlgo : uint8_t { auto_pick, im2col, winograd2, winograd4, direct };
const char* conv_algo_name(ConvAlgo algo);
ConvAlgo parse_conv_algo(const std::string& name);  // throws catdog::Error on an unknown name

// Told when each layer's forward or backward begins and ends, when set in ExecContext
// (`catdog profile` times layers with it, waiting for the GPU at both ends).
struct LayerPassObserver {
  virtual ~LayerPassObserver() = default;
  virtual void pass_begin(const std::string& layer, bool backward) = 0;
  virtual void pass_end(const std::string& layer, bool backward) = 0;
};

struct ExecContext {
  Device device = Device::cpu;
  bool training = false;      // dropout is active only when training
  uint64_t seed = 1;          // dropout masks are a counter-based hash of (seed, step, layer, i)
  uint64_t step = 0;          // the optimizer step, advanced by the trainer
  // Data-parallel training (training/data_parallel.h): the whole batch's row of row 0 of the
  // batch this rank computes, so that Dropout draws the masks of the whole batch's rows.
  int64_t first_row = 0;
  Precision precision = Precision::fp32;
  CudaContext* cuda = nullptr;  // set when device == cuda
  // The CPU convolution's im2col chunk in floats (kernels/cpu/conv2d.h); 0 = its default (8M
  // floats = 32 MB). The benchmarks set it from CATDOG_BENCH_IM2COL_FLOATS.
  int64_t im2col_floats = 0;
  ConvAlgo conv_algo = ConvAlgo::auto_pick;  // the CPU convolution's algorithm
  LayerPassObserver* layer_observer = nullptr;  // none: layers run untimed

  bool on_gpu() const { return device == Device::cuda; }
};

// The stream GPU work of this run goes on: ctx.cuda->compute (an error when ctx.cuda is null).
// Defined only with the CUDA backend.
Stream compute_stream(const ExecContext& ctx);

// The op dispatchers' one rule (kernels/<op>.h): on the CPU call cpu_side(nullptr), on the GPU
// cuda_side(compute_stream(ctx)). Without the CUDA backend a GPU context is an error, and
// cuda_side is never called, so it may name cuda:: functions that this build does not have.
template <class CpuSide, class CudaSide>
void run_on(const ExecContext& ctx, const CpuSide& cpu_side, const CudaSide& cuda_side) {
  if (!ctx.on_gpu()) {
    cpu_side(Stream{});
    return;
  }
#if CATDOG_WITH_CUDA
  cuda_side(compute_stream(ctx));
#else
  (void)cuda_side;
  fail("a GPU run, but catdog was built without the CUDA backend");
#endif
}

}  // namespace catdog
