#include "apps/progress.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "core/one_line.h"

namespace catdog {

bool is_terminal(const std::ostream& out) { return &out == &std::cout && isatty(STDOUT_FILENO); }

EpochProgress::EpochProgress(std::ostream& out, int epoch, int epochs, int64_t steps,
                             bool terminal)
    : out_(out), steps_(steps), terminal_(terminal), start_(std::chrono::steady_clock::now()) {
  out_ << "Epoch " << epoch << "/" << epochs << "\n" << std::flush;
}

std::string EpochProgress::line(int64_t step, double loss, double accuracy,
                                double images_per_second, double wait_fraction) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = step > 0 ? elapsed / static_cast<double>(step) * (steps_ - step) : 0;
  constexpr int width = 30;
  const int done = steps_ > 0 ? static_cast<int>(width * step / steps_) : width;
  std::string bar(static_cast<size_t>(width), '.');
  for (int i = 0; i < done; ++i) bar[static_cast<size_t>(i)] = '=';
  if (done < width) bar[static_cast<size_t>(done)] = '>';
  char text[256];
  std::snprintf(text, sizeof text,
                "%lld/%lld [%s] - ETA: %.0fs - loss: %.4f - accuracy: %.4f - %.0f img/s - wait %.0f%%",
                static_cast<long long>(step), static_cast<long long>(steps_), bar.c_str(), eta,
                loss, accuracy, images_per_second, 100.0 * wait_fraction);
  return text;
}

void EpochProgress::update(int64_t step, double loss, double accuracy, double images_per_second,
                           double wait_fraction) {
  if (terminal_) {
    out_ << "\r" << line(step, loss, accuracy, images_per_second, wait_fraction) << "\033[K"
         << std::flush;
    return;
  }
  // Plain output: about ten lines an epoch.
  const int64_t every = std::max<int64_t>(1, steps_ / 10);
  if (step - last_plain_ >= every || step == steps_) {
    last_plain_ = step;
    out_ << line(step, loss, accuracy, images_per_second, wait_fraction) << "\n" << std::flush;
  }
}

void EpochProgress::finish() {
  if (terminal_) out_ << "\n";
  out_ << std::flush;
}

ConsoleObserver::ConsoleObserver(std::ostream& out, const std::atomic<bool>* stop)
    : out_(out), stop_(stop), terminal_(is_terminal(out)) {}

void ConsoleObserver::say(const std::string& line) { out_ << one_line(line) << "\n" << std::flush; }

void ConsoleObserver::on_epoch_begin(int epoch, int epochs, int64_t steps) {
  bar_ = std::make_unique<EpochProgress>(out_, epoch, epochs, steps, terminal_);
}

void ConsoleObserver::on_step(const StepProgress& p) {
  if (bar_) bar_->update(p.step, p.loss, p.accuracy, p.images_per_second, p.wait_fraction);
}

void ConsoleObserver::on_epoch_end() {
  if (bar_) bar_->finish();
  bar_.reset();
}

}  // namespace catdog
