// The trainer end to end on the CPU, on small generated datasets: it learns (an accuracy floor
// that a trainer without logits, without the SGD step or without validation misses), it equals
// the step run by hand over epoch_order's batches, the batch sources visit epoch_order, a stop request is honoured even when it came
// before train(), resuming gives exactly the run that was never stopped, the feature cache changes
// the speed and not the numbers, and the run directory holds what the docs promise.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "apps/commands.h"
#include "data/dataset.h"
#include "engine/feature_cache.h"
#include "training/model_setup.h"
#include "training/batches.h"
#include "engine/sgd.h"
#include "engine/train_step.h"
#include "training/batch_source.h"
#include "training/trainer.h"
#include "tests/support/cli.h"
#include "tests/support/test_support.h"
#include "tests/support/training_fixtures.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;

// 2 x `per_class` small JPEGs (40..64 px), a quarter of them in test/.
std::string small_dataset(const std::string& name, int per_class) {
  return test::write_small_dataset(test::temp_dir(name), per_class, 64, /*seed=*/3);
}

// vgg1 at 32x32: 18 train images per class -> 36 images, 5 batches of 8 per epoch.
using test::small_run;

// Accuracy the trainer test's run must reach in its last epoch, train and test (it gets ~0.94;
// chance, where a broken trainer stays, is 0.5).
constexpr double kAccuracyFloor = 0.85;

TrainResult train_quietly(const TrainOptions& o) {
  std::ostringstream progress;
  return train(o, progress);
}

class Trainer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { data_ = new std::string(small_dataset("trainer_data", 24)); }
  static void TearDownTestSuite() { delete data_; }
  static std::string* data_;
};
std::string* Trainer::data_ = nullptr;

TEST(EpochOrder, IsASeededPermutationThatChangesEachEpoch) {
  const std::vector<int64_t> a = epoch_order(100, 1, 1), b = epoch_order(100, 1, 2);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
  EXPECT_NE(a, b);
  EXPECT_EQ(a, epoch_order(100, 1, 1));
  EXPECT_NE(a, epoch_order(100, 2, 1));
}

// Records what train() reports, and asks it to stop from the start when `stop` is set.
class RecordingObserver : public TrainObserver {
 public:
  explicit RecordingObserver(bool stop = false) : stop_(stop) {}
  void say(const std::string& line) override { lines.push_back(line); }
  void on_epoch_begin(int epoch, int, int64_t) override { epochs_begun.push_back(epoch); }
  void on_step(const StepProgress& p) override { steps.push_back(p); }
  bool stop_requested() override { return stop_; }
  std::vector<std::string> lines;
  std::vector<int> epochs_begun;
  std::vector<StepProgress> steps;

 private:
  bool stop_;
};

