#include "data/pipeline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "data/augment.h"
#include "data/log.h"
#include "core/error.h"
#include "core/profiling.h"

namespace catdog {
namespace {

// Epoch shuffles use streams 0x53000000 + epoch of core/random.h.
constexpr uint64_t kShuffleStream = 0x53000000ull;

using Clock = std::chrono::steady_clock;

// One batch buffer of the ring.
struct Slot {
  Tensor images;                 // uint8 (batch_size, H, W, 3)
  Tensor labels;                 // float32 (batch_size)
  std::vector<int64_t> indices;  // (batch_size) dataset positions
  int64_t batch = -1;            // which batch of the pass it holds
  int64_t pending = 0;           // rows not yet written
};

// What one worker keeps between images, so steady state does not allocate.
struct WorkerBuffers {
  std::vector<uint8_t> bytes;
  Image decoded;
  std::vector<uint8_t> resized;
};

}  // namespace

struct BatchPipeline::State {
  std::vector<LabeledImage> images;
  PipelineOptions opt;
  int64_t count = 0;       // images in the dataset
  int64_t share_count = 0; // the images in this pipeline's share of the batches (count unshared)
  int64_t batches = 0;     // per pass
  std::vector<Slot> ring;  // prefetch_batches + 1
  std::vector<std::thread> workers;

  // Wakes every worker with `stopping` set and joins them (the destructor, and a constructor
  // whose thread creation failed: the condition variables must outlive the waiting workers).
  void stop_and_join() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    work_cv.notify_all();
    done_cv.notify_all();
    for (std::thread& t : workers) t.join();
    workers.clear();
  }

  mutable std::mutex mu;
  std::condition_variable work_cv;  // workers wait here for claimable positions
  std::condition_variable done_cv;  // next() and start_epoch() wait here
  // Everything below is guarded by mu, except the atomics (read without it by busy workers).
  std::atomic<bool> stopping{false}, cancelled{false};
  bool active = false;  // a pass is running and its positions may be claimed
  uint64_t generation = 0;
  int epoch = 0;
  std::vector<int64_t> order;  // position -> dataset index; not changed while in_flight > 0
  int64_t next_position = 0, released = 0, delivered = 0, in_flight = 0;
  std::exception_ptr error;
  Stats stats;
  std::vector<std::pair<int64_t, std::string>> skipped;  // (position, path)

  int64_t batch_length(int64_t b) const {
    return std::min<int64_t>(opt.batch_size, count - b * opt.batch_size);
  }
  // The rows [first, end) of batch b that this pipeline's share fills (all of them unshared).
  struct Rows {
    int64_t first, end;
    int64_t size() const { return end - first; }
  };
  Rows share_rows(int64_t b) const {
    const int64_t n = batch_length(b);
    return {n * opt.share / opt.shares, n * (opt.share + 1) / opt.shares};
  }
  // The first position from p on that falls in this pipeline's share; count when none does.
  int64_t share_position_from(int64_t p) const {
    while (p < count) {
      const int64_t start = p / opt.batch_size * opt.batch_size;
      const Rows rows = share_rows(p / opt.batch_size);
      p = std::max(p, start + rows.first);
      if (p < start + rows.end) return p;
      p = start + opt.batch_size;
    }
    return count;
  }
  bool claimable() const {
    return active && !cancelled && !error && next_position < count &&
           next_position / opt.batch_size < released + static_cast<int64_t>(ring.size());
  }

  // Decode + resize (+ augment) dataset image `index` into `row`. Throws DecodeError for a bad file.
  void load(int64_t index, int pass, WorkerBuffers& buf, uint8_t* row) const {
    ProfileRange range("decode", "decode");
    if (range.trace().active()) {
      range.trace().set_args(cat("{\"index\":", index, ",\"path\":", trace_quote(images[index].path),
                                 "}"));
    }
    read_file_bytes(images[index].path, buf.bytes);
    buf.resized.resize(static_cast<size_t>(opt.width) * opt.height * 3);
    uint8_t* resized = opt.augment ? buf.resized.data() : row;
    if (opt.resize == ResizeMode::nearest) {
      decode_nearest_into(buf.bytes.data(), buf.bytes.size(), images[index].path, opt.decode,
                          opt.width, opt.height, buf.decoded, resized);
    } else {
      decode_image_memory_into(buf.bytes.data(), buf.bytes.size(), images[index].path,
                               opt.decode, buf.decoded);
      resize_rgb(buf.decoded, opt.width, opt.height, opt.resize, resized);
    }
    if (!opt.augment) return;
    const AugmentParams params = draw_augment(opt.seed, pass, index, opt.height, opt.width);
    augment_rgb(buf.resized.data(), opt.height, opt.width, params, row);
  }

