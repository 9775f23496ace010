#include "kernels/cpu/parallel.h"

#include <atomic>
#include <cstdlib>

#include <cblas.h>

namespace catdog::cpu {

namespace {

std::atomic<int> g_override{0};

int default_threads() {
  if (const char* env = std::getenv("CATDOG_THREADS"); env && *env) {
    const int n = std::atoi(env);
    if (n >= 1) {
      openblas_set_num_threads(n);  // one knob for both our loops and the GEMMs
      return n;
    }
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

int cpu_threads() {
  const int forced = g_override.load(std::memory_order_relaxed);
  if (forced > 0) return forced;
  static const int fallback = default_threads();
  return fallback;
}

void set_cpu_threads(int threads) {
  g_override.store(threads > 0 ? threads : 0, std::memory_order_relaxed);
  openblas_set_num_threads(cpu_threads());
}

}  // namespace catdog::cpu
