#include "core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "core/device.h"
#include "core/error.h"
#include "core/profiling.h"

namespace catdog {

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t checked_numel(const Shape& shape, int64_t limit) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d > 0 && n > limit / d)) return -1;
    n *= d;
  }
  return n;
}

std::string to_string(const Shape& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() == 1) out += ",";
  return out + ")";
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::f16: return 2;
    case DType::bf16: return 2;
    case DType::u8: return 1;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f16: return "float16";
    case DType::bf16: return "bfloat16";
    case DType::u8: return "uint8";
  }
  return "?";
}

const char* device_name(Device device) { return device == Device::cuda ? "cuda" : "cpu"; }

Storage::Storage(size_t n, Device where, bool want_pinned) : bytes(n), device(where) {
  if (n == 0) return;
  if (device == Device::cuda) {
    ptr = device_malloc(n);
  } else if (want_pinned && cuda_available()) {
    ptr = pinned_malloc(n);
    pinned = true;
  } else {
    // 64-byte alignment suits AVX-512 loads and cache lines; aligned_alloc needs a multiple.
    ptr = std::aligned_alloc(64, (n + 63) / 64 * 64);
    if (!ptr) fail("out of host memory allocating ", n, " bytes");
  }
}

Storage::~Storage() {
  if (!ptr) return;
  if (device == Device::cuda) {
    device_free(ptr);
  } else if (pinned) {
    pinned_free(ptr);
  } else {
    std::free(ptr);
  }
}

Tensor::Tensor(Shape shape, DType dtype, Device device, bool pinned)
    : shape_(std::move(shape)), dtype_(dtype) {
  CATDOG_CHECK(checked_numel(shape_, INT64_MAX / 8) >= 0, "tensor shape ", to_string(shape_),
               " has a negative dimension or more elements than 64 bits count in bytes");
  try {
    storage_ = std::make_shared<Storage>(nbytes(), device, pinned);
  } catch (const Error& e) {  // say what the bytes were for
    fail(e.what(), " for a ", dtype_name(dtype_), " tensor of shape ", to_string(shape_));
  } catch (const std::bad_alloc&) {
    fail("out of host memory for a ", dtype_name(dtype_), " tensor of shape ", to_string(shape_));
  }
}

Tensor Tensor::zeros(Shape shape, DType dtype, Device device) {
  Tensor t(std::move(shape), dtype, device);
  if (t.nbytes() == 0) return t;
  if (device == Device::cuda) {
    device_memset_zero(t.raw(), t.nbytes());
  } else {
    std::memset(t.raw(), 0, t.nbytes());
  }
  return t;
}

Tensor Tensor::from_vector(Shape shape, const std::vector<float>& values) {
  Tensor t(std::move(shape));
  CATDOG_CHECK(static_cast<int64_t>(values.size()) == t.numel(), "from_vector: ", values.size(),
               " values for shape ", to_string(t.shape()));
  if (!values.empty()) std::memcpy(t.raw(), values.data(), values.size() * sizeof(float));
  return t;
}

int64_t Tensor::dim(int i) const {
  const int r = rank();
  if (i < 0) i += r;
  CATDOG_CHECK(i >= 0 && i < r, "dimension ", i, " of a tensor of shape ", to_string(shape_));
  return shape_[static_cast<size_t>(i)];
}

float* Tensor::f32() {
  CATDOG_CHECK(dtype_ == DType::f32, "expected a float32 tensor, got ", dtype_name(dtype_));
  return static_cast<float*>(raw());
}
const float* Tensor::f32() const {
  CATDOG_CHECK(dtype_ == DType::f32, "expected a float32 tensor, got ", dtype_name(dtype_));
  return static_cast<const float*>(raw());
}
uint8_t* Tensor::u8() {
  CATDOG_CHECK(dtype_ == DType::u8, "expected a uint8 tensor, got ", dtype_name(dtype_));
  return static_cast<uint8_t*>(raw());
}
const uint8_t* Tensor::u8() const {
  CATDOG_CHECK(dtype_ == DType::u8, "expected a uint8 tensor, got ", dtype_name(dtype_));
  return static_cast<const uint8_t*>(raw());
}

