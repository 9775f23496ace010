// The CUDA backend's entry points for plain C++ code (the engine, the trainer, the tests): no
// CUDA types here, so any .cpp can include this header (under #if CATDOG_WITH_CUDA). Pointers are
// device pointers unless said otherwise; work is queued on ctx.compute.
#pragma once

#include <cstdint>

#include "data/augment.h"              // AugmentParams
#include "core/tensor.h"             // DType
#include "kernels/cpu/preprocess.h"    // Preprocess

namespace catdog {
struct CudaContext;
}

namespace catdog::cuda {


// Fused sigmoid + binary cross-entropy from logits (n), labels (n) in {0, 1}. Returns the mean
// loss (waits for the GPU to copy it back); writes dlogits = (sigmoid(z) - t) / n when not null
// and the count of (z >= 0) == (t >= 0.5) into *correct when not null.
double sigmoid_bce_from_logits(const float* logits, const float* labels, float* dlogits,
                               int64_t n, int64_t* correct, CudaContext& ctx);
// Accuracy numerator: how many (z >= 0) == (t >= 0.5). Waits for the result.
int64_t count_correct(const float* logits, const float* labels, int64_t n, CudaContext& ctx);
// v = momentum v - lr g; w += v.  w, v, g (n)
void sgd_momentum_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum,
                         CudaContext& ctx);
// The GPU twin of preprocess_cpu: in uint8 (N, H, W, 3) RGB with pixels = N*H*W -> out
// (N, H, W, 3) in out_dtype (f32, f16 or bf16), computed in float32 then rounded.
void preprocess(const uint8_t* in, int64_t pixels, Preprocess mode, void* out, DType out_dtype,
                CudaContext& ctx);
// dst (n) = src (n) in another element type: f32 <-> f16 <-> bf16 (round to nearest even).
void convert(const void* src, DType src_dtype, void* dst, DType dst_dtype, int64_t n,
             CudaContext& ctx);
// The GPU twin of augment_rgb (data/augment.h) for a batch: in, out uint8 (images, height,
// width, 3), distinct; params: HOST array of `images` transforms (drawn with draw_augment, so
// CPU and GPU agree on every image).
void augment_flip_shift(const uint8_t* in, uint8_t* out, int64_t images, int height, int width,
                        const AugmentParams* params, CudaContext& ctx);

}  // namespace catdog::cuda
