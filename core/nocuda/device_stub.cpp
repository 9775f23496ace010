// The device seam in a build without the CUDA backend: no GPU, and plain host memory for "pinned"
// buffers. Any attempt to put a tensor on the GPU fails with a message that says why.
#include <cstdlib>

#include "core/device.h"
#include "core/error.h"

namespace catdog {

namespace {
[[noreturn]] void no_cuda(const char* what) {
  fail(what, ": this catdog was built without the CUDA backend (rebuild with the CUDA toolkit, "
       "cuDNN and cuBLAS installed, or use --device cpu)");
}
}  // namespace

bool cuda_available(std::string* why) {
  if (why) *why = "catdog was built without the CUDA backend";
  return false;
}
std::string cuda_device_description() { return "none (built without CUDA)"; }

void* device_malloc(size_t) { no_cuda("device_malloc"); }
void device_free(void*) {}
void* pinned_malloc(size_t bytes) { return std::aligned_alloc(64, (bytes + 63) / 64 * 64); }
void pinned_free(void* ptr) { std::free(ptr); }
void copy_host_to_device(void*, const void*, size_t, CudaContext*) { no_cuda("copy to the GPU"); }
void copy_device_to_host(void*, const void*, size_t, CudaContext*) { no_cuda("copy from the GPU"); }
void copy_device_to_device(void*, const void*, size_t, CudaContext*) { no_cuda("copy on the GPU"); }
void device_memset_zero(void*, size_t, CudaContext*) { no_cuda("memset on the GPU"); }
void copy_rows_on_gpu(void*, const int64_t*, const void*, const int64_t*, size_t, size_t,
                      CudaContext*) {
  no_cuda("row copies on the GPU");
}
void device_fill_f32(float*, size_t, float, CudaContext*) { no_cuda("fill on the GPU"); }
DeviceMemoryStats device_memory_stats() { return {}; }
void reset_device_memory_peak() {}
void sample_device_memory() {}
void set_device_memory_limit(size_t) {}
void device_synchronize() {}
std::string precision_unsupported_reason(const char* precision) {
  if (std::string(precision) == "fp32") return {};
  return std::string(precision) + " runs only on a GPU, and this catdog was built without CUDA";
}

}  // namespace catdog
