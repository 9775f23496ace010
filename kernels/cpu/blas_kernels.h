// Which kernels OpenBLAS runs, and the one correction catdog makes to that choice.
//
// OpenBLAS (Debian's is built with DYNAMIC_ARCH) picks its GEMM kernels once, when the library is
// loaded, from the CPU's model number. A CPU newer than the OpenBLAS build knows (Debian 12's
// 0.3.21 on the Xeon VMs this project is measured on) gets the SSE3 "Prescott" kernels: 4 floats a
// register where AVX-512 holds 16, measured 5x slower on a VGG16 layer (docs/PERFORMANCE.md).
// OpenBLAS reads OPENBLAS_CORETYPE only while it loads, so the correction is to start the program
// again, once and before anything else runs, with OPENBLAS_CORETYPE naming the kernels the CPU's
// instructions allow: SkylakeX with AVX-512, Haswell with AVX2 + FMA. A value the user set is kept.
#pragma once

namespace catdog::cpu {

// The kernels OpenBLAS loaded (openblas_get_corename), e.g. "SkylakeX", "Haswell", "Prescott".
const char* blas_core_name();

// The OPENBLAS_CORETYPE to start again with, or nullptr when OpenBLAS's own choice stands: the
// user set OPENBLAS_CORETYPE (`user_setting` non-null), the loaded core has vector kernels already,
// or the CPU has neither AVX-512 nor AVX2 + FMA.
const char* blas_coretype_to_force(const char* loaded_core, const char* user_setting, bool avx512,
                                   bool avx2_fma);

// Starts this program again (execv of /proc/self/exe, same pid and arguments) with the
// OPENBLAS_CORETYPE blas_coretype_to_force names; returns when none is needed or the exec failed
// (then the program goes on with OpenBLAS's own kernels).
void restart_with_vector_blas_kernels(char** argv);

}  // namespace catdog::cpu
