// The pieces of the SGEMM (gemm.cc) that touch data: the MR×NR register-blocked micro-kernel and
// the packing of A and B into the panel layouts it streams. Header-only, included by gemm.cc alone.
#pragma once
#include <algorithm>
#include <cstdint>

#include "gemm.h"
#include "simd.h"

namespace ingot {
namespace gemm_detail {

// MR × NR: the C tile the micro-kernel keeps in registers. AVX2 (16 ymm registers): 6 × 16, 12
// accumulators. AVX-512 (32 zmm) has two: 6 × 32 and 14 × 32 (28 accumulators, so each B row loaded
// feeds 28 FMAs instead of 12: +6 … +13 % at 2048², but 3 … 11 % slower than 6 × 32 when K ≤ 64, and
// the small conv products lose with it; paired in one process, docs/native-gemm.md). The blocked
// algorithm is a template on MR; sgemm picks MR_WIDE from K >= WIDE_MIN_K on.
// KC: a kc×NR panel of B (16 KB with AVX2) stays in the 32 KB L1 while MC/MR panels of A stream
// past it from L2; an MC×KC block of A (144 KB) fits Zen3's 512 KB L2 with room for C and B.
// With AVX-512 (NR = 32) KC = 512: a 64 KB B panel (L2), but half the K steps, so C is read and
// written half as often. Paired in one process on the Intel Xeon VM (2048²): +10, +11, +4, −3 %
// (medians of 25–40 alternations); 128×784×128 and 1024² unchanged. AVX2 keeps the Zen3 tuning.
// An A block is at most MC_MAX rows, rounded down to whole MR-row panels (140 with MR = 14).
// INGOT_GEMM_MR (the wide MR), INGOT_GEMM_KC and INGOT_GEMM_MC override them at build time, for
// bench/native/gemm-pair, which times such builds against each other and OpenBLAS in one process.
constexpr int64_t MR_NARROW = 6;
#ifdef INGOT_GEMM_MR
constexpr int64_t MR_WIDE = INGOT_GEMM_MR;
#else
constexpr int64_t MR_WIDE = W >= 16 ? 14 : MR_NARROW;
#endif
constexpr int64_t WIDE_MIN_K = 256;
constexpr int64_t NR = 2 * W;
#ifdef INGOT_GEMM_KC
constexpr int64_t KC = INGOT_GEMM_KC;
#else
constexpr int64_t KC = W >= 16 ? 512 : 256;
#endif
#ifdef INGOT_GEMM_MC
constexpr int64_t MC_MAX = INGOT_GEMM_MC;
#else
constexpr int64_t MC_MAX = 144;
#endif
#ifdef INGOT_GEMM_PREFETCH
constexpr bool PREFETCH_AHEAD = INGOT_GEMM_PREFETCH;
#else
constexpr bool PREFETCH_AHEAD = W >= 16;
#endif
constexpr int64_t SLACK = 64;  // floats after each packed buffer (see transpose_pack)

inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// One k of the micro-kernel: rank-1 update of the R×NR accumulators; a and b advance. Forced inline:
// a lambda in its place was left out of line for some R, with the accumulators in memory (−15 % at
// 128×784×128).
template <int64_t MR, int R>
INGOT_ALWAYS_INLINE void k_step(const float* __restrict& a, const float* __restrict& b, V (&c0)[R], V (&c1)[R]) {
  const V b0 = vload(b), b1 = vload(b + W);
#pragma GCC unroll 16
  for (int r = 0; r < R; r++) {
    const V ar = vset1(a[r]);
    c0[r] = vfma(ar, b0, c0[r]);
    c1[r] = vfma(ar, b1, c1[r]);
  }
  a += MR;
  b += NR;
}

// c[R×NR] = (acc ? c : 0) + a·b for the first R ≤ MR rows of a kc×MR panel a and a kc×NR panel b.
// R < MR serves the last panel of a block (with MR = 6, M = 32 is 5 panels of 6 and one of 2), so
// no FMAs are spent on zero padding. The accumulators stay in registers: every loop over r is
// unrolled. With R = 6 the loop body is 12 FMAs, 6 broadcasts and 2 loads per k: the FMA pipes bound
// it, not the load ports (Zen3: 2 FMA, 3 loads per cycle); with R = 14, 28 FMAs, 14 broadcasts and 2 loads.
// Prefetches, one or two per 4 k (docs/native-gemm.md, "Prefetching the next B panel and C tile"):
// - pfb: kc/4 lines from pfb on, into L2: the caller's share of the next B panel, so that panel is in
//   L2 when the sweep reaches it (must point into readable memory: the caller passes b when none);
// - pfc: in the first 2R groups, the C tile of the next call (R rows ldc apart) into L2;
// - this call's own C tile: into L1 for writing at the start, and again 2R + 4 groups before the end.
// Only with AVX-512 (PREFETCH_AHEAD): the AVX2 kernel, whose 16 KB B panel stays in L1, ran 3–13 %
// slower with them on the same machine; the AVX-512 one 7 % faster at 2048², 1–4 % at 256²–1024².
template <int64_t MR, int R>
inline void micro(int64_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c, int64_t ldc, bool acc, const float* pfb, const float* pfc) {
  V c0[R], c1[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; r++) {
    c0[r] = vzero(), c1[r] = vzero();
    INGOT_PREFETCH(c + r * ldc, 1);  // the tile is written at the end: fetch it meanwhile
    INGOT_PREFETCH(c + r * ldc + NR - 1, 1);
  }
  int64_t k = 0;
  if constexpr (PREFETCH_AHEAD) {
    const int64_t groups = kc / 4, late = groups - 2 * R - 4;
    for (int64_t q = 0; q < groups; q++, k += 4) {
      INGOT_PREFETCH_L2(pfb);
      pfb += 16;
      if (pfc && q < 2 * R) INGOT_PREFETCH_L2(pfc + (q >> 1) * ldc + (q & 1) * (NR - 1));
      const int64_t e = q - late;
      if (e >= 0 && e < 2 * R) INGOT_PREFETCH(c + (e >> 1) * ldc + (e & 1) * (NR - 1), 1);
#pragma GCC unroll 4
      for (int u = 0; u < 4; u++) k_step<MR, R>(a, b, c0, c1);
    }
  } else {
    (void)pfb, (void)pfc;
  }
#pragma GCC unroll 4
  for (; k < kc; k++) k_step<MR, R>(a, b, c0, c1);  // all of k without PREFETCH_AHEAD
#pragma GCC unroll 16
  for (int r = 0; r < R; r++) {
    float* cr = c + r * ldc;
    vstore(cr, acc ? vadd(vload(cr), c0[r]) : c0[r]);
    vstore(cr + W, acc ? vadd(vload(cr + W), c1[r]) : c1[r]);
  }
}

// The micro-kernel for mr rows (1..MR) of a panel packed MR rows wide.
template <int64_t MR, int R = int(MR)>
inline void micro_rows(int64_t mr, int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc, const float* pfb, const float* pfc) {
  if constexpr (R > 1)
    if (mr < R) return micro_rows<MR, R - 1>(mr, kc, a, b, c, ldc, acc, pfb, pfc);
  micro<MR, R>(kc, a, b, c, ldc, acc, pfb, pfc);
}

#if defined(__AVX2__)
// In-register transpose of the 8×8 block r[0..7].
inline void transpose8(__m256* r) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}
#endif

// d[k·R + r] = src[r·ld + k] for r < rows (0 for rows ≤ r < R), k < kc: packs `rows` vectors that
// are contiguous along k (rows of a row-major A, columns of a column-major B) into a k-major panel.
// NOTE: with AVX2 the stores of a panel whose R is not a multiple of 8 spill 8 − R % 8 floats past
// the k-row they belong to; later stores overwrite them (the 8-row groups are stored last to first,
// and the k-rows in order), and the buffers have slack for the last.
inline void transpose_pack(const float* __restrict src, int64_t ld, int64_t rows, int64_t kc, int64_t R, float* __restrict d) {
  int64_t k = 0;
#if defined(__AVX2__)
  for (; k + 8 <= kc; k += 8)
    for (int64_t r0 = (R - 1) / 8 * 8; r0 >= 0; r0 -= 8) {
      __m256 v[8];
      for (int64_t j = 0; j < 8; j++) v[j] = r0 + j < rows ? _mm256_loadu_ps(src + (r0 + j) * ld + k) : _mm256_setzero_ps();
      transpose8(v);
      for (int64_t j = 0; j < 8; j++) _mm256_storeu_ps(d + (k + j) * R + r0, v[j]);
    }
#endif
  for (; k < kc; k++)
    for (int64_t r = 0; r < R; r++) d[k * R + r] = r < rows ? src[r * ld + k] : 0.0f;
}

// Packs rows i0..i0+mc, columns p0..p0+kc of A into MR-row panels (zero-padded to MR rows).
template <int64_t MR>
inline void pack_a(const Gemm& g, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* __restrict ap) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    const int64_t mr = std::min(MR, mc - ip);
    float* __restrict d = ap + ip * kc;
    const float* s = g.A + (i0 + ip) * g.rsa + p0 * g.csa;
    if (g.rsa == 1 && mr == MR) {
      for (int64_t k = 0; k < kc; k++)
        for (int64_t r = 0; r < MR; r++) d[k * MR + r] = s[k * g.csa + r];
    } else if (g.csa == 1) {
      transpose_pack(s, g.rsa, mr, kc, MR, d);
    } else {
      for (int64_t k = 0; k < kc; k++)
        for (int64_t r = 0; r < MR; r++) d[k * MR + r] = r < mr ? s[r * g.rsa + k * g.csa] : 0.0f;
    }
  }
}

