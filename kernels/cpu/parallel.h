// A small parallel-for for the CPU kernels' own loops (OpenBLAS threads its GEMMs itself).
//
// Threads are plain std::threads started per call: the loops that use this helper move megabytes
// per call (im2col, pooling, bias + activation over a whole layer output), so a thread start
// (~20 us) is noise there, and a loop too small to pay for one runs inline.
#pragma once

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace catdog::cpu {

// Threads the CPU kernels use: $CATDOG_THREADS when set (>= 1), else the hardware's count.
int cpu_threads();
// Override cpu_threads() (and OpenBLAS' thread count) for this process, e.g. from a benchmark.
// 0 restores the default.
void set_cpu_threads(int threads);

// Run body(begin, end) over [0, n) split into at most cpu_threads() contiguous chunks, each at
// least `grain` items long (so small loops stay on the calling thread).
template <class Body>
void parallel_for(int64_t n, int64_t grain, const Body& body) {
  if (n <= 0) return;
  const int64_t max_chunks = std::max<int64_t>(1, n / std::max<int64_t>(grain, 1));
  const int64_t chunks = std::min<int64_t>(cpu_threads(), max_chunks);
  if (chunks <= 1) {
    body(int64_t{0}, n);
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(chunks - 1));
  const int64_t step = (n + chunks - 1) / chunks;
  for (int64_t c = 1; c < chunks; ++c) {
    const int64_t begin = c * step, end = std::min(n, begin + step);
    if (begin < end) workers.emplace_back([&body, begin, end] { body(begin, end); });
  }
  body(int64_t{0}, std::min(n, step));  // the calling thread takes the first chunk
  for (auto& w : workers) w.join();
}

}  // namespace catdog::cpu
