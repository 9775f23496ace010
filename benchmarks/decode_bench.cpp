// JPEG decode + resize speed on the 3,200 shared photos (shared/data/catsdogs), in images/s.
//
//   build/benchmarks/decode_bench --benchmark_filter='BM_(Decode|DecodeResize|Pipeline)/'
//       BM_Decode/<threads>           decode only (TurboJPEG, parity mode), from memory
//       BM_DecodeResize/<threads>     decode + nearest resize to 224x224, from memory, as the
//                                     pipeline does it (decode_nearest_into: row by row)
//       BM_DecodeResizeDct/<threads>  the same with DCT-domain downscaling (not parity)
//       BM_DecodeRepeated/1           decode only, tjbench's way: each of every 8th photo 8
//                                     times in a row, from memory
//       BM_Pipeline/<workers>         the whole BatchPipeline: read files, decode, resize,
//                                     batches of 64, as the trainer uses it
//   build/benchmarks/decode_bench --benchmark_filter=Smoke   the same on 32 photos (CI)
//
// Threads split the photos between them; the counter images_per_s is the aggregate rate. The
// peers (tjbench, PIL) run in benchmarks/peer/decode_peers.sh, which also runs this binary and
// prints the ratios; the figures are in docs/PERFORMANCE.md.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "data/decode.h"
#include "data/pipeline.h"

namespace catdog {
namespace {
namespace fs = std::filesystem;

std::string photos_dir() {
  const char* env = std::getenv("CATDOG_SHARED");
  const fs::path shared = env && *env ? fs::path(env) : fs::path(CATDOG_SOURCE_DIR).parent_path() / "shared";
  return (shared / "data" / "catsdogs").string();
}

// The photos' paths (train then test), the first `count` of them; empty when absent.
std::vector<LabeledImage> photo_list(size_t count) {
  std::vector<LabeledImage> all;
  for (const char* split : {"train", "test"}) {
    const fs::path dir = fs::path(photos_dir()) / split;
    if (!fs::is_directory(dir)) return {};
    const Dataset d = scan_dataset(dir.string());
    all.insert(all.end(), d.images.begin(), d.images.end());
  }
  if (all.size() > count) all.resize(count);
  return all;
}

struct Photo {
  std::string path;
  std::vector<uint8_t> bytes;
};

// The photos' bytes in memory, so the decode benchmarks measure decoding, not the disk.
const std::vector<Photo>& photo_bytes(size_t count) {
  static std::vector<Photo> cache;
  if (cache.size() != count) {
    cache.clear();
    for (const LabeledImage& li : photo_list(count)) {
      cache.push_back({li.path, {}});
      read_file_bytes(li.path, cache.back().bytes);
    }
  }
  return cache;
}

constexpr size_t kAll = 3200, kSmoke = 32;

enum class Work { decode, decode_resize, decode_resize_dct };

// Every photo once, split over `threads` threads (photo i goes to thread i % threads).
void run_decode(benchmark::State& state, size_t count, Work work) {
  const auto& photos = photo_bytes(count);
  if (photos.empty()) {
    state.SkipWithError(("shared photos not found under " + photos_dir()).c_str());
    return;
  }
  const int threads = static_cast<int>(state.range(0));
  DecodeOptions opts;
  if (work == Work::decode_resize_dct) {
    opts.dct_scaling = true;
    opts.target_width = opts.target_height = 224;
  }
  auto slice = [&](int t) {
    Image image;
    std::vector<uint8_t> out(224 * 224 * 3);
    for (size_t i = t; i < photos.size(); i += threads) {
      const Photo& p = photos[i];
      if (work == Work::decode) {
        decode_image_memory_into(p.bytes.data(), p.bytes.size(), p.path, opts, image);
      } else {
        decode_nearest_into(p.bytes.data(), p.bytes.size(), p.path, opts, 224, 224, image,
                            out.data());
      }
      benchmark::DoNotOptimize(out.data());
    }
  };
  for (auto _ : state) {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(slice, t);
    slice(0);
    for (std::thread& th : pool) th.join();
  }
  state.counters["images_per_s"] =
      benchmark::Counter(static_cast<double>(photos.size()) * state.iterations(),
                         benchmark::Counter::kIsRate);
}

// tjbench's way (benchmarks/peer/decode_peers.sh): every 8th photo, each decoded `repeats` times
// in a row, so its bytes, tables and output stay in cache. Against BM_Decode/1 this separates
// what the decoder costs from what moving on to a new file costs.
void run_decode_repeated(benchmark::State& state, int repeats) {
  const auto& photos = photo_bytes(kAll);
  if (photos.empty()) {
    state.SkipWithError(("shared photos not found under " + photos_dir()).c_str());
    return;
  }
  Image image;
  size_t decoded = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < photos.size(); i += 8) {
      for (int k = 0; k < repeats; ++k, ++decoded) {
        decode_image_memory_into(photos[i].bytes.data(), photos[i].bytes.size(), photos[i].path,
                                 DecodeOptions{}, image);
        benchmark::DoNotOptimize(image.rgb.data());
      }
    }
  }
  state.counters["images_per_s"] =
      benchmark::Counter(static_cast<double>(decoded), benchmark::Counter::kIsRate);
}

void run_pipeline(benchmark::State& state, size_t count) {
  Dataset d;
  d.root = photos_dir();
  d.class_names = {"cats", "dogs"};
  d.images = photo_list(count);
  if (d.images.empty()) {
    state.SkipWithError(("shared photos not found under " + photos_dir()).c_str());
    return;
  }
  PipelineOptions o;
  o.workers = static_cast<int>(state.range(0));
  o.shuffle = false;
  BatchPipeline pipeline(d, o);
  int epoch = 0;
  for (auto _ : state) {
    pipeline.start_epoch(epoch++);
    Batch batch;
    while (pipeline.next(batch)) benchmark::DoNotOptimize(batch.images.u8());
  }
  state.counters["images_per_s"] = benchmark::Counter(
      static_cast<double>(d.images.size()) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["wait_s"] = pipeline.epoch_stats().wait_seconds;
}


void BM_Decode(benchmark::State& s) { run_decode(s, kAll, Work::decode); }
void BM_DecodeResize(benchmark::State& s) { run_decode(s, kAll, Work::decode_resize); }
void BM_DecodeResizeDct(benchmark::State& s) { run_decode(s, kAll, Work::decode_resize_dct); }
void BM_Pipeline(benchmark::State& s) { run_pipeline(s, kAll); }
void BM_DecodeRepeated(benchmark::State& s) { run_decode_repeated(s, 8); }
void BM_DecodeResizeSmoke(benchmark::State& s) { run_decode(s, kSmoke, Work::decode_resize); }
void BM_PipelineSmoke(benchmark::State& s) { run_pipeline(s, kSmoke); }

#define CATDOG_DECODE_BENCH(name) \
  BENCHMARK(name)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()
CATDOG_DECODE_BENCH(BM_Decode);
CATDOG_DECODE_BENCH(BM_DecodeResize);
CATDOG_DECODE_BENCH(BM_DecodeResizeDct);
CATDOG_DECODE_BENCH(BM_Pipeline);
CATDOG_DECODE_BENCH(BM_DecodeResizeSmoke);
BENCHMARK(BM_DecodeRepeated)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
CATDOG_DECODE_BENCH(BM_PipelineSmoke);

}  // namespace
}  // namespace catdog

BENCHMARK_MAIN();
