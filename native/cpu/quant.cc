// Low-bit kernels of compress.quantize: the exact int8 GEMM (int32 accumulation), the fused int8
// Linear (dynamic or static activation quantization, integer GEMM, float epilogue) and the int4
// group-wise weight-only Linear that dequantizes each 32-weight block in registers (GEMV and GEMM).
// The integer results equal src/backend/ref/quant.ts bit for bit; see docs/quantization.md.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "binding.h"
#include "gemm.h"
#include "threadpool.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace ingot {
namespace {

// ---------------------------------------------------------------- int8 dot products
// Rows of A (activations) against rows of W (weights, [N, K] as saved): C[i][j] = Σ_k A[i][k]·W[j][k].
// A must lie in [-127, 127] (what the activation quantizer produces; the JavaScript side sends an
// intMm operand holding -128 to ref); W may hold any int8. The AVX2 path multiplies |w| (u8, up to
// 128) by sign(w)·a (s8, never overflowing since |a| ≤ 127) with vpmaddubsw, whose int16 pair sums
// stay ≤ 2·128·127 = 32512 < 32767, so they never saturate (NOTE: the reason for the sign trick:
// u8 = a + 128 against s8 w could reach 2·255·127 and saturate). Every sum is exact in int32
// (K < 2^31 / (128·127)).

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
#define QUANT_ISA "avx512-vnni"
// VNNI: vpdpbusd multiplies u8 by s8 and sums by fours into int32 with no intermediate saturation,
// so the activations go in offset by 128 (a ^ 0x80 = a + 128 as u8, prepared once per row by
// offset_row) and each weight row's 128·Σ_k w[k] is taken off the sums:
// Σ (a + 128)·w − 128·Σ w = Σ a·w, exactly. K tails are masked loads (zero bytes add nothing).
// VNNI builds offset the activations (kVnni) and run the packed tiles and gemv8 below.
constexpr bool kVnni = true;
/**
 * acc + Σ of 4-byte products of u8 a and s8 b (vpdpbusd). Inline assembly with the accumulator tied:
 * GCC 12 copies the accumulator of _mm512_dpbusd_epi32 through a spare register on every call, and
 * with 24 accumulators through the stack.
 */
inline __m512i dpbusd(__m512i acc, __m512i a, __m512i b) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
}

// Fewer than kPackMinM rows (generation, batch 1): no packing (it would read W twice); each row
// runs against 8 weight rows at a time, W read in place with masked K tails, the 8 sums of Σ (a+128)·w
// and of Σ 128·w (the compensation, from the same loaded bytes) reduced together by an hadd tree.
constexpr int MR = 4, NR = 4;  // MR bounds gemv8's rows (M < kPackMinM ≤ MR); the dot tiles are not built here
template <int MR_, int NR_>
void dot_tile(const int8_t* const* a, const int8_t* const* w, int64_t K, int32_t* out, int64_t ldo);

/** The 8 horizontal sums of v[0..7], in order. */
inline __m256i sum8(const __m256i* v) {
  const __m256i a01 = _mm256_hadd_epi32(v[0], v[1]), a23 = _mm256_hadd_epi32(v[2], v[3]);
  const __m256i a45 = _mm256_hadd_epi32(v[4], v[5]), a67 = _mm256_hadd_epi32(v[6], v[7]);
  const __m256i b0 = _mm256_hadd_epi32(a01, a23), b1 = _mm256_hadd_epi32(a45, a67);
  // b0: [lanes 0-3 partial sums of v0..v3 | lanes 4-7 partial sums of v0..v3]; b1 likewise for v4..v7.
  return _mm256_add_epi32(_mm256_permute2x128_si256(b0, b1, 0x20), _mm256_permute2x128_si256(b0, b1, 0x31));
}

