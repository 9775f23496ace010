// The CUDA kernel model on the host, for the cuda-emu preset: kernels/cuda/*.cu compiled as C++
// (g++ -x c++ -include tests/support/cuda_emu/cuda_emu.h, with CATDOG_CUDA_EMU=1) run on CPU
// threads, under AddressSanitizer and UBSan, against their CPU twins. A test tool, not a backend.
//
//   a launch        grid blocks run one after another; the threads of a block run at once as
//                   real threads (gdb: `info threads`, `thread N`), so __syncthreads() is a barrier
//   threadIdx ...   per-thread values (thread_local), set before each block
//   __shared__      `static`: one copy per kernel, which is one per block because a launch runs
//                   one block at a time and one launch at a time (launches are serialised)
//   device memory   host memory; the CUDA runtime calls the kernel files use are in cuda_emu.cpp
//   fp16 / bf16     CUDA's own host conversions (cuda_fp16.h, cuda_bf16.h)
//   launch limits   checked as a GPU checks them: a launch a GPU refuses fails here, with why
//
// What it does not model: warps (warp shuffles and votes are refused at compile time), streams
// and asynchrony (a launch returns when the kernel is done), timing, coalescing, cuDNN, cuBLAS.
// docs/how-it-works.md, "Running a CUDA kernel without a GPU", shows how to step through one.
#pragma once

// CUDA's host headers first: the real dim3/uint3, cudaError_t and the fp16/bf16 types.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

// ---- execution space qualifiers: every function is a host function here ------------------------
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __shared__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline  // not always_inline, so that gdb can step into it
// Static shared arrays (`__shared__ double part[256];`) become function statics: see above.
// `extern __shared__` (dynamic shared memory) does not compile here ("static extern"): no kernel
// uses it yet.
#define __shared__ static

namespace cuda_emu {

// The built-in variables of the thread running now.
inline thread_local uint3 thread_idx;
inline thread_local uint3 block_idx;
inline thread_local dim3 block_dim;
inline thread_local dim3 grid_dim;

// Why a GPU would refuse to launch this shape ("" when it would not): at most 1024 threads a
// block, block (1024, 1024, 64), grid (2^31 - 1, 65535, 65535), no dimension 0, and at most
// 48 KiB of dynamic shared memory (the default without cudaFuncSetAttribute's opt-in).
std::string launch_refusal(dim3 grid, dim3 block, size_t dynamic_shared_bytes);

// Runs thread_body as every thread of every block of the grid and returns when all are done; a
// refused shape runs nothing and leaves cudaErrorInvalidConfiguration (or cudaErrorInvalidValue
// for the shared memory) for cudaGetLastError, with the reason in cudaGetErrorString's text.
void run_grid(dim3 grid, dim3 block, size_t dynamic_shared_bytes,
              const std::function<void()>& thread_body);

// __syncthreads(): waits for the block's other threads (those that returned no longer count).
void sync_block();

// The mutex every atomic takes: atomics are rare and short in these kernels.
std::mutex& atomic_mutex();

// kernel<<<grid, block, shared_bytes, stream>>>(args...): each thread gets its own copy of the
// arguments, converted to the kernel's parameter types once, as a GPU does.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
            cudaStream_t /*stream: the launch is synchronous*/, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args),
                "the kernel takes another number of arguments");
  const std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
  run_grid(grid, block, shared_bytes, [&] { std::apply(kernel, params); });
}

template <class...>
constexpr bool kNotEmulated = false;

}  // namespace cuda_emu

#define threadIdx (::cuda_emu::thread_idx)
#define blockIdx (::cuda_emu::block_idx)
#define blockDim (::cuda_emu::block_dim)
#define gridDim (::cuda_emu::grid_dim)
#define warpSize 32

inline void __syncthreads() { cuda_emu::sync_block(); }
inline void __threadfence() {}
inline void __threadfence_block() {}

// ---- atomics: read-modify-write under one mutex; each returns the old value --------------------
template <class T>
T cuda_emu_atomic(T* address, T value, T (*op)(T old, T value)) {
  static_assert(std::is_same_v<T, int> || std::is_same_v<T, unsigned> ||
                    std::is_same_v<T, unsigned long long> || std::is_same_v<T, float> ||
                    std::is_same_v<T, double>,
                "cuda_emu: CUDA's atomics take int, unsigned, unsigned long long, float, double");
  std::lock_guard<std::mutex> lock(cuda_emu::atomic_mutex());
  const T old = *address;
  *address = op(old, value);
  return old;
}
template <class T>
T atomicAdd(T* address, T value) {
  return cuda_emu_atomic<T>(address, value, [](T old, T v) { return T(old + v); });
}
template <class T>
T atomicSub(T* address, T value) {
  return cuda_emu_atomic<T>(address, value, [](T old, T v) { return T(old - v); });
}
template <class T>
T atomicMax(T* address, T value) {
  return cuda_emu_atomic<T>(address, value, [](T old, T v) { return old < v ? v : old; });
}
template <class T>
T atomicMin(T* address, T value) {
  return cuda_emu_atomic<T>(address, value, [](T old, T v) { return v < old ? v : old; });
}
template <class T>
T atomicExch(T* address, T value) {
  return cuda_emu_atomic<T>(address, value, [](T, T v) { return v; });
}
template <class T>
T atomicCAS(T* address, T compare, T value) {
  std::lock_guard<std::mutex> lock(cuda_emu::atomic_mutex());
  const T old = *address;
  if (old == compare) *address = value;
  return old;
}

// ---- warp-level intrinsics: not emulated (a block's threads are not grouped in warps here) -----
#define CATDOG_EMU_REFUSE(name)                                                             \
  template <class... A>                                                                     \
  unsigned name(A...) {                                                                     \
    static_assert(cuda_emu::kNotEmulated<A...>,                                             \
                  "cuda_emu: " #name " is a warp intrinsic, and the emulator has no warps: " \
                  "use shared memory and __syncthreads(), or test this kernel on a GPU");   \
    return 0;                                                                               \
  }
CATDOG_EMU_REFUSE(__shfl_sync)
CATDOG_EMU_REFUSE(__shfl_up_sync)
CATDOG_EMU_REFUSE(__shfl_down_sync)
CATDOG_EMU_REFUSE(__shfl_xor_sync)
CATDOG_EMU_REFUSE(__ballot_sync)
CATDOG_EMU_REFUSE(__any_sync)
CATDOG_EMU_REFUSE(__all_sync)
CATDOG_EMU_REFUSE(__activemask)
CATDOG_EMU_REFUSE(__syncwarp)
#undef CATDOG_EMU_REFUSE

// ---- device math that the host lacks -----------------------------------------------------------
// CUDA's min/max overloads for integers and floats (std:: has them as templates).
using std::max;
using std::min;
// The IEEE round-to-nearest intrinsics: the same operation on the host, never contracted into an
// FMA (the emu kernels are built with -ffp-contract=off).
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }
// The fast approximations are not bit-exact on a GPU (__expf: 2 + 1.16 * |x| ulp); here they are
// the accurate functions, so a test tolerance must cover the GPU's error, not the emulator's.
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
template <class T>
T __ldg(const T* p) {
  return *p;
}
