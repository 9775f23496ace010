// `--trace FILE.json`: the Chrome Trace Event Format file (core/trace.h, training/trace_file.h),
// checked against the format's documented fields: a JSON object with "traceEvents" and
// "displayTimeUnit"; every event has "name", "ph", "ts" (microseconds), "pid" and "tid";
// complete events ("ph": "X") have a "cat" and a "dur" >= 0 and nest on their thread (a span is
// inside another or after it, never half in); "ph": "M" "thread_name" events label the rows.
// Then the file of a real (small) training run: decode workers, batches, steps, layers.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "core/device.h"
#include "core/error.h"
#include "core/trace.h"
#include "support/cli.h"
#include "support/test_support.h"
#include "support/training_fixtures.h"
#include "training/trace_file.h"
#include "training/trainer.h"

namespace catdog {
namespace {

using nlohmann::json;

// Every documented field of every event, and that complete events nest on each thread.
void expect_valid_trace(const json& trace) {
  ASSERT_TRUE(trace.is_object());
  ASSERT_TRUE(trace.contains("traceEvents") && trace["traceEvents"].is_array());
  EXPECT_EQ(trace.value("displayTimeUnit", ""), "ms");
  std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> spans;  // tid -> (ts, end)
  for (const json& e : trace["traceEvents"]) {
    ASSERT_TRUE(e.is_object()) << e;
    for (const char* field : {"name", "ph", "ts", "pid", "tid"}) {
      ASSERT_TRUE(e.contains(field)) << "no \"" << field << "\" in " << e;
    }
    EXPECT_TRUE(e["name"].is_string()) << e;
    EXPECT_TRUE(e["ts"].is_number() && e["ts"].get<double>() >= 0) << e;
    EXPECT_TRUE(e["pid"].is_number_integer() && e["tid"].is_number_integer()) << e;
    const std::string ph = e["ph"];
    ASSERT_TRUE(ph == "X" || ph == "M") << e;
    if (ph == "M") {
      EXPECT_TRUE(e["name"] == "thread_name" || e["name"] == "process_name") << e;
      EXPECT_TRUE(e["args"]["name"].is_string()) << e;
      continue;
    }
    ASSERT_TRUE(e.contains("dur") && e["dur"].is_number()) << e;
    EXPECT_GE(e["dur"].get<double>(), 0) << e;
    EXPECT_TRUE(e["cat"].is_string()) << e;
    EXPECT_TRUE(e["args"].is_object()) << e;
    const auto ts = e["ts"].get<int64_t>();
    spans[e["tid"].get<int64_t>()].emplace_back(ts, ts + e["dur"].get<int64_t>());
  }
  for (auto& [tid, list] : spans) {
    // Outer spans first at the same start; then each span must close before its parent does.
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second > b.second;
    });
    std::vector<int64_t> open_ends;
    for (const auto& [begin, end] : list) {
      while (!open_ends.empty() && open_ends.back() <= begin) open_ends.pop_back();
      if (!open_ends.empty()) {
        EXPECT_LE(end, open_ends.back())
            << "thread " << tid << ": span [" << begin << ", " << end
            << "] overlaps its enclosing span's end " << open_ends.back();
      }
      open_ends.push_back(end);
    }
  }
}

std::map<int64_t, std::string> thread_names(const json& trace) {
  std::map<int64_t, std::string> names;
  for (const json& e : trace["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") names[e["tid"]] = e["args"]["name"];
  }
  return names;
}

std::vector<json> complete_events(const json& trace, const std::string& category) {
  std::vector<json> out;
  for (const json& e : trace["traceEvents"]) {
    if (e["ph"] == "X" && e["cat"] == category) out.push_back(e);
  }
  return out;
}

json read_trace(const std::string& path) {
  const std::string text = test::read_text(path);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    ADD_FAILURE() << path << " is not JSON: " << e.what();
    return json::object();
  }
}

