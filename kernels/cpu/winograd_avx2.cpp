// Winograd's transforms (kernels/cpu/winograd_tiles.h) compiled for AVX2 + FMA
// (-mavx2 -mfma); called only where cpu_features() says the CPU has it.
#include "kernels/cpu/winograd_tiles.h"

namespace catdog::cpu::winograd {

CATDOG_WINOGRAD_TILES(avx2)

}  // namespace catdog::cpu::winograd