// The correct trainer learns the synthetic set (the classes differ in colour and shape, 32x32 is
// plenty); one without logits (a sigmoid before the fused sigmoid + BCE), without the SGD step,
// or that never validates, stays at chance or reports no val_accuracy.
TEST_F(Trainer, LearnsTheSyntheticSetAboveAFloor) {
  // 96 train / 32 test images; a lower rate and bigger batches than small_run, so that the last
  // epochs are steady (~0.94 both ways) rather than a lucky peak.
  const std::string data = small_dataset("trainer_learns_data", 64);
  TrainOptions o = small_run(data, test::temp_dir("trainer_learns"));
  o.epochs = 8;
  o.lr = 0.003f;
  o.batch = 16;
  RecordingObserver observer;
  const TrainResult r = train(o, observer);
  ASSERT_EQ(r.history.size(), 8u);
  const EpochRecord& last = r.history.back();
  std::cout << "last epoch: loss " << last.loss << ", accuracy " << last.accuracy << ", val_loss "
            << last.val_loss << ", val_accuracy " << last.val_accuracy << "\n";
  EXPECT_GE(last.accuracy, kAccuracyFloor);
  EXPECT_GE(last.val_accuracy, kAccuracyFloor);  // NaN (never validated) fails too
  EXPECT_LT(last.loss, 0.45);                     // chance is log 2 = 0.69
  EXPECT_EQ(observer.epochs_begun, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(observer.steps.size(), 8u * 6u);
}

// train() is the step (engine/train_step.h, checked against PyTorch in reference_head_sgd_test)
// run over epoch_order's batches, with validation after each epoch: a loop written here from
// those pieces gives the very same numbers. Anything the trainer feeds the step differently (the
// epoch order, the batches, the labels, the model's seed, the optimizer's settings) moves them.
TEST_F(Trainer, EqualsTheStepRunByHandOverEpochOrder) {
  TrainOptions o = small_run(*data_, test::temp_dir("trainer_by_hand"));
  o.epochs = 2;
  const TrainResult r = train_quietly(o);
  ASSERT_EQ(r.history.size(), 2u);

  ModelSetup setup = build_training_model(o.model, "", o.image_size, o.seed);
  Sequential& model = setup.model;
  end_in_logits(model);
  SGD sgd(o.lr, o.momentum);
  ExecContext ctx;
  ctx.seed = o.seed;
  const Dataset train_set = scan_dataset(*data_ + "/train");
  const Dataset test_set = scan_dataset(*data_ + "/test");
  PipelineOptions pipe;
  pipe.height = pipe.width = o.image_size;
  pipe.batch_size = o.batch;
  pipe.workers = 1;
  Tensor labels, dlogits;
  for (int epoch = 1; epoch <= 2; ++epoch) {
    PipelineBatches batches(train_set, pipe, setup.preprocess, o.batch, o.seed);
    batches.start_epoch(epoch, 0);
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    TrainBatch b;
    while (batches.next(b, ctx)) {
      labels = Tensor::from_vector({static_cast<int64_t>(b.labels.size())}, b.labels);
      const StepResult step = train_step(model, *b.input, labels, sgd, ctx, dlogits, b.begin);
      loss_sum += step.loss * static_cast<double>(b.labels.size());
      correct += step.correct;
      seen += static_cast<int64_t>(b.labels.size());
    }
    const Evaluation val = evaluate_dataset(model, test_set, pipe, setup.preprocess, ctx);
    const EpochRecord& e = r.history[static_cast<size_t>(epoch - 1)];
    EXPECT_DOUBLE_EQ(e.loss, loss_sum / static_cast<double>(seen)) << "epoch " << epoch;
    EXPECT_DOUBLE_EQ(e.accuracy, static_cast<double>(correct) / static_cast<double>(seen))
        << "epoch " << epoch;
    EXPECT_DOUBLE_EQ(e.val_loss, val.loss) << "epoch " << epoch;
    EXPECT_DOUBLE_EQ(e.val_accuracy, val.accuracy) << "epoch " << epoch;
  }
}

TEST_F(Trainer, BatchSourcesVisitEpochOrder) {
  const Dataset set = scan_dataset(*data_ + "/train");
  const auto n = static_cast<int64_t>(set.images.size());
  const int64_t batch = 8, first = 1;
  const uint64_t seed = 5;

  FeatureCache cache(n, {1}, Device::cpu, SIZE_MAX);  // feature of slot i: i itself
  std::vector<int64_t> stored;
  std::vector<float> values;
  for (int64_t i = 0; i < n; ++i) {
    if (i == 3) continue;  // "did not decode"
    stored.push_back(i);
    values.push_back(static_cast<float>(i));
  }
  cache.store(stored, Tensor::from_vector({static_cast<int64_t>(stored.size()), 1}, values));
  CachedBatches cached(set, cache, 2, batch, seed, 1);

  PipelineOptions pipe;
  pipe.height = pipe.width = 16;
  pipe.batch_size = static_cast<int>(batch);
  pipe.workers = 2;
  PipelineBatches decoded(set, pipe, Preprocess::scale, batch, seed);

  ExecContext ctx;
  for (int epoch : {1, 2}) {
    std::vector<int64_t> want_slots;
    for (int64_t i : epoch_order(n, seed, epoch)) {
      if (i != 3) want_slots.push_back(i);
    }
    want_slots.erase(want_slots.begin(), want_slots.begin() + first * batch);
    std::vector<float> got_slots, got_labels;
    TrainBatch b;
    EXPECT_EQ(cached.start_epoch(epoch, first), (n - 1 + batch - 1) / batch);
    while (cached.next(b, ctx)) {
      EXPECT_EQ(b.begin, 2u);
      const std::vector<float> v = b.input->to_vector();
      got_slots.insert(got_slots.end(), v.begin(), v.end());
    }
    EXPECT_EQ(got_slots, std::vector<float>(want_slots.begin(), want_slots.end()))
        << "epoch " << epoch;

    std::vector<float> want_labels;
    const std::vector<int64_t> order = epoch_order(n, seed, epoch);
    for (size_t i = static_cast<size_t>(first * batch); i < order.size(); ++i) {
      want_labels.push_back(static_cast<float>(set.images[static_cast<size_t>(order[i])].label));
    }
    EXPECT_EQ(decoded.start_epoch(epoch, first), (n + batch - 1) / batch);
    while (decoded.next(b, ctx)) {
      EXPECT_EQ(b.begin, 0u);
      got_labels.insert(got_labels.end(), b.labels.begin(), b.labels.end());
    }
    EXPECT_EQ(got_labels, want_labels) << "epoch " << epoch;
  }
}

// A stop asked for before train() starts (a Ctrl-C during setup) is honoured at the first step:
// checkpoint, "Stopped during epoch 1", interrupted; and --resume then finishes the run.
TEST_F(Trainer, StopRequestedBeforeTheRunIsHonoured) {
  TrainOptions o = small_run(*data_, test::temp_dir("trainer_stop_early"));
  o.epochs = 2;
  RecordingObserver stopping(/*stop=*/true);
  const TrainResult first = train(o, stopping);
  EXPECT_TRUE(first.interrupted);
  EXPECT_TRUE(first.history.empty());
  EXPECT_EQ(stopping.steps.size(), 1u);
  ASSERT_TRUE(fs::exists(o.out_dir + "/checkpoint.h5"));
  ASSERT_FALSE(stopping.lines.empty());
  EXPECT_EQ(stopping.lines.back().rfind("Stopped during epoch 1 after 1 of 5 batches", 0), 0u)
      << stopping.lines.back();
  EXPECT_NE(test::read_text(o.out_dir + "/train.log").find("Stopped during epoch 1"),
            std::string::npos);

  o.resume = true;
  const TrainResult rest = train_quietly(o);
  EXPECT_FALSE(rest.interrupted);
  EXPECT_EQ(rest.history.size(), 2u);
}

TEST_F(Trainer, TwoPlusTwoEpochsEqualFour) {
  const std::string dir = test::temp_dir("trainer_two_plus_two");
  TrainOptions straight = small_run(*data_, dir + "/straight");
  const TrainResult four = train_quietly(straight);
  ASSERT_EQ(four.history.size(), 4u);

  TrainOptions split = small_run(*data_, dir + "/split");
  split.epochs = 2;
  ASSERT_EQ(train_quietly(split).history.size(), 2u);
  split.epochs = 4;
  split.resume = true;
  const TrainResult resumed = train_quietly(split);
  ASSERT_EQ(resumed.history.size(), 4u);

  for (size_t e = 0; e < 4; ++e) {
    EXPECT_EQ(resumed.history[e].loss, four.history[e].loss) << "epoch " << e + 1;
    EXPECT_EQ(resumed.history[e].val_accuracy, four.history[e].val_accuracy) << "epoch " << e + 1;
  }
  const std::vector<float> a = test::saved_weights(straight.out_dir + "/model.h5");
  const std::vector<float> b = test::saved_weights(split.out_dir + "/model.h5");
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(test::max_abs_difference(b, a), 0.0);
  // And training did something: the weights are not the initial ones.
  EXPECT_GT(four.history[3].accuracy, 0.0);
  EXPECT_NE(four.history[0].loss, four.history[3].loss);
}

// --preprocess: the run computes on it (its losses differ from the model's own), model.h5 records
// it for evaluate and predict, the setup line says it, and --resume refuses another one.
TEST_F(Trainer, PreprocessOptionIsUsedRecordedAndKeptOnResume) {
  const std::string dir = test::temp_dir("trainer_preprocess");
  TrainOptions own = small_run(*data_, dir + "/own");
  own.epochs = 1;
  own.lr = 1e-5f;  // caffe's inputs are ~100x scale's: keep both runs finite
  TrainOptions caffe = own;
  caffe.out_dir = dir + "/caffe";
  caffe.preprocess = "caffe";
  const TrainResult a = train_quietly(own);
  RecordingObserver observer;
  const TrainResult b = train(caffe, observer);
  ASSERT_EQ(a.history.size(), 1u);
  ASSERT_EQ(b.history.size(), 1u);
  EXPECT_NE(a.history[0].loss, b.history[0].loss) << "--preprocess caffe changed nothing";
  EXPECT_EQ(load_trained_model(own.out_dir + "/model.h5").preprocess, Preprocess::scale);
  EXPECT_EQ(load_trained_model(caffe.out_dir + "/model.h5").preprocess, Preprocess::caffe);
  ASSERT_FALSE(observer.lines.empty());
  EXPECT_NE(observer.lines[0].find(", preprocess caffe,"), std::string::npos) << observer.lines[0];

  caffe.epochs = 2;
  caffe.resume = true;
  caffe.preprocess = "tutorial";
  try {
    train_quietly(caffe);
    ADD_FAILURE() << "resumed a caffe run with --preprocess tutorial";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("was trained with --preprocess caffe, not --preprocess "
                                         "tutorial"),
              std::string::npos)
        << e.what();
  }
  caffe.preprocess = "";
  EXPECT_EQ(train_quietly(caffe).history.size(), 2u) << "leaving --preprocess out resumes";
}