Tensor Tensor::view(Shape shape) const {
  CATDOG_CHECK(catdog::numel(shape) == numel(), "cannot view a tensor of shape ",
               to_string(shape_), " as ", to_string(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::slice_rows(int64_t begin, int64_t end) const {
  CATDOG_CHECK(rank() >= 1 && 0 <= begin && begin <= end && end <= shape_[0], "rows [", begin, ", ",
               end, ") of a tensor of shape ", to_string(shape_));
  Tensor t = *this;
  const int64_t row = shape_[0] ? numel() / shape_[0] : 0;
  t.offset_ += static_cast<size_t>(begin * row) * dtype_size(dtype_);
  t.shape_[0] = end - begin;
  return t;
}

void Tensor::resize(const Shape& shape) {
  const size_t need = static_cast<size_t>(catdog::numel(shape)) * dtype_size(dtype_);
  if (storage_ && offset_ == 0 && storage_->bytes >= need) {
    shape_ = shape;
    return;
  }
  const Device where = device();
  const bool pin = is_pinned();
  *this = Tensor(shape, dtype_, where, pin);
}

void Tensor::reuse_as(const Shape& shape, DType dtype, Device device) {
  if (defined() && dtype_ == dtype && this->device() == device) {
    resize(shape);
  } else {
    *this = Tensor(shape, dtype, device);
  }
}

Tensor Tensor::to(Device target, CudaContext* cuda) const {
  if (defined() && device() == target) return *this;
  Tensor t(shape_, dtype_, target);
  t.copy_from(*this, cuda);
  return t;
}

Tensor Tensor::clone(CudaContext* cuda) const {
  Tensor t(shape_, dtype_, device());
  t.copy_from(*this, cuda);
  return t;
}

void Tensor::copy_from(const Tensor& src, CudaContext* cuda) {
  CATDOG_CHECK(src.shape_ == shape_ && src.dtype_ == dtype_, "copy of a ", dtype_name(src.dtype_),
               " tensor of shape ", to_string(src.shape_), " into a ", dtype_name(dtype_),
               " tensor of shape ", to_string(shape_));
  const size_t n = nbytes();
  if (n == 0) return;
  copy_bytes(raw(), device(), src.raw(), src.device(), n, cuda);
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes,
                CudaContext* cuda) {
  if (dst_device == Device::cpu && src_device == Device::cpu) {
    std::memmove(dst, src, bytes);
    return;
  }
  ProfileRange range("copy", src_device == Device::cpu   ? "copy host to device"
                             : dst_device == Device::cpu ? "copy device to host"
                                                         : "copy on the device");
  if (range.trace().active()) range.trace().set_args(cat("{\"bytes\":", bytes, "}"));
  if (src_device == Device::cpu) {
    copy_host_to_device(dst, src, bytes, cuda);
  } else if (dst_device == Device::cpu) {
    copy_device_to_host(dst, src, bytes, cuda);
  } else {
    copy_device_to_device(dst, src, bytes, cuda);
  }
}

void copy_rows(Tensor& dst, const std::vector<int64_t>& dst_rows, const Tensor& src,
               const std::vector<int64_t>& src_rows, CudaContext* cuda) {
  CATDOG_CHECK(dst.rank() >= 1 && src.rank() >= 1 && dst.dtype() == src.dtype() &&
                   dst_rows.size() == src_rows.size(),
               "copy_rows: ", dst_rows.size(), " rows of ", to_string(src.shape()), " into ",
               src_rows.size(), " rows of ", to_string(dst.shape()));
  const int64_t dst_n = dst.dim(0), src_n = src.dim(0);
  const size_t row = dst_n > 0 ? dst.nbytes() / static_cast<size_t>(dst_n) : 0;
  CATDOG_CHECK(src_n == 0 || src.nbytes() / static_cast<size_t>(src_n) == row,
               "copy_rows: rows of ", to_string(src.shape()), " and ", to_string(dst.shape()),
               " differ in size");
  for (size_t i = 0; i < dst_rows.size(); ++i) {
    CATDOG_CHECK(dst_rows[i] >= 0 && dst_rows[i] < dst_n && src_rows[i] >= 0 && src_rows[i] < src_n,
                 "copy_rows: row ", src_rows[i], " of ", src_n, " into row ", dst_rows[i], " of ",
                 dst_n);
  }
  if (dst_rows.empty() || row == 0) return;
  if (dst.device() == Device::cpu && src.device() == Device::cpu) {
    for (size_t i = 0; i < dst_rows.size(); ++i) {
      std::memmove(static_cast<char*>(dst.raw()) + static_cast<size_t>(dst_rows[i]) * row,
                   static_cast<const char*>(src.raw()) + static_cast<size_t>(src_rows[i]) * row,
                   row);
    }
    return;
  }
  ProfileRange range("copy", "copy rows");
  if (range.trace().active()) {
    range.trace().set_args(cat("{\"rows\":", dst_rows.size(), ",\"bytes\":", dst_rows.size() * row, "}"));
  }
  copy_rows_on_gpu(dst.raw(), dst_rows.data(), src.raw(), src_rows.data(), dst_rows.size(), row,
                   cuda);
}

void Tensor::fill(float value, CudaContext* cuda) {
  float* p = f32();
  const size_t n = static_cast<size_t>(numel());
  if (device() == Device::cuda) {
    device_fill_f32(p, n, value, cuda);
  } else {
    for (size_t i = 0; i < n; ++i) p[i] = value;
  }
}

std::vector<float> Tensor::to_vector(CudaContext* cuda) const {
  CATDOG_CHECK(dtype_ == DType::f32, "to_vector needs float32, got ", dtype_name(dtype_));
  std::vector<float> out(static_cast<size_t>(numel()));
  if (out.empty()) return out;
  if (device() == Device::cuda) {
    ProfileRange range("copy", "copy device to host");
    if (range.trace().active()) range.trace().set_args(cat("{\"bytes\":", nbytes(), "}"));
    copy_device_to_host(out.data(), raw(), nbytes(), cuda);
  } else {
    std::memcpy(out.data(), raw(), nbytes());
  }
  return out;
}

}  // namespace catdog
