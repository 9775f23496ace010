// Stream: the queue a kernel's work goes on, named without any CUDA header so that every op
// header (kernels/<op>.h) can declare its CPU and CUDA twins with the same parameter list.
//
// It is exactly CUDA's cudaStream_t (`typedef struct CUstream_st* cudaStream_t`), so a
// CudaContext's streams pass as they are. The CPU twins take it too and ignore it (they run on
// the calling thread); pass nullptr, or whatever run_on() hands them.
#pragma once

struct CUstream_st;

namespace catdog {

using Stream = CUstream_st*;

}  // namespace catdog
