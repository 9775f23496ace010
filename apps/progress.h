// The terminal's view of long work: ConsoleObserver, the TrainObserver `catdog train` and
// `catdog demo` give train(), and the Keras-like bar it draws for each epoch and for each pass of
// the frozen base over the photos (ProgressBar):
//   Epoch 3/10
//   12/38 [=========>..................] - ETA: 7.00 s - loss: 0.2412 - accuracy: 0.9102 - 410 img/s - wait 3%
//   Frozen base (train): 1200/2400 [==============>...............] - ETA: 22.5 s - 53 img/s - wait 0%
// redrawn in place on a terminal; on a pipe or file, a plain line every ~10% instead, so logs stay
// readable. `extract` and `evaluate` draw the same bar (standard error stays for the one error
// line a failed run prints); `predict` draws it on a terminal only, below its results, as its
// standard output is otherwise a table for other programs.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

#include "training/train_observer.h"

namespace catdog {

class ProgressBar {
 public:
  // `label`: printed before the count ("" for none). `total`: the count at the end.
  ProgressBar(std::ostream& out, std::string label, int64_t total, bool terminal);
  // `done` of total so far; `metrics` follows the ETA (" - loss: ...").
  void update(int64_t done, const std::string& metrics);
  // On a terminal, erase the bar so that other lines can be printed; the next update draws it
  // again below them. Nothing on plain output.
  void clear();
  // Close the line.
  void finish();
  double elapsed_seconds() const;

 private:
  std::string line(int64_t done, const std::string& metrics) const;
  std::ostream& out_;
  std::string label_;
  int64_t total_;
  bool terminal_;
  int64_t last_plain_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

// " - 410 img/s - wait 3%": throughput and the share of the time spent waiting for decoding.
std::string throughput_metrics(double images_per_second, double wait_fraction);

// True when `out` is std::cout and standard output is a terminal, or std::cerr and standard
// error is one.
bool is_terminal(const std::ostream& out);

// Lines and bars to `out` (the bar redrawn in place when `out` is a terminal). Stops the run once
// *stop is set (the SIGINT handler sets it; nullptr: never), also when it was set before train().
class ConsoleObserver : public TrainObserver {
 public:
  explicit ConsoleObserver(std::ostream& out, const std::atomic<bool>* stop = nullptr);
  void say(const std::string& line) override;
  void on_epoch_begin(int epoch, int epochs, int64_t steps) override;
  void on_step(const StepProgress& p) override;
  void on_epoch_end() override;
  void on_pass_begin(const std::string& what, int64_t images) override;
  void on_pass_progress(int64_t done, double wait_seconds) override;
  void on_pass_end() override;
  bool stop_requested() override { return stop_ && *stop_; }

 private:
  std::ostream& out_;
  const std::atomic<bool>* stop_;
  bool terminal_;
  std::unique_ptr<ProgressBar> bar_;
};

}  // namespace catdog
