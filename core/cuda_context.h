// CudaContext: everything the GPU code needs to issue work, made once per process
// (catdog::cuda::default_context() below) and passed to layers in ExecContext.
//
//   compute stream   every kernel, cuDNN and cuBLAS call of the forward/backward pass
//   copy stream      host -> device batch copies, so the next batch uploads while this one computes
//   events           copy_done (recorded on the copy stream, waited on by compute) and
//                    compute_done (the reverse), the hand-off between the two streams
//   cublas, cudnn    library handles bound to the compute stream
//   workspace        scratch for cuDNN algorithms; grows to the largest request, never shrinks
//
// Not thread-safe: one thread (the trainer's) issues GPU work.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <string>

namespace catdog {

struct CudaContext {
  explicit CudaContext(int device = 0);
  ~CudaContext();
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  int device = 0;
  int sm_major = 0, sm_minor = 0;  // compute capability, e.g. 7.5 or 9.0
  std::string device_name;
  cudaStream_t compute = nullptr;
  cudaStream_t copy = nullptr;
  cudaEvent_t copy_done = nullptr;
  cudaEvent_t compute_done = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;

  // Scratch of at least `bytes` on the device, valid until the next call (work is ordered on the
  // compute stream, so a kernel queued before a regrow finishes before the old block is reused).
  // Returns nullptr instead of throwing when the memory cannot be had, so that a caller can fall
  // back to an algorithm that needs less.
  void* workspace(size_t bytes);
  size_t workspace_size() const { return workspace_bytes_; }

  // The copy stream's one job: a batch goes host -> device while the compute stream is still busy
  // with the step before (DESIGN.md: copies overlap compute on a second stream).
  //   upload(dst, src, n)   queue the copy on the copy stream, after all work queued so far on
  //                         the compute stream (which may still read dst's memory, or own the
  //                         block dst was carved from), and record copy_done;
  //   compute_waits_upload  the compute stream waits for that copy (the host does not);
  //   host_waits_upload     the host waits for it: before src's host memory may be reused.
  // src should be pinned host memory (else the copy is synchronous, still correct).
  void upload(void* dst, const void* src, size_t bytes);
  void compute_waits_upload();
  void host_waits_upload();

  // Four small device and pinned-host scratch words for reductions copied back (the loss, the
  // count of correct predictions).
  double* device_scalars = nullptr;
  double* host_scalars = nullptr;

 private:
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
};

namespace cuda {
// One per process, created on first use on GPU 0 or the one set_default_gpu named (streams,
// cuBLAS/cuDNN handles, workspace). Throws catdog::Error when there is no usable GPU.
CudaContext& default_context();
// The GPU default_context() is made on; a rank of a multi-GPU run takes its local rank's
// (training/nccl_ranks.h). Throws when the context already exists on another GPU.
void set_default_gpu(int device);
}  // namespace cuda

}  // namespace catdog
