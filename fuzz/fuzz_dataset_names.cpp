// Fuzzes the dataset scanner (data/dataset.h) on file and folder names. Each input line is a
// relative path; its last part becomes an empty file and the parts before it folders, in a fresh
// temporary folder that scan_dataset then reads (class folders, or the Kaggle flat layout when
// there are no folders). "NAME@TARGET" makes NAME a symbolic link to TARGET instead (relative,
// without ".."), since users link folders into their datasets. Every line is also given to the
// name parsers alone (kaggle_label, has_image_extension).
//
// Asserts: a catdog::Error is the only acceptable failure; a scanned dataset has at least two
// classes with images, labels within class_names, images ordered by label then path, every image
// under the root with an image extension, and in the Kaggle layout the label its name gives.
// Crashes, hangs, leaks, undefined behaviour and any other exception are findings.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "data/dataset.h"
#include "core/error.h"

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxEntries = 16;

// Make one entry from an input line; lines that cannot be a name here are skipped.
void make_entry(const fs::path& root, std::string line) {
  line.erase(std::remove(line.begin(), line.end(), '\0'), line.end());
  std::string target;
  if (size_t at = line.find('@'); at != std::string::npos) {
    target = line.substr(at + 1);
    line.resize(at);
    if (target.empty() || target[0] == '/' || target.find("..") != std::string::npos) return;
  }
  fs::path path = root;
  std::istringstream parts(line);
  for (std::string part; std::getline(parts, part, '/');) {
    if (part.empty() || part == "." || part == ".." || part.size() > 64) return;
    path /= part;
  }
  if (path == root) return;
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (!target.empty()) {
    fs::create_symlink(target, path, ec);
  } else if (!fs::exists(path, ec)) {
    std::ofstream{path};
  }
}

void check_dataset(const catdog::Dataset& d) {
  const bool kaggle = d.class_names == std::vector<std::string>{"cats", "dogs"};
  std::vector<int64_t> per_class(d.class_names.size(), 0);
  for (size_t i = 0; i < d.images.size(); ++i) {
    const catdog::LabeledImage& image = d.images[i];
    if (image.label < 0 || image.label >= static_cast<int>(d.class_names.size())) std::abort();
    ++per_class[image.label];
    if (i > 0 && std::make_pair(d.images[i - 1].label, d.images[i - 1].path) >
                     std::make_pair(image.label, image.path)) {
      std::abort();
    }
    if (image.path.rfind(d.root, 0) != 0 || !catdog::has_image_extension(image.path)) std::abort();
    const std::string name = fs::path(image.path).filename().string();
    if (kaggle && fs::path(image.path).parent_path() == fs::path(d.root) &&
        catdog::kaggle_label(name) != image.label) {
      std::abort();
    }
  }
  if (std::count_if(per_class.begin(), per_class.end(), [](int64_t n) { return n > 0; }) < 2)
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path root =
      fs::temp_directory_path() / ("catdog-fuzz-dataset-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root);

  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  size_t entries = 0;
  for (std::string line; entries < kMaxEntries && std::getline(lines, line); ++entries) {
    const int label = catdog::kaggle_label(line);
    if (label < -1 || label > 1) std::abort();
    (void)catdog::has_image_extension(line);
    make_entry(root, line);
  }
  try {
    check_dataset(catdog::scan_dataset(root.string()));
  } catch (const catdog::Error&) {
    // No images, one class, train/ + test/ given as classes: refused with a message.
  }
  return 0;
}
