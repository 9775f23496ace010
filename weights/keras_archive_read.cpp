// read_keras_archive: a Keras 3 .keras zip into one KerasH5 (docs/FORMATS.md, "Keras 3 .keras").
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_text.h"
#include "weights/keras_h5.h"
#include "weights/zip_archive.h"

namespace catdog {
namespace {

constexpr uint64_t kMaxConfigBytes = 64 << 20;    // VGG16's config.json is 20 KB
constexpr uint64_t kMaxMetadataBytes = 1 << 20;  // {"keras_version": ..., "date_saved": ...}
constexpr uint64_t kMaxWeightsBytes = uint64_t{4} << 30;  // no ZIP64: an entry is under 4 GiB

// A temporary file, removed when this goes out of scope however the read ends.
class TemporaryFile {
 public:
  TemporaryFile() {
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
    if (ec) dir = "/tmp";
    path_ = (dir / "catdog-keras-XXXXXX.weights.h5").string();
    const int fd = ::mkstemps(path_.data(), 11);  // 11: ".weights.h5"
    if (fd < 0) fail("cannot create a temporary file in ", dir.string(), " for a .keras archive");
    ::close(fd);
  }
  ~TemporaryFile() { ::unlink(path_.c_str()); }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

}  // namespace

KerasH5 read_keras_archive(const std::string& path, const WeightLimit& weight_limit) {
  const ZipArchive zip(path);
  const ZipEntry* config = zip.find("config.json");
  const ZipEntry* weights = zip.find("model.weights.h5");
  CATDOG_CHECK(config, path, ": a zip archive without config.json: not a Keras 3 .keras model");
  CATDOG_CHECK(weights || !zip.find("model.weights.npz"), path,
               ": its weights are model.weights.npz (saved with weights_format='npz'); catdog "
               "reads model.weights.h5, Keras' default");
  CATDOG_CHECK(weights, path, ": a .keras archive without model.weights.h5");

  KerasH5 metadata;
  metadata.model_config = zip.read(*config, kMaxConfigBytes);
  if (const ZipEntry* entry = zip.find("metadata.json")) {
    const nlohmann::json meta =
        parse_json_bounded(zip.read(*entry, kMaxMetadataBytes), path + ": metadata.json");
    if (meta.is_object() && meta.contains("keras_version") && meta["keras_version"].is_string())
      metadata.keras_version = meta["keras_version"].get<std::string>();
  }
  const uint64_t max_elements = weight_limit ? weight_limit(metadata) : UINT64_MAX;

  TemporaryFile temp;
  zip.extract_to(*weights, temp.path(), kMaxWeightsBytes);
  KerasH5 out;
  try {
    out = read_keras_h5(temp.path(), [max_elements](const KerasH5&) { return max_elements; });
  } catch (const Error& e) {
    throw Error(replace_all(e.what(), temp.path(), path + ": model.weights.h5"));
  }
  CATDOG_CHECK(out.keras3_layout, path,
               ": its model.weights.h5 is not in the Keras 3 layout (no layers group)");
  out.model_config = std::move(metadata.model_config);
  out.keras_version = std::move(metadata.keras_version);
  return out;
}

}  // namespace catdog
