#include "kernels/cpu/blas_kernels.h"

#include <strings.h>
#include <unistd.h>

#include <cstdlib>

#include "kernels/cpu/cpu_features.h"

extern "C" char* openblas_get_corename(void);

namespace catdog::cpu {

const char* blas_core_name() { return openblas_get_corename(); }

const char* blas_coretype_to_force(const char* loaded_core, const char* user_setting, bool avx512,
                                   bool avx2_fma) {
  if (user_setting != nullptr || loaded_core == nullptr) return nullptr;
  // OpenBLAS's cores whose kernels are SSE only: what it falls back to on a CPU it does not know.
  static const char* const kScalarCores[] = {"Prescott", "Core2",  "Penryn", "Dunnington",
                                             "Nehalem",  "Atom",   "Katmai", "Coppermine",
                                             "Northwood", "Banias", "Opteron", "Barcelona"};
  bool fallback = false;
  for (const char* core : kScalarCores) fallback = fallback || strcasecmp(loaded_core, core) == 0;
  if (!fallback) return nullptr;
  if (avx512) return "SkylakeX";
  if (avx2_fma) return "Haswell";
  return nullptr;
}

void restart_with_vector_blas_kernels(char** argv) {
  const CpuFeatures& cpu = cpu_features();
  const char* coretype = blas_coretype_to_force(blas_core_name(), std::getenv("OPENBLAS_CORETYPE"),
                                                cpu.avx512, cpu.avx2_fma);
  if (coretype == nullptr) return;
  // Set before the exec, so the new image never restarts again (its user_setting is this one).
  if (setenv("OPENBLAS_CORETYPE", coretype, 1) != 0) return;
  execv("/proc/self/exe", argv);
}

}  // namespace catdog::cpu
