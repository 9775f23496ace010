// Internal: the register-blocked tile loop of the direct convolution (kernels/cpu/conv_direct.h),
// one template over the ISA's vector operations. Included only by the ISA files
// (conv_direct_avx2.cpp, conv_direct_avx512.cpp, bf16_conv_avx512.cpp), each of which defines an
// `Isa` struct and instantiates run_tiles<Isa> inside its own anonymous namespace.
//
// An Isa provides:
//   In, W            element types of the input and the packed weights
//   kLanes           filters a vector holds; kStep channels one multiply-add consumes (bf16: 2)
//   kMaxVecs         vectors of filters in the widest tile; pixels(vecs) the tile's pixel count
//   Acc zero(); Wv load_w(const W*); Bv bcast(const In*); Acc madd(Acc, Wv, Bv)
//   Acc load_y(const float* y, int64_t lanes)
//   void store(float* y, Acc acc, const float* bias (null: none), bool relu, int64_t lanes)
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/conv_direct_job.h"

namespace catdog::cpu::direct {
namespace {

#ifdef __AVX512F__
// The fp32 tile's way in and out of y, shared by the AVX-512 paths (fp32 and bf16 accumulate
// alike): masked for a last vector of fewer than 16 filters.
struct Avx512Output {
  static __m512 load_y(const float* y, int64_t lanes) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << lanes) - 1), y);
  }
  static void store(float* y, __m512 acc, const float* bias, bool relu, int64_t lanes) {
    __m512 v = bias ? _mm512_add_ps(acc, _mm512_loadu_ps(bias)) : acc;
    // x > 0 ? x : 0, as the CPU's relu (NaN -> 0); _mm512_max_ps trips a GCC 12 false warning.
    if (relu) v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ), v);
    if (lanes == 16) {
      _mm512_storeu_ps(y, v);
    } else {
      _mm512_mask_storeu_ps(y, static_cast<__mmask16>((1u << lanes) - 1), v);
    }
  }
};
#endif

// One tile: `count` (<= kPixels) consecutive output pixels (flat over N, OH, OW) from `first`,
// times kVecs vectors of filters of block `fb`, summed over every tap and the channel steps
// [s0, s1) in registers: started from zero for the first chunk of channels, else from y; the last
// chunk adds the bias and applies relu on the way out.
template <class Isa, int kVecs, int kPixels>
void tile(const DirectConvJob& job, int64_t fb, int64_t first, int64_t count, int64_t s0,
          int64_t s1) {
  using In = typename Isa::In;
  using W = typename Isa::W;
  const WindowGeometry& g = job.g;
  const In* x = static_cast<const In*>(job.x);
  const In* zeros = static_cast<const In*>(job.zeros);
  const int64_t cx = job.x_channels;  // channels per pixel of x (a multiple of kStep)
  const int64_t steps = cx / Isa::kStep;
  constexpr int64_t kWidth = kVecs * Isa::kLanes;  // filters per weight row
  const int64_t width_elems = kWidth * Isa::kStep;
  // The block's weights: [tap][step][kWidth * kStep]; earlier blocks are all full.
  const W* w = static_cast<const W*>(job.weights) + fb * job.block * g.kh * g.kw * cx;

  int64_t n_of[kPixels], top[kPixels], left[kPixels];
  for (int p = 0; p < kPixels; ++p) {
    const int64_t r = first + (p < count ? p : 0);
    const int64_t n = r / (g.oh * g.ow), rem = r % (g.oh * g.ow);
    n_of[p] = n;
    top[p] = (rem / g.ow) * g.sh - g.pad_top;
    left[p] = (rem % g.ow) * g.sw - g.pad_left;
  }

  const int64_t f0 = fb * job.block;
  const bool first_chunk = s0 == 0, last_chunk = s1 == steps;
  typename Isa::Acc acc[kPixels][kVecs];
  for (int p = 0; p < kPixels; ++p) {
    for (int v = 0; v < kVecs; ++v) {
      const int64_t lanes = g.f - f0 - v * Isa::kLanes;
      acc[p][v] = first_chunk || p >= count
                      ? Isa::zero()
                      : Isa::load_y(job.y + (first + p) * g.f + f0 + v * Isa::kLanes,
                                    lanes < Isa::kLanes ? lanes : Isa::kLanes);
    }
  }

  for (int64_t i = 0; i < g.kh; ++i) {
    for (int64_t j = 0; j < g.kw; ++j) {
      const In* px[kPixels];
      for (int p = 0; p < kPixels; ++p) {
        const int64_t ih = top[p] + i, iw = left[p] + j;
        const bool inside = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
        px[p] = inside ? x + ((n_of[p] * g.h + ih) * g.w + iw) * cx : zeros;
      }
      const W* wt = w + ((i * g.kw + j) * steps + s0) * width_elems;
      for (int64_t s = s0; s < s1; ++s, wt += width_elems) {
        typename Isa::Wv wv[kVecs];
        for (int v = 0; v < kVecs; ++v) wv[v] = Isa::load_w(wt + v * Isa::kLanes * Isa::kStep);
        for (int p = 0; p < kPixels; ++p) {
          const typename Isa::Bv b = Isa::bcast(px[p] + s * Isa::kStep);
          for (int v = 0; v < kVecs; ++v) acc[p][v] = Isa::madd(acc[p][v], wv[v], b);
        }
      }
    }
  }

  for (int p = 0; p < count; ++p) {
    float* y = job.y + (first + p) * g.f + f0;
    for (int v = 0; v < kVecs; ++v) {
      const int64_t lanes = g.f - f0 - v * Isa::kLanes;
      Isa::store(y + v * Isa::kLanes, acc[p][v],
                 last_chunk ? job.bias + f0 + v * Isa::kLanes : nullptr, last_chunk && job.relu,
                 lanes < Isa::kLanes ? lanes : Isa::kLanes);
    }
  }
}

