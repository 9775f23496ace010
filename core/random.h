// Deterministic numbers from (seed, stream, index), with no state: the splitmix64 generator of
// shared/reference/README.md. The same formula gives the reference weights of the PyTorch fixtures,
// weight initialisation, dropout masks (on CPU and GPU alike) and dataset shuffles.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define CATDOG_HOST_DEVICE __host__ __device__
#else
#define CATDOG_HOST_DEVICE
#endif

namespace catdog {

// splitmix64 at state ((seed << 32) | stream) + (index + 1) * golden gamma, all mod 2^64.
CATDOG_HOST_DEVICE inline uint64_t splitmix64(uint64_t seed, uint64_t stream, uint64_t index) {
  uint64_t z = ((seed << 32) | stream) + (index + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// u in [0, 1) with 24 bits: (z >> 40) / 2^24, exactly as the reference generator.
CATDOG_HOST_DEVICE inline double uniform01(uint64_t seed, uint64_t stream, uint64_t index) {
  return static_cast<double>(splitmix64(seed, stream, index) >> 40) / 16777216.0;
}

// float32((2u - 1) * limit), computed in double and rounded once: the reference weight formula.
CATDOG_HOST_DEVICE inline float uniform_symmetric(uint64_t seed, uint64_t stream, uint64_t index,
                                                  double limit) {
  return static_cast<float>((2.0 * uniform01(seed, stream, index) - 1.0) * limit);
}

}  // namespace catdog
