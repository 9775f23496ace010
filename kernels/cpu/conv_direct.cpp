#include "kernels/cpu/conv_direct.h"

#include <algorithm>

#include "core/error.h"
#include "kernels/bias_activation.h"
#include "kernels/cpu/bf16.h"
#include "kernels/cpu/conv_direct_job.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/parallel.h"

namespace catdog::cpu {

namespace {

struct MathShape {
  int64_t block;        // filters a block covers
  int64_t lanes;        // filters a vector covers
  int64_t step;         // channels a multiply-add consumes
  int64_t tile_pixels;  // pixels of the widest tile
  int64_t chunk;        // channels summed per pass over the tiles: a block's weights for them
                        // (9 taps x chunk x block x element) about 150 KB, well inside L2
};

MathShape shape_of(DirectMath math) {
  switch (math) {
    case DirectMath::f32_avx2: return {direct::kAvx2Block, 8, 1, 6, 256};
    case DirectMath::f32_avx512: return {direct::kAvx512Block, 16, 1, 6, 64};
    case DirectMath::bf16_avx512: return {direct::kAvx512Block, 16, 2, 6, 128};
  }
  return {};
}

int64_t round_up(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

template <class T>
T* grown(std::vector<T>& buffer, int64_t size) {
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(static_cast<size_t>(size));
  return buffer.data();
}

// x as bf16 with C rounded up to even (the odd channel zero): the micro-kernel reads channel pairs.
const uint16_t* input_as_bf16(const WindowGeometry& g, const float* x, int64_t cx) {
  thread_local std::vector<uint16_t> buffer;
  uint16_t* out = grown(buffer, g.n * g.h * g.w * cx);
  const int64_t pixels = g.n * g.h * g.w;
  if (cx == g.c) {
    const int64_t n = pixels * g.c;
    parallel_for(n, int64_t{1} << 16, [&](int64_t b, int64_t e) {
      direct::floats_to_bf16_avx512(x + b, out + b, e - b);
    });
    return out;
  }
  parallel_for(pixels, 4096, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      direct::floats_to_bf16_avx512(x + p * g.c, out + p * cx, g.c);
      out[p * cx + g.c] = 0;
    }
  });
  return out;
}

}  // namespace

const char* direct_math_name(DirectMath math) {
  switch (math) {
    case DirectMath::f32_avx2: return "f32_avx2";
    case DirectMath::f32_avx512: return "f32_avx512";
    case DirectMath::bf16_avx512: return "bf16_avx512";
  }
  return "?";
}

bool direct_math_supported(DirectMath math) {
  const CpuFeatures f = cpu_features();
  switch (math) {
    case DirectMath::f32_avx2: return f.avx2_fma;
    case DirectMath::f32_avx512: return f.avx512;
    case DirectMath::bf16_avx512: return f.avx512_bf16;
  }
  return false;
}

DirectMath best_direct_f32_math() {
  if (direct_math_supported(DirectMath::f32_avx512)) return DirectMath::f32_avx512;
  CATDOG_CHECK(direct_math_supported(DirectMath::f32_avx2),
               "the direct convolution needs AVX2 + FMA, which this CPU lacks");
  return DirectMath::f32_avx2;
}

PackedConvKernel pack_conv_kernel(const WindowGeometry& g, const float* kernel, DirectMath math) {
  CATDOG_CHECK(direct_math_supported(math), "direct convolution ", direct_math_name(math),
               ": this CPU lacks the instructions it needs");
  const MathShape s = shape_of(math);
  const int64_t taps = g.kh * g.kw, cx = round_up(g.c, s.step), steps = cx / s.step;
  const int64_t blocks = (g.f + s.block - 1) / s.block;
  const int64_t last_width = round_up(g.f - (blocks - 1) * s.block, s.lanes);
  const int64_t size = ((blocks - 1) * s.block + last_width) * taps * cx;
  PackedConvKernel out;
  out.math = math;
  out.kh = g.kh, out.kw = g.kw, out.c = g.c, out.f = g.f;
  const bool bf16 = math == DirectMath::bf16_avx512;
  if (bf16) {
    out.bf16.assign(static_cast<size_t>(size), 0);
  } else {
    out.f32.assign(static_cast<size_t>(size), 0.0f);
  }
  for (int64_t fb = 0; fb < blocks; ++fb) {
    const int64_t f0 = fb * s.block, filters = std::min(s.block, g.f - f0);
    const int64_t width = round_up(filters, s.lanes);
    const int64_t base = f0 * taps * cx;
    for (int64_t tap = 0; tap < taps; ++tap)
      for (int64_t st = 0; st < steps; ++st)
        for (int64_t k = 0; k < filters; ++k)
          for (int64_t q = 0; q < s.step; ++q) {
            const int64_t c = st * s.step + q;
            if (c >= g.c) continue;
            // Vector v of the row holds filters [v*lanes, (v+1)*lanes) x `step` channels.
            const int64_t v = k / s.lanes, lane = k % s.lanes;
            const int64_t at =
                base + (tap * steps + st) * width * s.step + (v * s.lanes + lane) * s.step + q;
            const float value = kernel[(tap * g.c + c) * g.f + f0 + k];
            if (bf16) {
              out.bf16[static_cast<size_t>(at)] = bf16_from_float(value);
            } else {
              out.f32[static_cast<size_t>(at)] = value;
            }
          }
  }
  return out;
}

