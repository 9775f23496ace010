// Where a run computes, and turning a batch of decoded pixels into the model's input there.
#pragma once

#include <memory>
#include <string>

#include "core/context.h"
#include "core/tensor.h"
#include "kernels/preprocess.h"

namespace catdog {

// "auto" | "cpu" | "cuda" -> a context. auto means CUDA when catdog has it and a GPU is present.
// Throws catdog::Error with the reason when cuda is asked for and cannot be had, or when the
// precision is not available on this GPU, or on the CPU (bf16 there needs AVX512_BF16; tf32 and
// fp16 are refused). `gpu` is the GPU to run on (a rank's: training/nccl_ranks.h local_gpu).
ExecContext make_exec_context(const std::string& device, const std::string& precision,
                              uint64_t seed, int gpu = 0);

// uint8 (N, H, W, 3) RGB pixels (host, ideally pinned) -> float32 (N, H, W, 3) model input on
// ctx's device, preprocessed. `staging` keeps the device copy of the pixels between calls and
// `out` the result, so steady-state batches allocate nothing.
void make_model_input(const Tensor& pixels, Preprocess mode, ExecContext& ctx, Tensor& staging,
                      Tensor& out);
// The second half of it: uint8 pixels already on ctx's device -> the float32 model input there.
void preprocess_pixels(const Tensor& pixels, Preprocess mode, ExecContext& ctx, Tensor& out);

}  // namespace catdog
