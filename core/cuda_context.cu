#include "core/cuda_context.h"

#include "core/device.h"
#include "core/error.h"
#include "core/profiling.h"
#include "core/cuda_checks.h"

namespace catdog {

CudaContext::CudaContext(int which) : device(which) {
  cudaCheck(cudaSetDevice(device), "selecting GPU ", device);
  cudaDeviceProp prop{};
  cudaCheck(cudaGetDeviceProperties(&prop, device), "reading the properties of GPU ", device);
  sm_major = prop.major;
  sm_minor = prop.minor;
  device_name = prop.name;
  cudaCheck(cudaStreamCreateWithFlags(&compute, cudaStreamNonBlocking), "creating the compute stream");
  cudaCheck(cudaStreamCreateWithFlags(&copy, cudaStreamNonBlocking), "creating the copy stream");
  cudaCheck(cudaEventCreateWithFlags(&copy_done, cudaEventDisableTiming), "creating an event");
  cudaCheck(cudaEventCreateWithFlags(&compute_done, cudaEventDisableTiming), "creating an event");
  cublasCheck(cublasCreate(&cublas), "creating the cuBLAS handle");
  cublasCheck(cublasSetStream(cublas, compute), "binding cuBLAS to the compute stream");
  // fp32 by default: a layer asking for TF32 sets the math mode around its own calls.
  cublasCheck(cublasSetMathMode(cublas, CUBLAS_DEFAULT_MATH), "setting the cuBLAS math mode");
  cudnnCheck(cudnnCreate(&cudnn), "creating the cuDNN handle (is libcudnn.so.9 on LD_LIBRARY_PATH?)");
  cudnnCheck(cudnnSetStream(cudnn, compute), "binding cuDNN to the compute stream");
  cudaCheck(cudaMalloc(&device_scalars, 4 * sizeof(double)), "allocating reduction scratch");
  cudaCheck(cudaMallocHost(&host_scalars, 4 * sizeof(double)), "allocating pinned scratch");
}

CudaContext::~CudaContext() {
  // Destructors must not throw: errors here (a dead context at exit) are ignored.
  if (compute) cudaStreamSynchronize(compute);
  if (copy) cudaStreamSynchronize(copy);
  if (workspace_) device_free(workspace_);
  if (device_scalars) cudaFree(device_scalars);
  if (host_scalars) cudaFreeHost(host_scalars);
  if (cudnn) cudnnDestroy(cudnn);
  if (cublas) cublasDestroy(cublas);
  if (copy_done) cudaEventDestroy(copy_done);
  if (compute_done) cudaEventDestroy(compute_done);
  if (copy) cudaStreamDestroy(copy);
  if (compute) cudaStreamDestroy(compute);
}

void* CudaContext::workspace(size_t bytes) {
  if (bytes <= workspace_bytes_) return workspace_;
  // The old block may still be read by queued work; device_free returns it to the cache, and the
  // caching allocator only hands it out again to work queued later on the same compute stream.
  if (workspace_) device_free(workspace_);
  workspace_ = nullptr;
  workspace_bytes_ = 0;
  try {
    workspace_ = device_malloc(bytes);
  } catch (const Error&) {
    return nullptr;
  }
  workspace_bytes_ = bytes;
  return workspace_;
}

void CudaContext::upload(void* dst, const void* src, size_t bytes) {
  // The host side only: queueing the copy; the copy itself runs on the copy stream.
  ProfileRange range("copy", "queue upload to device");
  if (range.trace().active()) range.trace().set_args(cat("{\"bytes\":", bytes, "}"));
  cudaCheck(cudaEventRecord(compute_done, compute), "recording the compute stream's progress");
  cudaCheck(cudaStreamWaitEvent(copy, compute_done, 0), "ordering an upload after compute");
  cudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, copy), "uploading ", bytes,
            " bytes on the copy stream");
  cudaCheck(cudaEventRecord(copy_done, copy), "recording an upload");
}

void CudaContext::compute_waits_upload() {
  cudaCheck(cudaStreamWaitEvent(compute, copy_done, 0), "waiting for an upload on the compute stream");
}

void CudaContext::host_waits_upload() {
  ProfileRange range("copy", "wait for upload");
  cudaCheck(cudaEventSynchronize(copy_done), "waiting for an upload to finish");
}

namespace cuda {

namespace {
int g_default_gpu = 0;
CudaContext* g_default_context = nullptr;
}  // namespace

CudaContext& default_context() {
  // Created on first use and never destroyed: CUDA handles torn down during static destruction
  // (after the runtime may be gone) crash more often than they help.
  if (!g_default_context) {
    std::string why;
    if (!cuda_available(&why)) fail("the CUDA context: no usable GPU (", why, ")");
    g_default_context = new CudaContext(g_default_gpu);
  }
  return *g_default_context;
}

void set_default_gpu(int device) {
  CATDOG_CHECK(!g_default_context || g_default_context->device == device, "GPU ", device,
               " asked for, but the CUDA context already runs on GPU ", g_default_context->device);
  g_default_gpu = device;
}

}  // namespace cuda

}  // namespace catdog
