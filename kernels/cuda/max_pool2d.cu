// The CUDA side of kernels/max_pool2d.h: max pooling over NHWC with TensorFlow's 'same' padding
// as -infinity. Twin of kernels/cpu/max_pool2d.cpp.
//
// Why our own max pooling rather than cuDNN everywhere: cuDNN pads symmetrically, TF 'same'
// puts the odd padding cell at the bottom/right; and cuDNN does not promise which of several
// equal maxima gets the gradient (ties are common after ReLU: windows of zeros), while the CPU
// gives it to the first. layers/max_pooling2d.cu still uses cuDNN for the 'valid' forward.
#include <cfloat>

#include "core/cuda_checks.h"
#include "kernels/cuda/element_types.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/max_pool2d.h"

namespace catdog::cuda {

namespace {

// The kernels' copy of a WindowGeometry in int (every size of a pooled activation fits).
struct PoolShape {
  int n, h, w, c;          // input (N, H, W, C)
  int oh, ow;              // output (N, OH, OW, C)
  int ph, pw, sh, sw;      // window and stride
  int pad_top, pad_left;   // TF 'same': (total padding) / 2 before, the rest after
};

PoolShape pool_shape(const WindowGeometry& g) {
  PoolShape s;
  s.n = static_cast<int>(g.n), s.h = static_cast<int>(g.h), s.w = static_cast<int>(g.w);
  s.c = static_cast<int>(g.c), s.oh = static_cast<int>(g.oh), s.ow = static_cast<int>(g.ow);
  s.ph = static_cast<int>(g.kh), s.pw = static_cast<int>(g.kw);
  s.sh = static_cast<int>(g.sh), s.sw = static_cast<int>(g.sw);
  s.pad_top = static_cast<int>(g.pad_top), s.pad_left = static_cast<int>(g.pad_left);
  return s;
}

// One thread per output element (n, i, j, c); c fastest, so a warp reads consecutive channels.
template <class T>
__global__ void max_pool_forward_kernel(const T* x, T* y, PoolShape s) {
  const int64_t total = int64_t(s.n) * s.oh * s.ow * s.c;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total;
       idx += int64_t(gridDim.x) * blockDim.x) {
    const int c = static_cast<int>(idx % s.c);
    int64_t rest = idx / s.c;
    const int j = static_cast<int>(rest % s.ow);
    rest /= s.ow;
    const int i = static_cast<int>(rest % s.oh);
    const int64_t n = rest / s.oh;
    float best = -FLT_MAX;
    bool any = false;
    for (int di = 0; di < s.ph; ++di) {
      const int h = i * s.sh - s.pad_top + di;
      if (h < 0 || h >= s.h) continue;  // padding: -infinity never wins
      for (int dj = 0; dj < s.pw; ++dj) {
        const int w = j * s.sw - s.pad_left + dj;
        if (w < 0 || w >= s.w) continue;
        const float v = to_float(x[((n * s.h + h) * s.w + w) * s.c + c]);
        if (!any || v > best) best = v;
        any = true;
      }
    }
    y[idx] = from_float<T>(best);
  }
}

// True when (h, w) holds the first maximum (row-major scan) of output window (i, j).
__device__ bool is_first_max(const float* x, const PoolShape& s, int64_t n, int i, int j, int c,
                             int h, int w) {
  float best = 0.0f;
  int best_h = -1, best_w = -1;
  for (int di = 0; di < s.ph; ++di) {
    const int hh = i * s.sh - s.pad_top + di;
    if (hh < 0 || hh >= s.h) continue;
    for (int dj = 0; dj < s.pw; ++dj) {
      const int ww = j * s.sw - s.pad_left + dj;
      if (ww < 0 || ww >= s.w) continue;
      const float v = x[((n * s.h + hh) * s.w + ww) * s.c + c];
      if (best_h < 0 || v > best) {
        best = v;
        best_h = hh;
        best_w = ww;
      }
    }
  }
  return best_h == h && best_w == w;
}

// One thread per input element: sum dy over the windows that cover (h, w) and pick it.
__global__ void max_pool_backward_kernel(const float* x, const float* dy, float* dx, PoolShape s) {
  const int64_t total = int64_t(s.n) * s.h * s.w * s.c;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total;
       idx += int64_t(gridDim.x) * blockDim.x) {
    const int c = static_cast<int>(idx % s.c);
    int64_t rest = idx / s.c;
    const int w = static_cast<int>(rest % s.w);
    rest /= s.w;
    const int h = static_cast<int>(rest % s.h);
    const int64_t n = rest / s.h;
    // Windows i with i*sh - pad_top <= h < i*sh - pad_top + ph.
    const int hp = h + s.pad_top, wp = w + s.pad_left;
    const int i_lo = hp >= s.ph ? (hp - s.ph) / s.sh + 1 : 0;
    const int i_hi = min(s.oh - 1, hp / s.sh);
    const int j_lo = wp >= s.pw ? (wp - s.pw) / s.sw + 1 : 0;
    const int j_hi = min(s.ow - 1, wp / s.sw);
    float sum = 0.0f;
    for (int i = i_lo; i <= i_hi; ++i) {
      for (int j = j_lo; j <= j_hi; ++j) {
        if (is_first_max(x, s, n, i, j, c, h, w)) {
          sum += dy[((n * s.oh + i) * s.ow + j) * s.c + c];
        }
      }
    }
    dx[idx] = sum;
  }
}

std::string describe(const PoolShape& s) {
  return cat("x (", s.n, ", ", s.h, ", ", s.w, ", ", s.c, ") -> (", s.oh, ", ", s.ow, "), pool ",
             s.ph, "x", s.pw, " stride ", s.sh, "x", s.sw, " pad ", s.pad_top, ",", s.pad_left);
}

}  // namespace

void max_pool2d_forward(const WindowGeometry& g, const void* x, void* y, DType dtype,
                        Stream stream) {
  const PoolShape s = pool_shape(g);
  const int64_t total = int64_t(s.n) * s.oh * s.ow * s.c;
  if (total <= 0) return;
  with_element_type(dtype, "max_pool2d_forward", [&](auto tag) {
    using T = decltype(tag);
    launch(max_pool_forward_kernel<T>, blocks_for(total), kThreads, 0, stream,
           static_cast<const T*>(x), static_cast<T*>(y), s);
  });
  cudaCheckLaunch("max_pool_forward_kernel", describe(s));
}

void max_pool2d_backward(const WindowGeometry& g, const float* x, const float* dy, float* dx,
                         Stream stream) {
  const PoolShape s = pool_shape(g);
  const int64_t total = int64_t(s.n) * s.h * s.w * s.c;
  if (total <= 0) return;
  launch(max_pool_backward_kernel, blocks_for(total), kThreads, 0, stream, x, dy, dx, s);
  cudaCheckLaunch("max_pool_backward_kernel", describe(s));
}

}  // namespace catdog::cuda
