// Version 1: the definition, as loops. Each output pixel sums 9 * C products per filter, in
// double (this version is the others' reference). The filter loop is innermost so the HWIO
// kernel is read contiguously; output rows are split over the threads.
#include <algorithm>
#include <vector>

#include "benchmarks/conv_lab/conv_lab.h"
#include "kernels/cpu/parallel.h"

namespace catdog::lab {
namespace {

void naive(const LabProblem& p, float* y) {
  const WindowGeometry& g = p.g;
  cpu::parallel_for(g.out_rows(), 1, [&](int64_t begin, int64_t end) {
    std::vector<double> acc(static_cast<size_t>(g.f));
    for (int64_t r = begin; r < end; ++r) {
      const int64_t n = r / (g.oh * g.ow), oh = r / g.ow % g.oh, ow = r % g.ow;
      for (int64_t f = 0; f < g.f; ++f) acc[static_cast<size_t>(f)] = p.bias ? p.bias[f] : 0.0;
      for (int64_t i = 0; i < 3; ++i) {
        const int64_t ih = oh + i - g.pad_top;
        if (ih < 0 || ih >= g.h) continue;
        for (int64_t j = 0; j < 3; ++j) {
          const int64_t iw = ow + j - g.pad_left;
          if (iw < 0 || iw >= g.w) continue;
          const float* xp = p.x + ((n * g.h + ih) * g.w + iw) * g.c;
          for (int64_t c = 0; c < g.c; ++c) {
            const double xv = xp[c];
            const float* k = p.kernel + ((i * 3 + j) * g.c + c) * g.f;
            for (int64_t f = 0; f < g.f; ++f) acc[static_cast<size_t>(f)] += xv * k[f];
          }
        }
      }
      for (int64_t f = 0; f < g.f; ++f) {
        y[r * g.f + f] = static_cast<float>(std::max(acc[static_cast<size_t>(f)], 0.0));
      }
    }
  });
}

const bool kRegistered = register_lab_version(
    {1, "naive loops (double)", [](const LabProblem& p) -> TimedBody {
       return [p](float* y) { naive(p, y); };
     }});

}  // namespace
}  // namespace catdog::lab
