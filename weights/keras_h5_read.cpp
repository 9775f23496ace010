// read_keras_h5: every layout of docs/FORMATS.md into one KerasH5.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/contained_child.h"
#include "core/duration.h"
#include "core/error.h"
#include "weights/hdf5_util.h"
#include "weights/keras_h5.h"
#include "weights/zip_archive.h"

namespace catdog {
namespace {

// Where a weight named in weight_names may be, relative to its layer group, in the order tried:
//   <name>                 legacy flat ("block1_conv1_W_1:0") and Keras 2 ("conv2d_1/kernel:0",
//                          stored nested at conv2d_1/conv2d_1/kernel:0)
//   <layer>/<name>         Keras 2 nesting when weight_names lacks the layer prefix
//   <last part of name>    a prefixed name stored flat
std::vector<std::string> weight_paths(const std::string& layer, const std::string& name) {
  std::vector<std::string> paths = {name, layer + "/" + name};
  size_t slash = name.find_last_of('/');
  if (slash != std::string::npos) paths.push_back(name.substr(slash + 1));
  return paths;
}

StoredWeight read_weight(hid_t group, const std::string& layer, const std::string& name,
                         const std::string& context, bool allow_integer, uint64_t max_elements) {
  std::vector<std::string> paths = weight_paths(layer, name);
  h5::Handle dataset;
  for (const std::string& path : paths) {
    dataset = h5::try_open_dataset(group, path);
    if (dataset.valid()) break;
  }
  if (!dataset.valid()) {
    std::string tried;
    for (const std::string& path : paths) tried += (tried.empty() ? "" : ", ") + path;
    fail(context, ": weight '", name, "' not found (looked for the dataset ", tried, ")");
  }
  StoredWeight weight;
  weight.name = name;
  h5::read_float_dataset(dataset.get(), context + ": weight '" + name + "'", weight.shape,
                         weight.values, allow_integer, max_elements);
  return weight;
}

std::vector<StoredWeight> read_weights_of_group(hid_t group, const std::string& layer,
                                                const std::string& context, bool allow_integer,
                                                uint64_t max_elements) {
  bool present = false;
  std::vector<std::string> names =
      h5::read_string_list_attribute(group, "weight_names", context, &present);
  CATDOG_CHECK(present, context, ": no weight_names attribute (not a Keras weights group)");
  std::vector<StoredWeight> weights;
  for (const std::string& name : names)
    weights.push_back(read_weight(group, layer, name, context, allow_integer, max_elements));
  return weights;
}

// Keras 3: layers/<path>/vars/0, 1, ... (a layer without weights has an empty vars group).
constexpr size_t kMaxKeras3Layers = 100000;
constexpr size_t kMaxKeras3Vars = 64;  // BatchNormalization has the most: 4

std::vector<StoredLayer> read_keras3_layers(hid_t root, const std::string& path,
                                            uint64_t max_elements) {
  h5::Handle layers = h5::open_group(root, "layers", path);
  std::vector<StoredLayer> out;
  for (const std::string& name : h5::list_links(layers.get(), kMaxKeras3Layers, path + ": layers")) {
    const std::string layer_path = "layers/" + name;
    const std::string context = path + ": " + layer_path;
    CATDOG_CHECK(h5::is_group(layers.get(), name), context, ": not a group");
    h5::Handle group = h5::open_group(layers.get(), name, path);
    CATDOG_CHECK(!h5::is_group(group.get(), "layers"), context,
                 ": a nested model (it has its own layers group); catdog reads flat models only");
    StoredLayer stored{layer_path, {}, ""};
    if (h5::is_group(group.get(), "vars")) {
      h5::Handle vars = h5::open_group(group.get(), "vars", context);
      stored.keras_name = h5::read_string_attribute(vars.get(), "name", context + "/vars");
      const std::vector<std::string> names =
          h5::list_links(vars.get(), kMaxKeras3Vars, context + "/vars");
      for (size_t i = 0; i < names.size(); ++i) {
        const std::string var = std::to_string(i);
        const std::string where = context + "/vars/" + var;
        h5::Handle dataset = h5::try_open_dataset(vars.get(), var);
        CATDOG_CHECK(dataset.valid(), context, "/vars holds ", names.size(),
                     " entries but no dataset '", var, "' (expected datasets 0 to ",
                     names.size() - 1, ")");
        StoredWeight weight;
        weight.name = layer_path + "/vars/" + var;
        h5::read_float_dataset(dataset.get(), where, weight.shape, weight.values, false,
                               max_elements);
        stored.weights.push_back(std::move(weight));
      }
    }
    out.push_back(std::move(stored));
  }
  return out;
}

}  // namespace

namespace {

KerasH5 read_in_this_process(const std::string& path, const WeightLimit& weight_limit) {
  h5::Session session;
  h5::Handle file = h5::open_file_for_reading(path);
  hid_t root = file.get();
  KerasH5 out;
  out.model_config = h5::read_string_attribute(root, "model_config", path);
  out.training_config = h5::read_string_attribute(root, "training_config", path);
  out.keras_version = h5::read_string_attribute(root, "keras_version", path);
  out.backend = h5::read_string_attribute(root, "backend", path);
  // A dataset since long histories outgrew the attribute that files before 2026-12 hold it in.
  out.catdog_state = h5::has_link(root, "catdog_state")
                         ? h5::read_string_dataset(root, "catdog_state", path)
                         : h5::read_string_attribute(root, "catdog_state", path);

  const uint64_t max_elements = weight_limit ? weight_limit(out) : UINT64_MAX;

  // A full-model file keeps the weights in "model_weights"; a weights file at the root.
  h5::Handle model_weights;
  hid_t weights_root = root;
  std::string where = path;
  if (h5::is_group(root, "model_weights")) {
    model_weights = h5::open_group(root, "model_weights", path);
    weights_root = model_weights.get();
    where = path + ": model_weights";
    if (out.keras_version.empty())
      out.keras_version = h5::read_string_attribute(weights_root, "keras_version", where);
    if (out.backend.empty())
      out.backend = h5::read_string_attribute(weights_root, "backend", where);
  }

  bool present = false;
  std::vector<std::string> layer_names =
      h5::read_string_list_attribute(weights_root, "layer_names", where, &present);
  if (!present && weights_root == root && h5::is_group(root, "layers")) {
    out.keras3_layout = true;
    out.layers = read_keras3_layers(root, path, max_elements);
    return out;
  }
  if (!present) {
    std::string hint = h5::is_group(root, "_layer_checkpoint_dependencies")
                           ? " (it looks like a TF checkpoint file: save the model with Keras' "
                             "save_weights)"
                           : "";
    fail(where, ": no layer_names attribute: not a Keras HDF5 weights or model file", hint);
  }
  for (const std::string& name : layer_names) {
    std::string context = path + ": layer '" + name + "'";
    CATDOG_CHECK(!name.empty() && h5::is_group(weights_root, name), path, ": layer_names lists '",
                 name, "' but the file has no group of that name");
    h5::Handle group = h5::open_group(weights_root, name, path);
    out.layers.push_back(
        {name, read_weights_of_group(group.get(), name, context, false, max_elements), ""});
  }

  if (h5::is_group(root, "optimizer_weights")) {
    h5::Handle group = h5::open_group(root, "optimizer_weights", path);
    out.optimizer_weights =
        read_weights_of_group(group.get(), "", path + ": optimizer_weights", true, max_elements);
  }
  return out;
}

// HDF5 1.10 can crash (SIGSEGV, heap overflows, allocations of terabytes) on files whose internal
// metadata is corrupt, in code we cannot check beforehand (docs/RELIABILITY.md, "Findings inside
// libhdf5"). So a file is read first in a child process: if HDF5 dies there, the user gets an
// error line instead of a crash. If the child's read fails cleanly, its message is the error; if it
// succeeds, the real read below does exactly the same and gives the same result. A child that
// does not finish in time (HDF5 looping on corrupt metadata) is killed: a hang is worse than an
// error, as nothing reports it.
// How long the check child may take: 60 s, plus 1 s per 10 MB of file (real files read at hundreds
// of MB/s). CATDOG_HDF5_CHECK_SECONDS replaces the 60 s (the fuzz targets use 5).
double check_seconds(uint64_t file_bytes) {
  double base = 60;
  if (const char* text = std::getenv("CATDOG_HDF5_CHECK_SECONDS")) {
    char* end = nullptr;
    base = std::strtod(text, &end);
    CATDOG_CHECK(end != text && *end == '\0' && std::isfinite(base) && base > 0,
                 "CATDOG_HDF5_CHECK_SECONDS=", text, ": not a positive number of seconds");
  }
  return base + static_cast<double>(file_bytes) / 10e6;
}

// Reads the file in a contained child (core/contained_child.h). A clean error there is the error:
// the file is not read again here (a corrupt string length made each read allocate and fill
// 4 GiB, 4.3 GB in all for a 24 KB file). The child's address space may grow by four times the
// file and 512 MiB for HDF5, well above any real file's needs.
void check_hdf5_survives(const std::string& path, const WeightLimit& weight_limit) {
  std::error_code ec;
  uint64_t bytes = std::filesystem::file_size(path, ec);
  if (ec) bytes = 0;
  const double seconds = check_seconds(bytes);
  const ContainedOutcome outcome = run_contained(
      [&] { read_in_this_process(path, weight_limit); }, bytes * 4 + (uint64_t{512} << 20), seconds);
  using End = ContainedOutcome::End;
  switch (outcome.end) {
    case End::finished:
    case End::no_child:  // read in-process only, as before the check existed
      return;
    case End::error:
      if (!outcome.message.empty()) throw Error(outcome.message);
      break;
    case End::crashed:
      fail(path, ": corrupt HDF5 file: the HDF5 library crashed reading it (", outcome.message,
           "); catdog refuses it");
    case End::timed_out:
      fail(path, ": corrupt HDF5 file: the HDF5 library did not finish reading it in ",
           human_duration(seconds), "; catdog refuses it");
    case End::out_of_memory:
      fail(path, ": corrupt HDF5 file: reading it asked for more memory than the file could need");
    case End::other_exception:
    case End::failed:
      break;
  }
  fail(path, ": corrupt HDF5 file: reading it failed inside the HDF5 library");
}

}  // namespace

KerasH5 read_keras_h5(const std::string& path, const WeightLimit& weight_limit) {
  if (looks_like_zip(path)) return read_keras_archive(path, weight_limit);
  check_hdf5_survives(path, weight_limit);
  return read_in_this_process(path, weight_limit);
}

}  // namespace catdog
