// What a running train() tells the program around it, and asks it: the lines to show, the
// progress of each epoch, and whether to stop. apps/progress.h draws it as a Keras-like bar;
// TextObserver below just prints the lines.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace catdog {

// The running means of an epoch after one step.
struct StepProgress {
  int64_t step = 0;              // 1-based, within the epoch
  int64_t steps = 0;             // the epoch's batches
  double loss = 0;               // mean over the epoch's images so far
  double accuracy = 0;
  double images_per_second = 0;  // training images / training time, this epoch
  double wait_fraction = 0;      // share of the training time spent waiting for decoded data
};

class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  // A line of the run (also written to train.log): the setup, each epoch's summary, the end.
  virtual void say(const std::string& line) = 0;
  virtual void on_epoch_begin(int /*epoch*/, int /*epochs*/, int64_t /*steps*/) {}
  virtual void on_step(const StepProgress& /*progress*/) {}
  // After the epoch's last step (or the step it stopped at), before its summary line.
  virtual void on_epoch_end() {}
  // A pass of the frozen base over `images` photos (filling the feature cache, once a run): the
  // photos done so far and the time spent waiting for decoded data, after each batch.
  virtual void on_pass_begin(const std::string& /*what*/, int64_t /*images*/) {}
  virtual void on_pass_progress(int64_t /*done*/, double /*wait_seconds*/) {}
  virtual void on_pass_end() {}
  // Polled after every step: true makes train() checkpoint and return (what Ctrl-C asks for).
  // Nothing resets it, so a request made before train() starts, or during its setup, is honoured
  // after the first step (a run with nothing left to train after that step just finishes).
  virtual bool stop_requested() { return false; }
};

// Prints the lines to `out` and nothing per step (tests, benchmarks).
class TextObserver : public TrainObserver {
 public:
  explicit TextObserver(std::ostream& out) : out_(out) {}
  void say(const std::string& line) override;

 private:
  std::ostream& out_;
};

}  // namespace catdog
