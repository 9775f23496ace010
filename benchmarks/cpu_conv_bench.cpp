// CPU convolution speed: every VGG16 convolution at 224x224 (im2col + OpenBLAS sgemm), and the
// whole VGG16 conv base forward (13 convolutions + 5 pools) as the trainer runs it on the CPU.
//
//   build/benchmarks/cpu_conv_bench --benchmark_filter=Vgg16Conv/       per layer, GFLOP/s
//   build/benchmarks/cpu_conv_bench --benchmark_filter=Vgg16ConvBase/   images/s at batch 1 and 8
//   ... Vgg16ConvDirect/ Vgg16ConvBf16/    per layer: the direct kernel (kernels/cpu/conv_direct.h),
//                                          its kernel packed before timing, fp32 and bf16
//   ... Vgg16ConvBase(Im2col|Winograd4|Direct|Bf16)/ the whole base with that algorithm forced
//                                          (BM_Vgg16ConvBase: the product.s choice), bf16 (--precision bf16)
//   ... FmaPeak                            the FMA peak: 12 independent AVX-512 FMA chains a thread
//   CATDOG_BENCH_THREADS=1 ...                                          threads (default 2)
//   CATDOG_BENCH_BASE_SIZE=32 CATDOG_BENCH_BASE_BATCHES="1 2" ...  Vgg16ConvBase's image side and
//                                        batches (default 224 and "1 8"; benchmarks/peer/cpu_peers.py)
//   CATDOG_BENCH_IM2COL_FLOATS=262144 ...    im2col chunk size in floats (default: the engine's)
//   CATDOG_BENCH_CONV_ALGO=winograd4 ...     --conv-algo for every benchmark (default: auto)
// BM_Vgg16ConvBaseIm2col is the conv base with im2col forced, beside the default (auto) choice.
//
// FLOP = 2 * N * OH * OW * KH * KW * C * F (multiply-adds x 2; bias and ReLU not counted). The
// peer: benchmarks/peer/torch_cpu_vgg16.py times PyTorch on the same conv base; the figures are
// in docs/PERFORMANCE.md. The *Smoke benchmarks are tiny versions for CI's smoke run.
#include <benchmark/benchmark.h>

#include <immintrin.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "benchmarks/bench_support.h"
#include "engine/sequential.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/parallel.h"
#include "layers/conv2d.h"