/** out[j] = Σ_k a[k]·w[j][k] for j < nc ≤ 8 (row j of w at w + j·K); a holds a + 128 as u8. */
inline void gemv8(const int8_t* a, const int8_t* w, int nc, int64_t K, int32_t* out) {
  __m512i acc[8], cmp[8];
  const int8_t* wr[8];
#pragma GCC unroll 8
  for (int j = 0; j < 8; j++) acc[j] = cmp[j] = _mm512_setzero_si512(), wr[j] = w + std::min(j, nc - 1) * K;
  const __m512i c128 = _mm512_set1_epi8(char(0x80));
  for (int64_t k = 0; k < K; k += 64) {
    const __mmask64 m = K - k >= 64 ? ~__mmask64(0) : (__mmask64(1) << (K - k)) - 1;
    const __m512i av = _mm512_maskz_loadu_epi8(m, a + k);
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
      const __m512i wv = _mm512_maskz_loadu_epi8(m, wr[j] + k);
      acc[j] = dpbusd(acc[j], av, wv);
      cmp[j] = dpbusd(cmp[j], c128, wv);
    }
  }
  __m256i h[8];
#pragma GCC unroll 8
  for (int j = 0; j < 8; j++) {
    const __m512i d = _mm512_sub_epi32(acc[j], cmp[j]);
    h[j] = _mm256_add_epi32(_mm512_castsi512_si256(d), _mm512_extracti64x4_epi64(d, 1));
  }
  const __m256i r = sum8(h);
  if (nc == 8) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), r);
  else _mm256_mask_storeu_epi32(out, __mmask8((1u << nc) - 1), r);
}

/** Adds 128 to every int8 (flips the sign bit): the u8 operand of vpdpbusd. */
inline void offset_row(int8_t* q, int64_t K) {
  const __m512i flip = _mm512_set1_epi8(char(0x80));
  int64_t k = 0;
  for (; k + 64 <= K; k += 64) _mm512_storeu_si512(q + k, _mm512_xor_si512(_mm512_loadu_si512(q + k), flip));
  for (; k < K; k++) q[k] = int8_t(uint8_t(q[k]) ^ 0x80u);
}

// Packed path (M ≥ kPackMinM): each thread packs its 64-column block of W into up to 4 panels of 16
// columns, panel-major, k in groups of 4: 64 bytes = (column c, k 4g..4g+3) at byte 4c, zero past K
// and past the last column. A tile of R ≤ 6 rows × 4 panels keeps 24 accumulators of 16 columns each;
// per group of 4 k it loads 4 panel vectors, broadcasts 4 bytes of each row, and issues 24 vpdpbusd,
// with no horizontal sums and aligned loads whatever K is (row-major rows of K = 784 straddle cache
// lines, which halved the dot-product tiles' speed). Each A row is read 3 bytes past 4·⌊K/4⌋ + 3
// within its group: callers leave ≥ 3 readable bytes after the last row; W's zero padding cancels them.
constexpr int PMR = 6;
constexpr int64_t kPackMinM = 4;

/** Packs rows [0, nc) of w (row stride K, nc ≤ 64) as described above; comp[c] = 128·Σ_k w[c][k] (0 past nc). */
inline void pack_panels(const int8_t* w, int64_t K, int nc, int8_t* out, int32_t* comp) {
  const int64_t Kg = (K + 3) / 4, Kfull = K / 4;
  const __m512i ones = _mm512_set1_epi8(1);
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(int(K)));
  for (int c0 = 0; c0 < nc; c0 += 16) {
    const int ncp = std::min(16, nc - c0);
    const __mmask16 m = __mmask16((1u << ncp) - 1);
    const int8_t* base = w + c0 * K;
    int8_t* dst = out + (c0 / 16) * Kg * 64;
    __m512i acc = _mm512_setzero_si512();
    for (int64_t g = 0; g < Kfull; g++) {
      const __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, base + 4 * g, 1);
      _mm512_store_si512(dst + g * 64, v);
      acc = _mm512_dpbusd_epi32(acc, ones, v);
    }
    if (Kfull < Kg) {
      alignas(64) int8_t t[64] = {};
      for (int c = 0; c < ncp; c++)
        for (int64_t k = 4 * Kfull; k < K; k++) t[c * 4 + (k - 4 * Kfull)] = base[c * K + k];
      const __m512i v = _mm512_load_si512(t);
      _mm512_store_si512(dst + Kfull * 64, v);
      acc = _mm512_dpbusd_epi32(acc, ones, v);
    }
    _mm512_storeu_si512(comp + c0, _mm512_slli_epi32(acc, 7));
  }
}