  // Fill the row of `position`: its own image, or when that file is bad the next decodable one
  // in the epoch order. Returns the dataset index used and whether the own file was bad.
  std::pair<int64_t, bool> fill(int64_t position, int pass, WorkerBuffers& buf, uint8_t* row) {
    const int64_t own = order[position];
    try {
      load(own, pass, buf, row);
      return {own, false};
    } catch (const DecodeError& e) {
      const std::string message =
          std::string(e.what()) + " (skipped; replaced in its batch by the next image)";
      if (opt.warning) {
        opt.warning(message);
      } else {
        warn(message);
      }
    }
    for (int64_t k = 1; k < count && !stopping && !cancelled; ++k) {
      const int64_t candidate = order[(position + k) % count];
      try {
        load(candidate, pass, buf, row);
        return {candidate, true};
      } catch (const DecodeError&) {
        // Reported when its own position is filled.
      }
    }
    if (stopping || cancelled) return {own, true};
    fail("none of the ", count, " images of the dataset could be decoded");
  }

  void work() {
    WorkerBuffers buf;
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      work_cv.wait(lock, [&] { return stopping || claimable(); });
      if (stopping) return;
      const int64_t position = next_position;
      next_position = share_position_from(position + 1);
      const int64_t b = position / opt.batch_size;
      const Rows rows = share_rows(b);
      const int64_t r = position % opt.batch_size - rows.first;  // the row in the share's batch
      Slot& slot = ring[b % ring.size()];
      if (r == 0) {  // positions are claimed in order: the first row claims the slot
        slot.batch = b;
        slot.pending = rows.size();
      }
      const uint64_t gen = generation;
      const int pass = epoch;
      ++in_flight;
      lock.unlock();

      uint8_t* row = slot.images.u8() + r * static_cast<int64_t>(opt.height) * opt.width * 3;
      std::pair<int64_t, bool> outcome{-1, false};
      std::exception_ptr fatal;
      try {
        outcome = fill(position, pass, buf, row);
      } catch (...) {
        fatal = std::current_exception();
      }

      lock.lock();
      --in_flight;
      if (gen == generation && !stopping) {
        if (fatal) {
          if (!error) error = fatal;
        } else {
          slot.indices[r] = outcome.first;
          slot.labels.f32()[r] = static_cast<float>(images[outcome.first].label);
          if (outcome.second) {
            ++stats.skipped;
            skipped.emplace_back(position, images[order[position]].path);
          }
          --slot.pending;
        }
      }
      // Wake the consumer only when there is something for it: a finished batch, an error, or
      // a start_epoch waiting for the last row of the old pass (a wake-up per image cost the
      // one-worker pipeline a few percent in futex calls and context switches).
      if (slot.pending == 0 || error || (!active && in_flight == 0)) done_cv.notify_all();
    }
  }
};

BatchPipeline::BatchPipeline(const Dataset& dataset, PipelineOptions options)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  CATDOG_CHECK(!dataset.images.empty(), "BatchPipeline: dataset '", dataset.root, "' is empty");
  CATDOG_CHECK(options.batch_size > 0 && options.height > 0 && options.width > 0 &&
                   options.prefetch_batches > 0,
               "BatchPipeline: bad options (batch ", options.batch_size, ", size ",
               options.height, "x", options.width, ", prefetch ", options.prefetch_batches, ")");
  CATDOG_CHECK(options.shares >= 1 && options.share >= 0 && options.share < options.shares,
               "BatchPipeline: share ", options.share, " of ", options.shares);
  if (options.workers <= 0) {
    options.workers = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }
  if (options.decode.dct_scaling && options.decode.target_width == 0) {
    options.decode.target_width = options.width;
    options.decode.target_height = options.height;
  }
  s.images = dataset.images;
  s.opt = options;
  s.count = static_cast<int64_t>(s.images.size());
  s.batches = (s.count + options.batch_size - 1) / options.batch_size;
  for (int64_t b = 0; b < s.batches; ++b) s.share_count += s.share_rows(b).size();
  s.ring.resize(static_cast<size_t>(options.prefetch_batches) + 1);
  const int64_t n = options.batch_size;
  try {
    for (Slot& slot : s.ring) {
      slot.images = Tensor({n, options.height, options.width, 3}, DType::u8, Device::cpu,
                           options.pinned);
      slot.labels = Tensor({n}, DType::f32, Device::cpu, options.pinned);
      slot.indices.assign(static_cast<size_t>(n), -1);
    }
  } catch (const Error& e) {
    fail("the decode pipeline's ", s.ring.size(), " batch buffers of ", n, " images at ",
         options.height, "x", options.width, " (--batch, --image-size): ", e.what());
  }
  s.workers.reserve(options.workers);
  try {
    for (int i = 0; i < options.workers; ++i) {
      s.workers.emplace_back([&s, i] {
        trace_name_thread(cat("decode worker ", i));
        s.work();
      });
    }
  } catch (const std::system_error& e) {
    const size_t started = s.workers.size();
    s.stop_and_join();
    fail("cannot start ", options.workers, " decode threads (", started, " started): ", e.what(),
         "; use fewer --workers");
  }
}

