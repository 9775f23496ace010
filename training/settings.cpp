#include "training/settings.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace catdog {

std::string SettingSource::name(const std::string& flag) const {
  if (file.empty()) return flag;
  std::string field = flag.substr(2);  // "--image-size" -> "image_size"
  std::replace(field.begin(), field.end(), '-', '_');
  return file + ": its catdog_state " + field;
}

void check_training_settings(const TrainingSettings& s, const SettingSource& source) {
  CATDOG_CHECK(s.epochs >= 1 && s.epochs <= kMaxEpochs, source.name("--epochs"),
               " must be in 1..", kMaxEpochs, ", got ", s.epochs);
  CATDOG_CHECK(s.batch >= 1 && s.batch <= kMaxBatch, source.name("--batch"), " must be in 1..",
               kMaxBatch, ", got ", s.batch);
  CATDOG_CHECK(std::isfinite(s.lr) && s.lr > 0 && s.lr <= std::numeric_limits<float>::max(),
               source.name("--lr"), " must be positive and finite as a float, got ", s.lr);
  CATDOG_CHECK(std::isfinite(s.momentum) && s.momentum >= 0 && s.momentum < 1,
               source.name("--momentum"), " must be in [0, 1), got ", s.momentum);
}

void check_fine_tune_settings(int64_t epochs, double lr, const SettingSource& source) {
  CATDOG_CHECK(epochs >= 0 && epochs <= kMaxEpochs, source.name("--fine-tune-epochs"),
               " must be in 0..", kMaxEpochs, ", got ", epochs);
  CATDOG_CHECK(std::isfinite(lr) && lr > 0 && lr <= std::numeric_limits<float>::max(),
               source.name("--fine-tune-lr"), " must be positive and finite as a float, got ", lr);
}

void check_image_size(int64_t image_size, const SettingSource& source) {
  CATDOG_CHECK(image_size >= kMinImageSize && image_size <= kMaxImageSize,
               source.name("--image-size"), " ", image_size, " is out of range (", kMinImageSize,
               "..", kMaxImageSize, ")");
}

}  // namespace catdog