namespace {

using RunTiles = void (*)(const direct::DirectConvJob&, int64_t, int64_t);

RunTiles run_tiles_for(DirectMath math) {
  switch (math) {
    case DirectMath::f32_avx2: return direct::run_tiles_f32_avx2;
    case DirectMath::f32_avx512: return direct::run_tiles_f32_avx512;
    case DirectMath::bf16_avx512: return direct::run_tiles_bf16_avx512;
  }
  return nullptr;
}

// A job for `g` with `kernel` but no x and y yet: the padded bias and the zeros live in this
// thread's buffers until its next call. Each pass over the tiles sums as many channels as keep a
// block's weights for them near the MathShape's 150 KB, whatever the window (a 1x1 window sums 9x
// the channels of a 3x3 one).
direct::DirectConvJob job_for(const WindowGeometry& g, const PackedConvKernel& kernel,
                              const float* bias, Activation act) {
  CATDOG_CHECK(kernel.kh == g.kh && kernel.kw == g.kw && kernel.c == g.c && kernel.f == g.f,
               "direct convolution: the packed kernel (", kernel.kh, ", ", kernel.kw, ", ",
               kernel.c, ", ", kernel.f, ") does not fit the layer (", g.kh, ", ", g.kw, ", ", g.c,
               ", ", g.f, ")");
  CATDOG_CHECK(direct_math_supported(kernel.math), "direct convolution ",
               direct_math_name(kernel.math), ": this CPU lacks the instructions it needs");
  const MathShape s = shape_of(kernel.math);
  const int64_t cx = round_up(g.c, s.step);
  const int64_t blocks = (g.f + s.block - 1) / s.block;
  thread_local std::vector<float> padded_bias, zero_floats;
  float* b = grown(padded_bias, blocks * s.block);
  std::fill(b, b + blocks * s.block, 0.0f);
  if (bias) std::copy(bias, bias + g.f, b);
  float* zeros = grown(zero_floats, cx);  // bf16 zero is the same 0 bit pattern
  std::fill(zeros, zeros + cx, 0.0f);

  direct::DirectConvJob job;
  job.g = g;
  job.x_channels = cx;
  job.weights = kernel.math == DirectMath::bf16_avx512
                    ? static_cast<const void*>(kernel.bf16.data())
                    : kernel.f32.data();
  job.bias = b;
  job.zeros = zeros;
  job.relu = act == Activation::relu;
  job.tile_pixels = s.tile_pixels;
  job.block = s.block;
  job.chunk_steps = std::max<int64_t>(1, s.chunk * 9 / (g.kh * g.kw) / s.step);
  return job;
}

int64_t tasks_of(const direct::DirectConvJob& job) {
  const int64_t tiles = (job.g.out_rows() + job.tile_pixels - 1) / job.tile_pixels;
  return (job.g.f + job.block - 1) / job.block * tiles;
}

// Tasks per thread hand-off: about 4 MFLOP of work each.
int64_t grain_of(const direct::DirectConvJob& job) {
  const int64_t flops = 2 * job.tile_pixels * job.block * job.g.kh * job.g.kw * job.g.c;
  return std::max<int64_t>(1, (int64_t{1} << 22) / std::max<int64_t>(flops, 1));
}

}  // namespace

