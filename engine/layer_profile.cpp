#include "engine/layer_profile.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>

#include "core/device.h"
#include "core/error.h"
#include "core/random.h"
#include "layers/conv2d.h"

namespace catdog {

namespace {

using Clock = std::chrono::steady_clock;

// Collects each pass's milliseconds by layer name; waits for the GPU at both ends of a pass.
class PassTimer : public LayerPassObserver {
 public:
  explicit PassTimer(bool on_gpu) : on_gpu_(on_gpu) {}
  void pass_begin(const std::string&, bool) override {
    if (on_gpu_) device_synchronize();
    start_ = Clock::now();
  }
  void pass_end(const std::string& layer, bool backward) override {
    if (on_gpu_) device_synchronize();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
    (backward ? backward_ : forward_)[layer].push_back(ms);
  }
  double median_ms(const std::string& layer, bool backward) const {
    const auto& times = backward ? backward_ : forward_;
    const auto it = times.find(layer);
    if (it == times.end() || it->second.empty()) return 0;
    std::vector<double> v = it->second;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
  double best_ms(const std::string& layer) const {
    const auto it = forward_.find(layer);
    CATDOG_CHECK(it != forward_.end() && !it->second.empty(), "no timing of layer ", layer);
    return *std::min_element(it->second.begin(), it->second.end());
  }

 private:
  bool on_gpu_;
  Clock::time_point start_;
  std::map<std::string, std::vector<double>> forward_, backward_;
};

// A float32 tensor of `shape` on ctx's device, uniform in [-1, 1) from core/random.h.
Tensor pseudo_random(const Shape& shape, uint64_t stream, ExecContext& ctx) {
  Tensor host(shape, DType::f32);
  float* p = host.f32();
  for (int64_t i = 0; i < host.numel(); ++i) {
    p[i] = uniform_symmetric(1, stream, static_cast<uint64_t>(i), 1.0f);
  }
  return host.to(ctx.device, ctx.cuda);
}

// The frozen prefix computes in reduced precision on the GPU (engine/sequential.h).
int element_bytes(const ExecContext& ctx, bool frozen) {
  const bool low = ctx.on_gpu() && (ctx.precision == Precision::fp16 ||
                                    ctx.precision == Precision::bf16);
  return frozen && low ? 2 : 4;
}

}  // namespace

std::vector<LayerTiming> profile_layers(Sequential& model, int64_t batch, ExecContext& ctx,
                                        int repeat) {
  CATDOG_CHECK(model.built() && model.size() > 0, "profile: the model is not built");
  CATDOG_CHECK(batch > 0 && repeat > 0, "profile: batch (", batch, ") and repeat (", repeat,
               ") must be positive");
  Shape input{batch};
  for (int64_t d : model.input_shape()) input.push_back(d);
  const Tensor x = pseudo_random(input, 0x50524f46ull, ctx);
  const size_t trainable_begin = model.trainable_begin();
  const bool backward = trainable_begin < model.size();
  ctx.training = backward;
  PassTimer timer(ctx.on_gpu());
  Tensor dloss;
  for (int pass = 0; pass <= repeat; ++pass) {
    ctx.layer_observer = pass == 0 ? nullptr : &timer;  // pass 0 warms up (plans, workspaces)
    try {
      const Tensor& y = model.forward(x, ctx);
      if (backward) {
        if (!dloss.defined()) {
          dloss = Tensor(y.shape(), DType::f32, ctx.device);
          dloss.fill(1.0f, ctx.cuda);
        }
        model.backward(dloss, ctx);
      }
    } catch (...) {
      ctx.layer_observer = nullptr;
      throw;
    }
  }
  ctx.layer_observer = nullptr;
  if (ctx.on_gpu()) device_synchronize();

  std::vector<LayerTiming> out;
  Shape shape = input;
  for (size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model.layer(i);
    LayerTiming t;
    t.name = layer.name();
    t.class_name = layer.class_name();
    t.output = layer.output_shape(shape);
    t.backward = i >= trainable_begin;
    t.forward_ms = timer.median_ms(t.name, false);
    t.backward_ms = t.backward ? timer.median_ms(t.name, true) : 0;
    t.cost = layer_cost(layer, shape, element_bytes(ctx, i < trainable_begin), i > trainable_begin);
    if (!t.backward) t.cost.backward_flops = t.cost.backward_bytes = 0;
    out.push_back(std::move(t));
    shape = out.back().output;
  }
  return out;
}

DevicePeak measure_peak(ExecContext& ctx) {
  DevicePeak peak;
  // GEMM: (M x K) * (K x N), M = K = N = side, as a frozen 1x1 convolution over a
  // (1, side / 64, 64, side) input.
  const int64_t side = ctx.on_gpu() ? 8192 : 1024;
  const Shape input_hwc = {side / 64, 64, side};
  Conv2DConfig config;
  config.filters = static_cast<int>(side);
  config.kernel_h = config.kernel_w = 1;
  config.use_bias = false;
  config.kernel_initializer = "glorot_uniform";
  Sequential gemm;
  gemm.add(std::make_unique<Conv2D>("peak_gemm", config));
  gemm.build(input_hwc);
  gemm.freeze_before(1);
  gemm.initialize(1);
  gemm.to_device(ctx.device);
  const Tensor x = pseudo_random({1, input_hwc[0], input_hwc[1], side}, 0x5045414bull, ctx);
  PassTimer timer(ctx.on_gpu());
  const bool training = ctx.training;
  ctx.training = false;
  for (int pass = 0; pass <= 3; ++pass) {
    ctx.layer_observer = pass == 0 ? nullptr : &timer;
    try {
      gemm.forward(x, ctx);
    } catch (...) {
      ctx.layer_observer = nullptr;
      ctx.training = training;
      throw;
    }
  }
  ctx.layer_observer = nullptr;
  ctx.training = training;
  peak.flops_per_second = 2.0 * side * side * side / (timer.best_ms("peak_gemm") / 1e3);
  peak.gemm = cat(side, "x", side, "x", side, " GEMM (1x1 Conv2D, ", precision_name(ctx.precision),
                  ")");

  // Copy: one large buffer into another, read + written.
  const size_t bytes = ctx.on_gpu() ? (size_t{1} << 30) : (size_t{256} << 20);
  double best = 1e300;
  if (ctx.on_gpu()) {
    DeviceBuffer a(bytes), b(bytes);
    device_memset_zero(a.get(), bytes, ctx.cuda);
    for (int pass = 0; pass <= 3; ++pass) {
      const auto start = Clock::now();
      copy_device_to_device(b.get(), a.get(), bytes, ctx.cuda);
      const double s = std::chrono::duration<double>(Clock::now() - start).count();
      if (pass > 0) best = std::min(best, s);
    }
    peak.copy = cat(bytes >> 20, " MiB device-to-device copy");
  } else {
    std::vector<char> a(bytes, 1), b(bytes, 0);
    for (int pass = 0; pass <= 3; ++pass) {
      const auto start = Clock::now();
      std::memcpy(b.data(), a.data(), bytes);
      const double s = std::chrono::duration<double>(Clock::now() - start).count();
      if (pass > 0) best = std::min(best, s);
      a[static_cast<size_t>(pass)] = b[bytes - 1 - static_cast<size_t>(pass)];  // keep the copy
    }
    peak.copy = cat(bytes >> 20, " MiB memcpy (one thread)");
  }
  peak.bytes_per_second = 2.0 * static_cast<double>(bytes) / best;
  return peak;
}

}  // namespace catdog
