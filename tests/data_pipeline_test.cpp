// BatchPipeline: deterministic batches whatever the thread count, seeded shuffles, bad files
// replaced by the next good image, the summary line, cancel and shutdown without hangs.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data/decode.h"
#include "data/encode_jpeg.h"
#include "data/log.h"
#include "data/pipeline.h"
#include "core/error.h"
#include "core/random.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {
namespace fs = std::filesystem;

void write(const fs::path& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A small JPEG whose size and noise depend on `n`, so every image differs.
std::vector<uint8_t> jpeg_number(int n) {
  const int w = 20 + n % 37, h = 18 + (n * 7) % 29;
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(splitmix64(n, 3, i) >> 56);
  return encode_jpeg(rgb.data(), w, h, JpegInput::rgb, 90);
}

// A class-folder dataset of `per_class` good JPEGs per class under a fresh folder.
fs::path make_dataset(const std::string& name, int per_class) {
  const fs::path root = test::temp_dir(name);
  for (int i = 0; i < 2 * per_class; ++i) {
    const char* cls = i < per_class ? "cats" : "dogs";
    char file[32];
    std::snprintf(file, sizeof file, "img%04d.jpg", i);
    write(root / cls / file, jpeg_number(i));
  }
  return root;
}

struct Pass {
  std::vector<std::vector<uint8_t>> images;
  std::vector<std::vector<float>> labels;
  std::vector<std::vector<int64_t>> indices;
};

Pass run_pass(BatchPipeline& p, int epoch) {
  Pass pass;
  p.start_epoch(epoch);
  Batch b;
  while (p.next(b)) {
    EXPECT_EQ(b.images.dim(0), b.size);
    EXPECT_EQ(b.labels.numel(), b.size);
    EXPECT_EQ(static_cast<int64_t>(b.indices.size()), b.size);
    pass.images.emplace_back(b.images.u8(), b.images.u8() + b.images.numel());
    pass.labels.emplace_back(b.labels.f32(), b.labels.f32() + b.size);
    pass.indices.push_back(b.indices);
  }
  return pass;
}

PipelineOptions small_options(int workers) {
  PipelineOptions o;
  o.height = 24;
  o.width = 32;
  o.batch_size = 7;
  o.workers = workers;
  o.prefetch_batches = 2;
  return o;
}

// Collects warnings for the test's lifetime.
struct WarningCatcher {
  std::mutex mu;
  std::vector<std::string> lines;
  WarningCatcher() {
    set_warning_sink([this](const std::string& w) {
      std::lock_guard<std::mutex> lock(mu);
      lines.push_back(w);
    });
  }
  ~WarningCatcher() { set_warning_sink(nullptr); }
};

TEST(BatchPipeline, SameBatchesForOneAndFourWorkers) {
  WarningCatcher quiet;
  const fs::path root = make_dataset("pipeline_workers", 25);
  write(root / "cats" / "img0003.jpg", {});  // a bad file: its replacement must not depend on timing
  const Dataset d = scan_dataset(root.string());
  for (bool augment : {false, true}) {
    PipelineOptions o1 = small_options(1), o4 = small_options(4);
    o1.augment = o4.augment = augment;
    BatchPipeline one(d, o1), four(d, o4);
    for (int epoch = 0; epoch < 2; ++epoch) {
      const Pass a = run_pass(one, epoch), b = run_pass(four, epoch);
      ASSERT_EQ(a.images.size(), 8u);  // 50 images in batches of 7
      EXPECT_EQ(a.indices, b.indices) << "augment " << augment << " epoch " << epoch;
      EXPECT_EQ(a.labels, b.labels);
      EXPECT_TRUE(a.images == b.images) << "augment " << augment << " epoch " << epoch;
    }
  }
}

// Data-parallel shares (PipelineOptions::shares): the shares' rows of each batch, put together
// in share order, are the unshared pipeline's batch, bit for bit, augmented or not, bad file
// included (its stand-in sits in another share's rows), and with more shares than a batch has
// rows (some shares of the last batch, of 1 row, are empty).
TEST(BatchPipeline, SharesOfEachBatchMakeTheWholeBatch) {
  WarningCatcher quiet;
  const fs::path root = make_dataset("pipeline_shares", 25);
  write(root / "cats" / "img0003.jpg", {});
  const Dataset d = scan_dataset(root.string());
  for (bool augment : {false, true}) {
    PipelineOptions whole_options = small_options(2);
    whole_options.augment = augment;
    BatchPipeline whole(d, whole_options);
    const Pass expected = run_pass(whole, 1);
    ASSERT_EQ(expected.images.size(), 8u);  // 50 images in batches of 7: the last has 1
    for (int shares : {2, 3, 8}) {
      std::vector<Pass> parts;
      int64_t images = 0;
      for (int share = 0; share < shares; ++share) {
        PipelineOptions o = whole_options;
        o.share = share;
        o.shares = shares;
        BatchPipeline part(d, o);
        part.start_epoch(1);
        Pass pass;
        Batch b;
        int64_t batch = 0;
        while (part.next(b)) {
          const int64_t n = static_cast<int64_t>(expected.indices[static_cast<size_t>(batch)].size());
          EXPECT_EQ(b.whole_size, n);
          EXPECT_EQ(b.first_row, n * share / shares);
          EXPECT_EQ(b.size, n * (share + 1) / shares - n * share / shares)
              << "share " << share << " batch " << batch;
          pass.images.emplace_back(b.images.u8(), b.images.u8() + b.images.numel());
          pass.labels.emplace_back(b.labels.f32(), b.labels.f32() + b.size);
          pass.indices.push_back(b.indices);
          ++batch;
        }
        ASSERT_EQ(batch, 8) << "every share has every batch, empty or not";
        const BatchPipeline::Stats stats = part.epoch_stats();
        images += stats.images;
        EXPECT_EQ(part.summary_line(), "skipped " + std::to_string(stats.skipped) + " of " +
                                           std::to_string(stats.images) + " images");
        parts.push_back(std::move(pass));
      }
      EXPECT_EQ(images, 50);
      for (size_t batch = 0; batch < expected.images.size(); ++batch) {
        std::vector<uint8_t> pixels;
        std::vector<float> labels;
        std::vector<int64_t> indices;
        for (const Pass& part : parts) {
          pixels.insert(pixels.end(), part.images[batch].begin(), part.images[batch].end());
          labels.insert(labels.end(), part.labels[batch].begin(), part.labels[batch].end());
          indices.insert(indices.end(), part.indices[batch].begin(), part.indices[batch].end());
        }
        EXPECT_EQ(indices, expected.indices[batch]) << shares << " shares, batch " << batch;
        EXPECT_EQ(labels, expected.labels[batch]);
        EXPECT_TRUE(pixels == expected.images[batch])
            << "augment " << augment << ", " << shares << " shares, batch " << batch;
      }
    }
  }
}

TEST(BatchPipeline, NoShuffleGivesTheDatasetOrderAndTheDecodedPixels) {
  const fs::path root = make_dataset("pipeline_order", 6);
  const Dataset d = scan_dataset(root.string());
  PipelineOptions o = small_options(2);
  o.shuffle = false;
  BatchPipeline p(d, o);
  EXPECT_EQ(p.batches_per_epoch(), 2);
  const Pass pass = run_pass(p, 0);
  ASSERT_EQ(pass.indices.size(), 2u);
  EXPECT_EQ(pass.indices[1].size(), 5u);  // 12 = 7 + 5: the last batch is short
  const size_t row = 24 * 32 * 3;
  for (int64_t i = 0; i < 12; ++i) {
    const size_t b = static_cast<size_t>(i / 7), r = static_cast<size_t>(i % 7);
    EXPECT_EQ(pass.indices[b][r], i);
    EXPECT_EQ(pass.labels[b][r], i < 6 ? 0.0f : 1.0f);
    const Image image = decode_image_file(d.images[i].path);
    std::vector<uint8_t> expected(row);
    resize_rgb(image, 32, 24, ResizeMode::nearest, expected.data());
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), pass.images[b].begin() + r * row)) << i;
  }
  EXPECT_EQ(p.summary_line(), "skipped 0 of 12 images");
}

