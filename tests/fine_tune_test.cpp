// Fine-tuning (training/fine_tune.h) on the CPU. The gradients through the unfrozen top (Conv2D,
// BatchNormalization in inference mode, MaxPooling2D) against central finite differences written
// here; exactly the layers from the cut train; BatchNormalization keeps its moving statistics;
// and, end to end on generated photos with a random Tiny Darknet: the two phases equal a loop
// written here (phase 1's model, the cut, the small learning rate, fresh momentum, the input of
// the first trainable layer), resuming inside phase 2 gives the uninterrupted run to the bit,
// history.csv and report.html mark the second phase, and the cache holds the cut's output.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "engine/sgd.h"
#include "engine/train_step.h"
#include "training/batch_source.h"
#include "training/batches.h"
#include "training/fine_tune.h"
#include "training/model_setup.h"
#include "training/trainer.h"
#include "tests/support/cli.h"
#include "tests/support/fine_tune_model.h"
#include "tests/support/test_support.h"
#include "tests/support/training_fixtures.h"
#include "weights/keras_h5.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;
using test::random_tensor;

// L = sum_n r_n z_n over the logits z of a batch, in double.
double projected_logits(Sequential& model, const Tensor& x, const std::vector<float>& r) {
  ExecContext ctx;
  const std::vector<float> z = model.forward(x, ctx).to_vector();
  double loss = 0;
  for (size_t i = 0; i < z.size(); ++i) loss += static_cast<double>(r[i]) * z[i];
  return loss;
}

