#include "training/tensorboard.h"

#include <unistd.h>

#include <chrono>
#include <cstring>

#include "core/error.h"

namespace catdog {

uint32_t crc32c(const void* data, size_t bytes) {
  // The reflected Castagnoli polynomial, a table of 256 built once.
  static const auto table = [] {
    struct Table { uint32_t v[256]; } t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t.v[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) crc = table.v[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, size_t bytes) {
  const uint32_t crc = crc32c(data, bytes);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

namespace {

// Protocol buffer wire format: varints, and fields as (number << 3 | wire type).
void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
template <class T>
void little_endian(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // x86 and ARM Linux are little-endian
  out.append(bytes, sizeof(T));
}
void bytes_field(std::string& out, int field, const std::string& bytes) {
  varint(out, static_cast<uint64_t>(field) << 3 | 2);
  varint(out, bytes.size());
  out += bytes;
}

std::string event_header(double wall_time, int64_t step) {
  std::string e;
  varint(e, 1 << 3 | 1);  // wall_time, 64-bit
  little_endian(e, wall_time);
  varint(e, 2 << 3 | 0);  // step, varint
  varint(e, static_cast<uint64_t>(step));
  return e;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string scalar_event(double wall_time, int64_t step, const std::string& tag, float value) {
  std::string v;
  bytes_field(v, 1, tag);
  varint(v, 2 << 3 | 5);  // simple_value, 32-bit
  little_endian(v, value);
  std::string summary;
  bytes_field(summary, 1, v);
  std::string e = event_header(wall_time, step);
  bytes_field(e, 5, summary);
  return e;
}

std::string tfrecord(const std::string& data) {
  std::string r;
  const uint64_t length = data.size();
  little_endian(r, length);
  little_endian(r, masked_crc32c(&length, sizeof length));
  r += data;
  little_endian(r, masked_crc32c(data.data(), data.size()));
  return r;
}

EventWriter::EventWriter(const std::string& dir) {
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  path_ = cat(dir, "/events.out.tfevents.", static_cast<long long>(now_seconds()), ".", host, ".",
              getpid());
  out_.open(path_, std::ios::binary | std::ios::trunc);
  CATDOG_CHECK(out_.good(), "cannot write the TensorBoard log ", path_);
  std::string version = event_header(now_seconds(), 0);
  bytes_field(version, 3, "brain.Event:2");
  write(version);
}

void EventWriter::scalar(const std::string& tag, int64_t step, double value) {
  write(scalar_event(now_seconds(), step, tag, static_cast<float>(value)));
}

void EventWriter::write(const std::string& data) {
  out_ << tfrecord(data);
  out_.flush();
  CATDOG_CHECK(out_.good(), "cannot write the TensorBoard log ", path_, " (disk full?)");
}

}  // namespace catdog
