// Conv2D on the GPU through cuDNN, NHWC.
//
// Per input shape (and element type and precision) a Plan holds the cuDNN descriptors and the
// algorithms, chosen once from cuDNN's heuristics (cudnnGet*Algorithm_v7, best first) by the rule
// in layers/conv_algorithm.h (the precision's own math first, strict fp32 never anything else,
// determinism for backward when it can be had, a smaller workspace when the fastest's cannot be
// had) and kept, each with its math type, which is set before every call. The kernel is converted once from Keras' HWIO to cuDNN's
// NHWC filter layout KRSC = (F, KH, KW, C) (and to f16/bf16 for reduced precision), on first use
// after weights_changed; a trainable layer reconverts once per step, in forward (SGD changes it
// after backward), and its backward uses that conversion.
//
// 'same' padding: TensorFlow pads (total / 2) before and the rest after; cuDNN pads the same
// amount on both sides. When the total is odd (even kernels, strides) the input is first copied
// into a zero-padded buffer and the convolution runs 'valid'; the backward of a trainable layer
// reuses the buffer its forward filled from the same input.
//
// Forward: y = act(conv(x, W) + b). Fused into one cudnnConvolutionBiasActivationForward for
// float32 data with relu and a bias when cuDNN accepts it (else conv, then our bias+act kernel).
// Backward (float32): dz = dy * act'(y); db = column sums of dz; dW via
// cudnnConvolutionBackwardFilter (KRSC, then converted to HWIO into Param::grad); dx via
// cudnnConvolutionBackwardData.
#include <memory>
#include <vector>

#include "kernels/activation.h"
#include "kernels/bias_activation.h"
#include "kernels/conv_layout.h"
#include "kernels/cpu/conv_geometry.h"
#include "layers/conv_algorithm.h"
#include "layers/conv2d.h"
#include "layers/gpu_support.cuh"
#include "layers/layer_support.h"