BatchPipeline::~BatchPipeline() { state_->stop_and_join(); }

void BatchPipeline::start_epoch(int epoch) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  // Stop claims of the old pass, and wait for rows being written: they live in the same slots.
  s.active = false;
  ++s.generation;
  s.done_cv.wait(lock, [&] { return s.in_flight == 0; });
  if (s.opt.shuffle) {
    s.order = shuffled_order(s.count, s.opt.seed, kShuffleStream + static_cast<uint64_t>(epoch));
  } else {
    s.order.resize(static_cast<size_t>(s.count));
    for (int64_t i = 0; i < s.count; ++i) s.order[i] = i;
  }
  s.epoch = epoch;
  s.next_position = s.share_position_from(0);
  s.released = s.delivered = 0;
  s.error = nullptr;
  s.stats = Stats{};
  s.skipped.clear();
  for (Slot& slot : s.ring) slot.batch = -1;
  s.active = true;
  s.work_cv.notify_all();
}

bool BatchPipeline::next(Batch& batch) {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  CATDOG_CHECK(s.active || s.generation > 0, "BatchPipeline::next: call start_epoch first");
  if (s.delivered > s.released) {  // the consumer is done with the batch it had
    s.released = s.delivered;
    s.work_cv.notify_all();
  }
  if (s.cancelled || s.delivered == s.batches) return false;
  const int64_t b = s.delivered;
  Slot& slot = s.ring[b % s.ring.size()];
  const State::Rows rows = s.share_rows(b);
  batch.whole_size = s.batch_length(b);
  batch.first_row = rows.first;
  if (rows.size() == 0) {  // a share of a short last batch can be empty: nothing to wait for
    if (s.error) std::rethrow_exception(s.error);
    batch.images = slot.images.slice_rows(0, 0);
    batch.labels = slot.labels.slice_rows(0, 0);
    batch.indices.clear();
    batch.size = 0;
    ++s.delivered;
    return true;
  }
  const Clock::time_point start = Clock::now();
  {
    TraceSpan waiting("batch", "wait for decoded batch");
    s.done_cv.wait(lock, [&] {
      return s.error || s.cancelled || s.stopping || (slot.batch == b && slot.pending == 0);
    });
  }
  s.stats.wait_seconds += std::chrono::duration<double>(Clock::now() - start).count();
  if (s.error) std::rethrow_exception(s.error);
  if (s.cancelled || s.stopping) return false;
  const int64_t n = rows.size();
  batch.images = slot.images.slice_rows(0, n);
  batch.labels = slot.labels.slice_rows(0, n);
  batch.indices.assign(slot.indices.begin(), slot.indices.begin() + n);
  batch.size = n;
  s.stats.images += n;
  ++s.delivered;
  return true;
}

int64_t BatchPipeline::batches_per_epoch() const { return state_->batches; }

BatchPipeline::Stats BatchPipeline::epoch_stats() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  Stats stats = state_->stats;
  std::vector<std::pair<int64_t, std::string>> skipped = state_->skipped;
  std::sort(skipped.begin(), skipped.end());
  for (auto& entry : skipped) stats.skipped_files.push_back(std::move(entry.second));
  return stats;
}

double BatchPipeline::wait_seconds() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->stats.wait_seconds;
}

std::string BatchPipeline::summary_line() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return cat("skipped ", state_->stats.skipped, " of ", state_->share_count, " images");
}

void BatchPipeline::cancel() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->cancelled = true;
  }
  state_->work_cv.notify_all();
  state_->done_cv.notify_all();
}

}  // namespace catdog