// Packs panel columns j0..j0+nr (nr <= NR), rows p0..p0+kc of B into one kc×NR panel.
inline void pack_b_panel(const Gemm& g, int64_t p0, int64_t kc, int64_t j0, int64_t nr, float* __restrict d) {
  const float* s = g.B + p0 * g.rsb + j0 * g.csb;
  if (g.csb == 1 && nr == NR) {
    for (int64_t k = 0; k < kc; k++) {
      vstore(d + k * NR, vload(s + k * g.rsb));
      vstore(d + k * NR + W, vload(s + k * g.rsb + W));
    }
  } else if (g.rsb == 1) {
    transpose_pack(s, g.csb, nr, kc, NR, d);
  } else {
    for (int64_t k = 0; k < kc; k++)
      for (int64_t c = 0; c < NR; c++) d[k * NR + c] = c < nr ? s[k * g.rsb + c * g.csb] : 0.0f;
  }
}

// Bias and activation on the finished tile rows i0..i0+mr, columns j0..j0+nr.
inline void epilogue(const Gemm& g, int64_t i0, int64_t mr, int64_t j0, int64_t nr) {
  for (int64_t r = 0; r < mr; r++) {
    float* row = g.C + (i0 + r) * g.ldc + j0;
    if (g.bias) {
      if (g.bias_axis == 1)
        for (int64_t j = 0; j < nr; j++) row[j] += g.bias[j0 + j];
      else
        for (int64_t j = 0; j < nr; j++) row[j] += g.bias[i0 + r];
    }
    // NOTE: x > 0 ? x : 0 maps NaN to 0; keep NaN (as ref's max(0, x) does) by testing x < 0.
    if (g.act == Act::Relu)
      for (int64_t j = 0; j < nr; j++) row[j] = row[j] < 0.0f ? 0.0f : row[j];
  }
}