namespace catdog {
namespace {

int bench_threads() {
  const char* env = std::getenv("CATDOG_BENCH_THREADS");
  return env && std::atoi(env) > 0 ? std::atoi(env) : 2;
}

// VGG16's 13 convolutions: input size, input channels, filters (all 3x3, stride 1, 'same', relu).
struct VggConv {
  const char* name;
  int size, channels, filters;
};
const VggConv kVggConvs[] = {
    {"block1_conv1", 224, 3, 64},    {"block1_conv2", 224, 64, 64},
    {"block2_conv1", 112, 64, 128},  {"block2_conv2", 112, 128, 128},
    {"block3_conv1", 56, 128, 256},  {"block3_conv2", 56, 256, 256},
    {"block3_conv3", 56, 256, 256},  {"block4_conv1", 28, 256, 512},
    {"block4_conv2", 28, 512, 512},  {"block4_conv3", 28, 512, 512},
    {"block5_conv1", 14, 512, 512},  {"block5_conv2", 14, 512, 512},
    {"block5_conv3", 14, 512, 512},
};

// The thread count for this process, and a CPU context with the im2col budget of the run.
ExecContext bench_context() {
  cpu::set_cpu_threads(bench_threads());
  ExecContext ctx;
  const char* env = std::getenv("CATDOG_BENCH_IM2COL_FLOATS");
  if (env && std::atoll(env) > 0) ctx.im2col_floats = std::atoll(env);
  const char* algo = std::getenv("CATDOG_BENCH_CONV_ALGO");
  if (algo && *algo) ctx.conv_algo = parse_conv_algo(algo);
  return ctx;
}

// One 3x3 'same' relu convolution of `filters` over (batch, size, size, channels).
void run_conv(benchmark::State& state, int size, int channels, int filters) {
  ExecContext ctx = bench_context();
  const int64_t batch = state.range(0);
  Conv2DConfig config;
  config.filters = filters;
  config.padding = Padding::same;
  config.activation = Activation::relu;
  Conv2D conv("conv", config);
  const Shape in = {batch, size, size, channels};
  conv.build(in);
  for (Param* p : conv.params()) p->value.fill(0.01f);
  Tensor x(in), y(conv.output_shape(in));
  x.fill(0.5f);
  for (auto _ : state) {
    conv.forward(x, y, ctx);
    benchmark::DoNotOptimize(y.raw());
  }
  const double flops = 2.0 * batch * size * size * 9.0 * channels * filters;
  state.counters["GFLOP"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = cpu::cpu_threads();
}

void BM_Conv2DSmoke(benchmark::State& state) { run_conv(state, 16, 8, 16); }
BENCHMARK(BM_Conv2DSmoke)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// The direct kernel alone on one VGG16 layer shape, its kernel packed before the timed loop.
void run_direct_conv(benchmark::State& state, int size, int channels, int filters,
                     cpu::DirectMath math) {
  bench_context();
  if (!cpu::direct_math_supported(math)) {
    state.SkipWithError("this CPU lacks the instructions");
    return;
  }
  const int64_t batch = state.range(0);
  const WindowGeometry g =
      make_window_geometry(batch, size, size, channels, 3, 3, 1, 1, true, filters);
  const std::vector<float> kernel(static_cast<size_t>(9 * channels * filters), 0.01f);
  const std::vector<float> bias(static_cast<size_t>(filters), 0.01f);
  const cpu::PackedConvKernel packed = cpu::pack_conv_kernel(g, kernel.data(), math);
  std::vector<float> x(static_cast<size_t>(batch * size * size * channels), 0.5f);
  std::vector<float> y(static_cast<size_t>(g.out_rows() * filters));
  for (auto _ : state) {
    cpu::conv2d_direct_forward_packed(g, x.data(), packed, bias.data(), Activation::relu, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  const double flops = 2.0 * batch * size * size * 9.0 * channels * filters;
  state.counters["GFLOP"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = cpu::cpu_threads();
}

// 12 independent FMA chains per thread on every thread: the FMA peak the kernels are measured
// against (GFLOP = 2 x 16 lanes per FMA).
__attribute__((target("avx512f"))) double fma_chains(int64_t iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  float lanes[16];
  __m512 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm512_add_ps(sum, acc[i]);
  _mm512_storeu_ps(lanes, sum);
  return lanes[0];
}

// The same with vdpbf16ps (32 multiply-adds an instruction, counted as 64 flops).
__attribute__((target("avx512f,avx512bf16"))) double dpbf16_chains(int64_t iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f803f80), b = (__m512bh)_mm512_set1_epi32(0x33d633d6);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  }
  float lanes[16];
  __m512 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm512_add_ps(sum, acc[i]);
  _mm512_storeu_ps(lanes, sum);
  return lanes[0];
}

// Runs `chains` on every thread; `flops` a call per thread.
void run_peak(benchmark::State& state, bool available, double (*chains)(int64_t), double flops) {
  bench_context();
  if (!available) {
    state.SkipWithError("this CPU lacks the instructions");
    return;
  }
  const int64_t iterations = 1 << 22;
  const int threads = cpu::cpu_threads();
  for (auto _ : state) {
    cpu::parallel_for(threads, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) benchmark::DoNotOptimize(chains(iterations));
    });
  }
  state.counters["GFLOP"] = benchmark::Counter(threads * iterations * flops * 1e-9,
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = threads;
}

void BM_Bf16DotPeak(benchmark::State& state) {
  run_peak(state, cpu::cpu_features().avx512_bf16, dpbf16_chains, 12.0 * 64.0);
}
BENCHMARK(BM_Bf16DotPeak)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_FmaPeak(benchmark::State& state) {
  run_peak(state, cpu::cpu_features().avx512, fma_chains, 12.0 * 32.0);
}
BENCHMARK(BM_FmaPeak)->Unit(benchmark::kMillisecond)->UseRealTime();

enum class BaseMath { product, im2col, winograd4, direct, bf16 };

// The whole conv base, through Sequential (frozen: ping-pong buffers, no activations kept).
void run_conv_base(benchmark::State& state, int image_size, BaseMath math = BaseMath::product) {
  ExecContext ctx = bench_context();
  if (math == BaseMath::bf16) {
    if (!cpu::cpu_features().avx512_bf16) {
      state.SkipWithError("no AVX512_BF16");
      return;
    }
    ctx.precision = Precision::bf16;
  }
  if (math == BaseMath::im2col) ctx.conv_algo = ConvAlgo::im2col;
  if (math == BaseMath::winograd4) ctx.conv_algo = ConvAlgo::winograd4;
  if (math == BaseMath::direct) ctx.conv_algo = ConvAlgo::direct;
  const int64_t batch = state.range(0);
  Sequential model = bench::make_vgg16_base(image_size);
  Tensor x({batch, image_size, image_size, 3});
  x.fill(0.5f);
  model.forward(x, ctx);  // warm: buffers allocated, im2col scratch grown
  for (auto _ : state) {
    benchmark::DoNotOptimize(model.forward(x, ctx).raw());
  }
  state.counters["images"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = cpu::cpu_threads();
}

// $CATDOG_BENCH_BASE_SIZE, else 224; the batches from $CATDOG_BENCH_BASE_BATCHES, else 1 and 8.
int base_image_size() {
  const char* env = std::getenv("CATDOG_BENCH_BASE_SIZE");
  return env && std::atoi(env) >= 32 ? std::atoi(env) : 224;
}
void base_batches(benchmark::internal::Benchmark* bench) {
  const char* env = std::getenv("CATDOG_BENCH_BASE_BATCHES");
  std::istringstream batches(env && *env ? env : "1 8");
  for (int batch; batches >> batch;) bench->Arg(batch);
}

void BM_Vgg16ConvBase(benchmark::State& state) { run_conv_base(state, base_image_size()); }
BENCHMARK(BM_Vgg16ConvBase)->Apply(base_batches)->Unit(benchmark::kMillisecond)->UseRealTime();


void BM_Vgg16ConvBaseIm2col(benchmark::State& state) { run_conv_base(state, 224, BaseMath::im2col); }
BENCHMARK(BM_Vgg16ConvBaseIm2col)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_Vgg16ConvBaseWinograd4(benchmark::State& state) {
  run_conv_base(state, 224, BaseMath::winograd4);
}
BENCHMARK(BM_Vgg16ConvBaseWinograd4)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_Vgg16ConvBaseDirect(benchmark::State& state) {
  run_conv_base(state, 224, BaseMath::direct);
}
BENCHMARK(BM_Vgg16ConvBaseDirect)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_Vgg16ConvBaseBf16(benchmark::State& state) { run_conv_base(state, 224, BaseMath::bf16); }
BENCHMARK(BM_Vgg16ConvBaseBf16)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Vgg16ConvBaseSmoke(benchmark::State& state) { run_conv_base(state, 32); }
BENCHMARK(BM_Vgg16ConvBaseSmoke)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// Registers BM_Vgg16Conv/<layer>/<batch> for each of the 13 layers (batch 1; add more with Arg).
const bool kRegistered = [] {
  for (const VggConv& c : kVggConvs) {
    benchmark::RegisterBenchmark(
        (std::string("BM_Vgg16Conv/") + c.name).c_str(),
        [c](benchmark::State& state) { run_conv(state, c.size, c.channels, c.filters); })
        ->Arg(1)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    const std::pair<const char*, cpu::DirectMath> directs[] = {
        {"BM_Vgg16ConvDirect/", cpu::DirectMath::f32_avx512},
        {"BM_Vgg16ConvDirectAvx2/", cpu::DirectMath::f32_avx2},
        {"BM_Vgg16ConvBf16/", cpu::DirectMath::bf16_avx512}};
    for (const auto& [prefix, math] : directs) {
      benchmark::RegisterBenchmark(
          (std::string(prefix) + c.name).c_str(),
          [c, math = math](benchmark::State& state) {
            run_direct_conv(state, c.size, c.channels, c.filters, math);
          })
          ->Arg(1)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  return true;
}();

}  // namespace
}  // namespace catdog

BENCHMARK_MAIN();