/** out[i][c] (row stride 64) = Σ_k a[i][k]·w[c][k] − comp[c] for R rows of a (u8, stride lda) and NP packed panels. */
template <int R, int NP>
inline void packed_tile(const int8_t* a, int64_t lda, const int8_t* wp, int64_t Kg, const int32_t* comp, int32_t* out) {
  // One 1-D array of accumulators per panel, every loop over rows unrolled: GCC keeps 1-D arrays in
  // registers, but stored a 2-D acc[R][NP] to the stack on every k step.
  __m512i c0[R], c1[R], c2[R], c3[R];
#pragma GCC unroll 8
  for (int i = 0; i < R; i++) c0[i] = c1[i] = c2[i] = c3[i] = _mm512_setzero_si512();
  const int64_t ps = Kg * 64;
  const int8_t* w0 = wp;
  for (int64_t g = 0; g < Kg; g++, w0 += 64) {
    const __m512i b0 = _mm512_load_si512(w0);
    const __m512i b1 = NP > 1 ? _mm512_load_si512(w0 + ps) : b0;
    const __m512i b2 = NP > 2 ? _mm512_load_si512(w0 + 2 * ps) : b0;
    const __m512i b3 = NP > 3 ? _mm512_load_si512(w0 + 3 * ps) : b0;
#pragma GCC unroll 8
    for (int i = 0; i < R; i++) {
      int32_t v;
      std::memcpy(&v, a + i * lda + 4 * g, 4);
      const __m512i av = _mm512_set1_epi32(v);
      c0[i] = dpbusd(c0[i], av, b0);
      if constexpr (NP > 1) c1[i] = dpbusd(c1[i], av, b1);
      if constexpr (NP > 2) c2[i] = dpbusd(c2[i], av, b2);
      if constexpr (NP > 3) c3[i] = dpbusd(c3[i], av, b3);
    }
  }
  const __m512i k0 = _mm512_loadu_si512(comp), k1 = _mm512_loadu_si512(comp + 16), k2 = _mm512_loadu_si512(comp + 32),
                k3 = _mm512_loadu_si512(comp + 48);
#pragma GCC unroll 8
  for (int i = 0; i < R; i++) {
    _mm512_storeu_si512(out + i * 64, _mm512_sub_epi32(c0[i], k0));
    if constexpr (NP > 1) _mm512_storeu_si512(out + i * 64 + 16, _mm512_sub_epi32(c1[i], k1));
    if constexpr (NP > 2) _mm512_storeu_si512(out + i * 64 + 32, _mm512_sub_epi32(c2[i], k2));
    if constexpr (NP > 3) _mm512_storeu_si512(out + i * 64 + 48, _mm512_sub_epi32(c3[i], k3));
  }
}

template <int R>
inline void packed_tile_np(int np, const int8_t* a, int64_t lda, const int8_t* wp, int64_t Kg, const int32_t* comp, int32_t* out) {
  switch (np) {
    case 1: return packed_tile<R, 1>(a, lda, wp, Kg, comp, out);
    case 2: return packed_tile<R, 2>(a, lda, wp, Kg, comp, out);
    case 3: return packed_tile<R, 3>(a, lda, wp, Kg, comp, out);
    default: return packed_tile<R, 4>(a, lda, wp, Kg, comp, out);
  }
}

