#include "tests/support/training_fixtures.h"

#include "training/model_setup.h"
#include "data/synth.h"

namespace catdog::test {

std::string write_small_dataset(const std::string& dir, int per_class, int max_side,
                                uint64_t seed) {
  SynthOptions synth;
  synth.images_per_class = per_class;
  synth.min_width = synth.min_height = 40;
  synth.max_width = synth.max_height = max_side;
  synth.test_fraction = 0.25;
  synth.seed = seed;
  write_synthetic_dataset(dir, synth);
  return dir;
}

std::vector<float> saved_weights(const std::string& model_h5) {
  ModelSetup setup = load_trained_model(model_h5);
  std::vector<float> all;
  for (Param* p : setup.model.all_params()) {
    const std::vector<float> v = p->value.to_vector();
    all.insert(all.end(), v.begin(), v.end());
  }
  return all;
}

TrainOptions small_run(const std::string& data, const std::string& out) {
  TrainOptions o;
  o.data_dir = data;
  o.out_dir = out;
  o.model = "vgg1";
  o.image_size = 32;
  o.batch = 8;
  o.epochs = 4;
  o.lr = 0.01f;
  o.device = "cpu";
  o.workers = 2;
  o.seed = 5;
  return o;
}

}  // namespace catdog::test
