// Which vector instruction sets this CPU has, asked once at run time (cpuid through
// __builtin_cpu_supports), so that one binary runs the AVX-512 code where it can and the AVX2 code
// elsewhere. The ISA-specific kernels live in their own files, compiled with their own flags (the
// top CMakeLists.txt), and are called only where the answer here allows.
//
// Tests pretend a CPU lacks a feature through set_cpu_features_for_test (this machine has them all,
// and the AVX2 path and the "no AVX512_BF16" refusal must be exercised here too).
#pragma once

#include <string>

namespace catdog::cpu {

struct CpuFeatures {
  bool avx2_fma = false;     // AVX2 + FMA3: 8 floats a register, 16 registers
  bool avx512 = false;       // AVX-512 F + BW + VL: 16 floats a register, 32 registers
  bool avx512_bf16 = false;  // AVX512_BF16: vdpbf16ps, vcvtne2ps2bf16
};

// This CPU's features, less what a test override removed.
CpuFeatures cpu_features();
// Tests only: report exactly `features` (each must also be on the real CPU to take effect: an
// override can only remove); nullptr restores detection.
void set_cpu_features_for_test(const CpuFeatures* features);

// "" when this CPU can run the frozen base in bf16 on the CPU, else why not (one sentence).
std::string cpu_bf16_unsupported_reason();

}  // namespace catdog::cpu
