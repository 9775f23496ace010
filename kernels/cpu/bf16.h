// bfloat16 on the CPU: a float's top 16 bits (sign, the same 8-bit exponent, 7 mantissa bits), so
// the range of fp32 at 2^-8 relative precision (rounding to nearest is off by at most half a unit
// in the last place, 2^-9 relative). Converting a float: round to nearest, ties to even, on the 16
// bits dropped, as vcvtne2ps2bf16 does (which also flushes denormals to zero; only values below
// 1e-38 differ). Used to pack frozen weights once; the activations are converted by the vector
// instruction (kernels/cpu/bf16_conv_avx512.cpp).
#pragma once

#include <cstdint>
#include <cstring>

namespace catdog::cpu {

inline uint16_t bf16_from_float(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);  // NaN
  if ((bits & 0x7f800000u) == 0) bits &= 0x80000000u;  // denormal: flushed, as the instruction does
  const uint32_t round = 0x7fffu + ((bits >> 16) & 1u);  // half an ulp, ties to the even neighbour
  return static_cast<uint16_t>((bits + round) >> 16);
}

inline float float_from_bf16(uint16_t value) {
  const uint32_t bits = static_cast<uint32_t>(value) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

}  // namespace catdog::cpu
