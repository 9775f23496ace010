// NumPy .npy files: how features, preprocessed inputs and predictions leave and enter catdog.
//
// Format (numpy.lib.format, versions 1.0, 2.0 and 3.0):
//   "\x93NUMPY" major minor  header_len (uint16 LE for v1, uint32 LE for v2/v3)
//   header: a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (6, 7), }
//           padded with spaces and ending in '\n' so the data starts at a multiple of 64 bytes
//   data:   numel * itemsize bytes, C order (last index fastest), little-endian
// Supported element types: float32 ('<f4') and uint8 ('|u1'). See docs/FORMATS.md.
#pragma once

#include <string>

#include "core/tensor.h"

namespace catdog {

// Write a float32 or uint8 tensor (copied to the CPU first when needed). The write is atomic
// (weights/atomic_file.h). Throws catdog::Error naming the file.
void write_npy(const std::string& path, const Tensor& tensor);
// The .npy file as bytes (what write_npy writes).
std::string encode_npy(const Tensor& tensor);

// Read a float32 or uint8 .npy into a CPU tensor. Throws catdog::Error naming the file on
// anything odd: not a .npy, an unsupported version, dtype or byte order, Fortran order, a header
// that does not parse, or a data size that disagrees with the shape (so a lying header cannot make
// us allocate more than the file holds).
Tensor read_npy(const std::string& path);
// Parse .npy bytes; `name` is used in error messages.
Tensor decode_npy(const std::string& bytes, const std::string& name);

}  // namespace catdog