TEST(FineTuneGradients, MatchCentralFiniteDifferencesThroughConvBatchNormAndPool) {
  Sequential model = test::small_fine_tune_model(7);
  const Tensor x = random_tensor({3, 8, 8, 2}, 21, -2.0f, 2.0f);
  const std::vector<float> r = {0.7f, -1.3f, 0.4f};
  ExecContext ctx;
  ctx.training = true;
  (void)model.forward(x, ctx);
  model.backward(Tensor::from_vector({3, 1}, r), ctx);

  // Every trainable tensor: conv_b (reached through bn_b's, pool_b's and conv_c's dx), bn_b's
  // gamma and beta, conv_c, dense_1. The convolutions are linear in each weight and the pool
  // piecewise so: a difference quotient agrees with the slope unless a window's maximum switches,
  // which the two step sizes expose (such coordinates are skipped, and must be few).
  int checked = 0, skipped = 0;
  const std::vector<Param*> params = model.trainable_params();
  ASSERT_EQ(params.size(), 8u);  // conv_b 2, bn_b 2, conv_c 2, dense_1 2
  for (Param* p : params) {
    const std::vector<float> analytic = p->grad.to_vector();
    ASSERT_EQ(analytic.size(), static_cast<size_t>(p->value.numel())) << p->name;
    double largest = 0;
    for (float g : analytic) largest = std::max(largest, std::abs(static_cast<double>(g)));
    const int64_t n = p->value.numel(), stride = std::max<int64_t>(1, n / 25);
    for (int64_t i = 0; i < n; i += stride) {
      float* w = p->value.f32() + i;
      const float original = *w;
      double slope[2];
      for (int k = 0; k < 2; ++k) {
        const double h = k == 0 ? 1e-2 : 2.5e-3;
        *w = static_cast<float>(original + h);
        const double up = projected_logits(model, x, r);
        *w = static_cast<float>(original - h);
        const double down = projected_logits(model, x, r);
        *w = original;
        slope[k] = (up - down) / (static_cast<double>(static_cast<float>(original + h)) -
                                  static_cast<float>(original - h));
      }
      const double tolerance = 2e-3 * std::max(std::abs(slope[0]), largest) + 1e-5;
      if (std::abs(slope[0] - slope[1]) > tolerance) {
        ++skipped;
        continue;
      }
      EXPECT_NEAR(analytic[static_cast<size_t>(i)], slope[0], tolerance) << p->name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
  EXPECT_LE(skipped * 10, checked) << "too many max-pool switches to trust the check";
  // Nothing below the cut gets a gradient.
  for (Param* p : model.layer(0).params()) EXPECT_FALSE(p->grad.defined()) << p->name;
}

TEST(FineTuneModel, TrainFromFreezesExactlyTheLayersBeforeTheCut) {
  Sequential model = test::small_fine_tune_model(1);
  for (size_t cut : {size_t{1}, size_t{2}, size_t{4}}) {
    train_from(model, cut);
    for (size_t i = 0; i < model.size(); ++i) {
      EXPECT_EQ(model.layer(i).trainable(), i >= cut) << "cut " << cut << ", layer " << i;
    }
  }
  train_from(model, 2);  // bn_b
  EXPECT_EQ(model.trainable_begin(), 2u);
  EXPECT_EQ(trainable_from_index(model, "conv_c"), 4u);
}

TEST(FineTuneModel, AnUnknownLayerIsNamedWithTheConvolutions) {
  Sequential model = test::small_fine_tune_model(1);
  const std::string message = test::error_message([&] { trainable_from_index(model, "block9"); });
  EXPECT_NE(message.find("'block9'"), std::string::npos) << message;
  EXPECT_NE(message.find("conv_frozen, conv_b, conv_c"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_EQ(default_trainable_from("vgg16"), "block5_conv1");
  EXPECT_EQ(default_trainable_from("tiny-darknet"), "conv2d_14");
}

// Keras' base(training=False): a training step normalises with the moving statistics (the same
// output as inference), trains gamma and beta, and leaves the moving statistics alone.
TEST(FineTuneModel, BatchNormalizationStaysInInferenceMode) {
  Sequential model = test::small_fine_tune_model(3);
  const Tensor x = random_tensor({4, 8, 8, 2}, 5, -2.0f, 2.0f);
  ExecContext inference;
  const std::vector<float> before = model.forward(x, inference).to_vector();
  std::vector<std::vector<float>> bn_before, frozen_before;
  for (Param* p : model.layer(2).params()) bn_before.push_back(p->value.to_vector());
  for (Param* p : model.layer(0).params()) frozen_before.push_back(p->value.to_vector());

  ExecContext ctx;
  SGD sgd(0.05f, 0.9f);
  Tensor labels = Tensor::from_vector({4}, {0, 1, 1, 0}), dlogits;
  ctx.training = true;
  EXPECT_EQ(model.forward(x, ctx).to_vector(), before) << "training mode used batch statistics";
  (void)train_step(model, x, labels, sgd, ctx, dlogits);

  const std::vector<Param*> bn = model.layer(2).params();
  ASSERT_EQ(bn.size(), 4u);
  EXPECT_EQ(bn[0]->name, "gamma");
  EXPECT_NE(bn[0]->value.to_vector(), bn_before[0]) << "gamma did not train";
  EXPECT_NE(bn[1]->value.to_vector(), bn_before[1]) << "beta did not train";
  EXPECT_EQ(bn[2]->value.to_vector(), bn_before[2]) << "moving_mean changed";
  EXPECT_EQ(bn[3]->value.to_vector(), bn_before[3]) << "moving_variance changed";
  for (size_t k = 0; k < frozen_before.size(); ++k) {
    EXPECT_EQ(model.layer(0).params()[k]->value.to_vector(), frozen_before[k]);
  }
}

// End to end: 36 train / 12 test generated photos, Tiny Darknet (random weights) at 32x32.
class FineTuneRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = test::temp_dir("fine_tune_data");
    data_ = new std::string(test::write_small_dataset(dir + "/photos", 24, 64, 3));
    weights_ = new std::string(test::write_random_tiny_darknet_weights(dir + "/td.h5", 11));
  }
  static void TearDownTestSuite() {
    delete data_;
    delete weights_;
  }
  // 1 head epoch, then 2 fine-tuning epochs from conv2d_14 (the default cut) at lr 0.002.
  static TrainOptions two_phases(const std::string& out) {
    TrainOptions o = test::small_run(*data_, out);
    o.model = "tiny-darknet";
    o.weights = *weights_;
    o.epochs = 1;
    o.fine_tune_epochs = 2;
    o.fine_tune_lr = 0.002f;
    return o;
  }
  static TrainResult quietly(const TrainOptions& o, std::string* lines = nullptr) {
    std::ostringstream out;
    TrainResult r = train(o, out);
    if (lines) *lines = out.str();
    return r;
  }
  static std::string* data_;
  static std::string* weights_;
};
std::string* FineTuneRun::data_ = nullptr;
std::string* FineTuneRun::weights_ = nullptr;

// history.csv without its wall-time column (the 6th), for byte comparisons.
std::string history_without_seconds(const std::string& path) {
  std::istringstream in(test::read_text(path));
  std::string line, out;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::istringstream row(line);
    for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
    cells.erase(cells.begin() + 5);
    for (const std::string& c : cells) out += c + ",";
    out += "\n";
  }
  return out;
}

// Parameter k of the named layer.
std::vector<float> weights_of(ModelSetup& setup, const std::string& layer, size_t k) {
  return setup.model.find(layer)->params()[k]->value.to_vector();
}

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// Phase 2 is phase 1's model, unfrozen from the cut, trained on with SGD(fine_tune_lr) and fresh
// momentum from the images: a loop written here from those pieces (no feature cache) gives the
// trainer's numbers, which it computes from the cache at the cut.
TEST_F(FineTuneRun, PhaseTwoEqualsTheCutTrainedByHandWithTheSmallRate) {
  const std::string dir = test::temp_dir("fine_tune_by_hand");
  TrainOptions o = two_phases(dir + "/both");
  o.fine_tune_epochs = 1;
  std::string lines;
  const TrainResult both = quietly(o, &lines);
  ASSERT_EQ(both.history.size(), 2u);
  EXPECT_TRUE(both.used_feature_cache);
  EXPECT_EQ(both.history[0].phase, 1);
  EXPECT_EQ(both.history[1].phase, 2);
  // The cache moved from the base's output (flatten of 2x2x128 floats: 2 KiB an image) to the
  // output of the last frozen layer (leaky_re_lu_13, before conv2d_14; 2x2x64: 1 KiB an image).
  EXPECT_EQ(count(lines, "Feature cache (train, output of flatten): 36 images, 72 KiB"), 1u) << lines;
  EXPECT_EQ(count(lines, "Feature cache (train, output of leaky_re_lu_13): 36 images, 36 KiB"), 1u);
  EXPECT_EQ(count(lines, "Feature cache (test, output of leaky_re_lu_13): 12 images, 12 KiB"), 1u);

  TrainOptions head = two_phases(dir + "/head");
  head.fine_tune_epochs = 0;
  const TrainResult head_only = quietly(head);
  ASSERT_EQ(head_only.history.size(), 1u);
  EXPECT_EQ(head_only.history[0].loss, both.history[0].loss);  // phase 1 is the head's run

  ModelSetup setup = load_trained_model(head.out_dir + "/model.h5");
  Sequential& model = setup.model;
  end_in_logits(model);
  train_from(model, trainable_from_index(model, "conv2d_14"));
  ASSERT_EQ(model.layer(model.trainable_begin() - 1).name(), "leaky_re_lu_13");
  SGD sgd(o.fine_tune_lr, o.momentum);
  ExecContext ctx;
  ctx.seed = o.seed;
  ctx.step = 5;  // phase 1's steps
  const Dataset train_set = scan_dataset(*data_ + "/train");
  PipelineOptions pipe;
  pipe.height = pipe.width = o.image_size;
  pipe.batch_size = o.batch;
  pipe.workers = 1;
  PipelineBatches batches(train_set, pipe, setup.preprocess, o.batch, o.seed);
  batches.start_epoch(2, 0);
  Tensor labels, dlogits;
  double loss_sum = 0;
  int64_t seen = 0;
  TrainBatch b;
  while (batches.next(b, ctx)) {
    labels = Tensor::from_vector({static_cast<int64_t>(b.labels.size())}, b.labels);
    loss_sum += train_step(model, *b.input, labels, sgd, ctx, dlogits, b.begin).loss *
                static_cast<double>(b.labels.size());
    seen += static_cast<int64_t>(b.labels.size());
  }
  EXPECT_NEAR(both.history[1].loss, loss_sum / static_cast<double>(seen), 1e-6);
  const Evaluation val = evaluate_dataset(model, scan_dataset(*data_ + "/test"), pipe,
                                          setup.preprocess, ctx);
  EXPECT_NEAR(both.history[1].val_loss, val.loss, 1e-6);

  // The weights: the frozen part as phase 1 left it, everything from the cut as trained here.
  ModelSetup saved = load_trained_model(o.out_dir + "/model.h5");
  ASSERT_EQ(saved.model.size(), model.size());
  double worst = 0;
  for (size_t i = 0; i < model.size(); ++i) {
    const auto mine = model.layer(i).params(), theirs = saved.model.layer(i).params();
    ASSERT_EQ(mine.size(), theirs.size());
    for (size_t k = 0; k < mine.size(); ++k) {
      worst = std::max(worst, test::max_abs_difference(theirs[k]->value.to_vector(),
                                                       mine[k]->value.to_vector()));
    }
    EXPECT_EQ(saved.model.layer(i).trainable(), i >= model.trainable_begin()) << i;
  }
  EXPECT_LT(worst, 1e-6);
  // And fine-tuning moved the base: conv2d_14's kernel and batch_normalization_14's gamma differ
  // from phase 1's, the moving statistics and everything below the cut do not.
  ModelSetup after_head = load_trained_model(head.out_dir + "/model.h5");
  EXPECT_NE(weights_of(saved, "conv2d_14", 0), weights_of(after_head, "conv2d_14", 0));
  EXPECT_NE(weights_of(saved, "batch_normalization_14", 0), weights_of(after_head, "batch_normalization_14", 0));
  EXPECT_EQ(weights_of(saved, "batch_normalization_14", 2), weights_of(after_head, "batch_normalization_14", 2));
  EXPECT_EQ(weights_of(saved, "batch_normalization_14", 3), weights_of(after_head, "batch_normalization_14", 3));
  EXPECT_EQ(weights_of(saved, "batch_normalization_13", 0), weights_of(after_head, "batch_normalization_13", 0));
  EXPECT_EQ(weights_of(saved, "conv2d_13", 0), weights_of(after_head, "conv2d_13", 0));
  // model.h5's training_config is phase 2's compile: the small rate.
  const nlohmann::json config =
      nlohmann::json::parse(read_keras_h5(o.out_dir + "/model.h5").training_config);
  EXPECT_NEAR(config["optimizer_config"]["config"]["learning_rate"].get<double>(), 0.002, 1e-9);
}

// Stopped inside phase 2 (checkpoint phase 2) or between the phases, --resume finishes the very
// run that was never stopped: history.csv (but wall time) and model.h5's weights to the bit.
TEST_F(FineTuneRun, ResumingInEitherPhaseIsBitIdentical) {
  const std::string dir = test::temp_dir("fine_tune_resume");
  const TrainOptions straight = two_phases(dir + "/straight");
  ASSERT_EQ(quietly(straight).history.size(), 3u);
  const std::vector<float> want = test::saved_weights(straight.out_dir + "/model.h5");
  const std::string want_history = history_without_seconds(straight.out_dir + "/history.csv");

  for (int64_t stop_after : {int64_t{7}, int64_t{5}}) {  // epoch 2's 2nd batch; the end of epoch 1
    SCOPED_TRACE("stopped after step " + std::to_string(stop_after));
    TrainOptions split = two_phases(dir + "/split" + std::to_string(stop_after));
    split.stop_after_steps = stop_after;
    ASSERT_TRUE(quietly(split).interrupted);
    const nlohmann::json state = nlohmann::json::parse(
        read_keras_h5(split.out_dir + "/checkpoint.h5").catdog_state)["trainer"];
    EXPECT_EQ(state["phase"], stop_after == 7 ? 2 : 1);
    split.stop_after_steps = -1;
    split.resume = true;
    split.fine_tune_lr = 0.5f;  // the checkpoint's rate wins, as --lr's does
    ASSERT_EQ(quietly(split).history.size(), 3u);
    EXPECT_EQ(history_without_seconds(split.out_dir + "/history.csv"), want_history);
    const std::vector<float> got = test::saved_weights(split.out_dir + "/model.h5");
    ASSERT_EQ(got.size(), want.size());
    EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0);
  }
}