TEST(Trace, SpansNestPerThreadInMicroseconds) {
  trace_start();
  {
    TraceSpan outer("test", "outer");
    outer.set_args("{\"k\":1}");
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    { TraceSpan inner("test", std::string("inner"), "part"); }
    std::thread worker([] {
      trace_name_thread("helper thread");
      TraceSpan span("test", "on another thread");
    });
    worker.join();
  }
  trace_stop();
  { TraceSpan after("test", "after the stop"); }
  const json trace = json::parse(trace_json());
  expect_valid_trace(trace);
  const std::vector<json> events = complete_events(trace, "test");
  ASSERT_EQ(events.size(), 3u) << trace.dump(1);
  std::map<std::string, json> by_name;
  for (const json& e : events) by_name[e["name"]] = e;
  ASSERT_TRUE(by_name.count("outer") && by_name.count("inner part") &&
              by_name.count("on another thread")) << trace.dump(1);
  // The outer span slept 3 ms = 3000 us (a lower bound: sleeps last at least that long).
  EXPECT_GE(by_name["outer"]["dur"].get<double>(), 3000) << "ts and dur are microseconds";
  EXPECT_EQ(by_name["outer"]["args"]["k"], 1);
  EXPECT_EQ(by_name["outer"]["tid"], by_name["inner part"]["tid"]);
  EXPECT_NE(by_name["outer"]["tid"], by_name["on another thread"]["tid"]);
  EXPECT_GE(by_name["inner part"]["ts"].get<int64_t>(), by_name["outer"]["ts"].get<int64_t>());
  const auto names = thread_names(trace);
  EXPECT_EQ(names.at(by_name["on another thread"]["tid"]), "helper thread");
  EXPECT_EQ(trace_counts().events, 3u);
}

TEST(Trace, OffRecordsNothingAndTheCapIsSaidInTheFile) {
  trace_start(2);
  for (int i = 0; i < 5; ++i) TraceSpan span("test", "capped");
  trace_stop();
  const TraceCounts counts = trace_counts();
  EXPECT_EQ(counts.events, 2u);
  EXPECT_EQ(counts.dropped, 3u);
  const json trace = json::parse(trace_json());
  expect_valid_trace(trace);
  EXPECT_EQ(complete_events(trace, "test").size(), 2u);
  EXPECT_EQ(trace["otherData"]["dropped_events"], 3);
  EXPECT_NE(trace["otherData"].value("note", "").find("capped"), std::string::npos) << trace;

  trace_start();
  trace_stop();
  { TraceSpan span("test", "while off"); }
  EXPECT_EQ(trace_counts().events, 0u);
}

class TraceOfTraining : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new std::string(
        test::write_small_dataset(test::temp_dir("trace_data"), 12, 64, /*seed=*/3));
  }
  static void TearDownTestSuite() { delete data_; }
  // small_run (vgg1 at 32x32 on the CPU, batch 8) in a fresh folder, traced to its trace.json.
  static TrainOptions traced_run(const std::string& name) {
    const std::string dir = test::temp_dir(name);
    TrainOptions o = test::small_run(*data_, dir + "/run");
    o.epochs = 1;
    o.trace_path = dir + "/trace.json";
    return o;
  }
  static std::string* data_;
};
std::string* TraceOfTraining::data_ = nullptr;

TEST_F(TraceOfTraining, OneEpochShowsDecodeBatchesStepsAndLayers) {
  TrainOptions o = traced_run("trace_run");
  o.workers = 2;
  const TrainResult result = train(o, std::cout);
  ASSERT_FALSE(result.interrupted);
  const json trace = read_trace(o.trace_path);
  expect_valid_trace(trace);
  EXPECT_EQ(trace["otherData"]["dropped_events"], 0);

  const auto names = thread_names(trace);
  std::set<std::string> named;
  for (const auto& [tid, name] : names) named.insert(name);
  EXPECT_TRUE(named.count("trainer")) << trace["traceEvents"][1];
  EXPECT_TRUE(named.count("decode worker 0") || named.count("decode worker 1"))
      << "rows are named for the threads that have events: at least one decode worker";

  // A decode per training image (18 of them, 12 per class less a quarter for test/), plus the
  // test images of the validation, each on a decode worker's row, with the file in its args.
  const std::vector<json> decodes = complete_events(trace, "decode");
  EXPECT_GE(decodes.size(), 18u);
  for (const json& e : decodes) {
    EXPECT_EQ(names.at(e["tid"]).rfind("decode worker ", 0), 0u) << e;
    EXPECT_TRUE(e["args"]["path"].is_string()) << e;
  }
  // 18 images in batches of 8: 3 steps, on the trainer's row, numbered 1..3.
  const std::vector<json> steps = complete_events(trace, "step");
  ASSERT_EQ(steps.size(), 3u);
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(names.at(steps[i]["tid"]), "trainer");
    EXPECT_EQ(steps[i]["args"]["step"], static_cast<int>(i) + 1);
  }
  EXPECT_GE(complete_events(trace, "batch").size(), 3u);
  std::set<std::string> layer_spans;
  for (const json& e : complete_events(trace, "layer")) layer_spans.insert(e["name"]);
  EXPECT_TRUE(layer_spans.count("conv2d_1 forward")) << "vgg1's first layer";
  EXPECT_TRUE(layer_spans.count("conv2d_1 backward"));
  EXPECT_TRUE(layer_spans.count("dense_1 backward"));
}

