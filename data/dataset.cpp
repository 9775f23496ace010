#include "data/dataset.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/random.h"

namespace catdog {
namespace fs = std::filesystem;
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool hidden(const fs::path& p) { return !p.filename().empty() && p.filename().string()[0] == '.'; }

// Image files under `dir`, recursively (Keras follows sub-folders too), sorted. Linked folders
// are followed, but each real folder is read once: a link loop (cats/again -> ..) or a link to a
// folder already read adds nothing. Links that lead nowhere (dangling, or to themselves) are
// skipped, as broken entries. A folder that cannot be read (no permission) is named: the
// iterator's own error does not say which one it was.
std::vector<std::string> images_under(const fs::path& dir) {
  std::vector<std::string> found;
  std::set<fs::path> folders_read = {fs::canonical(dir)};
  std::error_code read_error;
  auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink,
                                             read_error);
  CATDOG_CHECK(!read_error, "dataset folder '", dir.string(), "' cannot be read: ",
               read_error.message());
  while (it != fs::recursive_directory_iterator()) {
    const fs::path path = it->path();
    std::error_code ec;
    bool enter = false;  // the next increment enters `path`
    if (it->is_directory(ec) && !hidden(path)) {
      enter = folders_read.insert(fs::canonical(path, ec)).second;
      if (!enter) it.disable_recursion_pending();
    } else {
      it.disable_recursion_pending();  // not a folder to enter: hidden, a file, or a broken link
      if (!hidden(path) && it->is_regular_file(ec) && has_image_extension(path.string())) {
        found.push_back(path.string());
      }
    }
    it.increment(read_error);
    CATDOG_CHECK(!read_error, "dataset folder '", (enter ? path : dir).string(),
                 "' cannot be read: ", read_error.message());
  }
  std::sort(found.begin(), found.end());
  return found;
}

Dataset scan_class_folders(const fs::path& root, const std::vector<fs::path>& folders) {
  Dataset d;
  d.root = root.string();
  for (const fs::path& folder : folders) {
    const int label = static_cast<int>(d.class_names.size());
    d.class_names.push_back(folder.filename().string());
    for (std::string& path : images_under(folder)) d.images.push_back({std::move(path), label});
  }
  return d;
}

// Kaggle's train/ folder: cat.0.jpg ... dog.12499.jpg side by side. Other files are ignored.
Dataset scan_kaggle_flat(const fs::path& root) {
  Dataset d;
  d.root = root.string();
  d.class_names = {"cats", "dogs"};
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(root)) {
    std::error_code ec;  // a broken link is neither a file nor a folder
    if (entry.is_regular_file(ec) && has_image_extension(entry.path().string())) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  for (int label = 0; label < 2; ++label) {
    for (const std::string& f : files) {
      if (kaggle_label(fs::path(f).filename().string()) == label) d.images.push_back({f, label});
    }
  }
  return d;
}

}  // namespace

bool has_image_extension(const std::string& path) {
  // Only what data/decode.h decodes: listing .bmp, .ppm or .tif (as Keras does) made every such
  // file a warning in every epoch, as an image that could never be read.
  static const char* const kExtensions[] = {".jpg", ".jpeg", ".png", ".webp"};
  const std::string ext = lower(fs::path(path).extension().string());
  return std::find(std::begin(kExtensions), std::end(kExtensions), ext) != std::end(kExtensions);
}

int kaggle_label(const std::string& file_name) {
  const std::string name = lower(file_name);
  if (name.rfind("cat.", 0) == 0) return 0;
  if (name.rfind("dog.", 0) == 0) return 1;
  return -1;
}

std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, uint64_t stream) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(uniform01(seed, stream, static_cast<uint64_t>(i)) *
                                        static_cast<double>(i + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(std::min(j, i))]);
  }
  return order;
}

Dataset scan_dataset(const std::string& dir) {
  const fs::path root(dir);
  std::error_code ec;
  CATDOG_CHECK(fs::is_directory(root, ec), "dataset folder '", dir, "' does not exist or is not a folder");
  Dataset d;
  try {
    std::vector<fs::path> folders;
    for (const auto& entry : fs::directory_iterator(root)) {
      if (entry.is_directory(ec) && !hidden(entry.path())) folders.push_back(entry.path());
    }
    std::sort(folders.begin(), folders.end());
    d = folders.empty() ? scan_kaggle_flat(root) : scan_class_folders(root, folders);
  } catch (const fs::filesystem_error& e) {
    fail("dataset folder '", dir, "' cannot be read: ", e.what());  // e.g. a folder without read permission
  }

  std::vector<std::string> names = d.class_names;
  std::sort(names.begin(), names.end());
  if (names == std::vector<std::string>{"test", "train"}) {
    fail("dataset folder '", dir, "' holds train/ and test/, not class folders: give '", dir,
         "/train' or '", dir, "/test'");
  }
  CATDOG_CHECK(!d.images.empty(), "dataset folder '", dir, "' holds no images (looked for class ",
               "folders, or cat.N.jpg / dog.N.jpg files; extensions jpg jpeg png webp)");
  std::vector<int64_t> per_class(d.class_names.size(), 0);
  for (const LabeledImage& image : d.images) ++per_class[image.label];
  const int64_t classes_with_images =
      std::count_if(per_class.begin(), per_class.end(), [](int64_t n) { return n > 0; });
  CATDOG_CHECK(classes_with_images >= 2, "dataset folder '", dir, "' has images of only one ",
               "class: a classifier needs at least two (class folders, or cat.* and dog.* files)");
  return d;
}

}  // namespace catdog
