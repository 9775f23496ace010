#include "weights/zip_archive.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "core/error.h"

namespace catdog {
namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndOfDirectorySignature = 0x06054b50;
constexpr size_t kLocalHeaderSize = 30, kCentralHeaderSize = 46, kEndOfDirectorySize = 22;
constexpr size_t kMaxEntries = 10000;
constexpr size_t kChunk = 1 << 16;
// As for compressed HDF5 datasets (weights/hdf5_util.cpp): real contents barely compress.
constexpr uint64_t kMaxInflation = 64, kInflationAllowance = 1 << 20;

uint64_t little_endian(const unsigned char* p, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = value << 8 | p[i];
  return value;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_for_reading(const std::string& path) {
  File file(std::fopen(path.c_str(), "rb"));
  if (!file) fail("cannot open ", path, ": ", std::strerror(errno));
  return file;
}

// Exactly `size` bytes at `offset`, which the caller has checked lie inside the file.
void read_at(std::FILE* file, uint64_t offset, void* out, size_t size, const std::string& path) {
  CATDOG_CHECK(::fseeko(file, static_cast<off_t>(offset), SEEK_SET) == 0 &&
                   std::fread(out, 1, size, file) == size,
               path, ": cannot read ", size, " bytes at byte ", offset, " (truncated zip?)");
}

}  // namespace

bool looks_like_zip(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return false;
  unsigned char magic[4] = {};
  const bool got = std::fread(magic, 1, 4, file) == 4;
  std::fclose(file);
  return got && little_endian(magic, 4) == kLocalHeaderSignature;
}

ZipArchive::ZipArchive(const std::string& path) : path_(path) {
  File file = open_for_reading(path);
  CATDOG_CHECK(::fseeko(file.get(), 0, SEEK_END) == 0, path, ": cannot seek");
  file_size_ = static_cast<uint64_t>(::ftello(file.get()));
  CATDOG_CHECK(file_size_ >= kEndOfDirectorySize, path, ": too short for a zip archive (",
               file_size_, " bytes)");

  // The end record is the last 22 bytes plus a comment of up to 65535 bytes: the last signature
  // whose comment reaches exactly the end of the file.
  const uint64_t tail_size = std::min<uint64_t>(file_size_, kEndOfDirectorySize + 0xffff);
  std::vector<unsigned char> tail(tail_size);
  read_at(file.get(), file_size_ - tail_size, tail.data(), tail.size(), path);
  int64_t end_at = -1;
  for (int64_t i = static_cast<int64_t>(tail_size - kEndOfDirectorySize); i >= 0; --i) {
    const unsigned char* p = tail.data() + i;
    if (little_endian(p, 4) == kEndOfDirectorySignature &&
        static_cast<uint64_t>(i) + kEndOfDirectorySize + little_endian(p + 20, 2) == tail_size) {
      end_at = i;
      break;
    }
  }
  CATDOG_CHECK(end_at >= 0, path, ": no zip end-of-central-directory record (truncated zip?)");
  const unsigned char* end = tail.data() + end_at;
  const uint64_t end_offset = file_size_ - tail_size + static_cast<uint64_t>(end_at);
  const uint64_t disk = little_endian(end + 4, 2), directory_disk = little_endian(end + 6, 2);
  const uint64_t count = little_endian(end + 10, 2);
  const uint64_t directory_size = little_endian(end + 12, 4);
  const uint64_t directory_offset = little_endian(end + 16, 4);
  CATDOG_CHECK(count != 0xffff && directory_size != 0xffffffff && directory_offset != 0xffffffff,
               path, ": a ZIP64 archive (over 4 GiB or 65535 entries) is not supported");
  CATDOG_CHECK(disk == 0 && directory_disk == 0 && little_endian(end + 8, 2) == count, path,
               ": a multi-part zip archive is not supported");
  CATDOG_CHECK(count <= kMaxEntries, path, ": ", count, " zip entries, more than ", kMaxEntries);
  CATDOG_CHECK(directory_offset + directory_size <= end_offset, path,
               ": the zip central directory (", directory_size, " bytes at byte ", directory_offset,
               ") runs past its end record at byte ", end_offset, " (corrupt zip)");

  std::vector<unsigned char> directory(directory_size);
  if (directory_size) read_at(file.get(), directory_offset, directory.data(), directory_size, path);
  std::set<std::string> names;
  size_t at = 0;
  for (uint64_t i = 0; i < count; ++i) {
    CATDOG_CHECK(at + kCentralHeaderSize <= directory.size() &&
                     little_endian(&directory[at], 4) == kCentralHeaderSignature,
                 path, ": zip central directory entry ", i, " is missing or corrupt");
    const unsigned char* h = &directory[at];
    const size_t name_size = little_endian(h + 28, 2), extra_size = little_endian(h + 30, 2),
                 comment_size = little_endian(h + 32, 2);
    CATDOG_CHECK(at + kCentralHeaderSize + name_size + extra_size + comment_size <= directory.size(),
                 path, ": zip central directory entry ", i, " runs past the directory");
    ZipEntry entry;
    entry.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderSize), name_size);
    const uint64_t flags = little_endian(h + 8, 2);
    entry.method = static_cast<uint16_t>(little_endian(h + 10, 2));
    entry.crc32 = static_cast<uint32_t>(little_endian(h + 16, 4));
    entry.compressed_size = little_endian(h + 20, 4);
    entry.size = little_endian(h + 24, 4);
    entry.local_header_offset = little_endian(h + 42, 4);
    const std::string where = path + ": zip entry '" + entry.name + "'";
    CATDOG_CHECK((flags & 1) == 0, where, " is encrypted");
    CATDOG_CHECK(entry.compressed_size != 0xffffffff && entry.size != 0xffffffff &&
                     entry.local_header_offset != 0xffffffff,
                 where, ": ZIP64 entries (over 4 GiB) are not supported");
    CATDOG_CHECK(entry.local_header_offset + kLocalHeaderSize <= directory_offset, where,
                 ": its local header at byte ", entry.local_header_offset,
                 " is not before the central directory (corrupt zip)");
    CATDOG_CHECK(names.insert(entry.name).second, path, ": the zip holds '", entry.name,
                 "' twice; refused (which one is real?)");
    entries_.push_back(std::move(entry));
    at += kCentralHeaderSize + name_size + extra_size + comment_size;
  }
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  for (const ZipEntry& entry : entries_)
    if (entry.name == name) return &entry;
  return nullptr;
}