// history.csv has a phase column; report.html's table and both curves mark epoch 2 as the start.
TEST_F(FineTuneRun, HistoryAndReportMarkWherePhaseTwoStarts) {
  TrainOptions o = two_phases(test::temp_dir("fine_tune_marks"));
  o.epochs = 2;
  o.fine_tune_epochs = 1;
  ASSERT_EQ(quietly(o).history.size(), 3u);
  std::istringstream csv(test::read_text(o.out_dir + "/history.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "epoch,loss,accuracy,val_loss,val_accuracy,seconds,phase");
  std::vector<std::string> phases;
  while (std::getline(csv, line)) phases.push_back(line.substr(line.rfind(',') + 1));
  EXPECT_EQ(phases, (std::vector<std::string>{"1", "1", "2"}));
  const std::string html = test::read_text(o.out_dir + "/report.html");
  EXPECT_EQ(count(html, "class=\"fine-tuning-start\" data-epoch=\"3\""), 2u);
  EXPECT_EQ(count(html, "<td data-key=\"phase\">2</td>"), 1u);
  EXPECT_EQ(count(html, "<td data-key=\"phase\">1</td>"), 2u);
}

// One phase from --trainable-from: the layers from it train from the first epoch at --lr.
TEST_F(FineTuneRun, TrainableFromAloneTrainsFromTheCutAtOnce) {
  TrainOptions o = two_phases(test::temp_dir("fine_tune_one_phase"));
  o.fine_tune_epochs = 0;
  o.trainable_from = "batch_normalization_14";
  std::string lines;
  ASSERT_EQ(quietly(o, &lines).history.size(), 1u);
  EXPECT_NE(lines.find("Feature cache (train, output of conv2d_14)"), std::string::npos) << lines;
  ModelSetup start = build_training_model("tiny-darknet", *weights_, 32, o.seed);
  ModelSetup saved = load_trained_model(o.out_dir + "/model.h5");
  EXPECT_EQ(weights_of(saved, "conv2d_14", 0), weights_of(start, "conv2d_14", 0));
  EXPECT_NE(weights_of(saved, "batch_normalization_14", 0), weights_of(start, "batch_normalization_14", 0));
  EXPECT_NE(weights_of(saved, "batch_normalization_14", 1), weights_of(start, "batch_normalization_14", 1));
  EXPECT_EQ(weights_of(saved, "batch_normalization_14", 2), weights_of(start, "batch_normalization_14", 2));
  EXPECT_NE(weights_of(saved, "conv2d_15", 0), weights_of(start, "conv2d_15", 0));
}

TEST_F(FineTuneRun, AnUnknownLayerIsOneErrorLine) {
  const std::string dir = test::temp_dir("fine_tune_unknown");
  const test::CliResult r = test::run_catdog(
      {"train", "--data", *data_, "--model", "tiny-darknet", "--weights", *weights_,
       "--image-size", "32", "--device", "cpu", "--out", dir + "/run", "--fine-tune-epochs", "1",
       "--trainable-from", "block5_conv1"},
      dir);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(count(r.err, "\n"), 1u) << r.err;
  EXPECT_NE(r.err.find("'block5_conv1'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("conv2d_1, conv2d_2"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("epoch 1/"), std::string::npos) << "it trained before checking the name";
}

}  // namespace
}  // namespace catdog