inline void packed_tile_any(int r, int np, const int8_t* a, int64_t lda, const int8_t* wp, int64_t Kg, const int32_t* comp, int32_t* out) {
  switch (r) {
    case 1: return packed_tile_np<1>(np, a, lda, wp, Kg, comp, out);
    case 2: return packed_tile_np<2>(np, a, lda, wp, Kg, comp, out);
    case 3: return packed_tile_np<3>(np, a, lda, wp, Kg, comp, out);
    case 4: return packed_tile_np<4>(np, a, lda, wp, Kg, comp, out);
    case 5: return packed_tile_np<5>(np, a, lda, wp, Kg, comp, out);
    default: return packed_tile_np<6>(np, a, lda, wp, Kg, comp, out);
  }
}
#elif defined(__AVX2__)
#define QUANT_ISA "avx2"
constexpr bool kVnni = false;
constexpr int MR = 4, NR = 2;
constexpr int KSTEP = 32;
inline int32_t hsum8(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}
template <int MR, int NR>
inline void dot_tile(const int8_t* const* a, const int8_t* const* w, int64_t K, int32_t* out, int64_t ldo) {
  __m256i acc[MR][NR];
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) acc[i][j] = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1);
  const int64_t Kv = K & ~int64_t(KSTEP - 1);
  for (int64_t k = 0; k < Kv; k += KSTEP) {
    __m256i wv[NR], wa[NR];
    for (int j = 0; j < NR; j++) {
      wv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[j] + k));
      wa[j] = _mm256_abs_epi8(wv[j]);
    }
    for (int i = 0; i < MR; i++) {
      const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[i] + k));
      for (int j = 0; j < NR; j++) {
        const __m256i p16 = _mm256_maddubs_epi16(wa[j], _mm256_sign_epi8(av, wv[j]));
        acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_madd_epi16(p16, ones));
      }
    }
  }
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) {
      int32_t s = hsum8(acc[i][j]);
      for (int64_t k = Kv; k < K; k++) s += int32_t(a[i][k]) * int32_t(w[j][k]);
      out[i * ldo + j] = s;
    }
}
#else
#define QUANT_ISA "portable"
constexpr bool kVnni = false;
constexpr int MR = 4, NR = 2;
template <int MR, int NR>
inline void dot_tile(const int8_t* const* a, const int8_t* const* w, int64_t K, int32_t* out, int64_t ldo) {
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) {
      int32_t s = 0;
      for (int64_t k = 0; k < K; k++) s += int32_t(a[i][k]) * int32_t(w[j][k]);
      out[i * ldo + j] = s;
    }
}
#endif

#if !(defined(__AVX512VNNI__) && defined(__AVX512BW__))
inline void offset_row(int8_t*, int64_t) {}
inline void gemv8(const int8_t*, const int8_t*, int, int64_t, int32_t*) {}
constexpr int PMR = 1;
constexpr int64_t kPackMinM = 0;
inline void pack_panels(const int8_t*, int64_t, int, int8_t*, int32_t*) {}
inline void packed_tile_any(int, int, const int8_t*, int64_t, const int8_t*, int64_t, const int32_t*, int32_t*) {}
#endif

/** One tile of mr ≤ MR rows × nr ≤ NR weight rows: the full shape, or an edge tile a row and a column at a time. */
inline void tile_any(int mr, int nr, const int8_t* const* a, const int8_t* const* w, int64_t K, int32_t* out, int64_t ldo) {
  if (mr == MR && nr == NR) return dot_tile<MR, NR>(a, w, K, out, ldo);
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) dot_tile<1, 1>(a + i, w + j, K, out + i * ldo + j, ldo);
}

/**
 * C [M, N] = A·Wᵀ over int8 rows: A row i at a + i·lda, W row j at w + j·K. With kVnni
 * the rows of A hold a + 128 (offset_row); the packed tiles and gemv8 take 128·Σ W[j] off.
 * `epilogue(i0, i1, j0, j1, acc, ldacc)` consumes each finished block of int32 sums. Threads split
 * the columns (weights), so each thread streams its own part of W once per block of rows.
 */
