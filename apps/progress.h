// The terminal's view of a training run: ConsoleObserver, the TrainObserver `catdog train` and
// `catdog demo` give train(), and the Keras-like bar it draws for each epoch (EpochProgress):
//   Epoch 3/10
//   12/38 [=========>..................] - ETA: 7s - loss: 0.2412 - accuracy: 0.9102 - 410 img/s - wait 3%
// redrawn in place on a terminal; on a pipe or file, a plain line every ~10% instead, so logs stay
// readable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

#include "training/train_observer.h"

namespace catdog {

class EpochProgress {
 public:
  EpochProgress(std::ostream& out, int epoch, int epochs, int64_t steps, bool terminal);
  // After step `step` (1-based) with the running means so far.
  void update(int64_t step, double loss, double accuracy, double images_per_second,
              double wait_fraction);
  // Close the line; the caller prints the epoch summary next.
  void finish();

 private:
  std::string line(int64_t step, double loss, double accuracy, double images_per_second,
                   double wait_fraction) const;
  std::ostream& out_;
  int64_t steps_;
  bool terminal_;
  int64_t last_plain_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// True when `out` is std::cout and standard output is a terminal.
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
  bool stop_requested() override { return stop_ && *stop_; }

 private:
  std::ostream& out_;
  const std::atomic<bool>* stop_;
  bool terminal_;
  std::unique_ptr<EpochProgress> bar_;
};

}  // namespace catdog
