// The seam between the engine and a CUDA device. Without the CUDA backend these functions exist
// too (core/nocuda/device_stub.cpp) and report that no GPU is available, so every caller can be
// written once.
#pragma once

#include <cstddef>
#include <string>

namespace catdog {

struct CudaContext;  // core/cuda_context.h

// True when catdog was built with CUDA and a usable GPU is present. `why`, when given, receives a
// sentence saying why not (no CUDA build, no driver, no device, ...).
bool cuda_available(std::string* why = nullptr);
// "NVIDIA H200 (sm_90, 139 GiB)" or the reason there is none.
std::string cuda_device_description();

// Device memory through the caching allocator: freed blocks are kept for reuse, so a training
// loop stops allocating after its first step. Throws catdog::Error when memory is exhausted or
// the cap set by set_device_memory_limit would be passed, naming the request size.
void* device_malloc(size_t bytes);
void device_free(void* ptr);

// Scratch from device_malloc, returned to the cache when it goes out of scope.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes) : ptr_(device_malloc(bytes)) {}
  ~DeviceBuffer() { device_free(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const { return ptr_; }

 private:
  void* ptr_;
};
// Page-locked host memory for asynchronous copies; plain aligned memory without CUDA.
void* pinned_malloc(size_t bytes);
void pinned_free(void* ptr);

// Synchronous copies and fills. With a context, they run on its compute stream (so they come
// after the kernels queued there) and wait for that stream. Without one (host-side conveniences:
// tests, loading weights), they first wait for all work on the device, then copy; no process-wide
// default context is involved.
void copy_host_to_device(void* dst, const void* src, size_t bytes, CudaContext* cuda = nullptr);
void copy_device_to_host(void* dst, const void* src, size_t bytes, CudaContext* cuda = nullptr);
void copy_device_to_device(void* dst, const void* src, size_t bytes, CudaContext* cuda = nullptr);
void device_memset_zero(void* dst, size_t bytes, CudaContext* cuda = nullptr);
// `count` copies of `row_bytes`: dst + dst_rows[i] * row_bytes <- src + src_rows[i] * row_bytes,
// each side device or pinned host memory. All are queued at once (cudaMemcpyAsync, direction
// from the pointers) and waited for once: one synchronisation, not one per row.
void copy_rows_on_gpu(void* dst, const int64_t* dst_rows, const void* src, const int64_t* src_rows,
                      size_t count, size_t row_bytes, CudaContext* cuda = nullptr);
void device_fill_f32(float* dst, size_t count, float value, CudaContext* cuda = nullptr);

struct DeviceMemoryStats {
  size_t in_use = 0;     // bytes handed out now
  size_t peak = 0;       // most bytes handed out at once since the last reset
  size_t reserved = 0;   // bytes held from the driver (in use + cached)
  size_t limit = 0;      // the cap, 0 for none
  // The GPU's own count (cudaMemGetInfo: total - free), which also holds what the allocator
  // never sees: the CUDA context, cuDNN's and cuBLAS' handles and workspaces, the fatbinary's
  // kernels, and any other process on the same GPU. The peak is over the moments sampled: every
  // cudaMalloc of the allocator and every sample_device_memory().
  size_t gpu_used_peak = 0;
  size_t gpu_total = 0;
};
DeviceMemoryStats device_memory_stats();
// Resets both peaks to what is in use now.
void reset_device_memory_peak();
// Reads the GPU's own count now and keeps the largest (a few microseconds; no synchronisation).
void sample_device_memory();
// Cap what the allocator may hold (e.g. 6 GiB to prove a run fits a GTX 1660 Ti). 0 = no cap.
void set_device_memory_limit(size_t bytes);
// Empty when this GPU can run the frozen part in `precision`, else why not ("bf16 needs compute
// capability 8.0 or newer; this GPU (GeForce GTX 1660 Ti) is 7.5"). fp32 is always fine.
std::string precision_unsupported_reason(const char* precision);
// Wait for all queued GPU work.
void device_synchronize();

}  // namespace catdog