// Pixels [p0, p1) of block fb in kVecs-wide tiles, one chunk of channels at a time over all of
// them, so that the chunk's weights stay in L2 while every tile reads them.
template <class Isa, int kVecs>
void pixel_range(const DirectConvJob& job, int64_t fb, int64_t p0, int64_t p1) {
  constexpr int kPixels = Isa::pixels(kVecs);
  const int64_t steps = job.x_channels / Isa::kStep;
  for (int64_t s0 = 0; s0 < steps; s0 += job.chunk_steps) {
    const int64_t s1 = steps - s0 < job.chunk_steps ? steps : s0 + job.chunk_steps;
    for (int64_t first = p0; first < p1; first += kPixels) {
      const int64_t count = p1 - first < kPixels ? p1 - first : kPixels;
      tile<Isa, kVecs, kPixels>(job, fb, first, count, s0, s1);
    }
  }
}

// Block fb's pixels [p0, p1) with the tile `vecs` vectors wide.
template <class Isa>
void dispatch_vecs(const DirectConvJob& job, int64_t fb, int64_t vecs, int64_t p0, int64_t p1) {
  if (vecs == 1) return pixel_range<Isa, 1>(job, fb, p0, p1);
  if constexpr (Isa::kMaxVecs >= 2) {
    if (vecs == 2) return pixel_range<Isa, 2>(job, fb, p0, p1);
  }
  if constexpr (Isa::kMaxVecs >= 3) {
    if (vecs == 3) return pixel_range<Isa, 3>(job, fb, p0, p1);
  }
  if constexpr (Isa::kMaxVecs >= 4) pixel_range<Isa, 4>(job, fb, p0, p1);
}

// Tasks [begin, end): task = fb * tiles + tile, with tiles of the widest tile's pixel count (a
// narrower last block runs its own, taller tiles over the same pixels).
template <class Isa>
void run_tiles(const DirectConvJob& job, int64_t begin, int64_t end) {
  const int64_t tiles = (job.g.out_rows() + job.tile_pixels - 1) / job.tile_pixels;
  while (begin < end) {
    const int64_t fb = begin / tiles, t0 = begin % tiles;
    const int64_t t1 = (end - fb * tiles) < tiles ? end - fb * tiles : tiles;
    // Filters left in this block, in vectors (the last block may be narrower).
    const int64_t left = job.g.f - fb * job.block;
    const int64_t vecs_needed = (left + Isa::kLanes - 1) / Isa::kLanes;
    const int64_t vecs = vecs_needed < Isa::kMaxVecs ? vecs_needed : Isa::kMaxVecs;
    // Pixels [t0 * tile_pixels, t1 * tile_pixels) in tiles of the chosen width.
    const int64_t p0 = t0 * job.tile_pixels;
    const int64_t p1 = t1 * job.tile_pixels < job.g.out_rows() ? t1 * job.tile_pixels
                                                                : job.g.out_rows();
    dispatch_vecs<Isa>(job, fb, vecs, p0, p1);
    begin = fb * tiles + t1;
  }
}

}  // namespace
}  // namespace catdog::cpu::direct
