// The frozen VGG16 base on the GPU, measured piece by piece (issue 7):
//
//   GemmPeak/<precision>/<size>      cuBLAS GEMM on random data: the ceiling the convolutions are
//                                    judged against (pct_of_bf16_gemm_peak in the later counters)
//   VGG16Layer/<precision>/<layer>   one layer's forward at 224x224, batch N (arg, 64 by default)
//   VGG16Base/<precision>            the whole frozen base forward, float32 in and out
//   HeadStep/gpu                     one SGD step of Flatten -> Dense 128 relu -> Dense 1
//   PeakMemory/train_step_fp32       peak device memory of a whole training step (base + head)
//
// Precisions: fp32 (strict FMA math), tf32 (fp32 storage, tensor-core math), fp16 and bf16
// (half-width storage, tensor cores, fp32 accumulation). Counters: images_per_s, TFLOP_per_s
// (2 FLOP per multiply-add) and, once GemmPeak/bf16 ran, pct_of_bf16_gemm_peak.
//
// Each iteration is timed by hand (queue the work, wait for the GPU, read the wall clock), so a
// figure is what a caller waiting for the result sees, launch overhead included.
//
// Without a GPU every benchmark is skipped with the reason, so CI can run the binary as a smoke
// run: ./gpu_vgg16_bench --benchmark_min_time=0.01
// On a GPU (docs/PERFORMANCE.md, "GPU: how to reproduce"):
//   ./gpu_vgg16_bench --benchmark_min_time=0.1 --benchmark_format=csv > vgg16.csv
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "benchmarks/bench_support.h"
#include "core/context.h"
#include "core/device.h"
#include "core/tensor.h"

#if CATDOG_WITH_CUDA
#include <cublas_v2.h>

#include "core/cuda_checks.h"
#include "core/cuda_context.h"
#include "kernels/conv_layout.h"
#endif

