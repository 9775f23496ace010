// The launcher of tests/support/cuda_emu/cuda_emu.h and the few CUDA runtime calls that
// kernels/cuda/*.cu make, over host memory. Device pointers are host pointers from malloc, so
// AddressSanitizer sees a kernel that reads or writes one element past a buffer.
#include "tests/support/cuda_emu/cuda_emu.h"

#include <pthread.h>

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

// Under AddressSanitizer (gcc says so with __SANITIZE_ADDRESS__, clang with __has_feature).
#if defined(__SANITIZE_ADDRESS__)
#define CATDOG_EMU_DEATH_CALLBACK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CATDOG_EMU_DEATH_CALLBACK 1
#endif
#endif
#if CATDOG_EMU_DEATH_CALLBACK
#include <sanitizer/common_interface_defs.h>
#endif

namespace cuda_emu {

namespace {

// The block's barrier. __syncthreads() waits until every thread still running the kernel has
// arrived; a thread that returns from the kernel stops counting (as on a GPU, where exited
// threads do not hold a barrier up). finish_block() then waits for the whole block, so that no
// thread starts the next block while another still uses this block's shared memory.
class BlockBarrier {
 public:
  explicit BlockBarrier(int threads) : threads_(threads), running_(threads) {}

  void sync() {
    std::unique_lock<std::mutex> lock(mutex_);
    const uint64_t generation = sync_generation_;
    if (++arrived_ == running_) return release_sync();
    changed_.wait(lock, [&] { return sync_generation_ != generation; });
  }

  void finish_block() {
    std::unique_lock<std::mutex> lock(mutex_);
    --running_;
    if (running_ > 0 && arrived_ == running_) release_sync();
    if (running_ == 0) {  // the last thread of the block: reset for the next one
      running_ = threads_;
      ++block_generation_;
      changed_.notify_all();
      return;
    }
    const uint64_t generation = block_generation_;
    changed_.wait(lock, [&] { return block_generation_ != generation; });
  }

 private:
  void release_sync() {
    arrived_ = 0;
    ++sync_generation_;
    changed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  const int threads_;
  int running_;      // threads of this block that have not returned from the kernel
  int arrived_ = 0;  // threads waiting in __syncthreads()
  uint64_t sync_generation_ = 0, block_generation_ = 0;
};

thread_local BlockBarrier* current_block = nullptr;

#if CATDOG_EMU_DEATH_CALLBACK
// When a sanitizer stops the process in a kernel, say which CUDA thread it was (its report names
// only the host thread, "thread T163").
void name_the_cuda_thread() {
  if (!current_block) return;
  std::fprintf(stderr, "cuda_emu: the failing CUDA thread is blockIdx (%u, %u, %u) threadIdx "
               "(%u, %u, %u) of grid (%u, %u, %u) x block (%u, %u, %u)\n",
               block_idx.x, block_idx.y, block_idx.z, thread_idx.x, thread_idx.y, thread_idx.z,
               grid_dim.x, grid_dim.y, grid_dim.z, block_dim.x, block_dim.y, block_dim.z);
}
const bool death_callback_set = (__sanitizer_set_death_callback(name_the_cuda_thread), true);
#endif

// The threads that run blocks, started once and kept (a thread start under AddressSanitizer
// costs a fifth of a millisecond; a launch needs up to 1024). run(n, body) runs body(t) on
// threads 0..n-1 and returns when all have. Never destroyed: its threads wait until the process
// exits.
class WorkerPool {
 public:
  void run(int threads, const std::function<void(int)>& body) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (static_cast<int>(workers_.size()) < threads) {
      const int t = static_cast<int>(workers_.size());
      workers_.emplace_back([this, t] { serve(t); });
    }
    body_ = &body;
    threads_ = threads;
    done_ = 0;
    ++generation_;
    start_.notify_all();
    finished_.wait(lock, [&] { return done_ == threads_; });
  }

