#include "layers/cpu_conv_choice.h"

namespace catdog {

ConvAlgo choose_cpu_conv_algo(const WindowGeometry& g) {
  // A 1x1 window is a plain GEMM for im2col (no copy), and OpenBLAS runs it.
  if (g.kh * g.kw == 1) return ConvAlgo::im2col;
  // Winograd trades multiplications for transforms: each transformed input value feeds F
  // multiply-adds and each transformed output value took C, so the transforms' memory traffic pays
  // only when C F / (C + F) is large enough. Measured (docs/PERFORMANCE.md, the lab): block1_conv2
  // (C = F = 64, a ratio of 32) is even with the direct kernel, block2_conv1 (64 -> 128, 43) and
  // every later VGG16 layer win, block1_conv1 (C = 3) loses 4x. Without AVX2 the direct tiles that
  // run Winograd's GEMMs are missing too, and the direct kernel cannot run: im2col.
  if (cpu::best_winograd_gemm() == cpu::WinogradGemm::openblas) return ConvAlgo::im2col;
  if (!cpu::winograd_supports(g) || g.c * g.f <= 40 * (g.c + g.f)) return ConvAlgo::direct;
  // F(4x4) has 4x fewer products than direct and F(2x2) 2.25x, but F(4x4) streams 36 transformed
  // filters (C F floats each) through its GEMMs against F(2x2)'s 16: with fewer than 32 tiles an
  // image (block5, 14x14: 16) that stream costs more than the products save. The choice looks at
  // one image, not the batch: each image's output is then the same whatever batch it came in,
  // bit for bit (every step of both algorithms is per tile or per row), so a job split over
  // ranks or batches computes what one process does.
  const int64_t tiles4 = ((g.oh + 3) / 4) * ((g.ow + 3) / 4);
  return tiles4 >= 32 ? ConvAlgo::winograd4 : ConvAlgo::winograd2;
}

ConvAlgo bf16_conv_algo(const WindowGeometry& g, ConvAlgo fp32_algo) {
  if (fp32_algo != ConvAlgo::winograd2 && fp32_algo != ConvAlgo::winograd4) return ConvAlgo::direct;
  // bf16 halves the GEMMs' time but not the transforms', so Winograd needs twice the work per
  // transformed value that fp32 needs (C F / (C + F) above 64): measured, it loses at 112x112
  // (C, F = 64 or 128) and wins from block3_conv1 on. There F(4x4) beats F(2x2) on every layer,
  // block5's 14x14 included (the lab: 12.4 against 21.8 ms over blocks 4 and 5), at a cost in
  // error: F(4x4)'s transforms amplify bf16's rounding to about 4e-2 of a layer's output where
  // F(2x2) keeps 3e-3, and the whole VGG16 base moves from 9.6e-3 to 2.6e-2 of its largest
  // feature against the fp32 fixture, inside bf16's 1e-1 bound (docs/PERFORMANCE.md).
  return g.c * g.f > 64 * (g.c + g.f) ? ConvAlgo::winograd4 : ConvAlgo::direct;
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
                                                        int64_t f, cpu::WinogradGemm gemm) {
  cpu::WinogradFilter& cached = filters_[m == 2 ? 0 : 1];
  if (cached.m != m || cached.c != c || cached.f != f || cached.gemm != gemm) {
    cached = cpu::winograd_transform_filter(m, kernel, c, f, gemm);
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