template <class Epi>
void int8_gemm(int64_t M, int64_t N, int64_t K, const int8_t* a, int64_t lda, const int8_t* w, Epi&& epilogue) {
  constexpr int64_t NB = 64;  // columns per task: 64·K bytes of W stay in L2 while the rows pass
  const int64_t ntasks = (N + NB - 1) / NB;
  if constexpr (kVnni) {
    if (M >= kPackMinM) {
      const int64_t Kg = (K + 3) / 4;
      parallel_for(ntasks, 1, [&](int64_t t0, int64_t t1) {
        thread_local std::vector<int8_t> pbuf;
        if (pbuf.size() < size_t(4 * Kg * 64 + 64)) pbuf.resize(size_t(4 * Kg * 64 + 64));
        int8_t* wp = reinterpret_cast<int8_t*>((reinterpret_cast<uintptr_t>(pbuf.data()) + 63) & ~uintptr_t(63));
        alignas(64) int32_t acc[PMR * NB];
        alignas(64) int32_t comp[NB];
        for (int64_t t = t0; t < t1; t++) {
          const int64_t j0 = t * NB, j1 = std::min(N, j0 + NB);
          const int nc = int(j1 - j0), np = (nc + 15) / 16;
          pack_panels(w + j0 * K, K, nc, wp, comp);
          for (int64_t i0 = 0; i0 < M; i0 += PMR) {
            const int r = int(std::min<int64_t>(PMR, M - i0));
            packed_tile_any(r, np, a + i0 * lda, lda, wp, Kg, comp, acc);
            epilogue(i0, i0 + r, j0, j1, acc, NB);
          }
        }
      });
    } else {
      parallel_for(ntasks, 1, [&](int64_t t0, int64_t t1) {
        int32_t acc[MR * NB];
        for (int64_t t = t0; t < t1; t++) {
          const int64_t j0 = t * NB, j1 = std::min(N, j0 + NB);
          for (int64_t i = 0; i < M; i++)
            for (int64_t j = j0; j < j1; j += 8) gemv8(a + i * lda, w + j * K, int(std::min<int64_t>(8, j1 - j)), K, acc + i * NB + (j - j0));
          epilogue(0, M, j0, j1, acc, NB);
        }
      });
    }
  } else {
    parallel_for(ntasks, 1, [&](int64_t t0, int64_t t1) {
      int32_t acc[MR * NB];
      for (int64_t t = t0; t < t1; t++) {
        const int64_t j0 = t * NB, j1 = std::min(N, j0 + NB);
        for (int64_t i0 = 0; i0 < M; i0 += MR) {
          const int mr = int(std::min<int64_t>(MR, M - i0));
          const int8_t* ar[MR];
          for (int i = 0; i < mr; i++) ar[i] = a + (i0 + i) * lda;
          for (int64_t j = j0; j < j1; j += NR) {
            const int nr = int(std::min<int64_t>(NR, j1 - j));
            const int8_t* wr[NR];
            for (int jj = 0; jj < NR; jj++) wr[jj] = w + std::min<int64_t>(j + jj, N - 1) * K;
            tile_any(mr, nr, ar, wr, K, acc + (j - j0), NB);
          }
          epilogue(i0, i0 + mr, j0, j1, acc, NB);
        }
      }
    });
  }
}

thread_local std::vector<int8_t> qbuf;
int8_t* qscratch(size_t n) {
  if (qbuf.size() < n) qbuf.resize(n);
  return qbuf.data();
}

// int8Gemm(a, b, out): P = [M, N, K, aOff, bOff, outOff]; a [M, K] int8 in [-127, 127], b [N, K]
// any int8, both contiguous; out [M, N] int32 = a·bᵀ.
void int8_gemm_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int64_t M = p.i(), N = p.i(), K = p.i(), aoff = p.i(), boff = p.i(), coff = p.i();
  auto* A = static_cast<const int8_t*>(raw_array(info, 0, napi_int8_array, aoff + M * K, "Int8Array"));
  if (!A) return;
  auto* B = static_cast<const int8_t*>(raw_array(info, 1, napi_int8_array, boff + N * K, "Int8Array"));
  if (!B) return;
  int32_t* C = array_arg<int32_t>(info, 2, coff + M * N);
  if (!C || M == 0 || N == 0) return;
  A += aoff, B += boff, C += coff;
  if (kVnni) {
    int8_t* qa = qscratch(size_t(M * K) + 64);  // + 64: the packed tiles read ≤ 3 bytes past the last row
    std::memcpy(qa, A, size_t(M * K));
    offset_row(qa, M * K);
    A = qa;
  }
  int8_gemm(M, N, K, A, K, B, [&](int64_t i0, int64_t i1, int64_t j0, int64_t j1, const int32_t* acc, int64_t ld) {
    for (int64_t i = i0; i < i1; i++)
      for (int64_t j = j0; j < j1; j++) C[i * N + j] = acc[(i - i0) * ld + (j - j0)];
  });
}

/**
 * Quantizes one float row to int8 (and |q|): dynamic when inv_static is 0 (scale = amax/127, the
 * row's absolute maximum mapped to ±127), else q = round(x·inv_static). Rounding is to nearest,
 * ties to even (the FPU default, as ref's roundHalfEven); x·inv is one float32 product. Returns the
 * row's scale, or NaN when the row holds a NaN or an infinity (its outputs are then NaN).
 */
