// Reading named entries out of a ZIP archive: a Keras 3 .keras model is one (config.json,
// metadata.json, model.weights.h5; docs/FORMATS.md).
//
// A ZIP file ends with a "central directory": one record per entry (name, compression method,
// CRC-32, compressed and uncompressed sizes, where its "local header" is), found through the
// "end of central directory" record in the last 64 KiB. Each entry's data follows its local
// header, stored as is (method 0, what Keras writes) or deflated (method 8, zlib's raw inflate).
//
// Nothing in the file is trusted (docs/RELIABILITY.md): every offset and size is checked against
// the file before it is used, an entry's declared size is checked against the caller's limit and
// (deflated) at most 64 times its compressed bytes plus 1 MiB before anything is inflated, the
// inflated bytes must be exactly the declared size and match the CRC-32, and a name that appears
// twice is refused (which copy would be the real one?). Entries are only ever looked up by exact
// name, never extracted by their own name, so "../x" or "/etc/x" names cannot write anywhere.
// ZIP64 (archives over 4 GiB), encryption and other methods are refused with a clear message.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace catdog {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflated
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0, size = 0;
  uint64_t local_header_offset = 0;
};

class ZipArchive {
 public:
  // Reads and checks the central directory. Throws catdog::Error naming `path`.
  explicit ZipArchive(const std::string& path);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  // The entry with exactly this name, or null.
  const ZipEntry* find(const std::string& name) const;
  // The entry's bytes; refused before reading when it declares more than `max_bytes`.
  std::string read(const ZipEntry& entry, uint64_t max_bytes) const;
  // The same, written to `out_path` (created or truncated) in pieces, never all in memory.
  void extract_to(const ZipEntry& entry, const std::string& out_path, uint64_t max_bytes) const;

 private:
  using Sink = std::function<void(const char* data, size_t size)>;
  void copy_out(const ZipEntry& entry, uint64_t max_bytes, const Sink& sink) const;

  std::string path_;
  uint64_t file_size_ = 0;
  std::vector<ZipEntry> entries_;
};

// Does the file start with a ZIP local header ("PK\3\4")? False when it cannot be read.
bool looks_like_zip(const std::string& path);

}  // namespace catdog
