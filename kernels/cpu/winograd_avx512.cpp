// Winograd's transforms (kernels/cpu/winograd_tiles.h) compiled for AVX-512 (-mavx512f and
// 512-bit vectors preferred, the top CMakeLists.txt); called only where cpu_features() says the CPU
// has it.
#include "kernels/cpu/winograd_tiles.h"

namespace catdog::cpu::winograd {

CATDOG_WINOGRAD_TILES(avx512)

}  // namespace catdog::cpu::winograd
