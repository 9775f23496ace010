// The device seam with the CUDA backend: GPU discovery, a caching allocator, pinned memory,
// synchronous copies and the precision support query (core/device.h says what each does).
//
// Why a caching allocator: cudaMalloc/cudaFree are slow and cudaFree synchronises the whole
// device. A training loop allocates the same sizes every step, so freed blocks are kept in a free
// list keyed by (rounded) size and handed out again; after the first step nothing reaches the
// driver. Blocks are only ever used on the compute stream, whose ordering makes reuse safe.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/device.h"
#include "core/error.h"
#include "core/cuda_checks.h"
#include "core/cuda_context.h"
#include "core/cuda_context.h"

namespace catdog {

namespace {

// Probed once: is there a driver and at least one device? cudaGetDeviceCount reports (does not
// abort) when the driver is missing or too old.
struct GpuProbe {
  bool ok = false;
  std::string why;
  cudaDeviceProp prop{};
};

const GpuProbe& probe() {
  static const GpuProbe result = [] {
    GpuProbe p;
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      p.why = cat("the CUDA runtime found no usable GPU: ", cudaGetErrorString(status),
                  cuda::cuda_hint(status));
      cudaGetLastError();  // clear the sticky-free error so later calls start clean
      return p;
    }
    if (count == 0) {
      p.why = "the NVIDIA driver is present but reports no GPU";
      return p;
    }
    const cudaError_t props = cudaGetDeviceProperties(&p.prop, 0);
    if (props != cudaSuccess) {
      p.why = cat("cannot read the properties of GPU 0: ", cudaGetErrorString(props));
      return p;
    }
    p.ok = true;
    return p;
  }();
  return result;
}

// Sizes are rounded so that slightly different requests share blocks: to 512 bytes below 1 MiB,
// to 2 MiB above.
size_t round_size(size_t bytes) {
  const size_t small = 512, large = size_t(2) << 20;
  if (bytes < (size_t(1) << 20)) return (bytes + small - 1) / small * small;
  return (bytes + large - 1) / large * large;
}

class CachingAllocator {
 public:
  void* allocate(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    const size_t size = round_size(bytes == 0 ? 1 : bytes);
    auto cached = free_.find(size);
    if (cached != free_.end() && !cached->second.empty()) {
      void* ptr = cached->second.back();
      cached->second.pop_back();
      note_in_use(ptr, size);
      return ptr;
    }
    if (limit_ && reserved_ + size > limit_) release_cached();
    if (limit_ && reserved_ + size > limit_) {
      fail("GPU memory cap reached: a request for ", bytes, " bytes (", mib(size), " MiB rounded) ",
           "would bring the memory catdog holds to ", mib(reserved_ + size), " MiB, over the cap of ",
           mib(limit_), " MiB (", mib(in_use_), " MiB in use)");
    }
    void* ptr = nullptr;
    cudaError_t status = cudaMalloc(&ptr, size);
    if (status == cudaErrorMemoryAllocation) {  // give the cache back to the driver and retry
      cudaGetLastError();
      release_cached();
      status = cudaMalloc(&ptr, size);
    }
    if (status != cudaSuccess) {
      cudaGetLastError();
      fail("GPU out of memory: cudaMalloc of ", bytes, " bytes failed (", cudaGetErrorString(status),
           "); catdog holds ", mib(reserved_), " MiB, ", mib(in_use_), " MiB in use",
           limit_ ? cat(", cap ", mib(limit_), " MiB") : std::string(),
           ". Try a smaller --batch or --precision fp16");
    }
    reserved_ += size;
    note_in_use(ptr, size);
    sample_gpu_locked();
    return ptr;
  }

  void sample_gpu() {
    std::lock_guard<std::mutex> lock(mutex_);
    sample_gpu_locked();
  }

