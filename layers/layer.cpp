#include "layers/layer.h"

#include <exception>

#include "core/error.h"
#include "core/profiling.h"

namespace catdog {

namespace {

// A layer pass as Nsight Systems, the trace and ctx's observer see it.
class LayerPassScope {
 public:
  LayerPassScope(const std::string& layer, bool backward, ExecContext& ctx)
      : range_("layer", layer, backward ? "backward" : "forward"),
        layer_(layer),
        backward_(backward),
        observer_(ctx.layer_observer) {
    if (observer_) observer_->pass_begin(layer_, backward_);
  }
  ~LayerPassScope() {
    if (observer_ && std::uncaught_exceptions() == 0) observer_->pass_end(layer_, backward_);
  }
  LayerPassScope(const LayerPassScope&) = delete;
  LayerPassScope& operator=(const LayerPassScope&) = delete;

 private:
  ProfileRange range_;
  const std::string& layer_;
  bool backward_;
  LayerPassObserver* observer_;
};

}  // namespace

void Layer::forward(const Tensor& x, Tensor& y, ExecContext& ctx) {
  CATDOG_CHECK(x.device() == ctx.device, "layer ", name_, ": input is on ", device_name(x.device()),
               " but the run is on ", device_name(ctx.device));
  LayerPassScope scope(name_, false, ctx);
  forward_any_device(x, y, ctx);
}

void Layer::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                     ExecContext& ctx) {
  LayerPassScope scope(name_, true, ctx);
  backward_any_device(x, y, dy, dx, ctx);
}

void Layer::forward_any_device(const Tensor& x, Tensor& y, ExecContext& ctx) {
  if (ctx.on_gpu()) {
    forward_gpu(x, y, ctx);
  } else {
    forward_cpu(x, y, ctx);
  }
}

void Layer::backward_any_device(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                                ExecContext& ctx) {
  if (ctx.on_gpu()) {
    backward_gpu(x, y, dy, dx, ctx);
  } else {
    backward_cpu(x, y, dy, dx, ctx);
  }
}

void Layer::forward_cpu(const Tensor&, Tensor&, ExecContext&) {
  fail("layer ", name_, ": no CPU implementation for ", class_name());
}

void Layer::backward_cpu(const Tensor&, const Tensor&, const Tensor&, Tensor*, ExecContext&) {
  fail("layer ", name_, ": no CPU implementation of backward for ", class_name());
}

void Layer::forward_gpu(const Tensor&, Tensor&, ExecContext&) {
  fail("layer ", name_, ": no GPU implementation for ", class_name());
}

void Layer::backward_gpu(const Tensor&, const Tensor&, const Tensor&, Tensor*, ExecContext&) {
  fail("layer ", name_, ": no GPU implementation of backward for ", class_name());
}

std::vector<const Param*> Layer::params() const {
  auto mutable_params = const_cast<Layer*>(this)->params();
  return {mutable_params.begin(), mutable_params.end()};
}

int64_t Layer::param_count() const {
  int64_t n = 0;
  for (const Param* p : params()) n += p->value.numel();
  return n;
}

void Layer::to_device(Device device) {
  for (Param* p : params()) {
    if (p->value.defined()) p->value = p->value.to(device);
    if (p->grad.defined()) p->grad = p->grad.to(device);
    if (p->velocity.defined()) p->velocity = p->velocity.to(device);
  }
  weights_changed();
}

}  // namespace catdog