TEST_F(TraceOfTraining, OnTheGpuCopiesAreSpansToo) {
  CATDOG_REQUIRE_GPU();
  TrainOptions o = traced_run("trace_gpu");
  o.device = "cuda";
  train(o, std::cout);
  const json trace = read_trace(o.trace_path);
  expect_valid_trace(trace);
  std::set<std::string> copies;
  for (const json& e : complete_events(trace, "copy")) copies.insert(e["name"]);
  EXPECT_TRUE(copies.count("queue upload to device") || copies.count("copy host to device"))
      << "the batches go to the GPU";
  EXPECT_FALSE(complete_events(trace, "layer").empty());
}

TEST_F(TraceOfTraining, AStoppedRunStillWritesAValidFile) {
  TrainOptions o = traced_run("trace_stopped");
  o.epochs = 4;
  o.stop_after_steps = 2;
  std::ostringstream out;
  const TrainResult result = train(o, out);
  ASSERT_TRUE(result.interrupted);
  EXPECT_NE(out.str().find("Trace written to " + o.trace_path), std::string::npos) << out.str();
  const json trace = read_trace(o.trace_path);
  expect_valid_trace(trace);
  EXPECT_EQ(complete_events(trace, "step").size(), 2u);
}

TEST_F(TraceOfTraining, ARunEndedByAnErrorStillWritesAValidFile) {
  TrainOptions o = traced_run("trace_error");
  o.data_dir = test::temp_dir("trace_one_class");
  std::filesystem::create_directories(o.data_dir + "/train/cats");
  EXPECT_THROW(train(o, std::cout), Error);  // a binary classifier needs 2 classes
  expect_valid_trace(read_trace(o.trace_path));
}

TEST_F(TraceOfTraining, TheCommandLineWritesItAndATraceIntoAFolderIsRefused) {
  const std::string dir = test::temp_dir("trace_cli");
  const test::CliResult ok = test::run_catdog(
      {"train", "--data", *data_, "--model", "vgg1", "--image-size", "32", "--batch", "8",
       "--epochs", "1", "--device", "cpu", "--out", dir + "/run", "--trace", dir + "/t.json"},
      dir);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("Trace written to " + dir + "/t.json"), std::string::npos) << ok.out;
  expect_valid_trace(read_trace(dir + "/t.json"));

  const test::CliResult bad = test::run_catdog(
      {"train", "--data", *data_, "--model", "vgg1", "--image-size", "32", "--epochs", "1",
       "--device", "cpu", "--out", dir + "/run2", "--trace", dir}, dir);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find(dir), std::string::npos) << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
}

TEST(TraceOfProfile, ProfileTraceHasEveryLayerPass) {
  const std::string dir = test::temp_dir("trace_profile");
  ProfileOptions o;
  o.model = "vgg1";
  o.device = "cpu";
  o.batch = 2;
  o.image_size = 32;
  o.repeat = 1;
  o.trace_path = dir + "/p.json";
  std::ostringstream out;
  ASSERT_EQ(run_profile(o, out), 0);
  const json trace = read_trace(o.trace_path);
  expect_valid_trace(trace);
  std::multiset<std::string> passes;
  for (const json& e : complete_events(trace, "layer")) passes.insert(e["name"]);
  // Warm-up + 1 timed pass, forward and backward, over 5 layers; plus the peak's GEMM layer.
  EXPECT_EQ(passes.count("dense forward"), 2u);
  EXPECT_EQ(passes.count("dense backward"), 2u);
  EXPECT_EQ(passes.count("peak_gemm forward"), 4u);
}

}  // namespace
}  // namespace catdog