float quantize_row(const float* x, int64_t K, float inv_static, float scale_static, int8_t* q) {
  float amax = 0.0f;
  bool bad = false;
  for (int64_t k = 0; k < K; k++) {
    const float v = std::fabs(x[k]);
    bad |= !(v <= std::numeric_limits<float>::max());  // NaN or ±∞
    amax = v > amax ? v : amax;
  }
  if (bad) return std::numeric_limits<float>::quiet_NaN();
  float inv = inv_static, scale = scale_static;
  if (inv_static == 0.0f) {
    if (amax == 0.0f) {
      std::memset(q, 0, size_t(K));
      return 0.0f;
    }
    inv = 127.0f / amax;
    scale = amax / 127.0f;
  }
  for (int64_t k = 0; k < K; k++) {
    float v = std::nearbyint(x[k] * inv);
    v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
    q[k] = int8_t(v);
  }
  return scale;
}

// int8Linear(x, wq, wscale, out, bias?): P = [R, K, N, xOff, wOff, sOff, outOff, biasOff (-1: none),
// actScale (0: dynamic per row)]; x [R, K] float32, wq [N, K] int8, wscale [N],
// out [R, N] = (Σ_k q[r][k]·wq[n][k]) · xscale[r] · wscale[n] + bias[n].
void int8_linear_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int64_t R = p.i(), K = p.i(), N = p.i(), xoff = p.i(), woff = p.i(), soff = p.i(), ooff = p.i(), boff = p.i();
  const double act_scale = p.f();
  const float* X = array_arg<float>(info, 0, xoff + R * K);
  if (!X) return;
  auto* Wq = static_cast<const int8_t*>(raw_array(info, 1, napi_int8_array, woff + N * K, "Int8Array"));
  if (!Wq) return;
  const float* S = array_arg<float>(info, 2, soff + N);
  if (!S) return;
  float* O = array_arg<float>(info, 3, ooff + R * N);
  if (!O) return;
  const float* bias = nullptr;
  if (boff >= 0 && !(bias = array_arg<float>(info, 4, boff + N))) return;
  if (R == 0 || N == 0) return;
  X += xoff, Wq += woff, S += soff, O += ooff;
  if (bias) bias += boff;
  int8_t* qa = qscratch(size_t(R * K) + 64);  // + 64: the packed tiles read ≤ 3 bytes past the last row
  std::vector<float> xs(static_cast<size_t>(R));
  const float sstat = float(act_scale), istat = act_scale > 0 ? 1.0f / sstat : 0.0f;
  parallel_for(R, std::max<int64_t>(1, 16384 / std::max<int64_t>(K, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      xs[size_t(r)] = quantize_row(X + r * K, K, istat, sstat, qa + r * K);
      if (kVnni) offset_row(qa + r * K, K);
    }
  });
  int8_gemm(R, N, K, qa, K, Wq, [&](int64_t i0, int64_t i1, int64_t j0, int64_t j1, const int32_t* acc, int64_t ld) {
    for (int64_t i = i0; i < i1; i++) {
      const float sx = xs[size_t(i)];
      float* o = O + i * N;
      const int32_t* a = acc + (i - i0) * ld - j0;
      for (int64_t j = j0; j < j1; j++) o[j] = float(a[j]) * (sx * S[j]) + (bias ? bias[j] : 0.0f);
    }
  });
}

// ---------------------------------------------------------------- int4 weight-only
// From this many rows int4Linear dequantizes slabs of W and runs the float GEMM on them.
constexpr int64_t kInt4GemmRows = 8;

// Layout (src/ops/quant.ts, int4Linear): row n of wq holds K/2 bytes; each block of 32 weights is 16
// bytes, byte j holding weight j in its low nibble and weight j + 16 in its high nibble (so one
// 16-byte load yields the block in order). Weight k of group g: (q − z_g)·s_g; zero points are
// 4-bit, two per byte (group 2i low nibble, 2i + 1 high).

