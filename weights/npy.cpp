#include "weights/npy.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "weights/atomic_file.h"

namespace catdog {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kAlign = 64;  // numpy >= 1.14 pads the header so data is 64-byte aligned

// A tiny reader for the header dict. It accepts exactly what numpy writes (and reasonable
// variations in spacing and key order), nothing general.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& name) : text_(text), name_(name) {}

  void parse(std::string& descr, bool& fortran_order, Shape& shape) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      std::string key = quoted();
      expect(':');
      if (key == "descr") {
        descr = quoted();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran_order = boolean();
        have_order = true;
      } else if (key == "shape") {
        shape = tuple();
        have_shape = true;
      } else {
        bad("unknown key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') ++pos_;
    }
    if (!have_descr || !have_order || !have_shape)
      bad("it needs the keys 'descr', 'fortran_order' and 'shape'");
  }

 private:
  [[noreturn]] void bad(const std::string& why) const {
    fail(name_, ": bad .npy header (", why, "): ", text_);
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string quoted() {
    skip_space();
    char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted string");
    size_t end = text_.find(q, pos_ + 1);
    if (end == std::string::npos) bad("unterminated string");
    std::string out = text_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_space();
    if (text_.compare(pos_, 4, "True") == 0) return pos_ += 4, true;
    if (text_.compare(pos_, 5, "False") == 0) return pos_ += 5, false;
    bad("expected True or False");
  }
  Shape tuple() {
    expect('(');
    Shape shape;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) bad("expected a dimension");
      int64_t d = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        d = d * 10 + (text_[pos_++] - '0');
        if (d > (int64_t{1} << 40)) bad("absurd dimension");
      }
      if (peek() == 'L') ++pos_;  // Python 2 longs
      shape.push_back(d);
      if (shape.size() > 16) bad("more than 16 dimensions");
      skip_space();
      if (peek() == ',') ++pos_;
    }
    ++pos_;
    return shape;
  }

  const std::string& text_;
  const std::string& name_;
  size_t pos_ = 0;
};

std::string shape_literal(const Shape& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) out += std::to_string(shape[i]) + ", ";
  if (shape.size() > 1) out.resize(out.size() - 2);   // (6, 7)  but  (6,)  and  ()
  else if (shape.size() == 1) out.resize(out.size() - 1);
  return out + ")";
}

}  // namespace

std::string encode_npy(const Tensor& input) {
  CATDOG_CHECK(input.defined(), "write_npy: the tensor is empty (never allocated)");
  CATDOG_CHECK(input.dtype() == DType::f32 || input.dtype() == DType::u8,
               "write_npy: only float32 and uint8 tensors can be written, not ",
               dtype_name(input.dtype()));
  Tensor tensor = input.to(Device::cpu);
  std::string header = "{'descr': '";
  header += tensor.dtype() == DType::f32 ? "<f4" : "|u1";
  header += "', 'fortran_order': False, 'shape': " + shape_literal(tensor.shape()) + ", }";
  // magic(6) + version(2) + length(2 or 4) + header + '\n', padded to a multiple of 64.
  size_t prefix = kMagicSize + 2 + 2;
  size_t total = (prefix + header.size() + 1 + kAlign - 1) / kAlign * kAlign;
  int major = 1;
  if (total - prefix > 65535) {
    major = 2;
    prefix += 2;
    total = (prefix + header.size() + 1 + kAlign - 1) / kAlign * kAlign;
  }
  header.append(total - prefix - header.size() - 1, ' ');
  header += '\n';

  std::string out(kMagic, kMagicSize);
  out += static_cast<char>(major);
  out += '\0';
  uint32_t len = static_cast<uint32_t>(header.size());
  for (int b = 0; b < (major == 1 ? 2 : 4); ++b) out += static_cast<char>((len >> (8 * b)) & 0xff);
  out += header;
  // The data: CPU memory is little-endian on every machine we build for (x86-64, aarch64).
  out.append(static_cast<const char*>(tensor.raw()), tensor.nbytes());
  return out;
}

