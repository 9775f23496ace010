// MaxPooling2D on the CPU: forward against loops written here, backward against finite
// differences (inputs spaced so no window has near-ties), the first-maximum rule on exact ties,
// and shape errors (layers/max_pooling2d.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/random.h"
#include "layers/max_pooling2d.h"
#include "tests/support/gradient_check.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

using test::forward_poisoned;

struct PoolCase {
  int n, h, w, c, ph, pw, sh, sw;
  bool same;
};

std::string describe(const PoolCase& k) {
  return cat("n", k.n, "_", k.h, "x", k.w, "x", k.c, "_p", k.ph, "x", k.pw, "_s", k.sh, "x", k.sw,
             k.same ? "_same" : "_valid");
}

MaxPooling2D make_pool(const PoolCase& k, const std::string& name = "pool_under_test") {
  MaxPooling2DConfig c;
  c.pool_h = k.ph, c.pool_w = k.pw, c.stride_h = k.sh, c.stride_w = k.sw;
  c.padding = k.same ? Padding::same : Padding::valid;
  return MaxPooling2D(name, c);
}

// Values 0.05 apart in a shuffled order: no two elements closer than 0.05, so a finite-difference
// step of 0.01 can never change which element is a window's maximum.
Tensor distinct_values(const Shape& shape, uint64_t seed) {
  Tensor t(shape);
  const int64_t n = t.numel();
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = 0.05f * static_cast<float>(i - n / 2);
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(v[i], v[splitmix64(seed, 3, i) % static_cast<uint64_t>(i + 1)]);
  }
  std::copy(v.begin(), v.end(), t.f32());
  return t;
}

// y[n, i, j, c] = max over the window of x, windows placed by TensorFlow's rule (written here).
std::vector<float> naive_max_pool(const PoolCase& k, const std::vector<float>& x) {
  auto out_pad = [&](int in, int p, int s, int* out, int* pad) {
    *out = k.same ? (in + s - 1) / s : (in - p) / s + 1;
    *pad = k.same ? std::max((*out - 1) * s + p - in, 0) / 2 : 0;
  };
  int oh, ow, pt, pl;
  out_pad(k.h, k.ph, k.sh, &oh, &pt);
  out_pad(k.w, k.pw, k.sw, &ow, &pl);
  std::vector<float> y;
  for (int n = 0; n < k.n; ++n)
    for (int i = 0; i < oh; ++i)
      for (int j = 0; j < ow; ++j)
        for (int c = 0; c < k.c; ++c) {
          float m = -std::numeric_limits<float>::infinity();
          for (int di = 0; di < k.ph; ++di)
            for (int dj = 0; dj < k.pw; ++dj) {
              const int ih = i * k.sh + di - pt, iw = j * k.sw + dj - pl;
              if (ih >= 0 && ih < k.h && iw >= 0 && iw < k.w) {
                m = std::max(m, x[((n * k.h + ih) * k.w + iw) * k.c + c]);
              }
            }
          y.push_back(m);
        }
  return y;
}

const PoolCase kPoolCases[] = {
    {2, 6, 6, 3, 2, 2, 2, 2, false}, {1, 7, 7, 2, 2, 2, 2, 2, false},
    {1, 7, 7, 2, 2, 2, 2, 2, true},  {2, 5, 8, 4, 3, 3, 2, 2, true},
    {1, 6, 5, 3, 3, 3, 1, 1, false}, {1, 6, 5, 3, 3, 3, 1, 1, true},
    {3, 9, 4, 1, 3, 2, 3, 1, true},  {1, 1, 1, 5, 2, 2, 2, 2, true},
};

class MaxPool : public ::testing::TestWithParam<PoolCase> {};

TEST_P(MaxPool, ForwardMatchesLoops) {
  const PoolCase k = GetParam();
  MaxPooling2D pool = make_pool(k);
  const Tensor x = test::random_tensor({k.n, k.h, k.w, k.c}, 21);
  const Tensor y = forward_poisoned(pool, x);
  EXPECT_EQ(y.to_vector(), naive_max_pool(k, x.to_vector())) << describe(k);
}

TEST_P(MaxPool, BackwardMatchesFiniteDifferences) {
  const PoolCase k = GetParam();
  MaxPooling2D pool = make_pool(k);
  const int compared = test::check_gradients(pool, distinct_values({k.n, k.h, k.w, k.c}, 5));
  EXPECT_GT(compared, 0);
}

INSTANTIATE_TEST_SUITE_P(Shapes, MaxPool, ::testing::ValuesIn(kPoolCases),
                         [](const auto& info) { return describe(info.param); });

TEST(MaxPooling2DLayer, TiesSendTheGradientToTheFirstMaximum) {
  // One 2x2 window of equal values, 2 channels: all of dy goes to (0, 0), scanning rows first.
  MaxPooling2D pool = make_pool({1, 2, 2, 2, 2, 2, 2, 2, false});
  const Tensor x = Tensor::from_vector({1, 2, 2, 2}, {1, 5, 1, 2, 1, 5, 0, 5});
  Tensor y = forward_poisoned(pool, x);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1, 5}));
  Tensor dy = Tensor::from_vector({1, 1, 1, 2}, {3, 4}), dx;
  ExecContext ctx;
  pool.backward(x, y, dy, &dx, ctx);
  EXPECT_EQ(dx.to_vector(), (std::vector<float>{3, 4, 0, 0, 0, 0, 0, 0}));
}

TEST(MaxPooling2DLayer, SamePaddingNeverWinsOverNegativeValues) {
  // 3x3 input of negative numbers, 2x2 'same' pool: border windows hang over the padding, which
  // counts as -infinity (zero padding would give 0 here).
  MaxPooling2D pool = make_pool({1, 3, 3, 1, 2, 2, 2, 2, true});
  const Tensor x = Tensor::from_vector({1, 3, 3, 1}, {-9, -8, -7, -6, -5, -4, -3, -2, -1});
  EXPECT_EQ(forward_poisoned(pool, x).to_vector(), (std::vector<float>{-5, -4, -2, -1}));
}

TEST(MaxPooling2DLayer, ShapeErrorsNameTheLayer) {
  MaxPooling2D pool = make_pool({1, 1, 1, 1, 3, 3, 3, 3, false}, "pool_big");
  test::expect_error_mentions([&] { (void)pool.output_shape({1, 2, 2, 4}); },
                              {"pool_big", "(1, 2, 2, 4)"});
  test::expect_error_mentions([&] { (void)pool.output_shape({2, 4}); }, {"pool_big", "(2, 4)"});
}

}  // namespace
}  // namespace catdog