 private:
  void serve(int t) {
    char name[16];
    std::snprintf(name, sizeof name, "emu thread %d", t);
    pthread_setname_np(pthread_self(), name);  // what gdb's `info threads` shows
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      start_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (t >= threads_) continue;  // this launch has fewer threads a block
      lock.unlock();
      (*body_)(t);
      lock.lock();
      if (++done_ == threads_) finished_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable start_, finished_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* body_ = nullptr;
  int threads_ = 0, done_ = 0;
  uint64_t generation_ = 0;
};

// cudaGetLastError's state: the first error since the last call, and why (for the message).
thread_local cudaError_t last_error = cudaSuccess;
thread_local std::string last_error_text;

void set_error(cudaError_t error, const std::string& why) {
  if (last_error == cudaSuccess) last_error = error;
  last_error_text = std::string(cudaGetErrorName(error)) + ": " + why;
  std::fprintf(stderr, "cuda_emu: %s\n", last_error_text.c_str());
}

std::string shape(const char* what, dim3 d) {
  return std::string(what) + " (" + std::to_string(d.x) + ", " + std::to_string(d.y) + ", " +
         std::to_string(d.z) + ")";
}

}  // namespace

std::mutex& atomic_mutex() {
  static std::mutex m;
  return m;
}

std::string launch_refusal(dim3 grid, dim3 block, size_t dynamic_shared_bytes) {
  const uint64_t threads = uint64_t(block.x) * block.y * block.z;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || threads == 0) {
    return shape("grid", grid) + ", " + shape("block", block) + ": no dimension may be 0";
  }
  if (threads > 1024) {
    return shape("block", block) + " has " + std::to_string(threads) +
           " threads; a GPU runs at most 1024 threads per block";
  }
  if (block.x > 1024 || block.y > 1024 || block.z > 64) {
    return shape("block", block) + " passes a GPU's block limits (1024, 1024, 64)";
  }
  if (grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535) {
    return shape("grid", grid) + " passes a GPU's grid limits (2^31 - 1, 65535, 65535)";
  }
  if (dynamic_shared_bytes > 48 * 1024) {
    return std::to_string(dynamic_shared_bytes) +
           " bytes of dynamic shared memory; a GPU gives at most 48 KiB without the "
           "cudaFuncAttributeMaxDynamicSharedMemorySize opt-in";
  }
  return {};
}

void run_grid(dim3 grid, dim3 block, size_t dynamic_shared_bytes,
              const std::function<void()>& thread_body) {
  const std::string refusal = launch_refusal(grid, block, dynamic_shared_bytes);
  if (!refusal.empty()) {
    set_error(dynamic_shared_bytes > 48 * 1024 ? cudaErrorInvalidValue
                                               : cudaErrorInvalidConfiguration,
              refusal);
    return;
  }
  // One launch at a time in the process: __shared__ statics are then one per running block.
  static std::mutex one_launch_at_a_time;
  std::lock_guard<std::mutex> lock(one_launch_at_a_time);

  const int threads = static_cast<int>(block.x * block.y * block.z);
  const uint64_t blocks = uint64_t(grid.x) * grid.y * grid.z;
  BlockBarrier barrier(threads);
  const std::function<void(int)> run_thread = [&](int t) {
    thread_idx = {t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
    block_dim = block;
    grid_dim = grid;
    current_block = &barrier;
    for (uint64_t b = 0; b < blocks; ++b) {
      block_idx = {unsigned(b % grid.x), unsigned(b / grid.x % grid.y),
                   unsigned(b / (uint64_t(grid.x) * grid.y))};
      thread_body();
      barrier.finish_block();
    }
    current_block = nullptr;
  };
  static WorkerPool* const pool = new WorkerPool;
  pool->run(threads, run_thread);
}

void sync_block() {
  if (!current_block) {
    std::fprintf(stderr, "cuda_emu: __syncthreads() outside a kernel launch\n");
    std::abort();
  }
  current_block->sync();
}

}  // namespace cuda_emu

// ---- the CUDA runtime calls of kernels/cuda (declared by the real cuda_runtime_api.h) ----------
// Allocations are poisoned with 0xFF bytes (NaN as float and double), so that a kernel that reads
// memory nothing wrote gives NaN rather than a plausible zero.

namespace {
void* poisoned_malloc(size_t bytes) {
  void* p = std::malloc(bytes ? bytes : 1);  // exact size: ASan's redzone starts at p + bytes
  if (p) std::memset(p, 0xFF, bytes);
  return p;
}
}  // namespace

extern "C" {

cudaError_t cudaGetLastError() {
  const cudaError_t error = cuda_emu::last_error;
  cuda_emu::last_error = cudaSuccess;
  return error;
}
cudaError_t cudaPeekAtLastError() { return cuda_emu::last_error; }

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    default: return "cudaError (not emulated)";
  }
}

// The last refusal's reason goes with its error, so that cudaCheckLaunch's message says why.
const char* cudaGetErrorString(cudaError_t error) {
  static thread_local std::string text;
  text = error == cudaSuccess ? "no error" : cudaGetErrorName(error);
  if (error != cudaSuccess && cuda_emu::last_error_text.rfind(text, 0) == 0) {
    text = cuda_emu::last_error_text;
  }
  return text.c_str();
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  *ptr = poisoned_malloc(bytes);
  return *ptr ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFree(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}
cudaError_t cudaMallocAsync(void** ptr, size_t bytes, cudaStream_t) {
  return cudaMalloc(ptr, bytes);
}
cudaError_t cudaFreeAsync(void* ptr, cudaStream_t) { return cudaFree(ptr); }
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t) {
  std::memset(dst, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

}  // extern "C"
