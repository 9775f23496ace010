// Tensor: a shaped, typed view of memory on the CPU or a CUDA device.
//
// Layout is NHWC everywhere (batch, height, width, channels), as Keras stores activations; a
// dense activation is (N, features). Convolution kernels are HWIO, as Keras stores them.
// Storage is shared: `view` and `slice_rows` make new Tensors over the same bytes, which is how
// Flatten costs nothing and how a batch is cut out of a feature cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace catdog {

struct CudaContext;  // core/cuda_context.h

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& shape);
// The product of `shape`'s dimensions counted without overflow: -1 when a dimension is negative or
// the product would exceed `limit`. For shapes that come from a file, before anything is sized.
int64_t checked_numel(const Shape& shape, int64_t limit);
std::string to_string(const Shape& shape);  // "(64, 224, 224, 3)"

// Element types. f16/bf16 hold the frozen part of a model in reduced precision on the GPU; u8 holds
// decoded pixels. Arithmetic on the CPU is float32.
enum class DType : uint8_t { f32, f16, bf16, u8 };
size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);

enum class Device : uint8_t { cpu, cuda };
const char* device_name(Device device);

// One allocation. Host memory is 64-byte aligned (pinned when asked and CUDA is present); device
// memory comes from the caching allocator in core/device.h.
struct Storage {
  Storage(size_t bytes, Device device, bool pinned = false);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* ptr = nullptr;
  size_t bytes = 0;
  Device device = Device::cpu;
  bool pinned = false;
};

// Copy `bytes` from `src` in `src_device` memory to `dst` in `dst_device` memory (host buffers
// may overlap). A copy that touches the GPU runs on `cuda`'s compute stream when given (core/device.h
// says what happens without one).
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes,
                CudaContext* cuda = nullptr);

class Tensor;
// dst's row dst_rows[i] <- src's row src_rows[i] for every i (a row: everything after the first
// dimension, the same number of bytes in both). Between host tensors, memcpy; otherwise all rows
// queued together on `cuda`'s compute stream with one synchronisation (copy_rows_on_gpu).
// Throws naming the row when one is out of range.
void copy_rows(Tensor& dst, const std::vector<int64_t>& dst_rows, const Tensor& src,
               const std::vector<int64_t>& src_rows, CudaContext* cuda = nullptr);

class Tensor {
 public:
  Tensor() = default;
  // Uninitialised memory of the given shape. `pinned` asks for page-locked host memory (for fast,
  // asynchronous copies to the GPU); it is ignored for device tensors and without CUDA.
  explicit Tensor(Shape shape, DType dtype = DType::f32, Device device = Device::cpu,
                  bool pinned = false);
  static Tensor zeros(Shape shape, DType dtype = DType::f32, Device device = Device::cpu);
  // A CPU float32 tensor holding `values` (for tests and small parameters).
  static Tensor from_vector(Shape shape, const std::vector<float>& values);

  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const;  // negative i counts from the end
  int64_t numel() const { return catdog::numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device : Device::cpu; }
  bool defined() const { return storage_ != nullptr; }
  bool is_pinned() const { return storage_ && storage_->pinned; }

  void* raw() { return static_cast<char*>(storage_->ptr) + offset_; }
  const void* raw() const { return static_cast<const char*>(storage_->ptr) + offset_; }
  float* f32();  // checked: the dtype must be f32
  const float* f32() const;
  uint8_t* u8();
  const uint8_t* u8() const;

  // A tensor of another shape over the same bytes (numel must match). Flatten uses it.
  Tensor view(Shape shape) const;
  // Rows [begin, end) of the first dimension, over the same bytes.
  Tensor slice_rows(int64_t begin, int64_t end) const;
  // Change the shape, reusing the storage when it is large enough (so steady-state steps do not
  // allocate); otherwise allocate anew. Contents are unspecified afterwards. Other handles to the
  // same storage see the new contents: this is how the executor's buffers are recycled.
  void resize(const Shape& shape);
  // Make this a `dtype` tensor of `shape` on `device`: resize() when it already holds that dtype
  // on that device, a new allocation otherwise. For buffers kept from one step to the next.
  void reuse_as(const Shape& shape, DType dtype, Device device);
  // Same shape, dtype and contents on `device` (a copy; returns *this when already there).
  // Every copy below that touches the GPU runs on `cuda`'s compute stream when one is given.
  Tensor to(Device device, CudaContext* cuda = nullptr) const;
  Tensor clone(CudaContext* cuda = nullptr) const;
  // Copy the contents of `src` (same shape and dtype, any devices) into this tensor.
  void copy_from(const Tensor& src, CudaContext* cuda = nullptr);
  void fill(float value, CudaContext* cuda = nullptr);  // f32 tensors on either device
  // Contents as a CPU float32 vector (copies from the device when needed).
  std::vector<float> to_vector(CudaContext* cuda = nullptr) const;

 private:
  std::shared_ptr<Storage> storage_;
  size_t offset_ = 0;  // bytes into storage_
  Shape shape_;
  DType dtype_ = DType::f32;
};

}  // namespace catdog
