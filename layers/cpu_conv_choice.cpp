#include "layers/cpu_conv_choice.h"

namespace catdog {

ConvAlgo choose_cpu_conv_algo(const WindowGeometry& g) {
  // A 1x1 window is a plain GEMM for im2col (no copy), and OpenBLAS runs it.
  if (g.kh * g.kw == 1) return ConvAlgo::im2col;
  // Every other window: the direct kernel, faster than im2col on all 13 VGG16 layers and than
  // Winograd F(4x4,3x3) on every layer measured beside it (docs/PERFORMANCE.md).
  return ConvAlgo::direct;
}

ConvAlgo CpuConvPlan::algo_for(const WindowGeometry& g, ConvAlgo requested, bool frozen) {
  switch (requested) {
    case ConvAlgo::im2col: return ConvAlgo::im2col;
    case ConvAlgo::winograd2:
    case ConvAlgo::winograd4: return cpu::winograd_supports(g) ? requested : ConvAlgo::im2col;
    case ConvAlgo::direct: return ConvAlgo::direct;
    case ConvAlgo::auto_pick: break;
  }
  if (!frozen) return ConvAlgo::im2col;
  const std::array<int64_t, 4> key = {g.n, g.h, g.w, g.c};
  auto it = chosen_.find(key);
  if (it == chosen_.end()) {
    ++rule_evaluations_;
    it = chosen_.emplace(key, choose_cpu_conv_algo(g)).first;
  }
  return it->second;
}

const cpu::WinogradFilter& CpuConvPlan::winograd_filter(int m, const float* kernel, int64_t c,
                                                        int64_t f) {
  cpu::WinogradFilter& cached = filters_[m == 2 ? 0 : 1];
  if (cached.m != m || cached.c != c || cached.f != f) {
    cached = cpu::winograd_transform_filter(m, kernel, c, f);
    ++filter_transforms_;
  }
  return cached;
}

const cpu::PackedConvKernel& CpuConvPlan::direct_kernel(const WindowGeometry& g,
                                                        const float* kernel,
                                                        cpu::DirectMath math) {
  if (packed_.empty() || packed_.math != math) {
    packed_ = cpu::pack_conv_kernel(g, kernel, math);
    ++kernel_packs_;
  }
  return packed_;
}

void CpuConvPlan::weights_changed() {
  for (cpu::WinogradFilter& f : filters_) f = cpu::WinogradFilter{};
  packed_ = cpu::PackedConvKernel{};
}

}  // namespace catdog
