#include "tests/support/naive_conv.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace catdog::test {

namespace {

void out_and_pad(int in, int k, int s, bool same, int* out, int* pad) {
  *out = same ? (in + s - 1) / s : (in - k) / s + 1;
  *pad = same ? std::max((*out - 1) * s + k - in, 0) / 2 : 0;
}

}  // namespace

std::string describe(const NaiveConvShape& k) {
  return cat("n", k.n, "_", k.h, "x", k.w, "x", k.c, "_f", k.f, "_k", k.kh, "x", k.kw, "_s", k.sh,
             "x", k.sw, k.same ? "_same" : "_valid", k.bias ? "_bias" : "", k.relu ? "_relu" : "");
}

NaiveConvResult naive_conv(const NaiveConvShape& k, const std::vector<float>& x,
                           const std::vector<float>& w, const std::vector<float>& b) {
  int oh, ow, pt, pl;
  out_and_pad(k.h, k.kh, k.sh, k.same, &oh, &pt);
  out_and_pad(k.w, k.kw, k.sw, k.same, &ow, &pl);
  NaiveConvResult r;
  for (int n = 0; n < k.n; ++n)
    for (int i = 0; i < oh; ++i)
      for (int j = 0; j < ow; ++j)
        for (int f = 0; f < k.f; ++f) {
          double sum = k.bias ? b[f] : 0.0, abs_sum = k.bias ? std::fabs(b[f]) : 0.0;
          for (int di = 0; di < k.kh; ++di)
            for (int dj = 0; dj < k.kw; ++dj) {
              const int ih = i * k.sh + di - pt, iw = j * k.sw + dj - pl;
              if (ih < 0 || ih >= k.h || iw < 0 || iw >= k.w) continue;
              for (int c = 0; c < k.c; ++c) {
                const double t = static_cast<double>(x[((n * k.h + ih) * k.w + iw) * k.c + c]) *
                                 w[((di * k.kw + dj) * k.c + c) * k.f + f];
                sum += t;
                abs_sum += std::fabs(t);
              }
            }
          r.y.push_back(k.relu ? std::max(sum, 0.0) : sum);
          r.scale.push_back(abs_sum);
        }
  return r;
}

}  // namespace catdog::test