  void release(void* ptr) {
    if (!ptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sizes_.find(ptr);
    if (it == sizes_.end()) return;  // not ours (never happens in correct code); do not crash
    in_use_ -= it->second;
    free_[it->second].push_back(ptr);
    sizes_.erase(it);
  }

  DeviceMemoryStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {in_use_, peak_, reserved_, limit_, gpu_used_peak_, gpu_total_};
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    peak_ = in_use_;
    gpu_used_peak_ = 0;
    sample_gpu_locked();
  }
  void set_limit(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    limit_ = bytes;
    if (limit_ && reserved_ > limit_) release_cached();
  }

 private:
  static double mib(size_t bytes) { return static_cast<double>(bytes) / (1 << 20); }
  void note_in_use(void* ptr, size_t size) {
    sizes_[ptr] = size;
    in_use_ += size;
    if (in_use_ > peak_) peak_ = in_use_;
  }
  // Return every cached (free) block to the driver. cudaFree waits for the device, so queued
  // work that last used a block has finished.
  void release_cached() {
    for (auto& [size, blocks] : free_) {
      for (void* ptr : blocks) {
        cudaFree(ptr);
        reserved_ -= size;
      }
      blocks.clear();
    }
  }

  void sample_gpu_locked() {
    size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) != cudaSuccess) {
      cudaGetLastError();  // a sample is best effort: no context yet, or a dying one
      return;
    }
    gpu_total_ = total;
    gpu_used_peak_ = std::max(gpu_used_peak_, total - free);
  }

  std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;    // rounded size -> free blocks
  std::unordered_map<void*, size_t> sizes_;      // block in use -> rounded size
  size_t in_use_ = 0, peak_ = 0, reserved_ = 0, limit_ = 0;
  size_t gpu_used_peak_ = 0, gpu_total_ = 0;
};

// Never destroyed: layers and contexts may free blocks during static destruction at exit.
CachingAllocator& allocator() {
  static CachingAllocator* instance = new CachingAllocator;
  return *instance;
}

void require_gpu(const char* what) {
  std::string why;
  if (!cuda_available(&why)) fail(what, ": no usable GPU (", why, ")");
}

// The stream a copy or fill runs on: the caller's compute stream, or, without a context, the
// legacy default stream after waiting for everything queued on the device (our streams are
// non-blocking, so the default stream alone would not wait for them).
cudaStream_t stream_for(CudaContext* cuda, size_t bytes) {
  if (cuda) return cuda->compute;
  cudaCheck(cudaDeviceSynchronize(), "waiting for the GPU before a copy of ", bytes, " bytes");
  return nullptr;
}

// The one kernel of the core: y[i] = value for i < n (grid-stride loop).
__global__ void fill_kernel(float* y, int64_t n, float value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    y[i] = value;
  }
}

}  // namespace

bool cuda_available(std::string* why) {
  const GpuProbe& p = probe();
  if (why) *why = p.why;
  return p.ok;
}

std::string cuda_device_description() {
  const GpuProbe& p = probe();
  if (!p.ok) return "none (" + p.why + ")";
  const double gib = static_cast<double>(p.prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0);
  return cat(p.prop.name, " (sm_", p.prop.major, p.prop.minor, ", ", static_cast<int>(gib + 0.5),
             " GiB)");
}

void* device_malloc(size_t bytes) {
  require_gpu("device_malloc");
  return allocator().allocate(bytes);
}
void device_free(void* ptr) { allocator().release(ptr); }

void* pinned_malloc(size_t bytes) {
  void* ptr = nullptr;
  cudaCheck(cudaMallocHost(&ptr, bytes == 0 ? 1 : bytes), "pinned host buffer of ", bytes, " bytes");
  return ptr;
}
void pinned_free(void* ptr) {
  if (ptr) cudaFreeHost(ptr);  // no throw: called from destructors
}