namespace catdog::bench {
namespace {

constexpr int kImageSize = 224;
const char* const kPrecisions[] = {"fp32", "tf32", "fp16", "bf16"};

// The measured bf16 GEMM rate (TFLOP/s), once GemmPeak/bf16 has run; 0 before.
double g_bf16_gemm_tflops = 0.0;

// Storage type of the frozen part's activations for a precision (tf32 keeps float32 storage).
DType storage_dtype(const std::string& precision) {
  if (precision == "fp16") return DType::f16;
  if (precision == "bf16") return DType::bf16;
  return DType::f32;
}

// False (benchmark marked skipped, with the reason) when this GPU cannot run `precision`.
bool require_precision(benchmark::State& state, const std::string& precision) {
  const std::string why = precision_unsupported_reason(precision.c_str());
  if (why.empty()) return true;
  state.SkipWithError(("precision " + precision + ": " + why).c_str());
  return false;
}

// The figures every throughput benchmark reports, from the summed time of its iterations.
void report(benchmark::State& state, double seconds, int64_t images_per_iteration,
            double flops_per_iteration) {
  const double iterations = static_cast<double>(state.iterations());
  if (seconds <= 0 || iterations <= 0) return;
  state.counters["images_per_s"] = images_per_iteration * iterations / seconds;
  if (flops_per_iteration > 0) {
    const double tflops = flops_per_iteration * iterations / seconds / 1e12;
    state.counters["TFLOP_per_s"] = tflops;
    if (g_bf16_gemm_tflops > 0) {
      state.counters["pct_of_bf16_gemm_peak"] = 100.0 * tflops / g_bf16_gemm_tflops;
    }
  }
}

// Run `step` once untimed (cuDNN plans, algorithm choice, weight conversion happen on the first
// call), then time each iteration until the GPU is idle again.
template <class Step>
double time_gpu_iterations(benchmark::State& state, Step&& step) {
  step();
  device_synchronize();
  double total = 0;
  for (auto _ : state) {
    const double s = seconds_of([&] {
      step();
      device_synchronize();
    });
    state.SetIterationTime(s);
    total += s;
  }
  return total;
}

#if CATDOG_WITH_CUDA

// The VGG16 base with reference weights, on the GPU, made once per process.
Sequential& gpu_vgg16() {
  static Sequential model = [] {
    Sequential m = make_vgg16_base(kImageSize);
    m.to_device(Device::cuda);
    return m;
  }();
  return model;
}

// A GPU tensor of `shape` in `dtype` with values uniform in [0, hi), standing in for real
// activations (ReLU outputs are non-negative). A tile of 2^20 random floats is made on the host and
// repeated on the device: generating hundreds of millions of values on the host (64 x 224 x 224 x
// 64 is 205 M) would cost more time than the benchmark itself.
Tensor random_gpu_tensor(const Shape& shape, DType dtype, float hi, uint64_t stream) {
  const int64_t n = numel(shape), tile = std::min<int64_t>(n, int64_t{1} << 20);
  std::vector<float> host(static_cast<size_t>(tile));
  for (size_t i = 0; i < host.size(); ++i) {
    host[i] = static_cast<float>(hi * uniform01(7, stream, i));
  }
  const Tensor tile_gpu = Tensor::from_vector({tile}, host).to(Device::cuda);
  Tensor f32(shape, DType::f32, Device::cuda);
  for (int64_t at = 0; at < n; at += tile) {
    const int64_t count = std::min(tile, n - at);
    copy_device_to_device(f32.f32() + at, tile_gpu.f32(),
                          static_cast<size_t>(count) * sizeof(float));
  }
  if (dtype == DType::f32) return f32;
  Tensor out(shape, dtype, Device::cuda);
  cuda::convert_elements(f32.raw(), DType::f32, out.raw(), dtype, n,
                         cuda::default_context().compute);
  device_synchronize();
  return out;
}

cudaDataType_t cuda_type(const std::string& precision) {
  if (precision == "bf16") return CUDA_R_16BF;
  if (precision == "fp16") return CUDA_R_16F;
  return CUDA_R_32F;
}

// C (n x n) = A (n x n) B (n x n) through cublasGemmEx, with float32 accumulation; tf32 uses the
// tensor cores on float32 data, fp32 asks for strict (pedantic) float32 math.
void BM_GemmPeak(benchmark::State& state, const std::string& precision) {
  if (!require_gpu(state) || !require_precision(state, precision)) return;
  const int n = static_cast<int>(state.range(0));
  const DType dtype = storage_dtype(precision);
  const Tensor a = random_gpu_tensor({n, n}, dtype, 1.0f, 1);
  const Tensor b = random_gpu_tensor({n, n}, dtype, 1.0f, 2);
  Tensor c({n, n}, dtype, Device::cuda);
  CudaContext& cuda = cuda::default_context();
  const cublasComputeType_t compute = precision == "tf32"   ? CUBLAS_COMPUTE_32F_FAST_TF32
                                      : precision == "fp32" ? CUBLAS_COMPUTE_32F_PEDANTIC
                                                            : CUBLAS_COMPUTE_32F;
  const cudaDataType_t type = cuda_type(precision);
  const float one = 1.0f, zero = 0.0f;
  const double seconds = time_gpu_iterations(state, [&] {
    cublasCheck(cublasGemmEx(cuda.cublas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a.raw(), type,
                             n, b.raw(), type, n, &zero, c.raw(), type, n, compute,
                             CUBLAS_GEMM_DEFAULT),
                "GEMM peak probe ", precision, " ", n, "x", n, "x", n);
  });
  const double flops = 2.0 * n * static_cast<double>(n) * n;
  state.counters["TFLOP_per_s"] = flops * static_cast<double>(state.iterations()) / seconds / 1e12;
  if (precision == "bf16") g_bf16_gemm_tflops = state.counters["TFLOP_per_s"];
}

// One layer of the frozen base: x is what the previous layer would hand it, in the precision's
// storage type; y is the layer's output buffer, reused every iteration.
void BM_VGG16Layer(benchmark::State& state, const std::string& precision, size_t index) {
  if (!require_gpu(state) || !require_precision(state, precision)) return;
  const int64_t batch = state.range(0);
  Sequential& model = gpu_vgg16();
  Layer& layer = model.layer(index);
  const Shape in_shape = index == 0 ? Shape{batch, kImageSize, kImageSize, 3}
                                    : model.layer_output_shape(index - 1, batch);
  const Shape out_shape = model.layer_output_shape(index, batch);
  const DType dtype = storage_dtype(precision);
  const Tensor x = random_gpu_tensor(in_shape, dtype, index == 0 ? 128.0f : 2.0f, 3 + index);
  Tensor y(out_shape, dtype, Device::cuda);
  ExecContext ctx = make_exec_context("cuda", precision, 1);
  const double seconds = time_gpu_iterations(state, [&] { layer.forward(x, y, ctx); });
  report(state, seconds, batch, forward_flops(layer, in_shape, out_shape));
  state.SetLabel(to_string(in_shape) + " -> " + to_string(out_shape));
}

// The whole frozen base: float32 pixels in (already preprocessed), float32 features out, with the
// conversions to and from fp16/bf16 inside the measured time (the trainer pays them too).
void BM_VGG16Base(benchmark::State& state, const std::string& precision) {
  if (!require_gpu(state) || !require_precision(state, precision)) return;
  const int64_t batch = state.range(0);
  Sequential& model = gpu_vgg16();
  const Tensor x = random_gpu_tensor({batch, kImageSize, kImageSize, 3}, DType::f32, 128.0f, 50);
  ExecContext ctx = make_exec_context("cuda", precision, 1);
  double flops = 0;
  Shape in_shape = x.shape();
  for (size_t i = 0; i < model.size(); ++i) {
    const Shape out_shape = model.layer_output_shape(i, batch);
    flops += forward_flops(model.layer(i), in_shape, out_shape);
    in_shape = out_shape;
  }
  const double seconds = time_gpu_iterations(state, [&] { model.forward(x, ctx); });
  report(state, seconds, batch, flops);
  state.counters["GFLOP_per_image"] = flops / static_cast<double>(batch) / 1e9;
}

// Peak device memory of one fp32 training step of the whole transfer model (VGG16 frozen base +
// head, batch N): weights, ping-pong activations, cuDNN workspace, head activations and
// gradients. Measured as the allocator's peak above what was in use before the model was made.
void BM_PeakMemory(benchmark::State& state) {
  if (!require_gpu(state)) return;
  const int64_t batch = state.range(0);
  device_synchronize();
  const size_t before = device_memory_stats().in_use;
  reset_device_memory_peak();
  double peak_mib = 0;
  {
    Sequential base = make_vgg16_base(kImageSize, 2);
    base.to_device(Device::cuda);
    HeadStep head(batch, "cuda");
    const Tensor x = random_gpu_tensor({batch, kImageSize, kImageSize, 3}, DType::f32, 128.0f, 60);
    ExecContext ctx = make_exec_context("cuda", "fp32", 1);
    for (auto _ : state) {
      head.features.copy_from(base.forward(x, ctx));
      benchmark::DoNotOptimize(head.run());
      device_synchronize();
    }
    peak_mib = static_cast<double>(device_memory_stats().peak - before) / (1024.0 * 1024.0);
  }
  state.counters["peak_MiB"] = peak_mib;
  state.counters["reserved_MiB"] =
      static_cast<double>(device_memory_stats().reserved) / (1024.0 * 1024.0);
  state.SetLabel("target: at most 2048 MiB at batch 64 fp32");
}

#else  // no CUDA backend: the same names, skipped with the reason

void BM_GemmPeak(benchmark::State& state, const std::string&) { require_gpu(state); }
void BM_VGG16Layer(benchmark::State& state, const std::string&, size_t) { require_gpu(state); }
void BM_VGG16Base(benchmark::State& state, const std::string&) { require_gpu(state); }
void BM_PeakMemory(benchmark::State& state) { require_gpu(state); }

#endif

void BM_HeadStep(benchmark::State& state) {
  if (!require_gpu(state)) return;
  const int64_t batch = state.range(0);
  HeadStep step(batch, "cuda");
  const double seconds = time_gpu_iterations(state, [&] { step.run(); });
  report(state, seconds, batch, HeadStep::flops(batch));
}

// Register `body` under `name`, guarded (an exception marks that benchmark failed, with its
// message), with batch (or matrix size) `arg`, timed by hand.
template <class Body>
benchmark::internal::Benchmark* add(const std::string& name, int64_t arg, Body body) {
  return benchmark::RegisterBenchmark(name.c_str(),
                                      [body](benchmark::State& state) {
                                        guarded(state, [&] { body(state); });
                                      })
      ->Arg(arg)
      ->Unit(benchmark::kMillisecond);
}

void register_benchmarks() {
  // First, so the peak is not hidden by blocks (cuDNN workspace) earlier benchmarks left cached.
  add("PeakMemory/train_step_fp32", 64, BM_PeakMemory)->Iterations(3);
  for (std::string precision : kPrecisions) {
    add("GemmPeak/" + precision, 8192, [=](benchmark::State& s) { BM_GemmPeak(s, precision); })
        ->UseManualTime();
  }
  // Layer names only: the config is parsed but not built (no weights made).
  const Sequential names = parse_model_config(builtin_model_config("vgg16")).model;
  for (std::string precision : kPrecisions) {
    for (size_t i = 0; i < names.size(); ++i) {
      add("VGG16Layer/" + precision + "/" + names.layer(i).name(), 64,
          [=](benchmark::State& s) { BM_VGG16Layer(s, precision, i); })
          ->UseManualTime();
    }
  }
  for (std::string precision : kPrecisions) {
    add("VGG16Base/" + precision, 64, [=](benchmark::State& s) { BM_VGG16Base(s, precision); })
        ->UseManualTime();
  }
  add("HeadStep/gpu", 64, BM_HeadStep)->UseManualTime();
}

}  // namespace
}  // namespace catdog::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::printf("device: %s\n", catdog::cuda_device_description().c_str());
  catdog::bench::register_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
