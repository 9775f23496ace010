// The lab's driver: conv_lab <version|all> [--layer NAME|all|smoke] [--batch N] [--repeat R]
//
// For each VGG16 layer shape (3x3, stride 1, 'same', relu; or the tiny `smoke` shapes) it makes
// one problem with VGG-like magnitudes (inputs in [0, 1), kernel uniform within
// sqrt(6 / (9 C)), bias within 0.05), runs version 1 as the reference, then each chosen version:
// max |y - y_v1| / max |y_v1|, the best of R timed runs in ms, GFLOP/s of direct-convolution
// FLOPs (2 N OH OW 9 C F) and that rate as % of the FMA peak measured here first (12 independent
// FMA chains per thread, AVX-512 or AVX2, on every thread). Exit status 1 when any version's error
// is above 1e-4 (the bound the product holds against PyTorch), 2 on bad arguments.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks/conv_lab/conv_lab.h"
#include "core/random.h"
#include "kernels/cpu/parallel.h"

namespace catdog::lab {

namespace {

std::vector<LabVersion>& registry() {
  static std::vector<LabVersion> versions;
  return versions;
}

struct LabLayer {
  const char* name;
  int size, channels, filters;
};

const LabLayer kVgg16[] = {
    {"block1_conv1", 224, 3, 64},   {"block1_conv2", 224, 64, 64},  {"block2_conv1", 112, 64, 128},
    {"block2_conv2", 112, 128, 128}, {"block3_conv1", 56, 128, 256}, {"block3_conv2", 56, 256, 256},
    {"block3_conv3", 56, 256, 256}, {"block4_conv1", 28, 256, 512}, {"block4_conv2", 28, 512, 512},
    {"block4_conv3", 28, 512, 512}, {"block5_conv1", 14, 512, 512}, {"block5_conv2", 14, 512, 512},
    {"block5_conv3", 14, 512, 512},
};
// Sides that are not multiples of the tiles, channels that are not multiples of 16.
const LabLayer kSmoke[] = {{"smoke_a", 9, 3, 8}, {"smoke_b", 7, 19, 21}, {"smoke_c", 12, 32, 16}};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

constexpr int kChains = 12;

// FLOPs of `iters` rounds of 12 independent FMA chains; the sum keeps the chains alive.
__attribute__((target("avx512f"))) double fma_chains_avx512(int64_t iters, float* sink) {
  __m512 acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = _mm512_set1_ps(static_cast<float>(k));
  const __m512 mul = _mm512_set1_ps(0.999999f), add = _mm512_set1_ps(1e-6f);
  for (int64_t i = 0; i < iters; ++i) {
    for (int k = 0; k < kChains; ++k) acc[k] = _mm512_fmadd_ps(acc[k], mul, add);
  }
  __m512 s = acc[0];
  for (int k = 1; k < kChains; ++k) s = _mm512_add_ps(s, acc[k]);
  *sink = _mm512_reduce_add_ps(s);
  return 2.0 * 16 * kChains * static_cast<double>(iters);
}

__attribute__((target("avx2,fma"))) double fma_chains_avx2(int64_t iters, float* sink) {
  __m256 acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = _mm256_set1_ps(static_cast<float>(k));
  const __m256 mul = _mm256_set1_ps(0.999999f), add = _mm256_set1_ps(1e-6f);
  for (int64_t i = 0; i < iters; ++i) {
    for (int k = 0; k < kChains; ++k) acc[k] = _mm256_fmadd_ps(acc[k], mul, add);
  }
  __m256 s = acc[0];
  for (int k = 1; k < kChains; ++k) s = _mm256_add_ps(s, acc[k]);
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  *sink = lanes[0] + lanes[7];
  return 2.0 * 8 * kChains * static_cast<double>(iters);
}

// The machine's fp32 FMA peak in GFLOP/s on cpu_threads() threads: the best of 3 runs.
double measured_peak_gflops(const char** isa) {
  const bool avx512 = __builtin_cpu_supports("avx512f");
  *isa = avx512 ? "AVX-512" : "AVX2";
  const int threads = cpu::cpu_threads();
  const int64_t iters = 20'000'000;
  double best = 0;
  for (int run = 0; run < 3; ++run) {
    std::vector<float> sinks(static_cast<size_t>(threads));
    std::vector<double> flops(static_cast<size_t>(threads));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        flops[static_cast<size_t>(t)] = avx512 ? fma_chains_avx512(iters, &sinks[static_cast<size_t>(t)])
                                               : fma_chains_avx2(iters, &sinks[static_cast<size_t>(t)]);
      });
    }
    for (auto& p : pool) p.join();
    const double s = seconds_since(t0);
    double total = 0;
    for (double f : flops) total += f;
    best = std::max(best, total / s * 1e-9);
  }
  return best;
}

std::vector<float> uniform(size_t count, uint64_t stream, double lo, double hi) {
  std::vector<float> v(count);
  for (size_t i = 0; i < count; ++i) {
    const double u = uniform_symmetric(7, stream, i, 1.0);  // [-1, 1)
    v[i] = static_cast<float>(lo + (hi - lo) * (u + 1.0) / 2.0);
  }
  return v;
}

