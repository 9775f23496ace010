#include "apps/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "core/duration.h"
#include "core/one_line.h"

namespace catdog {

bool is_terminal(const std::ostream& out) {
  return (&out == &std::cout && isatty(STDOUT_FILENO)) ||
         (&out == &std::cerr && isatty(STDERR_FILENO));
}

ProgressBar::ProgressBar(std::ostream& out, std::string label, int64_t total, bool terminal)
    : out_(out), label_(std::move(label)), total_(total), terminal_(terminal),
      start_(std::chrono::steady_clock::now()) {}

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressBar::line(int64_t done, const std::string& metrics) const {
  const double elapsed = elapsed_seconds();
  const double eta = done > 0 ? elapsed / static_cast<double>(done) * (total_ - done) : 0;
  constexpr int width = 30;
  const int filled = total_ > 0 ? static_cast<int>(width * done / total_) : width;
  std::string bar(static_cast<size_t>(width), '.');
  for (int i = 0; i < filled; ++i) bar[static_cast<size_t>(i)] = '=';
  if (filled < width) bar[static_cast<size_t>(filled)] = '>';
  return (label_.empty() ? "" : label_ + ": ") + std::to_string(done) + "/" +
         std::to_string(total_) + " [" + bar + "] - " +
         (done < total_ ? "ETA: " + human_duration(eta) : human_duration(elapsed)) + metrics;
}

void ProgressBar::update(int64_t done, const std::string& metrics) {
  drawn_ = true;
  if (terminal_) {
    out_ << "\r" << line(done, metrics) << "\033[K" << std::flush;
    return;
  }
  // Plain output: about ten lines a pass.
  const int64_t every = std::max<int64_t>(1, total_ / 10);
  if (done - last_plain_ >= every || done == total_) {
    last_plain_ = done;
    out_ << line(done, metrics) << "\n" << std::flush;
  }
}

void ProgressBar::clear() {
  if (terminal_ && drawn_) out_ << "\r\033[K";
  drawn_ = false;
}

void ProgressBar::finish() {
  if (terminal_ && drawn_) out_ << "\n";
  out_ << std::flush;
}

std::string throughput_metrics(double images_per_second, double wait_fraction) {
  char text[64];
  std::snprintf(text, sizeof text, " - %.0f img/s - wait %.0f%%", images_per_second,
                100.0 * wait_fraction);
  return text;
}

ConsoleObserver::ConsoleObserver(std::ostream& out, const std::atomic<bool>* stop)
    : out_(out), stop_(stop), terminal_(is_terminal(out)) {}

void ConsoleObserver::say(const std::string& line) { out_ << one_line(line) << "\n" << std::flush; }

void ConsoleObserver::on_epoch_begin(int epoch, int epochs, int64_t steps) {
  out_ << "Epoch " << epoch << "/" << epochs << "\n" << std::flush;
  bar_ = std::make_unique<ProgressBar>(out_, "", steps, terminal_);
}

void ConsoleObserver::on_step(const StepProgress& p) {
  if (!bar_) return;
  char text[96];
  std::snprintf(text, sizeof text, " - loss: %.4f - accuracy: %.4f", p.loss, p.accuracy);
  bar_->update(p.step, text + throughput_metrics(p.images_per_second, p.wait_fraction));
}

void ConsoleObserver::on_epoch_end() {
  if (bar_) bar_->finish();
  bar_.reset();
}

void ConsoleObserver::on_pass_begin(const std::string& what, int64_t images) {
  bar_ = std::make_unique<ProgressBar>(out_, what, images, terminal_);
}

void ConsoleObserver::on_pass_progress(int64_t done, double wait_seconds) {
  if (!bar_) return;
  const double elapsed = std::max(bar_->elapsed_seconds(), 1e-9);
  bar_->update(done, throughput_metrics(done / elapsed, wait_seconds / elapsed));
}

void ConsoleObserver::on_pass_end() { on_epoch_end(); }

}  // namespace catdog
