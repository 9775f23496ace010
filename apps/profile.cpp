// `catdog profile`: where a batch's time goes, layer by layer, against what the device can do.
//
//   layer         class    output shape      fwd ms  bwd ms  MFLOP  GFLOP/s  MB moved  GB/s  bound    % peak  share
//   block1_conv1  Conv2D   (8, 224, 224, 64) ...
//   total 812.345 ms/batch (fwd 700.1 + bwd 112.2) | 9.8 img/s | 38.1 GFLOP/s | 47% of peak
//
// A layer is "compute"-bound when its FLOPs per byte (engine/layer_cost.h) are above the
// device's (peak FLOP/s over peak bytes/s), else "memory"-bound; its % of peak is then of the
// measured GEMM rate or of the measured copy rate. The total is the sum of the layers' times.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "apps/commands.h"
#include "core/device.h"
#include "core/error.h"
#include "engine/builtin_models.h"
#include "engine/layer_profile.h"
#include "engine/model_config.h"
#include "kernels/cpu/blas_kernels.h"
#include "kernels/cpu/parallel.h"
#include "training/model_setup.h"
#include "training/run_context.h"
#include "training/settings.h"
#include "training/trace_file.h"

namespace catdog {

namespace {

// The model to time: with --weights as training builds it; without, the same architecture with
// its initializers' random weights (the time does not depend on the values).
ModelSetup profiled_model(const ProfileOptions& o) {
  if (!o.weights.empty()) return build_training_model(o.model, o.weights, o.image_size, 1);
  if (!is_builtin_model(o.model)) {
    CATDOG_CHECK(o.image_size == 0, "--image-size is only for built-in models; ", o.model,
                 " has its own input size");
    ModelSetup setup = describe_model(o.model);  // a .json (random weights) or a model.h5
    if (o.model.size() > 5 && o.model.substr(o.model.size() - 5) == ".json") {
      setup.model.initialize(1);
    }
    return setup;
  }
  ModelSetup setup = describe_model(o.model);
  if (o.image_size != 0 && o.image_size != setup.image_size) {
    check_image_size(o.image_size, SettingSource{});
    const bool transfer = o.model == "vgg16" || o.model == "tiny-darknet";
    ParsedModel parsed = parse_model_config(transfer ? transfer_model_config(o.model)
                                                     : builtin_model_config(o.model));
    setup.model = std::move(parsed.model);
    setup.image_size = o.image_size;
    try {
      setup.model.build({o.image_size, o.image_size, 3});
      (void)setup.model.layer_output_shape(setup.model.size() - 1, 1);
    } catch (const Error& e) {
      fail("model ", o.model, " cannot take ", o.image_size, "x", o.image_size, " images: ",
           e.what());
    }
  }
  setup.model.initialize(1);
  return setup;
}

struct Rates {
  double gflops_per_s = 0, gbytes_per_s = 0, percent = 0;
  const char* bound = "-";
};

Rates rates_of(double flops, double bytes, double ms, const DevicePeak& peak) {
  Rates r;
  if (ms <= 0) return r;
  r.gflops_per_s = flops / ms / 1e6;
  r.gbytes_per_s = bytes / ms / 1e6;
  if (flops == 0 && bytes == 0) return r;
  const bool compute = flops / std::max(bytes, 1.0) >=
                       peak.flops_per_second / peak.bytes_per_second;
  r.bound = compute ? "compute" : "memory";
  r.percent = compute ? 100 * r.gflops_per_s * 1e9 / peak.flops_per_second
                      : 100 * r.gbytes_per_s * 1e9 / peak.bytes_per_second;
  return r;
}

}  // namespace

int run_profile(const ProfileOptions& o, std::ostream& out) {
  CATDOG_CHECK(o.batch > 0, "--batch must be at least 1, got ", o.batch);
  CATDOG_CHECK(o.repeat > 0, "--repeat must be at least 1, got ", o.repeat);
  TraceFile trace(o.trace_path);
  ModelSetup setup = profiled_model(o);
  Sequential& model = setup.model;
  ExecContext ctx = make_exec_context(o.device, o.precision, 1);
  ctx.conv_algo = parse_conv_algo(o.conv_algo);
  model.to_device(ctx.device);
  const std::string where =
      ctx.on_gpu() ? cat("cuda (", cuda_device_description(), ", ", precision_name(ctx.precision), ")")
                   : cat("cpu (", cpu::cpu_threads(), " threads, ", precision_name(ctx.precision),
                         ", OpenBLAS ", cpu::blas_core_name(), ")");
  out << "catdog profile: model " << setup.name << ", batch " << o.batch << ", "
      << setup.image_size << "x" << setup.image_size << ", device " << where << ", median of "
      << o.repeat << " passes after a warm-up\n" << std::flush;
  const DevicePeak peak = measure_peak(ctx);
  char line[320];
  std::snprintf(line, sizeof line, "peak (measured now): %.1f GFLOP/s (%s), %.1f GB/s (%s)\n",
                peak.flops_per_second / 1e9, peak.gemm.c_str(), peak.bytes_per_second / 1e9,
                peak.copy.c_str());
  out << line;
  const std::vector<LayerTiming> layers = profile_layers(model, o.batch, ctx, o.repeat);

  double total_ms = 0, forward_ms = 0, total_flops = 0, total_bytes = 0;
  for (const LayerTiming& t : layers) {
    forward_ms += t.forward_ms;
    total_ms += t.forward_ms + t.backward_ms;
    total_flops += static_cast<double>(t.cost.forward_flops + t.cost.backward_flops);
    total_bytes += static_cast<double>(t.cost.forward_bytes + t.cost.backward_bytes);
  }
  std::snprintf(line, sizeof line, "%-26s %-22s %-20s %10s %10s %12s %9s %10s %8s %-7s %7s %7s\n",
                "layer", "class", "output shape", "fwd ms", "bwd ms", "MFLOP", "GFLOP/s",
                "MB moved", "GB/s", "bound", "% peak", "share");
  out << line;
  for (const LayerTiming& t : layers) {
    const double ms = t.forward_ms + t.backward_ms;
    const double flops = static_cast<double>(t.cost.forward_flops + t.cost.backward_flops);
    const double bytes = static_cast<double>(t.cost.forward_bytes + t.cost.backward_bytes);
    const Rates r = rates_of(flops, bytes, ms, peak);
    char bwd[32] = "-";
    if (t.backward) std::snprintf(bwd, sizeof bwd, "%.3f", t.backward_ms);
    std::snprintf(line, sizeof line,
                  "%-26s %-22s %-20s %10.3f %10s %12.3f %9.1f %10.3f %8.1f %-7s %6.0f%% %6.1f%%\n",
                  t.name.c_str(), t.class_name.c_str(), to_string(t.output).c_str(), t.forward_ms,
                  bwd, flops / 1e6,
                  r.gflops_per_s, bytes / 1e6, r.gbytes_per_s, r.bound, r.percent,
                  total_ms > 0 ? 100 * ms / total_ms : 0.0);
    out << line;
  }
  const Rates all = rates_of(total_flops, total_bytes, total_ms, peak);
  std::snprintf(line, sizeof line,
                "total %.3f ms/batch (fwd %.3f + bwd %.3f) | %.1f img/s | %.2f GFLOP/s | %.0f%% "
                "of peak\n",
                total_ms, forward_ms, total_ms - forward_ms,
                total_ms > 0 ? o.batch * 1e3 / total_ms : 0.0, all.gflops_per_s,
                100 * all.gflops_per_s * 1e9 / peak.flops_per_second);
  out << line;
  const std::string traced = trace.finish();
  if (!traced.empty()) out << traced << "\n";
  return 0;
}

}  // namespace catdog
