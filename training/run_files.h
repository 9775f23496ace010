// The files of a run directory, apart from the models: history.csv, curves.png and train.log.
#pragma once

#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "training/trainer.h"

namespace catdog {

// history.csv: "epoch,loss,accuracy,val_loss,val_accuracy,seconds,phase", one row an epoch
// (phase 2: fine-tuning). Atomic.
void write_history_csv(const std::string& path, const std::vector<EpochRecord>& history);
// Reads it back (the columns it has; images_per_second and wait_fraction stay 0; files from
// before fine-tuning existed have no phase column: phase 1). Throws catdog::Error naming the file
// and line of anything else.
std::vector<EpochRecord> read_history_csv(const std::string& path);

// Where the plots draw the start of fine-tuning: halfway between the last head epoch and the first
// phase-2 epoch; 0 when no epoch of `history` is in phase 2.
double fine_tuning_mark(const std::vector<EpochRecord>& history);

// curves.png: the tutorial's two panels, cross-entropy loss and accuracy per epoch, train (blue)
// vs test (orange), a dashed line where fine-tuning starts, drawn with PLplot. Returns false (and says why in *why) when catdog was built
// without PLplot; the write is atomic.
bool draw_curves(const std::string& path, const std::vector<EpochRecord>& history,
                 std::string* why = nullptr);

// train.log: everything the run printed, plus the names of skipped files. Appended, flushed
// line by line, so a crash loses nothing that was said. Thread-safe: the pipeline's workers write
// their warnings here while the trainer writes its lines.
class RunLog {
 public:
  explicit RunLog(const std::string& path);
  void line(const std::string& text);

 private:
  std::mutex mu_;
  std::ofstream out_;
};

}  // namespace catdog