namespace catdog {

using namespace gpu_support;

namespace {

struct ConvPlan {
  Shape x_shape;
  DType dtype = DType::f32;
  Precision precision = Precision::fp32;
  WindowGeometry g;
  bool explicit_pad = false;  // asymmetric 'same': pad into a buffer, then convolve 'valid'
  int64_t hp = 0, wp = 0;     // padded input size (== h, w otherwise)
  TensorDesc x_desc, y_desc, bias_desc;
  FilterDesc w_desc;
  ConvDesc conv;
  ActivationDesc act;
  bool forward_ready = false;
  cudnnConvolutionFwdAlgo_t fwd_algo{};
  cudnnMathType_t fwd_math = CUDNN_FMA_MATH;
  size_t fwd_workspace = 0;
  bool fused = false;  // cudnnConvolutionBiasActivationForward accepted
  bool backward_ready = false;
  cudnnConvolutionBwdDataAlgo_t bwd_data_algo{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter_algo{};
  cudnnMathType_t bwd_data_math = CUDNN_FMA_MATH, bwd_filter_math = CUDNN_FMA_MATH;
  size_t bwd_data_workspace = 0, bwd_filter_workspace = 0;
};

struct ConvState {
  Tensor kernel_krsc;      // (F, KH, KW, C) float32
  Tensor kernel_krsc_low;  // the same in f16/bf16, for a reduced-precision forward
  bool krsc_fresh = false, low_fresh = false;
  std::unique_ptr<ConvPlan> forward_plan, backward_plan;
  Tensor x_padded, dz, dkernel_krsc, dx_padded;  // scratch kept between steps
  const void* x_padded_from = nullptr;  // the input x_padded holds (float32), or null
};

std::string describe(const std::string& name, const Shape& x, const Conv2DConfig& c) {
  return cat("Conv2D ", name, " x ", to_string(x), " kernel ", c.kernel_h, "x", c.kernel_w, "x?x",
             c.filters, " stride ", c.stride_h, "x", c.stride_w, " ", padding_name(c.padding));
}

// Fill the descriptors of a plan for input shape x in `dtype` with `precision`'s math.
std::unique_ptr<ConvPlan> make_plan(const Conv2DConfig& c, const Shape& x, DType dtype,
                                    Precision precision, const std::string& what) {
  auto plan = std::make_unique<ConvPlan>();
  plan->x_shape = x;
  plan->dtype = dtype;
  plan->precision = precision;
  const bool same = c.padding == Padding::same;
  WindowGeometry& g = plan->g;
  g = make_window_geometry(x[0], x[1], x[2], x[3], c.kernel_h, c.kernel_w, c.stride_h, c.stride_w,
                           same, c.filters);
  const int64_t total_h = std::max<int64_t>((g.oh - 1) * g.sh + g.kh - g.h, 0);
  const int64_t total_w = std::max<int64_t>((g.ow - 1) * g.sw + g.kw - g.w, 0);
  plan->explicit_pad = same && (total_h % 2 != 0 || total_w % 2 != 0);
  plan->hp = plan->explicit_pad ? g.h + total_h : g.h;
  plan->wp = plan->explicit_pad ? g.w + total_w : g.w;
  const int pad_h = plan->explicit_pad ? 0 : static_cast<int>(g.pad_top);
  const int pad_w = plan->explicit_pad ? 0 : static_cast<int>(g.pad_left);

  plan->x_desc.set_nhwc(dtype, g.n, plan->hp, plan->wp, g.c);
  plan->y_desc.set_nhwc(dtype, g.n, g.oh, g.ow, g.f);
  cudnnCheck(cudnnSetTensor4dDescriptor(plan->bias_desc.desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                        1, static_cast<int>(g.f), 1, 1),
             "bias descriptor, ", what);
  cudnnCheck(cudnnSetFilter4dDescriptor(plan->w_desc.desc, cudnn_type(dtype), CUDNN_TENSOR_NHWC,
                                        static_cast<int>(g.f), static_cast<int>(g.c),
                                        static_cast<int>(g.kh), static_cast<int>(g.kw)),
             "filter descriptor, ", what);
  // Keras' convolution is a cross-correlation (the kernel is not flipped). Accumulate in fp32.
  cudnnCheck(cudnnSetConvolution2dDescriptor(plan->conv.desc, pad_h, pad_w,
                                             static_cast<int>(g.sh), static_cast<int>(g.sw), 1, 1,
                                             CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
             "convolution descriptor, ", what);
  cudnnCheck(cudnnSetConvolutionMathType(plan->conv.desc, cudnn_math(precision)),
             "convolution math type, ", what);
  cudnnCheck(cudnnSetActivationDescriptor(plan->act.desc, CUDNN_ACTIVATION_RELU,
                                          CUDNN_PROPAGATE_NAN, 0.0),
             "activation descriptor, ", what);
  int n = 0, f = 0, oh = 0, ow = 0;
  cudnnCheck(cudnnGetConvolution2dForwardOutputDim(plan->conv.desc, plan->x_desc.desc,
                                                   plan->w_desc.desc, &n, &f, &oh, &ow),
             "output size, ", what);
  CATDOG_CHECK(n == g.n && f == g.f && oh == g.oh && ow == g.ow, what, ": cuDNN computes output (",
               n, ", ", oh, ", ", ow, ", ", f, "), catdog expects (", g.n, ", ", g.oh, ", ", g.ow,
               ", ", g.f, ")");
  return plan;
}

ConvMath conv_math_of(cudnnMathType_t math) {
  switch (math) {
    case CUDNN_FMA_MATH: return ConvMath::fma;
    case CUDNN_TENSOR_OP_MATH: return ConvMath::tensor_op;
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return ConvMath::tensor_op_allow_conversion;
    default: return ConvMath::default_math;
  }
}

// One of cuDNN's ranked candidates by layers/conv_algorithm.h's rule; its math type is kept with
// the algorithm and set on the descriptor before each call (forward, backward data and backward
// filter share one descriptor but may need different math).
template <class Perf, class Algo>
void choose(const std::vector<Perf>& perfs, int count, const ConvPlan& plan, CudaContext& ctx,
            bool want_deterministic, Algo* algo, cudnnMathType_t* math, size_t* workspace,
            const std::string& what) {
  std::vector<ConvCandidate> ranked;
  for (int i = 0; i < count; ++i) {
    const Perf& p = perfs[static_cast<size_t>(i)];
    ranked.push_back({static_cast<int>(p.algo), p.status == CUDNN_STATUS_SUCCESS,
                      conv_math_of(p.mathType), p.determinism == CUDNN_DETERMINISTIC, p.memory});
  }
  const ConvChoice choice = choose_conv_algorithm(
      ranked, plan.precision, ctx.sm_major, want_deterministic,
      [&](size_t bytes) { return ctx.workspace(bytes) != nullptr; });
  CATDOG_CHECK(choice.index >= 0, what, ": no cuDNN algorithm to run: ", choice.why_none);
  const Perf& p = perfs[static_cast<size_t>(choice.index)];
  *algo = p.algo;
  *math = p.mathType;
  *workspace = p.memory;
}

void set_math(const ConvPlan& plan, cudnnMathType_t math, const std::string& what) {
  cudnnCheck(cudnnSetConvolutionMathType(plan.conv.desc, math), "convolution math type, ", what);
}

void plan_forward(ConvPlan& plan, CudaContext& ctx, const std::string& what) {
  int max_count = 0;
  cudnnCheck(cudnnGetConvolutionForwardAlgorithmMaxCount(ctx.cudnn, &max_count), what);
  std::vector<cudnnConvolutionFwdAlgoPerf_t> perfs(static_cast<size_t>(max_count));
  int count = 0;
  cudnnCheck(cudnnGetConvolutionForwardAlgorithm_v7(ctx.cudnn, plan.x_desc.desc, plan.w_desc.desc,
                                                    plan.conv.desc, plan.y_desc.desc, max_count,
                                                    &count, perfs.data()),
             "choosing the forward algorithm, ", what);
  choose(perfs, count, plan, ctx, false, &plan.fwd_algo, &plan.fwd_math, &plan.fwd_workspace, what);
  plan.forward_ready = true;
}

void plan_backward(ConvPlan& plan, CudaContext& ctx, const std::string& what) {
  int max_count = 0;
  cudnnCheck(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(ctx.cudnn, &max_count), what);
  std::vector<cudnnConvolutionBwdDataAlgoPerf_t> data(static_cast<size_t>(max_count));
  int count = 0;
  cudnnCheck(cudnnGetConvolutionBackwardDataAlgorithm_v7(ctx.cudnn, plan.w_desc.desc,
                                                         plan.y_desc.desc, plan.conv.desc,
                                                         plan.x_desc.desc, max_count, &count,
                                                         data.data()),
             "choosing the backward-data algorithm, ", what);
  choose(data, count, plan, ctx, true, &plan.bwd_data_algo, &plan.bwd_data_math,
         &plan.bwd_data_workspace, what);
  cudnnCheck(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(ctx.cudnn, &max_count), what);
  std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> filter(static_cast<size_t>(max_count));
  cudnnCheck(cudnnGetConvolutionBackwardFilterAlgorithm_v7(ctx.cudnn, plan.x_desc.desc,
                                                           plan.y_desc.desc, plan.conv.desc,
                                                           plan.w_desc.desc, max_count, &count,
                                                           filter.data()),
             "choosing the backward-filter algorithm, ", what);
  choose(filter, count, plan, ctx, true, &plan.bwd_filter_algo, &plan.bwd_filter_math,
         &plan.bwd_filter_workspace, what);
  plan.backward_ready = true;
}

// The convolution's input: x itself, or (asymmetric 'same') x zero-padded into s.x_padded. With
// `reuse` (backward), a float32 input the buffer was last filled from is not padded again: the
// forward of the same step padded it, and a trainable layer's input is kept untouched between
// the two. Forward always pads (the same buffer may hold a new batch).
const void* explicit_pad_input(ConvState& s, const ConvPlan& plan, const Tensor& x, bool reuse,
                               CudaContext& cuda) {
  if (!plan.explicit_pad) return x.raw();
  const WindowGeometry& g = plan.g;
  const Shape padded = {g.n, plan.hp, plan.wp, g.c};
  if (reuse && x.dtype() == DType::f32 && s.x_padded_from == x.raw() && s.x_padded.defined() &&
      s.x_padded.shape() == padded && s.x_padded.dtype() == DType::f32) {
    return s.x_padded.raw();
  }
  s.x_padded.reuse_as(padded, x.dtype(), Device::cuda);
  cuda::pad_nhwc(x.raw(), s.x_padded.raw(), x.dtype(), static_cast<int>(g.n),
                 static_cast<int>(g.h), static_cast<int>(g.w), static_cast<int>(g.c),
                 static_cast<int>(plan.hp), static_cast<int>(plan.wp),
                 static_cast<int>(g.pad_top), static_cast<int>(g.pad_left), cuda.compute);
  s.x_padded_from = x.dtype() == DType::f32 ? x.raw() : nullptr;
  return s.x_padded.raw();
}

}  // namespace

void Conv2D::gpu_weights_changed() {
  if (!kernel_.value.defined() || kernel_.value.device() != Device::cuda) {
    gpu_state_.reset();  // weights on the CPU: nothing derived to keep
    return;
  }
  ConvState& s = state_of<ConvState>(gpu_state_);
  s.krsc_fresh = s.low_fresh = false;  // reconverted on the next forward
}

void Conv2D::forward_gpu(const Tensor& x, Tensor& y, ExecContext& ctx) {
  CATDOG_CHECK(kernel_.value.defined() && kernel_.value.device() == Device::cuda, "Conv2D layer ",
               name_, ": weights are not on the GPU (call to_device(cuda) after build)");
  CudaContext& cuda = cuda_of(ctx, name_);
  const Shape out_shape = output_shape(x.shape());
  const DType dtype = x.dtype();
  y.reuse_as(out_shape, dtype, Device::cuda);
  ConvState& s = state_of<ConvState>(gpu_state_);
  const std::string what = describe(name_, x.shape(), config_);
  const int kh = config_.kernel_h, kw = config_.kernel_w, c = static_cast<int>(x.dim(3)),
            f = config_.filters;

  // The kernel in cuDNN's layout, converted once (every step for a trainable layer).
  if (!s.krsc_fresh || trainable()) {
    s.kernel_krsc.reuse_as({f, kh, kw, c}, DType::f32, Device::cuda);
    cuda::hwio_to_krsc(kernel_.value.f32(), s.kernel_krsc.raw(), DType::f32, kh, kw, c, f,
                       cuda.compute);
    ++kernel_conversions_;
    s.krsc_fresh = true;
    s.low_fresh = false;
  }
  const void* w = s.kernel_krsc.raw();
  if (dtype != DType::f32) {
    if (!s.low_fresh || s.kernel_krsc_low.dtype() != dtype) {
      s.kernel_krsc_low.reuse_as({f, kh, kw, c}, dtype, Device::cuda);
      cuda::hwio_to_krsc(kernel_.value.f32(), s.kernel_krsc_low.raw(), dtype, kh, kw, c, f,
                         cuda.compute);
      ++kernel_conversions_;
      s.low_fresh = true;
    }
    w = s.kernel_krsc_low.raw();
  }

  // Reduced precision is for the frozen part only: a trainable layer computes in strict fp32.
  const Precision precision =
      trainable() || (dtype == DType::f32 && ctx.precision != Precision::tf32) ? Precision::fp32
                                                                                : ctx.precision;
  if (!s.forward_plan || s.forward_plan->x_shape != x.shape() || s.forward_plan->dtype != dtype ||
      s.forward_plan->precision != precision) {
    s.forward_plan = make_plan(config_, x.shape(), dtype, precision, what);
  }
  ConvPlan& plan = *s.forward_plan;
  if (!plan.forward_ready) {
    plan_forward(plan, cuda, what);
    plan.fused = dtype == DType::f32 && config_.use_bias && config_.activation == Activation::relu;
  }
  const WindowGeometry& g = plan.g;

  const void* input = explicit_pad_input(s, plan, x, /*reuse=*/false, cuda);
  void* workspace = plan.fwd_workspace ? cuda.workspace(plan.fwd_workspace) : nullptr;
  CATDOG_CHECK(plan.fwd_workspace == 0 || workspace, what, ": cannot get ", plan.fwd_workspace,
               " bytes of cuDNN workspace");
  const float one = 1.0f, zero = 0.0f;  // alpha/beta are float for float/half/bfloat16 data
  set_math(plan, plan.fwd_math, what);

  if (plan.fused) {
    // y = relu(conv(x) + 0 * y + bias): z must be a valid tensor, y itself with alpha2 = 0.
    const cudnnStatus_t status = cudnnConvolutionBiasActivationForward(
        cuda.cudnn, &one, plan.x_desc.desc, input, plan.w_desc.desc, w, plan.conv.desc,
        plan.fwd_algo, workspace, plan.fwd_workspace, &zero, plan.y_desc.desc, y.raw(),
        plan.bias_desc.desc, bias_.value.f32(), plan.act.desc, plan.y_desc.desc, y.raw());
    if (status == CUDNN_STATUS_SUCCESS) return;
    // No fused kernel for this algorithm and shape (cuDNN documents narrow support): use the
    // two-step path from now on. A genuine error shows again in cudnnConvolutionForward below.
    plan.fused = false;
  }
  cudnnCheck(cudnnConvolutionForward(cuda.cudnn, &one, plan.x_desc.desc, input, plan.w_desc.desc,
                                     w, plan.conv.desc, plan.fwd_algo, workspace,
                                     plan.fwd_workspace, &zero, plan.y_desc.desc, y.raw()),
             what);
  cuda::bias_activation_forward(y.raw(), dtype, config_.use_bias ? bias_.value.f32() : nullptr,
                                g.out_rows(), g.f, config_.activation, 0.0f, cuda.compute);
}

void Conv2D::backward_gpu(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                          ExecContext& ctx) {
  CATDOG_CHECK(dy.shape() == y.shape(), "Conv2D layer ", name_, ": gradient of shape ",
               to_string(dy.shape()), " for an output of shape ", to_string(y.shape()));
  const bool want_params = trainable();
  if (!dx && !want_params) return;
  require_f32(x, name_, "input");
  require_f32(dy, name_, "output gradient");
  CudaContext& cuda = cuda_of(ctx, name_);
  ConvState& s = state_of<ConvState>(gpu_state_);
  const std::string what = describe(name_, x.shape(), config_) + " backward";
  const int kh = config_.kernel_h, kw = config_.kernel_w, c = static_cast<int>(x.dim(3)),
            f = config_.filters;
  if (!s.backward_plan || s.backward_plan->x_shape != x.shape()) {
    s.backward_plan = make_plan(config_, x.shape(), DType::f32, Precision::fp32, what);
  }
  ConvPlan& plan = *s.backward_plan;
  if (!plan.backward_ready) plan_backward(plan, cuda, what);
  const WindowGeometry& g = plan.g;
  const float one = 1.0f, zero = 0.0f;

  // dz = dy * act'(z), from the output (relu: y > 0 iff z > 0).
  const float* dz = dy.f32();
  if (config_.activation != Activation::linear) {
    s.dz.reuse_as(dy.shape(), DType::f32, Device::cuda);
    cuda::activation_backward(y.f32(), y.f32(), dy.f32(), s.dz.f32(), dy.numel(),
                              config_.activation, 0.0f, cuda.compute);
    dz = s.dz.f32();
  }
  if (want_params) {
    // Only dW reads the input; the forward of this step padded it already.
    const void* input = explicit_pad_input(s, plan, x, /*reuse=*/true, cuda);
    if (config_.use_bias) {
      cuda::bias_backward(dz, layer_support::grad_of(bias_).f32(), g.out_rows(), g.f,
                          cuda.compute);
    }
    s.dkernel_krsc.reuse_as({f, kh, kw, c}, DType::f32, Device::cuda);
    void* workspace = plan.bwd_filter_workspace ? cuda.workspace(plan.bwd_filter_workspace) : nullptr;
    CATDOG_CHECK(plan.bwd_filter_workspace == 0 || workspace, what, ": cannot get ",
                 plan.bwd_filter_workspace, " bytes of cuDNN workspace");
    set_math(plan, plan.bwd_filter_math, what);
    cudnnCheck(cudnnConvolutionBackwardFilter(cuda.cudnn, &one, plan.x_desc.desc, input,
                                              plan.y_desc.desc, dz, plan.conv.desc,
                                              plan.bwd_filter_algo, workspace,
                                              plan.bwd_filter_workspace, &zero, plan.w_desc.desc,
                                              s.dkernel_krsc.raw()),
               what);
    cuda::krsc_to_hwio(s.dkernel_krsc.f32(), layer_support::grad_of(kernel_).f32(), kh, kw, c, f,
                       cuda.compute);
  }
  if (dx) {
    // The float32 KRSC kernel this step's forward converted (fresh unless weights_changed since).
    if (!s.krsc_fresh) {
      s.kernel_krsc.reuse_as({f, kh, kw, c}, DType::f32, Device::cuda);
      cuda::hwio_to_krsc(kernel_.value.f32(), s.kernel_krsc.raw(), DType::f32, kh, kw, c, f,
                         cuda.compute);
      ++kernel_conversions_;
      s.krsc_fresh = true;
    }
    dx->reuse_as(x.shape(), DType::f32, Device::cuda);
    void* target = dx->raw();
    if (plan.explicit_pad) {
      s.dx_padded.reuse_as({g.n, plan.hp, plan.wp, g.c}, DType::f32, Device::cuda);
      target = s.dx_padded.raw();
    }
    void* workspace = plan.bwd_data_workspace ? cuda.workspace(plan.bwd_data_workspace) : nullptr;
    CATDOG_CHECK(plan.bwd_data_workspace == 0 || workspace, what, ": cannot get ",
                 plan.bwd_data_workspace, " bytes of cuDNN workspace");
    set_math(plan, plan.bwd_data_math, what);
    cudnnCheck(cudnnConvolutionBackwardData(cuda.cudnn, &one, plan.w_desc.desc,
                                            s.kernel_krsc.raw(), plan.y_desc.desc, dz,
                                            plan.conv.desc, plan.bwd_data_algo, workspace,
                                            plan.bwd_data_workspace, &zero, plan.x_desc.desc,
                                            target),
               what);
    if (plan.explicit_pad) {
      cuda::crop_nhwc(s.dx_padded.f32(), dx->f32(), static_cast<int>(g.n), static_cast<int>(g.h),
                      static_cast<int>(g.w), static_cast<int>(g.c), static_cast<int>(plan.hp),
                      static_cast<int>(plan.wp), static_cast<int>(g.pad_top),
                      static_cast<int>(g.pad_left), cuda.compute);
    }
  }
}

}  // namespace catdog
