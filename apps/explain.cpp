// `catdog explain`: one Grad-CAM overlay per photo (engine/grad_cam.h), beside its probability.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>

#include "apps/commands.h"
#include "core/error.h"
#include "core/one_line.h"
#include "data/encode_png.h"
#include "data/photo_batch.h"
#include "engine/grad_cam.h"
#include "training/model_setup.h"
#include "training/run_context.h"
#include "weights/atomic_file.h"

namespace fs = std::filesystem;

namespace catdog {

namespace {

// OUT_DIR/<stem>_gradcam.png, with _2, _3, ... when two photos share a stem (a/cat.jpg, b/cat.png).
std::string overlay_path(const std::string& out_dir, const std::string& image,
                         std::set<std::string>& taken) {
  const std::string stem = fs::path(image).stem().string();
  std::string name = stem + "_gradcam.png";
  for (int k = 2; !taken.insert(name).second; ++k) name = stem + "_" + std::to_string(k) + "_gradcam.png";
  return (fs::path(out_dir) / name).string();
}

size_t target_layer(const Sequential& model, const ExplainOptions& o) {
  try {
    return o.layer.empty() ? grad_cam_default_layer(model) : grad_cam_layer_named(model, o.layer);
  } catch (const Error& e) {
    fail(o.model_path, ": ", e.what());
  }
}

}  // namespace

int run_explain(const ExplainOptions& o, std::ostream& out) {
  CATDOG_CHECK(!o.images.empty(), "explain needs at least one IMAGE");
  CATDOG_CHECK(!o.out_dir.empty(), "explain needs --out DIR");
  ModelSetup setup = load_trained_model(o.model_path);
  Sequential& model = setup.model;
  const size_t layer = target_layer(model, o);
  ExecContext ctx = make_exec_context(o.device, "fp32", 1);
  model.to_device(ctx.device);
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  CATDOG_CHECK(!ec && fs::is_directory(o.out_dir), "cannot create the --out folder ", o.out_dir,
               ": ", ec ? ec.message() : "not a directory");
  const std::vector<std::string> class_names = output_class_names(setup);
  std::set<std::string> taken;
  int64_t bad_count = 0;
  Tensor staging, input;
  for (const std::string& path : o.images) {
    std::vector<std::string> bad;
    const Tensor pixels = load_pixels({path}, setup.image_size, nullptr, &bad);
    if (!bad.empty()) {
      std::cerr << "warning: " << one_line(bad[0]) << "\n";
      ++bad_count;
      continue;
    }
    make_model_input(pixels, setup.preprocess, ctx, staging, input);
    GradCamResult cam;
    try {
      cam = grad_cam(model, input, layer, ctx);
    } catch (const Error& e) {
      fail(o.model_path, ": ", e.what());
    }
    const std::vector<uint8_t> overlay =
        grad_cam_overlay(pixels.u8(), setup.image_size, setup.image_size, cam);
    const std::vector<uint8_t> png = encode_png(overlay.data(), setup.image_size, setup.image_size);
    const std::string png_path = overlay_path(o.out_dir, path, taken);
    atomic_write_file(png_path, std::string(png.begin(), png.end()));
    char line[64];
    std::snprintf(line, sizeof line, "\t%.6f\t", cam.probability);
    out << one_line(path) << line << class_names[cam.probability >= 0.5f ? 1 : 0] << "\t-> "
        << one_line(png_path) << "\n";
  }
  if (bad_count) std::cerr << "skipped " << bad_count << " of " << o.images.size() << " images\n";
  return bad_count == static_cast<int64_t>(o.images.size()) ? 1 : 0;
}

}  // namespace catdog
