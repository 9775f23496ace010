// TensorBoard event files (training/tensorboard.h): the CRC against the standard's check value,
// the records read back by a reader written here (bitwise CRC, hand-decoded protocol buffers), the
// values equal to the run's history, and, where the `tensorboard` Python package is installed
// ($CATDOG_TENSORBOARD_PYTHON or the tests' Python), TensorBoard's own reader agreeing.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/python_script.h"
#include "tests/support/test_support.h"
#include "tests/support/training_fixtures.h"
#include "training/tensorboard.h"
#include "training/trainer.h"

namespace catdog {
namespace {

namespace fs = std::filesystem;

// CRC-32C bit by bit, straight from the definition (reflected polynomial 0x82F63B78).
uint32_t slow_crc32c(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}
uint32_t slow_masked(const std::string& bytes) {
  const uint32_t c = slow_crc32c(bytes);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

struct Scalar {
  std::string tag;
  int64_t step = 0;
  float value = 0;
};

uint64_t read_varint(const std::string& s, size_t& at) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<unsigned char>(s.at(at++));
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80)) return v;
  }
}

// The fields of one message: number -> raw bytes (length-delimited and fixed) or varint value.
std::multimap<int, std::string> fields(const std::string& m) {
  std::multimap<int, std::string> out;
  for (size_t at = 0; at < m.size();) {
    const uint64_t key = read_varint(m, at);
    const int number = static_cast<int>(key >> 3), type = static_cast<int>(key & 7);
    if (type == 0) {
      out.emplace(number, std::to_string(read_varint(m, at)));
    } else if (type == 1 || type == 5) {
      const size_t n = type == 1 ? 8 : 4;
      out.emplace(number, m.substr(at, n));
      at += n;
    } else {
      EXPECT_EQ(type, 2);
      const size_t n = read_varint(m, at);
      out.emplace(number, m.substr(at, n));
      at += n;
    }
  }
  return out;
}

// Every record of the file, checked; the scalars, and the file_version of the first event.
std::vector<Scalar> read_events(const std::string& path, std::string* version) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string file = buffer.str();
  std::vector<Scalar> scalars;
  for (size_t at = 0; at < file.size();) {
    uint64_t length = 0;
    uint32_t length_crc = 0, data_crc = 0;
    std::memcpy(&length, file.data() + at, 8);
    std::memcpy(&length_crc, file.data() + at + 8, 4);
    EXPECT_EQ(length_crc, slow_masked(file.substr(at, 8)));
    const std::string data = file.substr(at + 12, length);
    std::memcpy(&data_crc, file.data() + at + 12 + length, 4);
    EXPECT_EQ(data_crc, slow_masked(data));
    at += 16 + length;
    const auto event = fields(data);
    if (event.count(3)) *version = event.find(3)->second;
    if (!event.count(5)) continue;
    const auto value = fields(fields(event.find(5)->second).find(1)->second);
    Scalar s;
    s.tag = value.find(1)->second;
    s.step = std::stoll(event.find(2)->second);
    std::memcpy(&s.value, value.find(2)->second.data(), 4);
    scalars.push_back(s);
  }
  return scalars;
}

TEST(TensorBoard, Crc32cHasTheStandardCheckValue) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);  // RFC 3720, B.4
  const std::string bytes = "catdog \x01\xff";
  EXPECT_EQ(crc32c(bytes.data(), bytes.size()), slow_crc32c(bytes));
  EXPECT_EQ(masked_crc32c(bytes.data(), bytes.size()), slow_masked(bytes));
}

TEST(TensorBoard, ScalarEventDecodesToItsFields) {
  const std::string record = tfrecord(scalar_event(1.5e9, 300, "epoch/loss", 0.25f));
  const std::string path = test::temp_dir("tensorboard_one") + "/events";
  std::ofstream(path, std::ios::binary) << record;
  std::string version;
  const std::vector<Scalar> s = read_events(path, &version);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].tag, "epoch/loss");
  EXPECT_EQ(s[0].step, 300);
  EXPECT_EQ(s[0].value, 0.25f);
}

class TensorBoardRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string data = test::write_small_dataset(test::temp_dir("tensorboard_data"), 12, 64, 3);
    TrainOptions o = test::small_run(data, test::temp_dir("tensorboard_run"));
    o.epochs = 2;
    o.seed = 1;
    std::ostringstream quiet;
    result_ = new TrainResult(train(o, quiet));
    dir_ = new std::string(o.out_dir);
  }
  static void TearDownTestSuite() {
    delete result_;
    delete dir_;
  }
  static std::string events_file() {
    for (const auto& entry : fs::directory_iterator(*dir_)) {
      if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0) {
        return entry.path().string();
      }
    }
    return "";
  }
  static TrainResult* result_;
  static std::string* dir_;
};
TrainResult* TensorBoardRun::result_ = nullptr;
std::string* TensorBoardRun::dir_ = nullptr;

// The epoch scalars are the history's values (as float32), the step losses one per step.
TEST_F(TensorBoardRun, EventsHoldTheHistoryAndEveryStep) {
  const std::string path = events_file();
  ASSERT_FALSE(path.empty()) << "no events file in " << *dir_;
  std::string version;
  const std::vector<Scalar> scalars = read_events(path, &version);
  EXPECT_EQ(version, "brain.Event:2");
  std::map<std::string, std::map<int64_t, float>> by_tag;
  for (const Scalar& s : scalars) by_tag[s.tag][s.step] = s.value;
  ASSERT_EQ(result_->history.size(), 2u);
  for (const EpochRecord& e : result_->history) {
    EXPECT_EQ(by_tag["epoch/loss"][e.epoch], static_cast<float>(e.loss));
    EXPECT_EQ(by_tag["epoch/accuracy"][e.epoch], static_cast<float>(e.accuracy));
    EXPECT_EQ(by_tag["epoch/val_loss"][e.epoch], static_cast<float>(e.val_loss));
    EXPECT_EQ(by_tag["epoch/val_accuracy"][e.epoch], static_cast<float>(e.val_accuracy));
  }
  // 18 training images at batch 8: 3 steps an epoch, global steps 1..6.
  const auto& steps = by_tag["batch/loss"];
  ASSERT_EQ(steps.size(), 6u);
  EXPECT_EQ(steps.begin()->first, 1);
  EXPECT_EQ(steps.rbegin()->first, 6);
  for (const auto& [step, loss] : steps) EXPECT_TRUE(std::isfinite(loss) && loss > 0) << step;
}

// TensorBoard's own reader sees the same numbers as history.csv.
TEST_F(TensorBoardRun, TensorBoardsReaderAgreesWithHistoryCsv) {
  if (const char* python = std::getenv("CATDOG_TENSORBOARD_PYTHON")) setenv("CATDOG_PYTHON", python, 1);
  CATDOG_REQUIRE_PYTHON("tensorboard");
  CATDOG_RUN_PYTHON(r, R"(
import csv, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1]); acc.Reload()
rows = list(csv.DictReader(open(sys.argv[1] + "/history.csv")))
assert len(rows) == 2, rows
for tag in ("loss", "accuracy", "val_loss", "val_accuracy"):
    got = {e.step: e.value for e in acc.Scalars("epoch/" + tag)}
    for row in rows:
        want = float(row[tag])
        assert abs(got[int(row["epoch"])] - want) <= 5e-7 + 1e-6 * abs(want), (tag, got, want)
assert [e.step for e in acc.Scalars("batch/loss")] == [1, 2, 3, 4, 5, 6]
print("tensorboard read", len(acc.Tags()["scalars"]), "tags")
)", {*dir_});
  std::cout << r.output;
}

}  // namespace
}  // namespace catdog