TEST(BatchPipeline, ShuffleIsSeededPerEpoch) {
  const fs::path root = make_dataset("pipeline_shuffle", 10);
  const Dataset d = scan_dataset(root.string());
  BatchPipeline p(d, small_options(2));
  auto flat = [](const Pass& pass) {
    std::vector<int64_t> all;
    for (const auto& b : pass.indices) all.insert(all.end(), b.begin(), b.end());
    return all;
  };
  const std::vector<int64_t> e0 = flat(run_pass(p, 0)), e1 = flat(run_pass(p, 1));
  EXPECT_NE(e0, e1);
  EXPECT_EQ(e0, flat(run_pass(p, 0)));  // the same epoch again: the same order
  std::vector<int64_t> sorted = e1;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 20; ++i) EXPECT_EQ(sorted[i], i);
  PipelineOptions other = small_options(2);
  other.seed = 2;
  BatchPipeline q(d, other);
  EXPECT_NE(e0, flat(run_pass(q, 0)));
}

TEST(BatchPipeline, BadFilesAreNamedCountedAndReplacedByTheNextGoodImage) {
  const fs::path root = make_dataset("pipeline_bad", 8);
  // Bad files of every kind, at known positions of the (unshuffled) order.
  std::vector<uint8_t> truncated = jpeg_number(100);
  truncated.resize(truncated.size() / 2);
  std::vector<uint8_t> huge = jpeg_number(101);
  for (size_t i = 2; i + 8 < huge.size(); ++i) {
    if (huge[i] == 0xFF && huge[i + 1] == 0xC0) {
      huge[i + 5] = 0xEA, huge[i + 6] = 0x60, huge[i + 7] = 0xEA, huge[i + 8] = 0x60;
      break;
    }
  }
  const std::string text = "not an image";
  const std::string gif("GIF89a\x01\x00\x01\x00\x00\x00\x00", 13);
  write(root / "cats" / "img0002.jpg", {});                          // empty
  write(root / "cats" / "img0003.jpg", {text.begin(), text.end()});  // text
  write(root / "cats" / "img0007.jpg", truncated);  // last cat: replaced by the first dog
  write(root / "dogs" / "img0010.jpg", huge);
  write(root / "dogs" / "img0011.jpg", {gif.begin(), gif.end()});
  const Dataset d = scan_dataset(root.string());
  ASSERT_EQ(d.images.size(), 16u);

  WarningCatcher warnings;
  PipelineOptions o = small_options(3);
  o.shuffle = false;
  BatchPipeline p(d, o);
  const Pass pass = run_pass(p, 0);
  std::vector<int64_t> used;
  std::vector<float> labels;
  for (size_t b = 0; b < pass.indices.size(); ++b) {
    used.insert(used.end(), pass.indices[b].begin(), pass.indices[b].end());
    labels.insert(labels.end(), pass.labels[b].begin(), pass.labels[b].end());
  }
  const std::vector<int64_t> expected = {0, 1, 4, 4, 4, 5, 6, 8, 8, 9, 12, 12, 12, 13, 14, 15};
  EXPECT_EQ(used, expected);
  for (size_t i = 0; i < used.size(); ++i) EXPECT_EQ(labels[i], d.images[used[i]].label) << i;

  const BatchPipeline::Stats stats = p.epoch_stats();
  EXPECT_EQ(stats.skipped, 5);
  EXPECT_EQ(stats.images, 16);
  const std::vector<std::string> bad = {d.images[2].path, d.images[3].path, d.images[7].path,
                                        d.images[10].path, d.images[11].path};
  EXPECT_EQ(stats.skipped_files, bad);
  EXPECT_EQ(p.summary_line(), "skipped 5 of 16 images");
  ASSERT_EQ(warnings.lines.size(), 5u);
  for (const std::string& file : bad) {
    EXPECT_EQ(std::count_if(warnings.lines.begin(), warnings.lines.end(),
                            [&](const std::string& w) { return w.find(file) != std::string::npos; }),
              1)
        << file;
  }
  // The next pass counts afresh.
  run_pass(p, 1);
  EXPECT_EQ(p.summary_line(), "skipped 5 of 16 images");
}

