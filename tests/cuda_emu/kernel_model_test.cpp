// The host kernel model (tests/support/cuda_emu) on kernels written here: the built-in variables
// over a 3-D grid, __syncthreads() as a real barrier, __shared__ memory per block, atomics, and
// the launch limits a GPU enforces (a launch a GPU refuses is refused here, with the reason).
// Compiled as the kernels are: with cuda_emu.h force-included (tests/cuda_emu/CMakeLists.txt).
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/cuda_checks.h"
#include "core/error.h"
#include "kernels/cuda/launch.cuh"

namespace {

using catdog::cuda::launch;

// out[block b, thread t] = b * 10000 + t, both linearised x fastest.
__global__ void record_ids(int* out) {
  const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned threads = blockDim.x * blockDim.y * blockDim.z;
  out[b * threads + t] = static_cast<int>(b * 10000 + t);
}

TEST(CudaEmu, EveryThreadOfA3dGridSeesItsOwnIndices) {
  const dim3 grid(3, 2, 2), block(5, 3, 2);
  const int blocks = 12, threads = 30;
  std::vector<int> out(blocks * threads, -1);
  launch(record_ids, grid, block, 0, nullptr, out.data());
  cudaCheckLaunch("record_ids");
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < threads; ++t) EXPECT_EQ(out[b * threads + t], b * 10000 + t);
}

constexpr int kBlock = 128;

// Each block reverses its slice through shared memory: right only when every thread's write
// lands before any thread's read (the barrier), and each block has the tile to itself.
__global__ void reverse_each_block(const int* in, int* out, int n) {
  __shared__ int tile[kBlock];
  const int i = blockIdx.x * kBlock + threadIdx.x;
  tile[threadIdx.x] = i < n ? in[i] : -1;
  __syncthreads();
  const int j = blockIdx.x * kBlock + (kBlock - 1 - threadIdx.x);
  if (j < n) out[j] = tile[threadIdx.x];
}

TEST(CudaEmu, SyncthreadsIsABarrierAndSharedMemoryIsPerBlock) {
  const int n = 5 * kBlock;
  std::vector<int> in(n), out(n, -7);
  for (int i = 0; i < n; ++i) in[i] = 3 * i + 1;
  launch(reverse_each_block, n / kBlock, kBlock, 0, nullptr, in.data(), out.data(), n);
  cudaCheckLaunch("reverse_each_block");
  for (int i = 0; i < n; ++i) {
    const int block = i / kBlock, lane = i % kBlock;
    EXPECT_EQ(out[i], in[block * kBlock + kBlock - 1 - lane]) << i;
  }
}

// A tree sum in shared memory after the upper half of the block has returned: the barrier waits
// only for the threads still running, as on a GPU.
__global__ void sum_lower_half(const float* in, float* block_sums) {
  __shared__ float part[kBlock / 2];
  if (threadIdx.x >= kBlock / 2) return;
  part[threadIdx.x] = in[blockIdx.x * kBlock + threadIdx.x];
  __syncthreads();
  for (int half = kBlock / 4; half > 0; half /= 2) {
    if (threadIdx.x < unsigned(half)) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) block_sums[blockIdx.x] = part[0];
}

TEST(CudaEmu, ThreadsThatReturnNoLongerHoldTheBarrier) {
  const int blocks = 3;
  std::vector<float> in(blocks * kBlock), sums(blocks, -1.0f);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i % kBlock);
  launch(sum_lower_half, blocks, kBlock, 0, nullptr, in.data(), sums.data());
  cudaCheckLaunch("sum_lower_half");
  for (float s : sums) EXPECT_EQ(s, 63.0f * 64.0f / 2.0f);  // 0 + 1 + ... + 63
}

__global__ void count_with_atomics(int* i, float* f, double* d) {
  atomicAdd(i, 1);
  atomicAdd(f, 0.5f);
  atomicAdd(d, 0.25);
}

TEST(CudaEmu, AtomicAddLosesNoUpdate) {
  int i = 0;
  float f = 0.0f;
  double d = 0.0;
  launch(count_with_atomics, 3, 200, 0, nullptr, &i, &f, &d);
  cudaCheckLaunch("count_with_atomics");
  EXPECT_EQ(i, 600);
  EXPECT_EQ(f, 300.0f);
  EXPECT_EQ(d, 150.0);
}

// Each thread of one block writes its own element (threads with the same x and another y must
// not share one: cuda-emu-tsan reported that race in an earlier version of this kernel).
__global__ void write_one(int* out) {
  out[threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)] = 1;
}

// The catdog::Error that cudaCheckLaunch throws after launching write_one with this shape ("" if
// none); a refused launch must not have run.
std::string launch_failure(dim3 grid, dim3 block, size_t shared_bytes) {
  std::vector<int> out(1024, 0);
  launch(write_one, grid, block, shared_bytes, nullptr, out.data());
  try {
    cudaCheckLaunch("write_one", " grid (", grid.x, ", ", grid.y, ", ", grid.z, ")");
  } catch (const catdog::Error& e) {
    for (int v : out) EXPECT_EQ(v, 0) << "a refused launch ran";
    return e.what();
  }
  return {};
}

TEST(CudaEmu, LaunchOf2048ThreadsPerBlockFailsWithTheReason) {
  const std::string message = launch_failure(1, 2048, 0);
  std::cout << message << "\n";
  EXPECT_NE(message.find("cudaErrorInvalidConfiguration"), std::string::npos) << message;
  EXPECT_NE(message.find("block (2048, 1, 1) has 2048 threads"), std::string::npos) << message;
  EXPECT_NE(message.find("at most 1024 threads per block"), std::string::npos) << message;
  EXPECT_NE(message.find("write_one"), std::string::npos) << message;
}

TEST(CudaEmu, EveryLaunchLimitOfAGpuIsEnforced) {
  EXPECT_EQ(launch_failure(1, 1024, 0), "");
  EXPECT_EQ(launch_failure(1, dim3(16, 8, 8), 48 * 1024), "");
  EXPECT_NE(launch_failure(1, dim3(32, 32, 2), 0).find("2048 threads"), std::string::npos);
  EXPECT_NE(launch_failure(1, dim3(1, 1, 65), 0).find("block limits"), std::string::npos);
  EXPECT_NE(launch_failure(dim3(1, 65536), 1, 0).find("grid limits"), std::string::npos);
  EXPECT_NE(launch_failure(dim3(1, 1, 65536), 1, 0).find("grid limits"), std::string::npos);
  EXPECT_NE(launch_failure(0, 32, 0).find("no dimension may be 0"), std::string::npos);
  const std::string shared = launch_failure(1, 32, 48 * 1024 + 1);
  EXPECT_NE(shared.find("cudaErrorInvalidValue"), std::string::npos) << shared;
  EXPECT_NE(shared.find("48 KiB"), std::string::npos) << shared;
}

}  // namespace
