// core/device.h for the cuda-emu build: "device" memory is host memory (malloc of the exact size,
// so that AddressSanitizer catches a kernel's one-past-the-end access, poisoned with NaN bytes),
// copies are memcpy, and there is always a "GPU". It stands where core/device_cuda.cu (the
// caching allocator) stands in the real build; the allocator's own tests need a GPU.
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/device.h"
#include "core/error.h"

namespace catdog {

bool cuda_available(std::string* why) {
  if (why) why->clear();
  return true;
}
std::string cuda_device_description() { return "cuda_emu (CUDA kernels on host threads)"; }

void* device_malloc(size_t bytes) {
  void* p = std::malloc(bytes ? bytes : 1);
  if (!p) fail("cuda_emu: out of host memory allocating ", bytes, " bytes of device memory");
  std::memset(p, 0xFF, bytes);
  return p;
}
void device_free(void* ptr) { std::free(ptr); }
void* pinned_malloc(size_t bytes) { return device_malloc(bytes); }
void pinned_free(void* ptr) { std::free(ptr); }

void copy_host_to_device(void* dst, const void* src, size_t bytes, CudaContext*) {
  std::memcpy(dst, src, bytes);
}
void copy_device_to_host(void* dst, const void* src, size_t bytes, CudaContext*) {
  std::memcpy(dst, src, bytes);
}
void copy_device_to_device(void* dst, const void* src, size_t bytes, CudaContext*) {
  std::memmove(dst, src, bytes);
}
void device_memset_zero(void* dst, size_t bytes, CudaContext*) { std::memset(dst, 0, bytes); }
void device_fill_f32(float* dst, size_t count, float value, CudaContext*) {
  for (size_t i = 0; i < count; ++i) dst[i] = value;
}

DeviceMemoryStats device_memory_stats() { return {}; }
void copy_rows_on_gpu(void* dst, const int64_t* dst_rows, const void* src, const int64_t* src_rows,
                      size_t count, size_t row_bytes, CudaContext*) {
  for (size_t i = 0; i < count; ++i) {
    std::memmove(static_cast<char*>(dst) + static_cast<size_t>(dst_rows[i]) * row_bytes,
                 static_cast<const char*>(src) + static_cast<size_t>(src_rows[i]) * row_bytes,
                 row_bytes);
  }
}
void reset_device_memory_peak() {}
void sample_device_memory() {}
void set_device_memory_limit(size_t) {}
std::string precision_unsupported_reason(const char*) { return {}; }
void device_synchronize() {}

}  // namespace catdog