TEST(BatchPipeline, AllBadFilesIsAnErrorNotAHang) {
  WarningCatcher quiet;
  const fs::path root = test::temp_dir("pipeline_all_bad");
  write(root / "cats" / "a.jpg", {});
  write(root / "dogs" / "b.jpg", {1, 2, 3});
  BatchPipeline p(scan_dataset(root.string()), small_options(2));
  p.start_epoch(0);
  Batch b;
  try {
    p.next(b);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("could be decoded"), std::string::npos) << e.what();
  }
}

TEST(BatchPipeline, CancelAndDestroyMidEpochReturnPromptly) {
  const fs::path root = make_dataset("pipeline_cancel", 60);
  const Dataset d = scan_dataset(root.string());
  const auto start = std::chrono::steady_clock::now();
  {
    BatchPipeline p(d, small_options(4));
    p.start_epoch(0);
    Batch b;
    ASSERT_TRUE(p.next(b));
    p.cancel();
    EXPECT_FALSE(p.next(b));
  }
  {
    BatchPipeline p(d, small_options(4));  // destroyed with workers mid-pass, batches unread
    p.start_epoch(0);
  }
  {
    BatchPipeline p(d, small_options(2));  // never started
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10.0);
}

TEST(BatchPipeline, RestartingAnEpochMidwayGivesAFreshPass) {
  const fs::path root = make_dataset("pipeline_restart", 15);
  const Dataset d = scan_dataset(root.string());
  BatchPipeline p(d, small_options(3)), fresh(d, small_options(1));
  p.start_epoch(0);
  Batch b;
  ASSERT_TRUE(p.next(b));
  ASSERT_TRUE(p.next(b));
  const Pass restarted = run_pass(p, 1), expected = run_pass(fresh, 1);
  EXPECT_EQ(restarted.indices, expected.indices);
  EXPECT_TRUE(restarted.images == expected.images);
}

TEST(BatchPipeline, MeasuresWaitAndRefusesMisuse) {
  const fs::path root = make_dataset("pipeline_wait", 5);
  const Dataset d = scan_dataset(root.string());
  PipelineOptions o = small_options(1);
  o.pinned = true;  // ignored without CUDA; with CUDA the buffers are page-locked
  BatchPipeline p(d, o);
  Batch b;
  EXPECT_THROW(p.next(b), Error);  // before start_epoch
  run_pass(p, 0);
  EXPECT_GT(p.epoch_stats().wait_seconds, 0.0);  // one worker decoding: the consumer waited
  EXPECT_EQ(p.wait_seconds(), p.epoch_stats().wait_seconds);
  PipelineOptions bad = o;
  bad.batch_size = 0;
  EXPECT_THROW(BatchPipeline(d, bad), Error);
}

}  // namespace
}  // namespace catdog