// --final (the tutorial's last step): one dataset of train/ and test/ (the epoch has the batches
// of all 48 photos, not of train's 36), no validation, final_model.h5 that predict answers with a
// class name; --resume keeps to the kind of run its checkpoint holds.
TEST_F(Trainer, FinalTrainsOnTrainAndTestWithoutValidation) {
  const std::string dir = test::temp_dir("trainer_final");
  TrainOptions o = small_run(*data_, dir);
  o.epochs = 1;
  o.final_fit = true;
  RecordingObserver observer;
  const TrainResult result = train(o, observer);
  ASSERT_EQ(result.history.size(), 1u);
  ASSERT_FALSE(observer.steps.empty());
  EXPECT_EQ(observer.steps.back().steps, 6) << "48 photos in batches of 8";
  EXPECT_TRUE(std::isnan(result.history[0].val_loss)) << "no validation";
  EXPECT_EQ(result.model_path, dir + "/final_model.h5");
  EXPECT_TRUE(fs::exists(dir + "/final_model.h5"));
  EXPECT_FALSE(fs::exists(dir + "/model.h5"));

  PredictOptions p;
  p.model_path = dir + "/final_model.h5";
  p.device = "cpu";
  const Dataset test_set = scan_dataset(*data_ + "/test");
  p.images = {test_set.images.front().path};
  std::ostringstream out;
  ASSERT_EQ(run_predict(p, out), 0);
  const std::string line = out.str();
  EXPECT_TRUE(line.size() > 6 && (line.compare(line.size() - 6, 6, "\tcats\n") == 0 ||
                                  line.compare(line.size() - 6, 6, "\tdogs\n") == 0))
      << line;

  o.epochs = 2;
  o.resume = true;
  o.final_fit = false;
  try {
    train_quietly(o);
    ADD_FAILURE() << "resumed a --final run as one with validation";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("continues a --final run: add --final"), std::string::npos)
        << e.what();
  }
  o.final_fit = true;
  EXPECT_EQ(train_quietly(o).history.size(), 2u);
}

