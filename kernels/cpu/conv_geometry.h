// The sizes of a 2-D sliding window (convolution or pooling) over NHWC input, with TensorFlow's
// padding rules. Header-only and usable from CUDA code, so both backends agree on every size.
//
//   'valid': OH = floor((H - KH) / SH) + 1, no padding (the window must fit: H >= KH).
//   'same':  OH = ceil(H / SH); pad_total = max((OH - 1) * SH + KH - H, 0), pad_top = pad_total / 2
//            (the odd extra row goes to the bottom, the odd extra column to the right).
#pragma once

#include <cstdint>

#include "core/random.h"  // CATDOG_HOST_DEVICE

namespace catdog {

struct WindowGeometry {
  int64_t n = 0, h = 0, w = 0, c = 0;  // input (N, H, W, C)
  int64_t kh = 1, kw = 1;              // window
  int64_t sh = 1, sw = 1;              // strides
  int64_t oh = 0, ow = 0;              // output spatial size
  int64_t pad_top = 0, pad_left = 0;   // zeros (conv) or -inf (pool) before the first row/column
  int64_t f = 0;                       // output channels (convolution); pooling keeps C

  int64_t out_rows() const { return n * oh * ow; }     // one row per output pixel
  int64_t patch_size() const { return kh * kw * c; }   // one im2col row
};

// Output size along one axis; 0 when a 'valid' window does not fit.
CATDOG_HOST_DEVICE inline int64_t window_output_size(int64_t in, int64_t k, int64_t s, bool same) {
  if (same) return (in + s - 1) / s;
  return in >= k ? (in - k) / s + 1 : 0;
}

// Padding before the first element along one axis ('same' only; 'valid' pads nothing).
CATDOG_HOST_DEVICE inline int64_t window_pad_before(int64_t in, int64_t k, int64_t s, bool same) {
  if (!same) return 0;
  const int64_t out = (in + s - 1) / s;
  const int64_t total = (out - 1) * s + k - in;
  return total > 0 ? total / 2 : 0;
}

// The geometry of a window over input (N, H, W, C); f is the convolution's filter count (or C).
inline WindowGeometry make_window_geometry(int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh,
                                           int64_t kw, int64_t sh, int64_t sw, bool same,
                                           int64_t f) {
  WindowGeometry g;
  g.n = n, g.h = h, g.w = w, g.c = c, g.kh = kh, g.kw = kw, g.sh = sh, g.sw = sw, g.f = f;
  g.oh = window_output_size(h, kh, sh, same);
  g.ow = window_output_size(w, kw, sw, same);
  g.pad_top = window_pad_before(h, kh, sh, same);
  g.pad_left = window_pad_before(w, kw, sw, same);
  return g;
}

}  // namespace catdog
