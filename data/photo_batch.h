// A few photos named on the command line, decoded and resized into one uint8 batch: what
// predict, extract and explain feed the model (the training pipeline, data/pipeline.h, does the
// same for thousands of files on worker threads).
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"

namespace catdog {

// Decode and resize (nearest, as Keras) `paths` into a uint8 (n, size, size, 3) batch, one image
// at a time: only one full-size photo (at most DecodeOptions::max_pixels, 300 MB) is ever held, so
// a chunk of 100-megapixel photos costs one of them plus the small batch. Unreadable files go to
// *bad (when given, as "<file>: <reason>") and are left out, the others to *kept; without `bad`
// the first unreadable file throws.
Tensor load_pixels(const std::vector<std::string>& paths, int size,
                   std::vector<std::string>* kept, std::vector<std::string>* bad);

}  // namespace catdog
