// The transfer-learning head's training step on the CPU: Flatten (7x7x512 = 25088) -> Dense 128
// relu -> Dense 1 (logits) -> fused sigmoid + BCE -> backward -> SGD momentum, batch N (arg).
//
// With the feature cache, this step is all that epochs 2..N of `catdog train --device cpu` cost,
// so its images/s bounds those epochs. About 2 x 2 x 25088 x 128 FLOP an image (forward and the
// weight gradient): 12.8 MFLOP, 0.8 GFLOP a batch of 64.
//   ./cpu_head_bench --benchmark_min_time=0.01     (smoke, a second)
//   ./cpu_head_bench                                (the figure)
#include <benchmark/benchmark.h>

#include "benchmarks/bench_support.h"

namespace catdog::bench {
namespace {

void BM_HeadStepCpu(benchmark::State& state) {
  guarded(state, [&] {
    const int64_t batch = state.range(0);
    HeadStep step(batch, "cpu");
    step.run();  // velocities are created on the first step
    double seconds = 0;
    for (auto _ : state) seconds += seconds_of([&] { benchmark::DoNotOptimize(step.run()); });
    const double iterations = static_cast<double>(state.iterations());
    state.counters["images_per_s"] = static_cast<double>(batch) * iterations / seconds;
    state.counters["GFLOP_per_s"] = HeadStep::flops(batch) * iterations / seconds / 1e9;
  });
}
BENCHMARK(BM_HeadStepCpu)->Name("HeadStep/cpu")->Arg(64)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace catdog::bench

BENCHMARK_MAIN();
