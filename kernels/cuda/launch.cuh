// The one launch form of kernels/cuda, so that the same .cu file builds with nvcc for a GPU and
// as plain C++ for the host emulator (the cuda-emu preset, tests/support/cuda_emu/cuda_emu.h):
//
//   launch(kernel, grid, block, shared_bytes, stream, args...)
//     == kernel<<<grid, block, shared_bytes, stream>>>(args...)
//
// Like <<<>>>, it only queues the kernel: check the launch after it with cudaCheckLaunch (the
// kernel's name and shapes in the message). Internal to kernels/cuda.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

namespace catdog::cuda {

template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
            cudaStream_t stream, Args&&... args) {
#if CATDOG_CUDA_EMU
  ::cuda_emu::launch(kernel, grid, block, shared_bytes, stream, std::forward<Args>(args)...);
#else
  kernel<<<grid, block, shared_bytes, stream>>>(std::forward<Args>(args)...);
#endif
}

}  // namespace catdog::cuda
