// Fuzzes the .npy reader (weights/npy.h, decode_npy) on any bytes.
//
// Asserts: a catdog::Error is the only acceptable failure; a decoded tensor's data fits in the
// input (the reader must never allocate more than the file holds), and encoding it again and
// decoding that gives the same shape and dtype (the writer accepts whatever the reader returns).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "weights/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  catdog::Tensor tensor;
  try {
    tensor = catdog::decode_npy(bytes, "fuzz.npy");
  } catch (const catdog::Error&) {
    return 0;  // a refused file: the expected outcome for most inputs
  }
  if (tensor.nbytes() > size) std::abort();
  const catdog::Tensor again = catdog::decode_npy(catdog::encode_npy(tensor), "re-encoded");
  if (again.shape() != tensor.shape() || again.dtype() != tensor.dtype()) std::abort();
  return 0;
}
