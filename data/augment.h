// Data augmentation for the from-scratch baselines, with the semantics of the tutorial's
// ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1, horizontal_flip=True):
//
//   shift  Keras draws tx ~ U(-h, h) * height (rows) and ty ~ U(-w, w) * width (columns), and
//          scipy.ndimage.affine_transform(order=1, mode="nearest") computes
//          out[i][j] = in(i + tx, j + ty), bilinear between the 4 neighbours, coordinates
//          outside the image clamped to the edge ("nearest" fill).
//   flip   then, with probability 1/2, columns are reversed.
//
// Keras keeps the result in float; here it is rounded to uint8 (at most 0.5 away). The random
// numbers come from (seed, epoch, dataset index), so an image gets the same transform whatever
// the thread count or batch order.
#pragma once

#include <cstdint>

namespace catdog {

struct AugmentParams {
  double shift_rows = 0;  // Keras tx, in pixels
  double shift_cols = 0;  // Keras ty, in pixels
  bool flip = false;
};

struct AugmentRanges {
  double width_shift = 0.1, height_shift = 0.1;  // fractions of the width / height
  bool horizontal_flip = true;
};

AugmentParams draw_augment(uint64_t seed, int epoch, int64_t index, int height, int width,
                           const AugmentRanges& ranges = {});

// in, out: (height, width, 3) uint8, distinct buffers.
void augment_rgb(const uint8_t* in, int height, int width, const AugmentParams& params,
                 uint8_t* out);

}  // namespace catdog
