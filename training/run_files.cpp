#include "training/run_files.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "weights/atomic_file.h"
#include "core/one_line.h"
#if CATDOG_WITH_PLPLOT
#include <plplot/plplot.h>
#endif

namespace catdog {

void write_history_csv(const std::string& path, const std::vector<EpochRecord>& history) {
  std::ostringstream csv;
  csv << "epoch,loss,accuracy,val_loss,val_accuracy,seconds,phase\n";
  for (const EpochRecord& e : history) {
    char row[256];
    std::snprintf(row, sizeof row, "%d,%.6f,%.6f,%.6f,%.6f,%.3f,%d\n", e.epoch, e.loss,
                  e.accuracy, e.val_loss, e.val_accuracy, e.seconds, e.phase);
    csv << row;
  }
  atomic_write_file(path, csv.str());
}

std::vector<EpochRecord> read_history_csv(const std::string& path) {
  std::ifstream in(path);
  CATDOG_CHECK(in.good(), "cannot read ", path, ": ", std::strerror(errno));
  std::string line;
  const std::string header = "epoch,loss,accuracy,val_loss,val_accuracy,seconds";
  CATDOG_CHECK(std::getline(in, line) && (line == header || line == header + ",phase"), path,
               ": the first line is not '", header, ",phase'");
  const bool has_phase = line != header;
  std::vector<EpochRecord> history;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    EpochRecord e;
    char end = 0;
    // strtod-style fields; "nan" (an epoch without validation) reads as NaN.
    const int fields =
        has_phase ? std::sscanf(line.c_str(), "%d,%lf,%lf,%lf,%lf,%lf,%d%c", &e.epoch, &e.loss,
                                &e.accuracy, &e.val_loss, &e.val_accuracy, &e.seconds, &e.phase,
                                &end)
                  : std::sscanf(line.c_str(), "%d,%lf,%lf,%lf,%lf,%lf%c", &e.epoch, &e.loss,
                                &e.accuracy, &e.val_loss, &e.val_accuracy, &e.seconds, &end);
    const int expected = has_phase ? 7 : 6;
    CATDOG_CHECK(fields == expected && (e.phase == 1 || e.phase == 2), path, ":", number,
                 ": expected ", expected, " comma-separated numbers (phase 1 or 2), got '",
                 one_line(line), "'");
    history.push_back(e);
  }
  return history;
}

double fine_tuning_mark(const std::vector<EpochRecord>& history) {
  for (const EpochRecord& e : history) {
    if (e.phase == 2) return e.epoch - 0.5;
  }
  return 0;
}

#if CATDOG_WITH_PLPLOT
namespace {

// One panel: train and test series against the epoch, in the current subpage.
void plot_panel(const std::vector<EpochRecord>& history, bool accuracy, const char* title) {
  const size_t n = history.size();
  std::vector<PLFLT> x(n), train(n), test(n);
  double lo = 1e30, hi = -1e30;
  bool has_test = false;
  for (size_t i = 0; i < n; ++i) {
    x[i] = history[i].epoch;
    train[i] = accuracy ? history[i].accuracy : history[i].loss;
    test[i] = accuracy ? history[i].val_accuracy : history[i].val_loss;
    for (double v : {train[i], test[i]}) {
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
    has_test = has_test || std::isfinite(test[i]);
  }
  if (lo > hi) lo = 0, hi = 1;
  const double pad = std::max(1e-3, 0.08 * (hi - lo));
  const double x_hi = n > 1 ? static_cast<double>(history.back().epoch) : history[0].epoch + 1.0;
  // cmap0 entry 0 is the background and 15 is white: give the axes and labels an entry of their own.
  plscol0(3, 0, 0, 0);
  plcol0(3);
  plenv(history[0].epoch, x_hi, lo - pad, hi + pad, 0, -2);  // the frame only; the box follows
  // Whole epochs on the x axis (about ten ticks at most), PLplot's choice on the y axis.
  const double x_tick = std::max(1.0, std::ceil((x_hi - history[0].epoch) / 10.0));
  plbox("bcnst", x_tick, 1, "bcnstv", 0.0, 0);
  pllab("epoch", accuracy ? "accuracy" : "cross-entropy loss", title);
  plwidth(2);
  plscol0(1, 31, 119, 180);  // blue: train
  plcol0(1);
  plline(static_cast<PLINT>(n), x.data(), train.data());
  plpoin(static_cast<PLINT>(n), x.data(), train.data(), 17);
  if (has_test) {
    plscol0(2, 255, 127, 14);  // orange: test
    plcol0(2);
    plline(static_cast<PLINT>(n), x.data(), test.data());
    plpoin(static_cast<PLINT>(n), x.data(), test.data(), 17);
  }
  plwidth(1);
  if (const double mark = fine_tuning_mark(history); mark > 0) {
    plcol0(3);
    pllsty(2);  // dashed
    pljoin(mark, lo - pad, mark, hi + pad);
    pllsty(1);
    plptex(mark, hi + pad * 0.5, 1, 0, -0.05, "fine-tuning");
  }
  plcol0(1);
  plmtex("t", 0.6, 0.02, 0.0, "train");
  plcol0(2);
  plmtex("t", 0.6, 0.98, 1.0, has_test ? "test" : "");
}

}  // namespace
#endif

bool draw_curves(const std::string& path, const std::vector<EpochRecord>& history,
                 std::string* why) {
#if CATDOG_WITH_PLPLOT
  if (history.empty()) {
    if (why) *why = "no epoch to plot";
    return false;
  }
  atomic_write_with(path, [&](const std::string& temp) {
    plsdev("pngcairo");
    plsfnam(temp.c_str());
    plspage(0, 0, 1000, 800, 0, 0);
    plscolbg(255, 255, 255);
    plstar(1, 2);
    plot_panel(history, false, "Cross Entropy Loss");
    plot_panel(history, true, "Classification Accuracy");
    plend();
  });
  return true;
#else
  (void)path;
  (void)history;
  if (why) *why = "catdog was built without PLplot (install libplplot-dev: scripts/setup.sh)";
  return false;
#endif
}

RunLog::RunLog(const std::string& path) : out_(path, std::ios::app) {
  CATDOG_CHECK(out_.good(), "cannot write the run log ", path, ": ", std::strerror(errno));
}

void RunLog::line(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  out_ << one_line(text) << "\n" << std::flush;
}

}  // namespace catdog
