#include "kernels/cpu/cpu_features.h"

#include <atomic>

namespace catdog::cpu {

namespace {

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  f.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && f.avx2_fma;
  f.avx512_bf16 = f.avx512 && __builtin_cpu_supports("avx512bf16");
#endif
  return f;
}

std::atomic<const CpuFeatures*> g_override{nullptr};

}  // namespace

CpuFeatures cpu_features() {
  static const CpuFeatures detected = detect();
  const CpuFeatures* o = g_override.load();
  if (!o) return detected;
  CpuFeatures f;
  f.avx2_fma = detected.avx2_fma && o->avx2_fma;
  f.avx512 = detected.avx512 && o->avx512;
  f.avx512_bf16 = detected.avx512_bf16 && o->avx512_bf16;
  return f;
}

void set_cpu_features_for_test(const CpuFeatures* features) {
  static CpuFeatures copy;
  if (features) copy = *features;
  g_override.store(features ? &copy : nullptr);
}

std::string cpu_bf16_unsupported_reason() {
  if (cpu_features().avx512_bf16) return "";
  return "this CPU lacks AVX512_BF16 (vdpbf16ps), which bf16 on the CPU needs; use --precision "
         "fp32 on the CPU, or a GPU";
}

}  // namespace catdog::cpu