/** Dequantizes block `b` of row `wrow` into 32 floats: (q − z)·s. */
inline void dequant_block(const uint8_t* wrow, int64_t b, float s, float z, float* out) {
  const uint8_t* p = wrow + b * 16;
#if defined(__AVX2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i m = _mm_set1_epi8(0x0f);
  const __m128i lo = _mm_and_si128(v, m), hi = _mm_and_si128(_mm_srli_epi16(v, 4), m);
  const __m256 vs = _mm256_set1_ps(s), vzs = _mm256_set1_ps(-z * s);
  _mm256_storeu_ps(out, _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo)), vs, vzs));
  _mm256_storeu_ps(out + 8, _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8))), vs, vzs));
  _mm256_storeu_ps(out + 16, _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi)), vs, vzs));
  _mm256_storeu_ps(out + 24, _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8))), vs, vzs));
#else
  for (int j = 0; j < 16; j++) {
    out[j] = (float(p[j] & 15) - z) * s;
    out[j + 16] = (float(p[j] >> 4) - z) * s;
  }
#endif
}

/** Σ_k w[k]·x[k] over 32 values, added into acc lanes (one accumulator per row). */
#if defined(__AVX2__)
inline void fma32(const float* w, const float* x, __m256& acc) {
  acc = _mm256_fmadd_ps(_mm256_loadu_ps(w), _mm256_loadu_ps(x), acc);
  acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8), _mm256_loadu_ps(x + 8), acc);
  acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + 16), _mm256_loadu_ps(x + 16), acc);
  acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + 24), _mm256_loadu_ps(x + 24), acc);
}
inline float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#endif

// int4Linear(x, wq, scales, zeros, out, bias?): P = [R, K, N, group, xOff, wOff, sOff, zOff,
// outOff, biasOff (-1: none)]; x [R, K] float32, wq [N, K/2] uint8, scales [N, K/group] float32,
// zeros [N, ceil(K/group/2)] uint8, out [R, N] = x·dequant(W)ᵀ + bias. Each 32-weight block is
// dequantized into registers (GEMV, R = 1) or a 128-byte L1 buffer shared by up to 8 rows.
void int4_linear_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int64_t R = p.i(), K = p.i(), N = p.i(), group = p.i(), xoff = p.i(), woff = p.i(), soff = p.i(), zoff = p.i(), ooff = p.i(),
                boff = p.i();
  if (group <= 0 || group % 32 != 0 || K % group != 0) {
    fail(info, "int4Linear: the group must be a multiple of 32 that divides K");
    return;
  }
  const int64_t G = K / group, Gz = (G + 1) / 2;
  const float* X = array_arg<float>(info, 0, xoff + R * K);
  if (!X) return;
  const uint8_t* Wq = array_arg<uint8_t>(info, 1, woff + N * (K / 2));
  if (!Wq) return;
  const float* S = array_arg<float>(info, 2, soff + N * G);
  if (!S) return;
  const uint8_t* Z = array_arg<uint8_t>(info, 3, zoff + N * Gz);
  if (!Z) return;
  float* O = array_arg<float>(info, 4, ooff + R * N);
  if (!O) return;
  const float* bias = nullptr;
  if (boff >= 0 && !(bias = array_arg<float>(info, 5, boff + N))) return;
  if (R == 0 || N == 0) return;
  X += xoff, Wq += woff, S += soff, Z += zoff, O += ooff;
  if (bias) bias += boff;
  constexpr int RB = 8;  // rows sharing one dequantized block
  const int64_t nblk = K / 32, per_group = group / 32;
  if (R >= kInt4GemmRows) {
    // Many rows: each task dequantizes a slab of NB weight rows into a float buffer (L2-sized for
    // K ≤ 4096) and runs the float micro-kernel GEMM on it, so the dequantization is paid once per
    // weight for all R rows and the products run at SGEMM speed. The old path re-dequantized every
    // block for each 8 rows and summed with one accumulator per row, about half the float32 speed.
    constexpr int64_t NB = 64;
    parallel_for((N + NB - 1) / NB, 1, [&](int64_t t0, int64_t t1) {
      thread_local std::vector<float> slab;
      if (slab.size() < size_t(NB * K)) slab.resize(size_t(NB * K));
      for (int64_t t = t0; t < t1; t++) {
        const int64_t n0 = t * NB, nb = std::min(NB, N - n0);
        for (int64_t n = n0; n < n0 + nb; n++) {
          const uint8_t* wrow = Wq + n * (K / 2);
          float* dst = slab.data() + (n - n0) * K;
          for (int64_t blk = 0; blk < nblk; blk++) {
            const int64_t g = blk / per_group;
            dequant_block(wrow, blk, S[n * G + g], float((Z[n * Gz + (g >> 1)] >> ((g & 1) * 4)) & 15), dst + blk * 32);
          }
        }
        Gemm gm;
        gm.M = R, gm.N = nb, gm.K = K;
        gm.A = X, gm.rsa = K, gm.csa = 1;
        gm.B = slab.data(), gm.rsb = 1, gm.csb = K;
        gm.C = O + n0, gm.ldc = N;
        gm.bias = bias ? bias + n0 : nullptr;
        sgemm_serial(gm);
      }
    });
    return;
  }
  const int64_t grain = std::max<int64_t>(1, (1 << 18) / std::max<int64_t>(1, K * std::min<int64_t>(R, RB)));
  parallel_for(N, grain, [&](int64_t n0, int64_t n1) {
    alignas(32) float wblk[32];
    for (int64_t n = n0; n < n1; n++) {
      const uint8_t* wrow = Wq + n * (K / 2);
      const float* srow = S + n * G;
      const uint8_t* zrow = Z + n * Gz;
      const float b = bias ? bias[n] : 0.0f;
#if defined(__AVX2__)
      if (R == 1) {
        // GEMV: the block goes from 16 bytes to four vectors of floats and straight into four
        // independent accumulators (no store), so generation streams W at the memory's speed.
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        const __m128i m = _mm_set1_epi8(0x0f);
        for (int64_t blk = 0; blk < nblk; blk++) {
          const int64_t g = blk / per_group;
          const float s = srow[g], z = float((zrow[g >> 1] >> ((g & 1) * 4)) & 15);
          const __m256 vs = _mm256_set1_ps(s), vzs = _mm256_set1_ps(-z * s);
          const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wrow + blk * 16));
          const __m128i lo = _mm_and_si128(v, m), hi = _mm_and_si128(_mm_srli_epi16(v, 4), m);
          const float* xb = X + blk * 32;
          a0 = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo)), vs, vzs), _mm256_loadu_ps(xb), a0);
          a1 = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8))), vs, vzs), _mm256_loadu_ps(xb + 8), a1);
          a2 = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi)), vs, vzs), _mm256_loadu_ps(xb + 16), a2);
          a3 = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8))), vs, vzs), _mm256_loadu_ps(xb + 24), a3);
        }
        O[n] = hsum_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))) + b;
        continue;
      }
