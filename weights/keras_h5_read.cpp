// read_keras_h5: every layout of docs/FORMATS.md into one KerasH5.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <new>
#include <string>

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
// succeeds, the real read below does exactly the same and gives the same result.
// gcc says __SANITIZE_ADDRESS__; clang (the fuzz build) says so only through __has_feature.
#if defined(__SANITIZE_ADDRESS__)
#define CATDOG_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CATDOG_ADDRESS_SANITIZER 1
#endif
#endif
#ifndef CATDOG_ADDRESS_SANITIZER
#define CATDOG_ADDRESS_SANITIZER 0
#endif

// Exit codes no runtime picks for itself: a sanitizer reports a crash and exits with 1, libFuzzer
// uses 70 to 77 (its out-of-memory exit was 71, once this code's "clean error").
constexpr int kChildReadOk = 0;
constexpr int kChildCleanError = 91;
constexpr int kChildOutOfMemory = 92;
constexpr int kChildOtherException = 93;

// The address space this process has mapped now (the CUDA libraries alone map gigabytes).
rlim_t mapped_bytes() {
  std::ifstream statm("/proc/self/statm");
  unsigned long long pages = 0;
  statm >> pages;
  return static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE));
}

// Reads the file in a child. A clean error there is the error: its message comes back through a
// pipe and the file is not read again here (a corrupt string length made each read allocate and
// fill 4 GiB, 4.3 GB in all for a 24 KB file).
void check_hdf5_survives(const std::string& path, const WeightLimit& weight_limit) {
  std::cout.flush();
  std::cerr.flush();
  int message_pipe[2];
  if (::pipe(message_pipe) != 0) return;  // no child: read in-process, as before
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(message_pipe[0]);
    ::close(message_pipe[1]);
    return;
  }
  if (pid == 0) {
    ::close(message_pipe[0]);
#if !CATDOG_ADDRESS_SANITIZER  // ASan reserves terabytes of address space: it cannot start under a cap
    // A corrupt size can make HDF5 ask for terabytes; cap the child well above any real file's
    // needs (what is mapped already, four times the file, and 512 MiB for HDF5) so that shows as a
    // failed allocation, not the OOM killer or gigabytes of memory.
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    const rlim_t cap =
        mapped_bytes() + (ec ? 0 : static_cast<rlim_t>(bytes)) * 4 + (rlim_t{512} << 20);
    const rlimit limit{cap, cap};
    ::setrlimit(RLIMIT_AS, &limit);
#endif
    int code = kChildReadOk;
    try {
      read_in_this_process(path, weight_limit);
    } catch (const Error& e) {
      code = kChildCleanError;
      const std::string message = std::string(e.what()).substr(0, 4096);  // fits the pipe
      if (::write(message_pipe[1], message.data(), message.size()) < 0) code = kChildOtherException;
    } catch (const std::bad_alloc&) {
      code = kChildOutOfMemory;
    } catch (...) {
      code = kChildOtherException;
    }
    ::_exit(code);
  }
  ::close(message_pipe[1]);
  std::string message;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(message_pipe[0], buffer, sizeof buffer);
    if (n > 0) message.append(buffer, static_cast<size_t>(n));
    else if (n == 0 || errno != EINTR) break;
  }
  ::close(message_pipe[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return;
  }
  if (WIFSIGNALED(status)) {
    fail(path, ": corrupt HDF5 file: the HDF5 library crashed reading it (",
         ::strsignal(WTERMSIG(status)), "); catdog refuses it");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == kChildCleanError && !message.empty()) {
    throw Error(message);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != kChildReadOk) {
    fail(path, ": corrupt HDF5 file: reading it ",
         WEXITSTATUS(status) == kChildOutOfMemory ? "asked for more memory than the file could need"
                                                  : "failed inside the HDF5 library");
  }
}

}  // namespace

KerasH5 read_keras_h5(const std::string& path, const WeightLimit& weight_limit) {
  if (looks_like_zip(path)) return read_keras_archive(path, weight_limit);
  check_hdf5_survives(path, weight_limit);
  return read_in_this_process(path, weight_limit);
}

}  // namespace catdog