TEST_F(Trainer, StoppedMidEpochResumesExactly) {
  const std::string dir = test::temp_dir("trainer_mid_epoch");
  TrainOptions straight = small_run(*data_, dir + "/straight");
  straight.epochs = 3;
  train_quietly(straight);

  TrainOptions stopped = small_run(*data_, dir + "/stopped");
  stopped.epochs = 3;
  stopped.stop_after_steps = 7;  // epoch 2, batch 2 of 5 (what Ctrl-C does, on cue)
  const TrainResult first = train_quietly(stopped);
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(first.history.size(), 1u);
  ASSERT_TRUE(fs::exists(stopped.out_dir + "/checkpoint.h5"));

  stopped.stop_after_steps = -1;
  stopped.resume = true;
  const TrainResult rest = train_quietly(stopped);
  EXPECT_FALSE(rest.interrupted);
  ASSERT_EQ(rest.history.size(), 3u);
  EXPECT_EQ(test::max_abs_difference(test::saved_weights(stopped.out_dir + "/model.h5"),
                                     test::saved_weights(straight.out_dir + "/model.h5")),
            0.0);
}

TEST_F(Trainer, RunDirectoryHoldsModelHistoryCurvesAndLog) {
  const std::string out = test::temp_dir("trainer_run_dir");
  TrainOptions o = small_run(*data_, out);
  o.epochs = 2;
  train_quietly(o);

  const std::string csv = test::read_text(out + "/history.csv");
  std::istringstream lines(csv);
  std::string line;
  std::vector<std::string> rows;
  while (std::getline(lines, line)) rows.push_back(line);
  ASSERT_EQ(rows.size(), 3u) << csv;
  EXPECT_EQ(rows[0], "epoch,loss,accuracy,val_loss,val_accuracy,seconds,phase");
  EXPECT_EQ(rows[2].substr(0, 2), "2,");

  const std::string png = test::read_text(out + "/curves.png");
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_NE(test::read_text(out + "/train.log").find("epoch 2/2"), std::string::npos);

  // model.h5 comes back for evaluate: its accuracy on test/ is the last epoch's val_accuracy.
  EvaluateOptions eval;
  eval.model_path = out + "/model.h5";
  eval.data_dir = *data_ + "/test";
  eval.device = "cpu";
  std::ostringstream printed;
  EXPECT_EQ(run_evaluate(eval, printed), 0);
  std::vector<std::string> cells;
  std::istringstream row(rows[2]);
  for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
  ASSERT_EQ(cells.size(), 7u) << rows[2];
  const double last_val = std::stod(cells[4]);  // val_accuracy, printed with 6 decimals
  EXPECT_EQ(cells[6], "1");  // phase: no fine-tuning
  const std::string text = printed.str();
  const size_t at = text.find("accuracy: ");
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_NEAR(std::stod(text.substr(at + 10)), last_val, 1e-6) << text;
}

