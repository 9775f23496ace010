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
void device_fill_f32(float* dst, size_t count, float value, CudaContext* cuda = nullptr);

struct DeviceMemoryStats {
  size_t in_use = 0;     // bytes handed out now
  size_t peak = 0;       // most bytes handed out at once since the last reset
  size_t reserved = 0;   // bytes held from the driver (in use + cached)
  size_t limit = 0;      // the cap, 0 for none
};
DeviceMemoryStats device_memory_stats();
void reset_device_memory_peak();
// Cap what the allocator may hold (e.g. 6 GiB to prove a run fits a GTX 1660 Ti). 0 = no cap.
void set_device_memory_limit(size_t bytes);
// Empty when this GPU can run the frozen part in `precision`, else why not ("bf16 needs compute
// capability 8.0 or newer; this GPU (GeForce GTX 1660 Ti) is 7.5"). fp32 is always fine.
std::string precision_unsupported_reason(const char* precision);
// Wait for all queued GPU work.
void device_synchronize();

}  // namespace catdog