void copy_host_to_device(void* dst, const void* src, size_t bytes, CudaContext* cuda) {
  cudaStream_t s = stream_for(cuda, bytes);
  cudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s), "copy of ", bytes,
            " bytes to the GPU");
  cudaCheck(cudaStreamSynchronize(s), "copy of ", bytes, " bytes to the GPU");
}
void copy_device_to_host(void* dst, const void* src, size_t bytes, CudaContext* cuda) {
  cudaStream_t s = stream_for(cuda, bytes);
  cudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s), "copy of ", bytes,
            " bytes from the GPU");
  cudaCheck(cudaStreamSynchronize(s), "copy of ", bytes, " bytes from the GPU");
}
void copy_device_to_device(void* dst, const void* src, size_t bytes, CudaContext* cuda) {
  cudaStream_t s = stream_for(cuda, bytes);
  cudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s), "copy of ", bytes,
            " bytes on the GPU");
  cudaCheck(cudaStreamSynchronize(s), "copy of ", bytes, " bytes on the GPU");
}
void copy_rows_on_gpu(void* dst, const int64_t* dst_rows, const void* src, const int64_t* src_rows,
                      size_t count, size_t row_bytes, CudaContext* cuda) {
  if (count == 0) return;
  cudaStream_t s = stream_for(cuda, count * row_bytes);
  for (size_t i = 0; i < count; ++i) {
    cudaCheck(cudaMemcpyAsync(static_cast<char*>(dst) + static_cast<size_t>(dst_rows[i]) * row_bytes,
                              static_cast<const char*>(src) +
                                  static_cast<size_t>(src_rows[i]) * row_bytes,
                              row_bytes, cudaMemcpyDefault, s),
              "row copy ", i, " of ", count, " (", row_bytes, " bytes each)");
  }
  cudaCheck(cudaStreamSynchronize(s), "copying ", count, " rows of ", row_bytes, " bytes");
}
void device_memset_zero(void* dst, size_t bytes, CudaContext* cuda) {
  cudaStream_t s = stream_for(cuda, bytes);
  cudaCheck(cudaMemsetAsync(dst, 0, bytes, s), "zeroing ", bytes, " bytes on the GPU");
  cudaCheck(cudaStreamSynchronize(s), "zeroing ", bytes, " bytes on the GPU");
}
void device_fill_f32(float* dst, size_t count, float value, CudaContext* cuda) {
  cudaStream_t s = stream_for(cuda, count * sizeof(float));
  if (count > 0) {
    const int64_t n = static_cast<int64_t>(count);
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((n + 255) / 256, 65535));
    fill_kernel<<<blocks, 256, 0, s>>>(dst, n, value);
    cudaCheck(cudaGetLastError(), "fill_kernel over ", count, " floats");
  }
  cudaCheck(cudaStreamSynchronize(s), "filling ", count, " floats on the GPU");
}

DeviceMemoryStats device_memory_stats() { return allocator().stats(); }
void reset_device_memory_peak() { allocator().reset_peak(); }
void sample_device_memory() { allocator().sample_gpu(); }
void set_device_memory_limit(size_t bytes) { allocator().set_limit(bytes); }

std::string precision_unsupported_reason(const char* precision) {
  const std::string name = precision ? precision : "";
  if (name == "fp32") return {};
  if (name != "tf32" && name != "fp16" && name != "bf16") {
    return "unknown precision '" + name + "' (expected fp32, tf32, fp16 or bf16)";
  }
  const GpuProbe& p = probe();
  if (!p.ok) return name + " runs only on a GPU, and there is none: " + p.why;
  const int cc = p.prop.major * 10 + p.prop.minor;
  // TF32 and bfloat16 tensor-core math arrived with Ampere (8.0); fp16 works from Volta/Turing.
  const int needed = name == "fp16" ? 70 : 80;
  if (cc >= needed) return {};
  return cat(name, " needs compute capability ", needed / 10, ".", needed % 10,
             " or newer; this GPU (", p.prop.name, ") is ", p.prop.major, ".", p.prop.minor);
}

void device_synchronize() {
  if (!cuda_available()) return;
  cudaCheck(cudaDeviceSynchronize(), "waiting for the GPU");
}

}  // namespace catdog