// The frozen base computed once per image (cache on) or in every step (cache off): the same
// batches, so the same losses to rounding.
TEST_F(Trainer, CachedAndUncachedGiveTheSameLosses) {
  CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
  const std::string dir = test::temp_dir("trainer_cache");
  TrainOptions o = small_run(*data_, dir + "/cached");
  o.model = "tiny-darknet";
  o.weights = weights;
  o.image_size = 64;
  o.epochs = 2;
  o.lr = 0.001f;
  o.cache_features = "on";
  const TrainResult cached = train_quietly(o);
  EXPECT_TRUE(cached.used_feature_cache);

  o.out_dir = dir + "/uncached";
  o.cache_features = "off";
  const TrainResult uncached = train_quietly(o);
  EXPECT_FALSE(uncached.used_feature_cache);

  ASSERT_EQ(cached.history.size(), 2u);
  ASSERT_EQ(uncached.history.size(), 2u);
  for (size_t e = 0; e < 2; ++e) {
    EXPECT_NEAR(cached.history[e].loss, uncached.history[e].loss,
                1e-5 * std::abs(uncached.history[e].loss)) << "epoch " << e + 1;
    EXPECT_NEAR(cached.history[e].val_loss, uncached.history[e].val_loss,
                1e-5 * std::abs(uncached.history[e].val_loss)) << "epoch " << e + 1;
    EXPECT_EQ(cached.history[e].accuracy, uncached.history[e].accuracy) << "epoch " << e + 1;
  }
  EXPECT_LT(test::max_relative_error(test::saved_weights(dir + "/cached/model.h5"),
                                     test::saved_weights(dir + "/uncached/model.h5")),
            1e-4);
}

}  // namespace
}  // namespace catdog
