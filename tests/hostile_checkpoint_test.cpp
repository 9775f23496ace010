// Hostile checkpoint.h5 and model.h5 files, through the real binary where the issue is the
// binary's behaviour: every value a file carries is checked as the command line's are, and named;
// a long history still checkpoints; a diverging run keeps the last good files; NaN weights and
// killed writers' temporaries are not left to do harm. (Issue 16, classes 1 and 6.)
#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "layers/batch_normalization.h"
#include "tests/support/cli.h"
#include "tests/support/python_script.h"
#include "tests/support/test_support.h"
#include "tests/support/training_fixtures.h"
#include "training/checkpoint.h"
#include "weights/keras_h5.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::CliResult;

class HostileCheckpoint : public ::testing::Test {
 protected:
  // One small trained run (vgg1, 32x32, one epoch) that every test copies and tampers with.
  static void SetUpTestSuite() {
    shared_ = test::temp_dir("hostile_checkpoint_shared");
    data_ = test::write_small_dataset(shared_ + "/data", 8, 56);
    const CliResult r = test::run_catdog(train_args(shared_ + "/run", 1), shared_);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    work_ = test::temp_dir(std::string("hostile_checkpoint_") + info->name());
  }

  static std::vector<std::string> train_args(const std::string& out, int epochs) {
    return {"train", "--data", data_, "--model", "vgg1", "--image-size", "32", "--epochs",
            std::to_string(epochs), "--batch", "4", "--lr", "0.01", "--device", "cpu",
            "--workers", "1", "--out", out};
  }

  // The resume command for a run directory (no --model: the checkpoint's).
  static std::vector<std::string> resume_args(const std::string& out) {
    return {"train", "--data", data_, "--epochs", "2", "--device", "cpu", "--workers", "1",
            "--out", out, "--resume"};
  }

  // A copy of the shared run's `file` in a new run directory, with `edit` applied to its
  // catdog_state JSON; returns the path of the copy.
  std::string tampered(const std::string& name, const std::string& file,
                       const std::function<void(json&)>& edit) {
    return tampered_text(name, file, [&](std::string& text) {
      json state = json::parse(text);
      edit(state);
      text = state.dump();
    });
  }

  // The same with `edit` applied to catdog_state's text.
  std::string tampered_text(const std::string& name, const std::string& file,
                            const std::function<void(std::string&)>& edit) {
    const std::string dir = work_ + "/" + name;
    fs::create_directories(dir);
    KerasH5 contents = read_keras_h5(shared_ + "/run/" + file);
    edit(contents.catdog_state);
    write_keras_h5(dir + "/" + file, contents);
    return dir + "/" + file;
  }

  CliResult run(const std::vector<std::string>& args) { return test::run_catdog(args, work_); }

