#include "weights/hdf5_heap_check.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "core/error.h"

namespace catdog::h5 {
namespace {

constexpr size_t kCollectionHeader = 16;  // "GCOL", version, 3 reserved, size (8)
constexpr size_t kObjectHeader = 16;      // index (2), references (2), reserved (4), size (8)

uint64_t little_endian(const uint8_t* p, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = value << 8 | p[i];
  return value;
}

// Walk the objects of the collection at `start` as HDF5 does; throw on a size it cannot survive.
void check_collection(const uint8_t* file, size_t file_size, size_t start, const std::string& path) {
  if (start + kCollectionHeader > file_size || file[start + 4] != 1) return;  // not one HDF5 reads
  const uint64_t size = little_endian(file + start + 8, 8);
  const uint64_t end = size > file_size - start ? file_size : start + size;  // HDF5 fails past EOF
  for (uint64_t p = start + kCollectionHeader; p + kObjectHeader <= end;) {
    const uint64_t index = little_endian(file + p, 2);
    const uint64_t object_size = little_endian(file + p + 8, 8);
    const uint64_t left = size - (p - start);  // >= kObjectHeader, as the collection declares it
    // HDF5 steps over the header and the data padded to 8 bytes, or over the free space (index 0)
    // whose size includes its header. 0 marks a step that cannot be right.
    uint64_t step = object_size;
    if (index > 0) step = object_size > left - kObjectHeader ? 0 : kObjectHeader + (object_size + 7) / 8 * 8;
    CATDOG_CHECK(step > 0 && step <= left, path,
                 ": corrupt HDF5 global heap (where variable-length strings are) at byte ", p,
                 ": object ", index, " of size ", object_size, " with ", left,
                 " bytes left in its collection; HDF5 1.10 would hang or crash reading it");
    p += step;
  }
}

}  // namespace

void check_global_heaps(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // the HDF5 open that follows reports why
  struct stat info {};
  if (::fstat(fd, &info) != 0 || info.st_size < static_cast<off_t>(kCollectionHeader)) {
    ::close(fd);
    return;
  }
  const size_t size = static_cast<size_t>(info.st_size);
  void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapped == MAP_FAILED) return;
  const uint8_t* file = static_cast<const uint8_t*>(mapped);
  try {
    for (const void* at = memmem(file, size, "GCOL", 4); at;) {
      const size_t start = static_cast<size_t>(static_cast<const uint8_t*>(at) - file);
      check_collection(file, size, start, path);
      at = memmem(file + start + 1, size - start - 1, "GCOL", 4);
    }
  } catch (...) {
    ::munmap(mapped, size);
    throw;
  }
  ::munmap(mapped, size);
}

}  // namespace catdog::h5
