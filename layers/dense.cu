// Dense on the GPU through cuBLAS, float32.
//
// Row-major here, column-major there: a row-major (r x c) matrix is, byte for byte, the
// column-major (c x r) matrix of its transpose. So instead of Y = X W (row-major, X (N, K),
// W (K, M), Y (N, M)) we ask cuBLAS for Y^T = W^T X^T, where W^T, X^T and Y^T are just our
// buffers read column-major: no copies, no transposes.
//   forward   Y^T (M x N)  = W^T (M x K)  * X^T (K x N)      gemm(N, N, M, N, K)
//   dW        dW^T (M x K) = dZ^T (M x N) * X (N x K)        gemm(N, T, M, K, N)
//   dX        dX^T (K x N) = W (K x M)    * dZ^T (M x N)     gemm(T, N, K, N, M)
// then the bias and activation (kernels/bias_activation.h), db = column sums of dZ (same header).
#include "kernels/activation.h"
#include "kernels/bias_activation.h"
#include "layers/dense.h"
#include "layers/gpu_support.cuh"
#include "layers/layer_support.h"

namespace catdog {

using namespace gpu_support;

namespace {
struct DenseState {
  Tensor dz;  // scratch for dL/d(pre-activation), kept between steps
};
}  // namespace

void Dense::forward_gpu(const Tensor& x, Tensor& y, ExecContext& ctx) {
  CATDOG_CHECK(kernel_.value.defined() && kernel_.value.device() == Device::cuda, "Dense layer ",
               name_, ": weights are not on the GPU (call to_device(cuda) after build)");
  CATDOG_CHECK(x.dtype() == DType::f32, "Dense layer ", name_, ": the GPU Dense computes in ",
               "float32, got a ", dtype_name(x.dtype()), " input (keep Dense layers trainable or ",
               "run --precision fp32)");
  CudaContext& cuda = cuda_of(ctx, name_);
  const Shape out_shape = output_shape(x.shape());
  y.reuse_as(out_shape, DType::f32, Device::cuda);
  const int n = static_cast<int>(x.dim(0)), k = static_cast<int>(x.dim(1)), m = config_.units;
  const float one = 1.0f, zero = 0.0f;
  cublasCheck(cublasSgemm(cuda.cublas, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one,
                          kernel_.value.f32(), m, x.f32(), k, &zero, y.f32(), m),
              "Dense ", name_, " forward: x ", to_string(x.shape()), " kernel ",
              to_string(kernel_.value.shape()));
  cuda::bias_activation_forward(y.raw(), DType::f32,
                                config_.use_bias ? bias_.value.f32() : nullptr, n, m,
                                effective_activation(), 0.0f, cuda.compute);
}

void Dense::backward_gpu(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                         ExecContext& ctx) {
  CATDOG_CHECK(dy.shape() == y.shape(), "Dense layer ", name_, ": gradient of shape ",
               to_string(dy.shape()), " for an output of shape ", to_string(y.shape()));
  const bool want_params = trainable();
  if (!dx && !want_params) return;
  require_f32(x, name_, "input");
  require_f32(dy, name_, "output gradient");
  CudaContext& cuda = cuda_of(ctx, name_);
  DenseState& s = state_of<DenseState>(gpu_state_);
  const int n = static_cast<int>(x.dim(0)), k = static_cast<int>(x.dim(1)), m = config_.units;
  const std::string what = cat("Dense ", name_, " backward: x ", to_string(x.shape()), " dy ",
                               to_string(dy.shape()));
  const Activation act = effective_activation();
  const float* dz = dy.f32();
  if (act != Activation::linear) {  // dz = dy * act'(z), from the output y
    s.dz.reuse_as(dy.shape(), DType::f32, Device::cuda);
    cuda::activation_backward(y.f32(), y.f32(), dy.f32(), s.dz.f32(), dy.numel(), act, 0.0f,
                              cuda.compute);
    dz = s.dz.f32();
  }
  const float one = 1.0f, zero = 0.0f;
  if (want_params) {
    cublasCheck(cublasSgemm(cuda.cublas, CUBLAS_OP_N, CUBLAS_OP_T, m, k, n, &one, dz, m, x.f32(),
                            k, &zero, layer_support::grad_of(kernel_).f32(), m),
                what, " (kernel gradient)");
    if (config_.use_bias) {
      cuda::bias_backward(dz, layer_support::grad_of(bias_).f32(), n, m, cuda.compute);
    }
  }
  if (dx) {
    dx->reuse_as(x.shape(), DType::f32, Device::cuda);
    cublasCheck(cublasSgemm(cuda.cublas, CUBLAS_OP_T, CUBLAS_OP_N, k, n, m, &one,
                            kernel_.value.f32(), m, dz, m, &zero, dx->f32(), k),
                what, " (input gradient)");
  }
}

}  // namespace catdog