// One packed A block (rows i0..i0+mc) times one packed kc×NR panel b of B (columns j..j+nr):
// the A panels stream from L2 past the B panel. `next` is the B panel this thread multiplies next
// (null if none or not packed yet), for columns next_j..: each micro-kernel call prefetches the next
// kc/4 lines of it, so with MC/MR ≥ 8 calls per panel all of it (kc·NR floats) is in L2 before it
// is used.
template <int64_t MR>
inline void panel(const Gemm& g, const float* ap, int64_t i0, int64_t mc, const float* b, int64_t j, int64_t nr, int64_t kc, bool acc, bool fused, const float* next, int64_t next_j) {
  alignas(64) float tmp[MR * NR];
  const int64_t pf_step = kc / 4 * 16, pf_last = std::max<int64_t>(0, kc * NR - pf_step);
  for (int64_t ip = 0; ip < mc; ip += MR) {
    const int64_t mr = std::min(MR, mc - ip);
    float* c = g.C + (i0 + ip) * g.ldc + j;
    const float* pfb = next ? next + std::min(ip / MR * pf_step, pf_last) : b;
    // The C tile the next call updates: below this one, or the first of the next column panel.
    const float* pfc = ip + MR < mc ? c + MR * g.ldc : next ? g.C + i0 * g.ldc + next_j : nullptr;
    if (nr == NR) {
      micro_rows<MR>(mr, kc, ap + ip * kc, b, c, g.ldc, acc, pfb, pfc);
    } else {
      micro_rows<MR>(mr, kc, ap + ip * kc, b, tmp, NR, false, pfb, pfc);
      for (int64_t r = 0; r < mr; r++)
        for (int64_t q = 0; q < nr; q++) c[r * g.ldc + q] = acc ? c[r * g.ldc + q] + tmp[r * NR + q] : tmp[r * NR + q];
    }
    if (fused) epilogue(g, i0 + ip, mr, j, nr);
  }
}

}  // namespace gemm_detail
}  // namespace ingot