void conv2d_direct_forward_packed(const WindowGeometry& g, const float* x,
                                  const PackedConvKernel& kernel, const float* bias,
                                  Activation act, float* y) {
  direct::DirectConvJob job = job_for(g, kernel, bias, act);
  if (g.out_rows() == 0) return;
  job.x = kernel.math == DirectMath::bf16_avx512
              ? static_cast<const void*>(input_as_bf16(g, x, job.x_channels))
              : x;
  job.y = y;
  const RunTiles run = run_tiles_for(kernel.math);
  parallel_for(tasks_of(job), grain_of(job),
               [&](int64_t begin, int64_t end) { run(job, begin, end); });
  if (act != Activation::linear && act != Activation::relu) {
    bias_activation_forward(y, DType::f32, nullptr, g.out_rows(), g.f, act, 0.0f, nullptr);
  }
}

namespace {

// count products c_i = a_i kernel_i with a already in the kernels' input type: float, or bf16 with
// C rounded up to even.
void run_batched(int64_t count, int64_t rows, const void* a, const PackedConvKernel* kernels,
                 float* c) {
  if (count <= 0 || rows <= 0) return;
  const PackedConvKernel& k0 = kernels[0];
  CATDOG_CHECK(k0.kh == 1 && k0.kw == 1, "batched GEMM: the kernels must be packed for a 1x1 "
               "window, got ", k0.kh, "x", k0.kw);
  for (int64_t i = 1; i < count; ++i) {
    const PackedConvKernel& k = kernels[i];
    CATDOG_CHECK(k.math == k0.math && k.c == k0.c && k.f == k0.f && k.kh == 1 && k.kw == 1,
                 "batched GEMM: kernel ", i, " is not packed like kernel 0");
  }
  const WindowGeometry g = make_window_geometry(1, rows, 1, k0.c, 1, 1, 1, 1, false, k0.f);
  const direct::DirectConvJob job = job_for(g, k0, nullptr, Activation::linear);
  const bool bf16 = k0.math == DirectMath::bf16_avx512;
  const int64_t a_bytes = rows * job.x_channels * (bf16 ? 2 : 4);
  const int64_t per = tasks_of(job);
  const RunTiles run = run_tiles_for(k0.math);
  parallel_for(count * per, grain_of(job), [&](int64_t begin, int64_t end) {
    while (begin < end) {
      const int64_t item = begin / per, lo = begin % per;
      const int64_t hi = std::min(per, end - item * per);
      const PackedConvKernel& k = kernels[item];
      direct::DirectConvJob j = job;
      j.x = static_cast<const char*>(a) + item * a_bytes;
      j.weights = bf16 ? static_cast<const void*>(k.bf16.data()) : k.f32.data();
      j.y = c + item * rows * g.f;
      run(j, lo, hi);
      begin = item * per + hi;
    }
  });
}

}  // namespace

void gemm_direct_batched(int64_t count, int64_t rows, const float* a,
                         const PackedConvKernel* kernels, float* c) {
  if (count <= 0 || rows <= 0) return;
  const PackedConvKernel& k0 = kernels[0];
  if (k0.math != DirectMath::bf16_avx512) return run_batched(count, rows, a, kernels, c);
  // bf16: every matrix of a rounded at once (one pass, C rounded up to even as the tiles read it).
  CATDOG_CHECK(direct_math_supported(k0.math), "direct convolution ", direct_math_name(k0.math),
               ": this CPU lacks the instructions it needs");
  const WindowGeometry all = make_window_geometry(1, count * rows, 1, k0.c, 1, 1, 1, 1, false, k0.f);
  run_batched(count, rows, input_as_bf16(all, a, round_up(k0.c, 2)), kernels, c);
}

void gemm_direct_batched_bf16(int64_t count, int64_t rows, const uint16_t* a,
                              const PackedConvKernel* kernels, float* c) {
  if (count <= 0 || rows <= 0) return;
  CATDOG_CHECK(kernels[0].math == DirectMath::bf16_avx512,
               "batched GEMM: bf16 input needs kernels packed for bf16, got ",
               direct_math_name(kernels[0].math));
  run_batched(count, rows, a, kernels, c);
}

void conv2d_direct_forward_nhwc(const WindowGeometry& g, const float* x, const float* kernel,
                                const float* bias, Activation act, float* y, DirectMath math) {
  conv2d_direct_forward_packed(g, x, pack_conv_kernel(g, kernel, math), bias, act, y);
}

}  // namespace catdog::cpu
