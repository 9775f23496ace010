// Hostile command lines and files, through the real binary: each mistake a user can make gives one
// clear line on stderr that names the culprit, a non-zero exit, and never a crash or a half-written
// model.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tests/support/cli.h"
#include "tests/support/test_support.h"
#include "tests/support/training_fixtures.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;
using test::CliResult;

class Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    work_ = test::temp_dir(std::string("hostile_") + info->name());
  }

  // A 2-class dataset of 8 small JPEGs per class, 2 of them in test/.
  std::string small_dataset() { return test::write_small_dataset(work_ + "/data", 8, 56); }

  CliResult run(const std::vector<std::string>& args, const test::ChildLimits& limits = {}) {
    return test::run_catdog(args, work_, limits);
  }

  // The failure contract: a non-zero exit, exactly one line on stderr, starting "catdog: error:"
  // and containing `needle`.
  static void expect_one_clear_line(const CliResult& r, const std::string& needle) {
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_LT(r.exit_code, 128) << "killed by a signal: " << r.err;
    EXPECT_EQ(r.err.rfind("catdog: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << "'" << needle << "' not in: " << r.err;
  }

  std::vector<std::string> small_vgg1(const std::string& data, const std::string& out) {
    return {"train", "--data", data, "--model", "vgg1", "--image-size", "32", "--epochs", "1",
            "--batch", "8", "--device", "cpu", "--out", out};
  }

  std::string work_;
};

TEST_F(Hostile, NoCommand) { expect_one_clear_line(run({}), "subcommand is required"); }

TEST_F(Hostile, UnknownCommand) {
  expect_one_clear_line(run({"trian", "--data", "x"}), "unknown command 'trian'");
}

TEST_F(Hostile, MissingRequiredArgument) {
  expect_one_clear_line(run({"train"}), "--data is required");
}

TEST_F(Hostile, ArgumentOfTheWrongType) {
  expect_one_clear_line(run({"train", "--data", "x", "--epochs", "ten"}), "--epochs");
}

TEST_F(Hostile, OutOfRangeArguments) {
  expect_one_clear_line(run({"train", "--data", work_, "--batch", "0"}), "--batch");
  expect_one_clear_line(run({"train", "--data", work_, "--lr", "-1", "--model", "vgg1"}), "--lr");
  expect_one_clear_line(run({"train", "--data", work_, "--max-device-memory", "6Q"}), "unit 'Q'");
}

TEST_F(Hostile, UnknownModel) {
  expect_one_clear_line(run({"train", "--data", small_dataset(), "--model", "resnet"}),
                        "unknown model 'resnet'");
}

TEST_F(Hostile, MissingDataset) {
  expect_one_clear_line(run(small_vgg1(work_ + "/nowhere", work_ + "/run")), "nowhere");
}

TEST_F(Hostile, DatasetWithNoImages) {
  fs::create_directories(work_ + "/empty/train/cats");
  fs::create_directories(work_ + "/empty/train/dogs");
  std::ofstream(work_ + "/empty/train/cats/notes.txt") << "not a photo";
  expect_one_clear_line(run(small_vgg1(work_ + "/empty", work_ + "/run")), "holds no images");
}

TEST_F(Hostile, DatasetWithOneClassOnly) {
  const std::string data = small_dataset();
  fs::remove_all(data + "/train/dogs");
  expect_one_clear_line(run(small_vgg1(data, work_ + "/run")), "only one class");
}

TEST_F(Hostile, DatasetWhereNothingDecodes) {
  for (const char* cls : {"cats", "dogs"}) {
    fs::create_directories(work_ + "/junk/train/" + cls);
    std::ofstream(work_ + "/junk/train/" + cls + "/a.jpg") << "\xff\xd8 not really";
  }
  expect_one_clear_line(run(small_vgg1(work_ + "/junk", work_ + "/run")), "could be decoded");
}

TEST_F(Hostile, ImageSizeOutOfRange) {
  const std::string data = small_dataset();
  std::vector<std::string> args = small_vgg1(data, work_ + "/run");
  args[6] = "1";  // below any model's input (catdog's range is 16..4096)
  expect_one_clear_line(run(args), "--image-size 1 is out of range (16..4096)");
}

TEST_F(Hostile, WeightsOfAnotherModel) {
  CATDOG_REQUIRE_SHARED(tiny_darknet, "weights/tiny_darknet_imagenet.h5");
  const std::string data = small_dataset();
  // Tiny Darknet's file for VGG16: the first layer's weights do not match, and the message says
  // which layer, with both shapes.
  const CliResult r = run({"train", "--data", data, "--model", "vgg16", "--weights", tiny_darknet,
                           "--device", "cpu", "--out", work_ + "/run"});
  expect_one_clear_line(r, "block1_conv1");
  EXPECT_NE(r.err.find("(3, 3, 3, 64)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(3, 3, 3, 16)"), std::string::npos) << r.err;
}

TEST_F(Hostile, WeightsFileThatIsNotHdf5) {
  const std::string fake = work_ + "/weights.h5";
  std::ofstream(fake) << "<html>404 Not Found</html>";
  expect_one_clear_line(run({"train", "--data", small_dataset(), "--model", "vgg16", "--weights", fake,
                             "--device", "cpu", "--out", work_ + "/run"}),
                        "not an HDF5 file");
}

TEST_F(Hostile, TruncatedModelFile) {
  const std::string data = small_dataset();
  ASSERT_EQ(run(small_vgg1(data, work_ + "/run")).exit_code, 0);
  const std::string model = work_ + "/run/model.h5";
  fs::resize_file(model, fs::file_size(model) / 2);
  expect_one_clear_line(run({"evaluate", "--model", model, "--data", data + "/test",
                             "--device", "cpu"}),
                        "model.h5");
}

TEST_F(Hostile, OutputFolderThatCannotBeCreated) {
  const std::string data = small_dataset();
  std::ofstream(work_ + "/a-file") << "x";
  expect_one_clear_line(run(small_vgg1(data, work_ + "/a-file/run")), "a-file/run");
}

TEST_F(Hostile, ReadOnlyOutputFolder) {
  const std::string data = small_dataset();
  const std::string out = work_ + "/readonly";
  fs::create_directories(out);
  ::chmod(out.c_str(), 0555);  // root ignores this: the child drops to nobody (ChildLimits)
  ::chmod(work_.c_str(), 0755);
  test::ChildLimits limits;
  limits.as_nobody = true;
  const CliResult r = run(small_vgg1(data, out), limits);
  expect_one_clear_line(r, "readonly");
  EXPECT_NE(r.err.find("ermission denied"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(out)) << "something was written into the read-only folder";
}

// A disk that fills up while model.h5 is written: a clear error, and the model.h5 of the run
// before is still there, whole (the new one goes to a temporary file that replaces it only once
// complete).
TEST_F(Hostile, FullDiskKeepsThePreviousModel) {
  const std::string data = small_dataset();
  const std::string out = work_ + "/run";
  ASSERT_EQ(run(small_vgg1(data, out)).exit_code, 0);
  const std::string before = test::read_text(out + "/model.h5");
  ASSERT_GT(before.size(), 100000u);

  test::ChildLimits limits;
  limits.max_file_bytes = 64 * 1024;  // model.h5 is ~4 MB: its write fails part way
  std::vector<std::string> args = small_vgg1(data, out);
  args.push_back("--seed");
  args.push_back("2");  // other weights, so a half-replaced file would show
  const CliResult r = run(args, limits);
  expect_one_clear_line(r, "model.h5");
  EXPECT_EQ(test::read_text(out + "/model.h5"), before) << "model.h5 was damaged";
  for (const auto& entry : fs::directory_iterator(out)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos)
        << "temporary file left behind: " << entry.path();
  }
}

}  // namespace
}  // namespace catdog