#endif
      for (int64_t r0 = 0; r0 < R; r0 += RB) {
        const int rb = int(std::min<int64_t>(RB, R - r0));
#if defined(__AVX2__)
        __m256 acc[RB];
        for (int i = 0; i < RB; i++) acc[i] = _mm256_setzero_ps();
#else
        float acc[RB] = {};
#endif
        for (int64_t blk = 0; blk < nblk; blk++) {
          const int64_t g = blk / per_group;
          const float z = float((zrow[g >> 1] >> ((g & 1) * 4)) & 15);
          dequant_block(wrow, blk, srow[g], z, wblk);
          const float* xb = X + r0 * K + blk * 32;
#if defined(__AVX2__)
          for (int i = 0; i < rb; i++) fma32(wblk, xb + i * K, acc[i]);
#else
          for (int i = 0; i < rb; i++)
            for (int j = 0; j < 32; j++) acc[i] += wblk[j] * xb[i * K + j];
#endif
        }
        for (int i = 0; i < rb; i++) {
#if defined(__AVX2__)
          O[(r0 + i) * N + n] = hsum_ps(acc[i]) + b;
#else
          O[(r0 + i) * N + n] = acc[i] + b;
#endif
        }
      }
    }
  });
}

}  // namespace

void init_quant(Napi::Env env, Napi::Object exports) {
  bind(env, exports, "int8Gemm", int8_gemm_binding);
  bind(env, exports, "int8Linear", int8_linear_binding);
  bind(env, exports, "int4Linear", int4_linear_binding);
  exports.Set("quantIsa", Napi::String::New(env, QUANT_ISA));
}

}  // namespace ingot
