// The GPU paths at the sizes the real job runs, against the CPU: VGG16's first block (C = 3, the
// shape cuDNN treats specially) in fp16 and bf16, the Sequential's ping-pong buffers and dtype
// conversions over VGG16's first two blocks, the feature cache's batched row copies (device and
// pinned host storage), the batch uploads on the copy stream, the column-sum scratch through the
// caching allocator, the GPU's own memory count, and a 2-epoch training run on both devices.
// Skips with the reason when no GPU is present (scripts/gpu-check.sh runs it on a lent one).
#include <cmath>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/device.h"
#include "data/dataset.h"
#include "engine/builtin_models.h"
#include "engine/feature_cache.h"
#include "engine/model_config.h"
#include "kernels/bias_activation.h"
#include "layers/conv2d.h"
#include "tests/support/gpu_layer_twins.h"
#include "tests/support/test_support.h"
#include "tests/support/training_fixtures.h"
#include "training/batch_source.h"
#include "training/run_context.h"
#include "training/trainer.h"

namespace catdog {
namespace {

using test::random_tensor;
using test::report_error;

test::LayerFactory vgg_conv(const char* name, int filters) {
  return [=] {
    Conv2DConfig c;
    c.filters = filters;
    c.kernel_h = c.kernel_w = 3;
    c.padding = Padding::same;
    c.activation = Activation::relu;
    auto layer = std::make_unique<Conv2D>(name, c);
    layer->set_trainable(false);
    return std::unique_ptr<Layer>(std::move(layer));
  };
}

DType dtype_of(Precision p) {
  return p == Precision::fp16 ? DType::f16 : p == Precision::bf16 ? DType::bf16 : DType::f32;
}

// block1_conv1 (3 -> 64 channels) and block1_conv2 (64 -> 64) at 224x224, batch 2.
TEST(GpuRealSizes, Vgg16Block1InFp16AndBf16) {
  CATDOG_REQUIRE_GPU();
  const Tensor x1 = random_tensor({2, 224, 224, 3}, 31, 0.0f, 1.0f);
  const Tensor x2 = random_tensor({2, 224, 224, 64}, 32, 0.0f, 1.0f);
  for (Precision p : {Precision::fp32, Precision::fp16, Precision::bf16}) {
    const std::string why = precision_unsupported_reason(precision_name(p));
    if (!why.empty()) {
      std::printf("%s: not run (%s)\n", precision_name(p), why.c_str());
      continue;
    }
    const double bound = p == Precision::fp32 ? 1e-4 : p == Precision::fp16 ? 1e-2 : 3e-2;
    for (const auto& [name, x] : {std::make_pair("block1_conv1", &x1), std::make_pair("block1_conv2", &x2)}) {
      const auto make = vgg_conv(name, 64);
      const auto cpu = test::run_layer(make, *x, Tensor(), Device::cpu, Precision::fp32, DType::f32);
      const auto gpu = test::run_layer(make, *x, Tensor(), Device::cuda, p, dtype_of(p));
      const double err = report_error(cat(name, " ", precision_name(p)).c_str(), gpu.y, cpu.y);
      EXPECT_LE(err, bound) << name << " " << precision_name(p);
      if (p != Precision::fp32) {
        EXPECT_GT(err, 1e-6) << "no rounding seen: computed in fp32?";
      }
    }
  }
}

// VGG16's first two blocks as a frozen Sequential: the ping-pong buffers hold f16/bf16 between
// layers and the caller gets float32; a second forward on the same model gives the same output.
TEST(GpuRealSizes, SequentialPingPongAndDtypeConversion) {
  CATDOG_REQUIRE_GPU();
  const auto make_model = [] {
    ParsedModel parsed = parse_model_config(builtin_model_config("vgg16"), "block2_pool");
    Sequential model = std::move(parsed.model);
    model.build({224, 224, 3});
    model.initialize(21);
    model.freeze_before(model.size());
    return model;
  };
  Sequential cpu_model = make_model();
  const Tensor x = random_tensor({2, 224, 224, 3}, 33, -100.0f, 150.0f);  // caffe-centred pixels
  ExecContext cpu_ctx = make_exec_context("cpu", "fp32", 1);
  const std::vector<float> want = cpu_model.forward(x, cpu_ctx).to_vector();
  for (const char* precision : {"fp32", "fp16", "bf16"}) {
    const std::string why = precision_unsupported_reason(precision);
    if (!why.empty()) {
      std::printf("%s: not run (%s)\n", precision, why.c_str());
      continue;
    }
    Sequential model = make_model();
    ExecContext ctx = make_exec_context("cuda", precision, 1);
    model.to_device(Device::cuda);
    Tensor input(x.shape(), DType::f32, Device::cuda);
    input.copy_from(x, ctx.cuda);
    const Tensor& first = model.forward(input, ctx);
    EXPECT_EQ(first.dtype(), DType::f32);
    const std::vector<float> got = first.to_vector(ctx.cuda);
    const std::vector<float> again = model.forward(input, ctx).to_vector(ctx.cuda);
    EXPECT_EQ(got, again) << precision << ": a second forward differs";
    const double bound = std::string(precision) == "fp32" ? 1e-4 : std::string(precision) == "fp16" ? 2e-2 : 6e-2;
    const double err = report_error(cat("vgg16 blocks 1-2 ", precision).c_str(), got, want);
    EXPECT_LE(err, bound) << precision;
    if (std::string(precision) != "fp32") {
      EXPECT_GT(err, 1e-6) << precision;
    }
  }
}

// 64-row gathers and stores with one synchronisation, from device and from pinned host storage.
TEST(GpuRealSizes, FeatureCacheBatchedCopiesMatchTheCpu) {
  CATDOG_REQUIRE_GPU();
  const Shape feature = {7, 7, 512};
  const int64_t slots = 300;
  const Tensor all = random_tensor({slots, 7, 7, 512}, 34);
  std::vector<int64_t> every(static_cast<size_t>(slots));
  for (int64_t i = 0; i < slots; ++i) every[static_cast<size_t>(i)] = (i * 37) % slots;  // a permutation
  std::vector<int64_t> batch;
  for (int64_t i = 0; i < 64; ++i) batch.push_back((i * 113 + 5) % slots);
  ExecContext cpu_ctx = make_exec_context("cpu", "fp32", 1);
  FeatureCache cpu_cache(slots, feature, Device::cpu, 0);
  cpu_cache.store(every, all);
  Tensor want;
  cpu_cache.gather(batch, want, cpu_ctx);
  for (size_t budget : {SIZE_MAX, size_t{0}}) {  // device storage, then pinned host storage
    ExecContext ctx = make_exec_context("cuda", "fp32", 1);
    FeatureCache cache(slots, feature, Device::cuda, budget);
    EXPECT_EQ(cache.storage_device(), budget ? Device::cuda : Device::cpu);
    Tensor on_device(all.shape(), DType::f32, Device::cuda);
    on_device.copy_from(all, ctx.cuda);
    cache.store(every, on_device, ctx.cuda);
    Tensor got;
    cache.gather(batch, got, ctx);
    EXPECT_EQ(got.device(), Device::cuda);
    EXPECT_EQ(got.to_vector(ctx.cuda), want.to_vector()) << "budget " << budget;
  }
}

// The same batches, in the same order, with the same labels, from the GPU path (uploads on the
// copy stream, one batch ahead) as from the CPU path, over two epochs with a partial last batch
// and a start mid-epoch.
TEST(GpuRealSizes, UploadedBatchesAreTheCpuBatches) {
  CATDOG_REQUIRE_GPU();
  const std::string data = test::write_small_dataset(test::temp_dir("gpu_batches"), 21, 64, 4);
  const Dataset set = scan_dataset(data + "/train");
  PipelineOptions options;
  options.batch_size = 8;
  options.height = options.width = 32;
  options.workers = 2;
  const auto collect = [&](const char* device, int64_t first) {
    ExecContext ctx = make_exec_context(device, "fp32", 1);
    PipelineOptions o = options;
    o.pinned = ctx.on_gpu();
    PipelineBatches batches(set, o, Preprocess::caffe, 8, 9);
    std::vector<std::vector<float>> seen;
    for (int epoch = 1; epoch <= 2; ++epoch) {
      batches.start_epoch(epoch, epoch == 2 ? first : 0);
      TrainBatch b;
      while (batches.next(b, ctx)) {
        seen.push_back(b.input->to_vector(ctx.cuda));
        seen.push_back(b.labels);
      }
    }
    return seen;
  };
  for (int64_t first : {0, 2}) {
    const auto cpu = collect("cpu", first), gpu = collect("cuda", first);
    ASSERT_EQ(gpu.size(), cpu.size());
    for (size_t i = 0; i < cpu.size(); ++i) EXPECT_EQ(gpu[i], cpu[i]) << "item " << i;
  }
}

// The bias gradient's column-sum scratch comes from the caching allocator: it shows in the peak
// and obeys the cap (it bypassed both through cudaMallocAsync).
TEST(GpuRealSizes, ColumnSumScratchGoesThroughTheAllocator) {
  CATDOG_REQUIRE_GPU();
  ExecContext ctx = make_exec_context("cuda", "fp32", 1);
  const int64_t rows = 1 << 20, channels = 64;  // 4096 chunks of 256 rows: 2 MiB of doubles
  Tensor dz({rows, channels}, DType::f32, Device::cuda), db({channels}, DType::f32, Device::cuda);
  dz.fill(1.0f, ctx.cuda);
  const size_t before = device_memory_stats().in_use;
  reset_device_memory_peak();
  bias_backward(dz.f32(), db.f32(), rows, channels, ctx);
  device_synchronize();
  EXPECT_GE(device_memory_stats().peak - before, size_t{4096} * channels * sizeof(double));
  EXPECT_EQ(device_memory_stats().in_use, before);
  for (float v : db.to_vector(ctx.cuda)) EXPECT_EQ(v, static_cast<float>(rows));
}

// The GPU's own count holds at least what the allocator handed out, plus the context.
TEST(GpuRealSizes, GpuMemoryCountIncludesTheContext) {
  CATDOG_REQUIRE_GPU();
  ExecContext ctx = make_exec_context("cuda", "fp32", 1);
  Tensor big({64 << 20}, DType::f32, Device::cuda);  // 256 MiB
  big.fill(0.0f, ctx.cuda);
  sample_device_memory();
  const DeviceMemoryStats s = device_memory_stats();
  EXPECT_GT(s.gpu_total, size_t{1} << 30);
  EXPECT_GT(s.gpu_used_peak, s.in_use) << "the CUDA context itself takes memory";
  EXPECT_LE(s.gpu_used_peak, s.gpu_total);
}

// Two epochs of the tutorial's one-block VGG from scratch at 32x32 on each device: the same
// losses and accuracies within 1e-4 (cuDNN and cuBLAS in strict fp32, deterministic backward).
TEST(GpuRealSizes, TwoEpochTrainMatchesTheCpu) {
  CATDOG_REQUIRE_GPU();
  const std::string data = test::write_small_dataset(test::temp_dir("gpu_train_data"), 24, 64, 3);
  const auto run = [&](const char* device) {
    TrainOptions o = test::small_run(data, test::temp_dir(cat("gpu_train_", device)));
    o.epochs = 2;
    o.device = device;
    std::ostringstream quiet;
    return train(o, quiet);
  };
  const TrainResult cpu = run("cpu"), gpu = run("cuda");
  ASSERT_EQ(gpu.history.size(), 2u);
  ASSERT_EQ(cpu.history.size(), 2u);
  for (size_t e = 0; e < 2; ++e) {
    EXPECT_NEAR(gpu.history[e].loss, cpu.history[e].loss, 1e-4) << "epoch " << e + 1;
    EXPECT_NEAR(gpu.history[e].val_loss, cpu.history[e].val_loss, 1e-4) << "epoch " << e + 1;
    EXPECT_NEAR(gpu.history[e].accuracy, cpu.history[e].accuracy, 1e-4) << "epoch " << e + 1;
  }
}

}  // namespace
}  // namespace catdog
