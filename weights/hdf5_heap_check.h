// A check on the raw bytes of an HDF5 file, for a corruption that HDF5 1.10 cannot survive.
//
// Variable-length strings (what h5py 3 writes for layer_names, weight_names, model_config) live
// in "global heap collections": "GCOL", version 1, 3 reserved bytes, the collection size (8
// bytes), then objects of [index (2), reference count (2), reserved (4), size (8), data padded to
// 8 bytes]; index 0 is the free space at the end. HDF5 1.10's reader
// (H5HG__cache_heap_deserialize) advances by each object's size and never checks it, so a free
// space of size 0 makes it loop forever, and a size near 2^64 makes its pointer wrap and read
// far outside the heap. Found by fuzz/fuzz_keras_h5 (docs/RELIABILITY.md).
#pragma once

#include <string>

namespace catdog::h5 {

// Throws catdog::Error naming the file and the offset when any global heap collection in it has
// an object of size 0 or larger than the rest of its collection. Reads the whole file (memory-
// mapped); in a valid file every object fits its collection, so nothing valid is refused.
void check_global_heaps(const std::string& path);

}  // namespace catdog::h5
