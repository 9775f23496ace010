// The ranges of the training settings, checked in one place for every source of a value: the
// command line ("--batch must be ...") and a model.h5 or checkpoint.h5 ("FILE: its catdog_state
// batch must be ..."), so a file can never carry a value the command line would refuse.
#pragma once

#include <cstdint>
#include <string>

namespace catdog {

constexpr int kMinImageSize = 16, kMaxImageSize = 4096;  // square input side, pixels
constexpr int64_t kMaxEpochs = 100000, kMaxBatch = 65536;

// Where values come from: `file` empty for the command line (names "--image-size"), else the
// file whose catdog_state holds them (names "FILE: its catdog_state image_size").
struct SettingSource {
  std::string file;
  std::string name(const std::string& flag) const;  // flag: "--image-size"
};

// The settings as read, wide enough that no value is narrowed before it is checked.
struct TrainingSettings {
  int64_t epochs = 1, batch = 1;
  double lr = 0.001, momentum = 0;
};

void check_training_settings(const TrainingSettings& s, const SettingSource& source);
// --fine-tune-epochs (0: no second phase) and --fine-tune-lr.
void check_fine_tune_settings(int64_t epochs, double lr, const SettingSource& source);
void check_image_size(int64_t image_size, const SettingSource& source);

}  // namespace catdog
