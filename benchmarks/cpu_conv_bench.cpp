// CPU convolution speed: every VGG16 convolution at 224x224 (im2col + OpenBLAS sgemm), and the
// whole VGG16 conv base forward (13 convolutions + 5 pools) as the trainer runs it on the CPU.
//
//   build/benchmarks/cpu_conv_bench --benchmark_filter=Vgg16Conv/       per layer, GFLOP/s
//   build/benchmarks/cpu_conv_bench --benchmark_filter=Vgg16ConvBase/   images/s at batch 1 and 8
//   CATDOG_BENCH_THREADS=1 ...                                          threads (default 2)
//   CATDOG_BENCH_IM2COL_FLOATS=262144 ...    im2col chunk size in floats (default: the engine's)
//
// FLOP = 2 * N * OH * OW * KH * KW * C * F (multiply-adds x 2; bias and ReLU not counted). The
// peer: benchmarks/peer/torch_cpu_vgg16.py times PyTorch on the same conv base; the figures are
// in docs/PERFORMANCE.md. The *Smoke benchmarks are tiny versions for CI's smoke run.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "benchmarks/bench_support.h"
#include "engine/sequential.h"
#include "kernels/cpu/conv2d.h"
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

// The whole conv base, through Sequential (frozen: ping-pong buffers, no activations kept).
void run_conv_base(benchmark::State& state, int image_size) {
  ExecContext ctx = bench_context();
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

void BM_Vgg16ConvBase(benchmark::State& state) { run_conv_base(state, 224); }
BENCHMARK(BM_Vgg16ConvBase)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

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
  }
  return true;
}();

}  // namespace
}  // namespace catdog

BENCHMARK_MAIN();
