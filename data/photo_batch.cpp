#include "data/photo_batch.h"

#include <algorithm>

#include "data/decode.h"

namespace catdog {

Tensor load_pixels(const std::vector<std::string>& paths, int size,
                   std::vector<std::string>* kept, std::vector<std::string>* bad) {
  const size_t stride = static_cast<size_t>(size) * size * 3;
  std::vector<uint8_t> rows, bytes;  // rows: the resized images so far
  Image image;                       // the one full-size decode, its memory reused
  for (const std::string& path : paths) {
    rows.resize(rows.size() + stride);
    try {
      read_file_bytes(path, bytes);
      decode_nearest_into(bytes.data(), bytes.size(), path, DecodeOptions{}, size, size, image,
                          rows.data() + rows.size() - stride);
    } catch (const Error& e) {
      rows.resize(rows.size() - stride);
      if (!bad) throw;
      bad->push_back(e.what());
      continue;
    }
    if (kept) kept->push_back(path);
  }
  Tensor pixels({static_cast<int64_t>(rows.size() / stride), size, size, 3}, DType::u8);
  std::copy(rows.begin(), rows.end(), pixels.u8());
  return pixels;
}

}  // namespace catdog