void ZipArchive::copy_out(const ZipEntry& entry, uint64_t max_bytes, const Sink& sink) const {
  const std::string where = path_ + ": zip entry '" + entry.name + "'";
  CATDOG_CHECK(entry.method == 0 || entry.method == 8, where, ": compression method ",
               entry.method, " is not supported (only stored and deflated)");
  CATDOG_CHECK(entry.size <= max_bytes, where, ": declares ", entry.size,
               " bytes, more than the ", max_bytes, " such an entry may hold");
  CATDOG_CHECK(entry.method == 8 || entry.compressed_size == entry.size, where, ": stored, but ",
               entry.compressed_size, " bytes in the file for ", entry.size, " declared");
  CATDOG_CHECK(entry.size <= entry.compressed_size * kMaxInflation + kInflationAllowance, where,
               ": ", entry.compressed_size, " compressed bytes declare ", entry.size,
               " (more than 64 times: refused before inflating)");

  File file = open_for_reading(path_);
  unsigned char local[kLocalHeaderSize];
  read_at(file.get(), entry.local_header_offset, local, sizeof local, path_);
  CATDOG_CHECK(little_endian(local, 4) == kLocalHeaderSignature, where,
               ": no local header at byte ", entry.local_header_offset, " (corrupt zip)");
  const uint64_t name_size = little_endian(local + 26, 2), extra_size = little_endian(local + 28, 2);
  const uint64_t data_offset = entry.local_header_offset + kLocalHeaderSize + name_size + extra_size;
  CATDOG_CHECK(data_offset + entry.compressed_size <= file_size_, where, ": its ",
               entry.compressed_size, " bytes at byte ", data_offset, " run past the end of the ",
               file_size_, "-byte file (truncated zip?)");
  std::string local_name(name_size, '\0');
  read_at(file.get(), entry.local_header_offset + kLocalHeaderSize, local_name.data(), name_size,
          path_);
  CATDOG_CHECK(local_name == entry.name, where, ": its local header names '", local_name,
               "' (corrupt zip)");
  CATDOG_CHECK(::fseeko(file.get(), static_cast<off_t>(data_offset), SEEK_SET) == 0, where,
               ": cannot seek to its data");

  std::vector<unsigned char> in(kChunk), out(kChunk);
  uint64_t left_in = entry.compressed_size, produced = 0;
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto emit = [&](const unsigned char* data, size_t size) {
    produced += size;
    CATDOG_CHECK(produced <= entry.size, where, ": inflates to more than its declared ",
                 entry.size, " bytes (corrupt or hostile zip)");
    crc = crc32(crc, data, static_cast<uInt>(size));
    sink(reinterpret_cast<const char*>(data), size);
  };
  const auto read_chunk = [&]() {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left_in, kChunk));
    CATDOG_CHECK(std::fread(in.data(), 1, n, file.get()) == n, where, ": truncated data");
    left_in -= n;
    return n;
  };
  if (entry.method == 0) {
    while (left_in > 0) {
      const size_t n = read_chunk();
      emit(in.data(), n);
    }
  } else {
    z_stream z{};
    CATDOG_CHECK(inflateInit2(&z, -MAX_WBITS) == Z_OK, where, ": zlib cannot start inflating");
    std::unique_ptr<z_stream, int (*)(z_stream*)> cleanup(&z, inflateEnd);
    int status = Z_OK;
    while (status != Z_STREAM_END) {
      if (z.avail_in == 0) {
        CATDOG_CHECK(left_in > 0, where, ": the deflated data ends early (truncated zip?)");
        z.avail_in = static_cast<uInt>(read_chunk());
        z.next_in = in.data();
      }
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      status = inflate(&z, Z_NO_FLUSH);
      CATDOG_CHECK(status == Z_OK || status == Z_STREAM_END, where, ": corrupt deflated data (",
                   z.msg ? z.msg : "zlib error", ")");
      emit(out.data(), out.size() - z.avail_out);
    }
  }
  CATDOG_CHECK(produced == entry.size, where, ": holds ", produced, " bytes, its header declares ",
               entry.size, " (corrupt zip)");
  CATDOG_CHECK(crc == entry.crc32, where, ": CRC-32 mismatch (corrupt zip)");
}

std::string ZipArchive::read(const ZipEntry& entry, uint64_t max_bytes) const {
  std::string bytes;
  copy_out(entry, max_bytes, [&](const char* data, size_t size) { bytes.append(data, size); });
  return bytes;
}

void ZipArchive::extract_to(const ZipEntry& entry, const std::string& out_path,
                            uint64_t max_bytes) const {
  std::FILE* raw = std::fopen(out_path.c_str(), "wb");
  if (!raw) fail("cannot write ", out_path, ": ", std::strerror(errno));
  File out(raw);
  copy_out(entry, max_bytes, [&](const char* data, size_t size) {
    CATDOG_CHECK(std::fwrite(data, 1, size, out.get()) == size, "cannot write ", out_path, ": ",
                 std::strerror(errno));
  });
  CATDOG_CHECK(std::fflush(out.get()) == 0, "cannot write ", out_path, ": ", std::strerror(errno));
}

}  // namespace catdog