double max_relative_error(const std::vector<float>& y, const std::vector<float>& ref) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(y[i]) - ref[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(ref[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// Best-of time in ms: at least 2 timed runs after one warm-up, more while under `repeat` runs
// and under about a second in all.
double time_ms(const TimedBody& body, float* y, int repeat) {
  body(y);
  double best = 1e30, total = 0;
  for (int r = 0; r < std::max(repeat, 2) && (r < 2 || total < 1.0); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    body(y);
    const double s = seconds_since(t0);
    best = std::min(best, s);
    total += s;
  }
  return best * 1e3;
}

int usage(const char* why) {
  std::fprintf(stderr, "conv_lab: %s (usage: conv_lab <1|2|3|4|all> [--layer NAME|all|smoke] "
                       "[--batch N] [--repeat R])\n", why);
  return 2;
}

}  // namespace

bool register_lab_version(LabVersion version) {
  registry().push_back(std::move(version));
  return true;
}

int run(int argc, char** argv) {
  if (argc < 2) return usage("no version given");
  const std::string which = argv[1];
  std::string layer = "all";
  int64_t batch = 1;
  int repeat = 5;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage(("no value after " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--layer") layer = v;
    else if (a == "--batch") batch = std::atoll(v.c_str());
    else if (a == "--repeat") repeat = std::atoi(v.c_str());
    else return usage(("unknown option " + a).c_str());
  }
  if (batch < 1 || repeat < 1) return usage("--batch and --repeat must be positive");
  std::vector<const LabVersion*> chosen;
  std::sort(registry().begin(), registry().end(),
            [](const LabVersion& a, const LabVersion& b) { return a.number < b.number; });
  const LabVersion* reference = nullptr;
  for (const LabVersion& v : registry()) {
    if (v.number == 1) reference = &v;
    if (which == "all" || which == std::to_string(v.number)) chosen.push_back(&v);
  }
  if (!reference) return usage("version 1 is not built in");
  if (chosen.empty()) return usage(("no version " + which + " in this build").c_str());
  std::vector<LabLayer> layers;
  const bool smoke = layer == "smoke";
  for (const LabLayer& l : smoke ? std::vector<LabLayer>(std::begin(kSmoke), std::end(kSmoke))
                                 : std::vector<LabLayer>(std::begin(kVgg16), std::end(kVgg16))) {
    if (smoke || layer == "all" || layer == l.name) layers.push_back(l);
  }
  if (layers.empty()) return usage(("unknown layer " + layer).c_str());

  const char* isa = "";
  const double peak = measured_peak_gflops(&isa);
  std::printf("FMA peak: %.1f GFLOP/s (%s, %d threads, %d chains a thread); batch %lld\n", peak,
              isa, cpu::cpu_threads(), kChains, static_cast<long long>(batch));
  std::printf("%-13s %-2s %-26s %10s %9s %7s %11s\n", "layer", "v", "version", "ms", "GFLOP/s",
              "% peak", "max rel err");
  bool all_ok = true;
  for (const LabLayer& l : layers) {
    const WindowGeometry g =
        make_window_geometry(batch, l.size, l.size, l.channels, 3, 3, 1, 1, true, l.filters);
    const std::vector<float> x = uniform(static_cast<size_t>(g.n * g.h * g.w * g.c), 0, 0.0, 1.0);
    const double limit = std::sqrt(6.0 / (9.0 * l.channels));
    const std::vector<float> kernel = uniform(static_cast<size_t>(9 * g.c * g.f), 1, -limit, limit);
    const std::vector<float> bias = uniform(static_cast<size_t>(g.f), 2, -0.05, 0.05);
    const LabProblem problem{g, x.data(), kernel.data(), bias.data()};
    std::vector<float> ref(static_cast<size_t>(g.out_rows() * g.f)), y(ref.size());
    reference->prepare(problem)(ref.data());
    const double gflop = 2.0 * g.out_rows() * 9.0 * g.c * g.f * 1e-9;
    for (const LabVersion* v : chosen) {
      const TimedBody body = v->prepare(problem);
      std::fill(y.begin(), y.end(), -1.0f);
      const double ms = time_ms(body, y.data(), v->number == 1 ? 1 : repeat);
      const double err = max_relative_error(y, ref);
      const bool ok = err <= v->tolerance;
      all_ok = all_ok && ok;
      std::printf("%-13s %-2d %-26s %10.2f %9.1f %6.1f%% %11.2e%s\n", l.name, v->number,
                  v->name.c_str(), ms, gflop / (ms * 1e-3), 100.0 * gflop / (ms * 1e-3) / peak,
                  err, ok ? "" : "  ABOVE THE TOLERANCE");
      std::fflush(stdout);
    }
  }
  return all_ok ? 0 : 1;
}

}  // namespace catdog::lab

int main(int argc, char** argv) { return catdog::lab::run(argc, argv); }
