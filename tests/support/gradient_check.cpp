#include "tests/support/gradient_check.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/random.h"
#include "tests/support/test_support.h"

namespace catdog::test {

namespace {

struct Probe {
  double loss = 0;
  std::vector<bool> zero;  // which outputs are exactly 0 (for kink detection)
};

Probe probe(Layer& layer, const Tensor& x, const std::vector<float>& r, ExecContext& ctx) {
  Tensor y(layer.output_shape(x.shape()));
  layer.forward(x, y, ctx);
  const float* p = y.f32();
  Probe out;
  out.zero.resize(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    out.loss += static_cast<double>(r[i]) * p[i];
    out.zero[i] = p[i] == 0.0f;
  }
  return out;
}

std::vector<int64_t> coordinates(int64_t n, int max_coords, uint64_t seed, uint64_t stream) {
  std::vector<int64_t> out;
  if (n <= max_coords) {
    for (int64_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  for (int k = 0; k < max_coords; ++k) {
    out.push_back(static_cast<int64_t>(splitmix64(seed, stream, k) % static_cast<uint64_t>(n)));
  }
  return out;
}

// Compare analytic gradients `analytic` of the tensor whose data is `values` with differences.
int check_tensor(const std::string& what, float* values, const std::vector<float>& analytic,
                 Layer& layer, const Tensor& x, const std::vector<float>& r,
                 const GradientCheckOptions& o, ExecContext& ctx, uint64_t stream) {
  double scale = 0;
  for (float g : analytic) scale = std::max(scale, std::fabs(static_cast<double>(g)));
  int compared = 0, skipped = 0;
  const auto coords = coordinates(static_cast<int64_t>(analytic.size()), o.max_coords, o.seed, stream);
  for (int64_t i : coords) {
    // At a kink, retry with a step 10x smaller (the kink is then usually outside the interval).
    bool kink = true;
    for (double h : {o.step, o.step / 10}) {
      const float saved = values[i];
      const float up = static_cast<float>(saved + h), down = static_cast<float>(saved - h);
      values[i] = up;
      const Probe plus = probe(layer, x, r, ctx);
      values[i] = down;
      const Probe minus = probe(layer, x, r, ctx);
      values[i] = saved;
      const Probe mid = probe(layer, x, r, ctx);
      if (plus.zero != mid.zero || minus.zero != mid.zero) continue;
      kink = false;
      // Divide by the step actually taken, after rounding saved +- h to float.
      const double numeric = (plus.loss - minus.loss) / (static_cast<double>(up) - down);
      const double a = analytic[i];
      const double tol =
          o.rtol * std::max(std::fabs(a), std::fabs(numeric)) + o.atol_fraction * scale;
      EXPECT_NEAR(a, numeric, tol) << layer.name() << ": d loss / d " << what << "[" << i << "]";
      ++compared;
      break;
    }
    skipped += kink ? 1 : 0;
  }
  EXPECT_LE(skipped * 4, static_cast<int>(coords.size()))
      << layer.name() << ": " << skipped << " of " << coords.size() << " coordinates of " << what
      << " sat on a kink";
  return compared;
}

}  // namespace

Tensor forward_poisoned(Layer& layer, const Tensor& x, ExecContext ctx) {
  Tensor y(layer.output_shape(x.shape()));
  y.fill(std::nanf(""));
  layer.forward(x, y, ctx);
  return y;
}

void expect_error_mentions(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no catdog::Error thrown";
  } catch (const Error& e) {
    for (const auto& p : parts) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "'" << p << "' not in: " << e.what();
    }
  }
}

void randomize_params(Layer& layer, uint64_t seed, float lo, float hi) {
  uint64_t k = 0;
  for (Param* p : layer.params()) p->value = random_tensor(p->value.shape(), seed * 131 + k++, lo, hi);
}

int check_gradients(Layer& layer, const Tensor& x_in, const GradientCheckOptions& options) {
  ExecContext ctx = options.ctx;
  Tensor x = x_in.clone();
  const Shape out_shape = layer.output_shape(x.shape());
  std::vector<float> r(static_cast<size_t>(numel(out_shape)));
  for (size_t i = 0; i < r.size(); ++i) {
    r[i] = static_cast<float>(2.0 * uniform01(options.seed, 99, i) - 1.0);
  }

  Tensor y(out_shape);
  layer.forward(x, y, ctx);
  Tensor dy = Tensor::from_vector(out_shape, r);
  Tensor dx(x.shape());
  layer.backward(x, y, dy, options.check_input ? &dx : nullptr, ctx);

  int compared = 0;
  uint64_t stream = 1000;
  if (options.check_input) {
    compared += check_tensor("x", x.f32(), dx.to_vector(), layer, x, r, options, ctx, stream++);
  }
  if (layer.trainable()) {
    for (Param* p : layer.params()) {
      if (!p->trainable) continue;
      const std::vector<float> analytic = p->grad.to_vector();
      compared += check_tensor(p->name, p->value.f32(), analytic, layer, x, r, options, ctx,
                               stream++);
    }
  }
  return compared;
}

}  // namespace catdog::test
