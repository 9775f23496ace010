#include "kernels/max_pool2d.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/cpu/cpu_support.h"
#include "kernels/cpu/parallel.h"

namespace catdog::cpu {

namespace {

// visit(offset) for each input pixel inside window (n, i, j), offset = its index in x (channel 0),
// in scan order: rows, then columns. Pixels in the padding are skipped (they are -infinity).
template <class Visit>
void for_each_window_pixel(const WindowGeometry& g, int64_t n, int64_t i, int64_t j,
                           const Visit& visit) {
  for (int64_t di = 0; di < g.kh; ++di) {
    const int64_t ih = i * g.sh - g.pad_top + di;
    if (ih < 0 || ih >= g.h) continue;
    for (int64_t dj = 0; dj < g.kw; ++dj) {
      const int64_t iw = j * g.sw - g.pad_left + dj;
      if (iw >= 0 && iw < g.w) visit(((n * g.h + ih) * g.w + iw) * g.c);
    }
  }
}

}  // namespace

void max_pool2d_forward(const WindowGeometry& g, const void* xv, void* yv, DType dtype, Stream) {
  require_f32(dtype, "max_pool2d_forward");
  const float* x = static_cast<const float*>(xv);
  float* y = static_cast<float*>(yv);
  const int64_t c = g.c;
  // One task per output row (n, i); the inner loop runs over channels, contiguous in NHWC.
  parallel_for(g.n * g.oh, 16, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const int64_t n = row / g.oh, i = row % g.oh;
      for (int64_t j = 0; j < g.ow; ++j) {
        float* out = y + ((n * g.oh + i) * g.ow + j) * c;
        std::fill(out, out + c, -std::numeric_limits<float>::infinity());
        for_each_window_pixel(g, n, i, j, [&](int64_t offset) {
          const float* in = x + offset;
          for (int64_t k = 0; k < c; ++k) out[k] = in[k] > out[k] ? in[k] : out[k];
        });
      }
    }
  });
}

void max_pool2d_backward(const WindowGeometry& g, const float* x, const float* dy, float* dx,
                         Stream) {
  const int64_t c = g.c, image = g.h * g.w * c;
  // One task per image: windows of one image may overlap (stride < pool), images never do.
  parallel_for(g.n, 1, [&](int64_t b, int64_t e) {
    std::vector<float> best(static_cast<size_t>(c));
    std::vector<int64_t> where(static_cast<size_t>(c));
    for (int64_t n = b; n < e; ++n) {
      std::memset(dx + n * image, 0, static_cast<size_t>(image) * sizeof(float));
      for (int64_t i = 0; i < g.oh; ++i) {
        for (int64_t j = 0; j < g.ow; ++j) {
          std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
          std::fill(where.begin(), where.end(), int64_t{-1});
          for_each_window_pixel(g, n, i, j, [&](int64_t base) {
            for (int64_t k = 0; k < c; ++k) {
              // Strictly greater: a later equal value does not take over (first maximum).
              if (where[k] < 0 || x[base + k] > best[k]) {
                best[k] = x[base + k];
                where[k] = base + k;
              }
            }
          });
          const float* grad = dy + ((n * g.oh + i) * g.ow + j) * c;
          for (int64_t k = 0; k < c; ++k) {
            if (where[k] >= 0) dx[where[k]] += grad[k];
          }
        }
      }
    }
  });
}

}  // namespace catdog::cpu