void write_npy(const std::string& path, const Tensor& tensor) {
  std::string bytes;
  try {
    bytes = encode_npy(tensor);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  atomic_write_file(path, bytes);
}

namespace {

struct NpyLayout {
  DType dtype = DType::f32;
  Shape shape;
  uint64_t data_offset = 0;  // bytes from the start of the file
  uint64_t data_bytes = 0;   // what the shape needs
};

// Parse the magic, version and header at the start of `head` (which holds at least the whole
// header, or the whole file when it is shorter) and check the data size against `file_size`.
NpyLayout parse_npy_header(const std::string& head, uint64_t file_size, const std::string& name) {
  CATDOG_CHECK(head.size() >= kMagicSize + 4 && head.compare(0, kMagicSize, kMagic, kMagicSize) == 0,
               name, ": not a .npy file (no \\x93NUMPY magic at the start)");
  int major = static_cast<unsigned char>(head[6]);
  CATDOG_CHECK(major >= 1 && major <= 3, name, ": unsupported .npy version ", major, ".",
               static_cast<int>(static_cast<unsigned char>(head[7])));
  size_t len_bytes = major == 1 ? 2 : 4;
  uint64_t header_start = 8 + len_bytes;
  CATDOG_CHECK(head.size() >= header_start, name, ": truncated .npy header");
  uint64_t header_len = 0;
  for (size_t b = 0; b < len_bytes; ++b)
    header_len |= uint64_t{static_cast<unsigned char>(head[8 + b])} << (8 * b);
  CATDOG_CHECK(header_start + header_len <= head.size(), name, ": the .npy header says ",
               header_len, " bytes but the file has only ", head.size() - header_start,
               " after its length field");
  std::string header = head.substr(header_start, header_len);

  NpyLayout layout;
  std::string descr;
  bool fortran_order = false;
  HeaderParser(header, name).parse(descr, fortran_order, layout.shape);
  if (descr == "<f4") {
    layout.dtype = DType::f32;
  } else if (descr == "|u1" || descr == "<u1" || descr == "u1") {
    layout.dtype = DType::u8;
  } else if (descr == ">f4") {
    fail(name, ": big-endian float32 ('>f4') is not supported; save it as '<f4'");
  } else {
    fail(name, ": dtype '", descr, "' is not supported (float32 '<f4' or uint8 '|u1' only)");
  }
  CATDOG_CHECK(!fortran_order, name, ": Fortran-order arrays are not supported (save C order)");

  // The size check comes before any allocation: the data must be exactly what the shape says.
  layout.data_offset = header_start + header_len;
  uint64_t available = file_size - layout.data_offset;
  uint64_t need = dtype_size(layout.dtype);
  bool has_zero = false;
  for (int64_t d : layout.shape) has_zero |= d == 0;
  // An empty array's other dimensions are still multiplied together (numel): in (2^40, 2^40, 0)
  // they overflow int64. (Without a zero, the data size check below bounds the product.)
  uint64_t nonzero_product = 1;
  for (int64_t d : layout.shape) {
    if (!has_zero || d == 0) continue;
    CATDOG_CHECK(nonzero_product <= (uint64_t{1} << 62) / static_cast<uint64_t>(d), name,
                 ": absurd shape ", to_string(layout.shape), " (its dimensions overflow 64 bits)");
    nonzero_product *= static_cast<uint64_t>(d);
  }
  for (int64_t d : layout.shape) {
    if (has_zero) { need = 0; break; }
    need *= static_cast<uint64_t>(d);
    CATDOG_CHECK(need <= available, name, ": shape ", to_string(layout.shape), " needs more than the ",
                 available, " data bytes the file holds (truncated?)");
  }
  CATDOG_CHECK(need == available, name, ": shape ", to_string(layout.shape), " of ", descr,
               " needs ", need, " data bytes, the file holds ", available,
               need < available ? " (trailing bytes)" : " (truncated?)");
  layout.data_bytes = need;
  return layout;
}

}  // namespace

Tensor decode_npy(const std::string& bytes, const std::string& name) {
  NpyLayout layout = parse_npy_header(bytes, bytes.size(), name);
  Tensor tensor(layout.shape, layout.dtype);
  if (layout.data_bytes)
    std::memcpy(tensor.raw(), bytes.data() + layout.data_offset, layout.data_bytes);
  return tensor;
}

Tensor read_npy(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && !S_ISREG(info.st_mode))
    fail(path, ": not a regular file (a directory?)");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  CATDOG_CHECK(in, "cannot open ", path, ": ", std::strerror(errno));
  std::streamoff end = in.tellg();
  CATDOG_CHECK(end >= 0, "cannot read ", path, " (not a regular file?)");
  uint64_t file_size = static_cast<uint64_t>(end);
  // The header is at most 10 + 2^32 bytes in theory; numpy keeps it small. Read what the length
  // field asks for, capped by the file size.
  std::string head(std::min<uint64_t>(file_size, 12), '\0');
  in.seekg(0);
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  CATDOG_CHECK(in, "cannot read ", path);
  if (head.size() >= 12 && head.compare(0, kMagicSize, kMagic, kMagicSize) == 0) {
    int major = static_cast<unsigned char>(head[6]);
    uint64_t header_len = 0;
    size_t len_bytes = major == 1 ? 2 : 4;
    for (size_t b = 0; b < len_bytes; ++b)
      header_len |= uint64_t{static_cast<unsigned char>(head[8 + b])} << (8 * b);
    uint64_t want = std::min<uint64_t>(file_size, 8 + len_bytes + header_len);
    head.resize(want);
    in.seekg(0);
    in.read(head.data(), static_cast<std::streamsize>(want));
    CATDOG_CHECK(in, "cannot read ", path);
  }
  NpyLayout layout = parse_npy_header(head, file_size, path);
  Tensor tensor(layout.shape, layout.dtype);
  in.seekg(static_cast<std::streamoff>(layout.data_offset));
  in.read(static_cast<char*>(tensor.raw()), static_cast<std::streamsize>(layout.data_bytes));
  CATDOG_CHECK(in || layout.data_bytes == 0, "cannot read the data of ", path, " (changed while reading?)");
  return tensor;
}

}  // namespace catdog