  // The failure contract: a non-zero exit below 128, exactly one "catdog: error:" line, holding
  // every one of `needles`.
  static void expect_one_clear_line(const CliResult& r, const std::vector<std::string>& needles) {
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_LT(r.exit_code, 128) << "killed by a signal: " << r.err;
    EXPECT_EQ(r.err.rfind("catdog: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const std::string& needle : needles)
      EXPECT_NE(r.err.find(needle), std::string::npos) << "'" << needle << "' not in: " << r.err;
  }

  static std::string shared_, data_;
  std::string work_;
};

std::string HostileCheckpoint::shared_, HostileCheckpoint::data_;

// Class 1: what the command line would refuse, a checkpoint may not carry either; the progress
// fields must agree with each other. Before: SIGFPE (batch 0), out-of-bounds reads (batches_done
// -1), an overflowing epoch loop (epochs_done INT_MAX), and lr -0.5 / 1e39 / momentum 2 trained.
TEST_F(HostileCheckpoint, CheckpointValuesAreCheckedAsTheCommandLine) {
  struct Case {
    const char* name;
    json trainer;        // fields replaced in catdog_state's trainer
    const char* needle;  // what the message must say besides the file
  };
  const std::vector<Case> cases = {
      {"batch0", {{"batch", 0}}, "catdog_state batch must be in 1..65536, got 0"},
      {"batch_wraps", {{"batch", uint64_t{4294967297u}}}, "batch must be in 1..65536"},
      {"lr_negative", {{"lr", -0.5}}, "catdog_state lr must be positive"},
      {"lr_beyond_float", {{"lr", 1e39}}, "catdog_state lr must be positive"},
      {"momentum2", {{"momentum", 2}}, "catdog_state momentum must be in [0, 1), got 2"},
      {"batches_done_negative", {{"batches_done", -1}}, "catdog_state batches_done -1"},
      {"batches_done_past_the_epoch", {{"batches_done", 100}, {"step", 100}},
       "catdog_state batches_done 100 is more than the epoch's 3 batches"},
      {"epochs_done_max", {{"epochs_done", INT_MAX}}, "catdog_state epochs_done 2147483647"},
      {"epochs_done_without_history", {{"epochs_done", 0}}, "history has 1 epochs, epochs_done says 0"},
      {"history_out_of_order", {{"history", json::array({json::array({7, 1, 1, 1, 1, 1, 1, 1})})}},
       "history row 1 is for epoch 7"},
      {"seen_too_many", {{"seen", 5}}, "catdog_state seen 5"},
      {"correct_negative", {{"correct", -1}}, "catdog_state correct -1"},
      {"loss_sum_negative", {{"loss_sum", -1.0}}, "catdog_state loss_sum -1"},
      {"step_text", {{"step", "many"}}, "not a catdog checkpoint"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = tampered(c.name, "checkpoint.h5", [&](json& s) {
      for (const auto& [field, value] : c.trainer.items()) s["trainer"][field] = value;
    });
    expect_one_clear_line(run(resume_args(fs::path(path).parent_path().string())),
                          {path, c.needle});
  }
}

// Class 1: image_size from a file is bounded as --image-size is. Before: INT_MAX overflowed the
// batch's element count and a decode worker wrote into a 0-byte buffer (SIGSEGV).
TEST_F(HostileCheckpoint, ImageSizeFromAFileIsBounded) {
  for (int64_t size : {int64_t{INT_MAX}, int64_t{8}, int64_t{0}}) {
    const std::string path = tampered("size" + std::to_string(size), "model.h5",
                                      [&](json& s) { s["image_size"] = size; });
    expect_one_clear_line(run({"evaluate", "--model", path, "--data", data_ + "/test",
                               "--device", "cpu"}),
                          {path, "catdog_state image_size " + std::to_string(size),
                           "out of range (16..4096)"});
  }
}

// catdog_state is parsed as model_config is: nesting is bounded before parsing. A million levels
// in a trainer field used to reach the field's error message, whose dump() ran out of stack.
TEST_F(HostileCheckpoint, DeeplyNestedCatdogStateIsRefusedInOneShortLine) {
  const int depth = 1'000'000;
  const std::string path = tampered_text("deep", "checkpoint.h5", [&](std::string& text) {
    const std::string field = "\"epochs_done\":";
    const size_t at = text.find(field);
    ASSERT_NE(at, std::string::npos) << text;
    const size_t end = text.find_first_of(",}", at);
    text.replace(at + field.size(), end - at - field.size(),
                 std::string(depth, '[') + std::string(depth, ']'));
  });
  const CliResult r = run(resume_args(fs::path(path).parent_path().string()));
  expect_one_clear_line(r, {path, "its catdog_state nests deeper than 64 levels"});
  EXPECT_LT(r.err.size(), 400u) << r.err.substr(0, 400);
}

// --resume keeps the checkpoint's image size; another --image-size would have been ignored.
TEST_F(HostileCheckpoint, ResumeWithAnotherImageSizeIsRefused) {
  const std::string path = tampered("other_size", "checkpoint.h5", [](json&) {});
  std::vector<std::string> args = resume_args(fs::path(path).parent_path().string());
  args.insert(args.end(), {"--image-size", "48"});
  expect_one_clear_line(run(args), {path, "--image-size 32", "not --image-size 48"});
  args.back() = "32";  // the checkpoint's own size resumes
  const CliResult same = run(args);
  EXPECT_EQ(same.exit_code, 0) << same.err;
}

// Class 1: --resume with another --model would silently continue the checkpoint's architecture.
TEST_F(HostileCheckpoint, ResumeWithAnotherModelIsRefused) {
  const std::string path = tampered("other_model", "checkpoint.h5", [](json&) {});
  std::vector<std::string> args = resume_args(fs::path(path).parent_path().string());
  args.insert(args.end(), {"--model", "vgg2"});
  expect_one_clear_line(run(args), {path, "continues model 'vgg1'", "not --model vgg2"});
  // The same model, or none, resumes.
  args.back() = "vgg1";
  const CliResult same = run(args);
  EXPECT_EQ(same.exit_code, 0) << same.err;
}

// Class 6: the state lives in a dataset, so a 2,000-epoch history round-trips (it was one
// attribute, limited to 64,512 bytes: about 500 epochs).
TEST_F(HostileCheckpoint, LongHistoryRoundTrips) {
  ModelSetup setup = build_training_model("vgg1", "", 32, 1);
  TrainOptions o;
  o.model = "vgg1";
  o.batch = 4;
  Progress p;
  p.epochs_done = 2000;
  p.step = 6000;
  for (int e = 1; e <= 2000; ++e) {
    EpochRecord r;
    r.epoch = e;
    r.loss = 1.0 / e;
    r.accuracy = 0.5 + e * 1e-4;
    r.val_loss = r.val_accuracy = std::nan("");
    r.seconds = 0.123456789 * e;
    p.history.push_back(r);
  }
  const std::string path = work_ + "/checkpoint.h5";
  save_checkpoint(path, setup.model, setup, o, p);
  ModelSetup back;
  TrainOptions o2;
  o2.model = "";
  const Progress q = restore_checkpoint(path, back, o2);
  ASSERT_EQ(q.history.size(), 2000u);
  EXPECT_EQ(q.epochs_done, 2000);
  EXPECT_EQ(q.history[1999].epoch, 2000);
  EXPECT_DOUBLE_EQ(q.history[1999].loss, 1.0 / 2000);
  EXPECT_DOUBLE_EQ(q.history[999].seconds, 0.123456789 * 1000);
  EXPECT_TRUE(std::isnan(q.history[5].val_loss));
  EXPECT_EQ(o2.model, "vgg1");
}

// Class 6: files written before the move keep catdog_state in a root attribute; they still load.
TEST_F(HostileCheckpoint, OldAttributeFormStillReads) {
  const std::string reason = test::python_unavailable_reason({"h5py"});
  if (!reason.empty()) GTEST_SKIP() << reason;
  const std::string path = tampered("old_form", "checkpoint.h5", [](json&) {});
  const test::PythonResult py = test::run_python(R"(
import sys, h5py
with h5py.File(sys.argv[1], 'r+') as f:
    s = f['catdog_state'][()]
    del f['catdog_state']
    f.attrs['catdog_state'] = s
)", {path});
  ASSERT_EQ(py.exit_code, 0) << py.output;
  ModelSetup setup;
  TrainOptions o;
  o.model = "";
  const Progress p = restore_checkpoint(path, setup, o);
  EXPECT_EQ(p.epochs_done, 1);
  EXPECT_EQ(o.model, "vgg1");
  EXPECT_EQ(setup.image_size, 32);
}

// Non-finite training: --lr 1e30 trained to NaN and saved a model of NaN weights over the good
// one. Now the run stops at the first non-finite loss (or weight), and the files stay as they were.
TEST_F(HostileCheckpoint, DivergingRunKeepsTheLastGoodModel) {
  const std::string out = work_ + "/run";
  ASSERT_EQ(run(train_args(out, 1)).exit_code, 0);
  const std::string model_before = test::read_text(out + "/model.h5");
  const std::string checkpoint_before = test::read_text(out + "/checkpoint.h5");
  std::vector<std::string> args = train_args(out, 3);
  args[12] = "1e30";  // --lr
  expect_one_clear_line(run(args), {"training diverged", "epoch 1", "--lr 1e+30"});
  EXPECT_EQ(test::read_text(out + "/model.h5"), model_before);
  EXPECT_EQ(test::read_text(out + "/checkpoint.h5"), checkpoint_before);
}

// NaN or Inf weights loaded silently (then "nan cats"); now the file, layer and weight are named.
TEST_F(HostileCheckpoint, NonFiniteWeightsAreRefused) {
  for (float bad : {std::nanf(""), INFINITY}) {
    const std::string dir = work_ + "/bad" + std::to_string(std::isnan(bad));
    fs::create_directories(dir);
    KerasH5 contents = read_keras_h5(shared_ + "/run/model.h5");
    auto weighted = std::find_if(contents.layers.begin(), contents.layers.end(),
                                 [](const StoredLayer& l) { return !l.weights.empty(); });
    ASSERT_NE(weighted, contents.layers.end());
    weighted->weights[0].values[3] = bad;
    const std::string path = dir + "/model.h5";
    write_keras_h5(path, contents);
    expect_one_clear_line(run({"evaluate", "--model", path, "--data", data_ + "/test",
                               "--device", "cpu"}),
                          {path, "layer '" + weighted->name + "'",
                           "weight '" + weighted->weights[0].name + "'", "at index 3"});
  }
}

// A NaN or negative moving_variance made every feature NaN while training reported loss 0.6931.
TEST_F(HostileCheckpoint, BadMovingVarianceIsRefused) {
  for (float bad : {-1.0f, std::nanf("")}) {
    Sequential model;
    model.add(std::make_unique<BatchNormalization>("bn", BatchNormalizationConfig{}));
    model.build({4, 4, 2});
    KerasH5 file;
    file.layers = stored_layers_of(model);
    StoredWeight& variance = file.layers[0].weights.back();
    ASSERT_EQ(variance.name, "bn/moving_variance:0");
    variance.values[1] = bad;
    std::string message;
    try {
      load_weights(model, file, "bn.h5");
    } catch (const Error& e) {
      message = e.what();
    }
    EXPECT_NE(message.find("bn.h5: layer 'bn' weight 'bn/moving_variance:0'"), std::string::npos)
        << message;
    EXPECT_NE(message.find("a variance must be finite and >= 0"), std::string::npos) << message;
  }
}

// SIGKILL during a write left .checkpoint.h5.tmp-<pid>-<n> files for good; the next run in the
// directory removes those of dead writers, and nothing else.
TEST_F(HostileCheckpoint, StaleTemporariesAreRemovedAtTheNextStart) {
  const std::string out = work_ + "/run";
  fs::create_directories(out);
  const std::string dead = "99999999";  // above any pid_max: no such process
  const std::string live = std::to_string(::getpid());
  const std::vector<std::string> stale = {".checkpoint.h5.tmp-" + dead + "-0",
                                          ".model.h5.tmp-" + dead + "-3",
                                          ".history.csv.tmp-" + dead + "-1"};
  const std::vector<std::string> kept = {".checkpoint.h5.tmp-" + live + "-0",
                                         ".checkpoint.h5.tmp-notours", "checkpoint.h5.tmp-1-1",
                                         ".other.h5.tmp-" + dead + "-0"};
  for (const std::string& name : stale) std::ofstream(out + "/" + name) << "half a file";
  for (const std::string& name : kept) std::ofstream(out + "/" + name) << "not ours to remove";
  const CliResult r = run(train_args(out, 1));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string& name : stale) EXPECT_FALSE(fs::exists(out + "/" + name)) << name;
  for (const std::string& name : kept) EXPECT_TRUE(fs::exists(out + "/" + name)) << name;
}

}  // namespace
}  // namespace catdog
