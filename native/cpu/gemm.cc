// SGEMM after Goto/BLIS: B is packed into KC×NR panels (in L3), A into MC×KC blocks of MR-row
// panels (in L2), and an MR×NR register-blocked micro-kernel streams them (the B panel stays in
// L1). Packing transposes with 8×8 register transposes where an operand is contiguous along K.
// Threads share B's packing and take A blocks dynamically for big products (gemm_shared), or each
// take one block of C and run the serial algorithm on it for smaller ones.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>

#include "threadpool.h"
#include "simd.h"

namespace ingot {
namespace {

constexpr int64_t MR = 6;
constexpr int64_t NR = 2 * W;
constexpr int64_t KC = 256;
constexpr int64_t MC_MAX = 144;
constexpr int64_t NC_MAX = 4096;
// Below this many flops a GEMM runs on the calling thread (waking the pool costs a few µs).
constexpr double PARALLEL_FLOPS = 1 << 18;
// From this many flops (and enough rows) the threads share one packing of B (gemm_shared).
constexpr double SHARED_FLOPS = 1e8;

inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// A growable 64-byte-aligned scratch buffer, one per thread per use.
struct Scratch {
  float* p = nullptr;
  size_t cap = 0;
  float* get(size_t n) {
    if (n > cap) {
      const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
#ifdef _MSC_VER
      _aligned_free(p);
      p = static_cast<float*>(_aligned_malloc(bytes, 64));
#else
      std::free(p);
      p = static_cast<float*>(std::aligned_alloc(64, bytes));
#endif
      cap = n;
    }
    return p;
  }
};
thread_local Scratch apack, bpack;

// c[R×NR] = (acc ? c : 0) + a·b for the first R ≤ MR rows of a kc×MR panel a and a kc×NR panel b.
// R < MR serves the last panel of a block (M = 32 is 5 panels of 6 and one of 2), so no FMAs are
// spent on zero padding. The accumulators stay in registers: every loop over r is unrolled.
template <int R>
inline void micro(int64_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c, int64_t ldc, bool acc) {
  V c0[R], c1[R];
#pragma GCC unroll 6
  for (int r = 0; r < R; r++) {
    c0[r] = vzero(), c1[r] = vzero();
    INGOT_PREFETCH(c + r * ldc, 1);  // the tile is written at the end: fetch it meanwhile
    INGOT_PREFETCH(c + r * ldc + NR - 1, 1);
  }
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; k++) {
    const V b0 = vload(b), b1 = vload(b + W);
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
      const V ar = vset1(a[r]);
      c0[r] = vfma(ar, b0, c0[r]);
      c1[r] = vfma(ar, b1, c1[r]);
    }
    a += MR;
    b += NR;
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; r++) {
    float* cr = c + r * ldc;
    vstore(cr, acc ? vadd(vload(cr), c0[r]) : c0[r]);
    vstore(cr + W, acc ? vadd(vload(cr + W), c1[r]) : c1[r]);
  }
}

// The micro-kernel for mr rows (1..MR).
inline void micro_rows(int64_t mr, int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool acc) {
  switch (mr) {
    case 6: return micro<6>(kc, a, b, c, ldc, acc);
    case 5: return micro<5>(kc, a, b, c, ldc, acc);
    case 4: return micro<4>(kc, a, b, c, ldc, acc);
    case 3: return micro<3>(kc, a, b, c, ldc, acc);
    case 2: return micro<2>(kc, a, b, c, ldc, acc);
    default: return micro<1>(kc, a, b, c, ldc, acc);
  }
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
// the k-row they belong to; later stores overwrite them, and the buffers have slack for the last.
void transpose_pack(const float* __restrict src, int64_t ld, int64_t rows, int64_t kc, int64_t R, float* __restrict d) {
  int64_t k = 0;
#if defined(__AVX2__)
  for (; k + 8 <= kc; k += 8)
    for (int64_t r0 = 0; r0 < R; r0 += 8) {
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
void pack_a(const Gemm& g, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* __restrict ap) {
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
void pack_b_panel(const Gemm& g, int64_t p0, int64_t kc, int64_t j0, int64_t nr, float* __restrict d) {
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
void epilogue(const Gemm& g, int64_t i0, int64_t mr, int64_t j0, int64_t nr) {
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

// One packed A block (rows i0..i0+mc) times the packed B panels [0, np) (columns from jc).
void compute(const Gemm& g, const float* ap, int64_t i0, int64_t mc, const float* bp, int64_t jc, int64_t nc, int64_t kc, bool acc, bool last) {
  alignas(64) float tmp[MR * NR];
  const bool fused = last && (g.bias || g.act != Act::None);
  for (int64_t j = 0; j < nc; j += NR) {
    const int64_t nr = std::min(NR, nc - j);
    const float* b = bp + j * kc;
    for (int64_t ip = 0; ip < mc; ip += MR) {
      const int64_t mr = std::min(MR, mc - ip);
      float* c = g.C + (i0 + ip) * g.ldc + jc + j;
      if (nr == NR) {
        micro_rows(mr, kc, ap + ip * kc, b, c, g.ldc, acc);
      } else {
        micro_rows(mr, kc, ap + ip * kc, b, tmp, NR, false);
        for (int64_t r = 0; r < mr; r++)
          for (int64_t q = 0; q < nr; q++) c[r * g.ldc + q] = acc ? c[r * g.ldc + q] + tmp[r * NR + q] : tmp[r * NR + q];
      }
      if (fused) epilogue(g, i0 + ip, mr, jc + j, nr);
    }
  }
}

constexpr int64_t SLACK = 64;  // floats after each packed buffer (see transpose_pack)

// The serial blocked GEMM on rows [i0, i1) and columns [j0, j1) of C.
void gemm_block(const Gemm& g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  const int64_t rows = i1 - i0, K = g.K;
  // A blocks as large as fit L2, of equal size so that the last one is not a sliver.
  const int64_t mblocks = cdiv(rows, MC_MAX);
  const int64_t mc = std::min(cdiv(cdiv(rows, mblocks), MR) * MR, MC_MAX);
  // K blocks of equal length (K = 288 runs as 2 × 144, not 256 + 32).
  const int64_t kstep = cdiv(K, cdiv(K, KC));
  float* bp = bpack.get(size_t(KC * cdiv(std::min(j1 - j0, NC_MAX), NR) * NR + SLACK));
  float* ap = apack.get(size_t(MC_MAX * KC + SLACK));
  for (int64_t jc = j0; jc < j1; jc += NC_MAX) {
    const int64_t nc = std::min(NC_MAX, j1 - jc);
    for (int64_t pc = 0; pc < K; pc += kstep) {
      const int64_t kc = std::min(kstep, K - pc);
      const bool acc = g.accumulate || pc > 0, last = pc + kc == K;
      for (int64_t j = 0; j < nc; j += NR) pack_b_panel(g, pc, kc, jc + j, std::min(NR, nc - j), bp + j * kc);
      for (int64_t ic = i0; ic < i1; ic += mc) {
        const int64_t m = std::min(mc, i1 - ic);
        pack_a(g, ic, m, pc, kc, ap);
        compute(g, ap, ic, m, bp, jc, nc, kc, acc, last);
      }
    }
  }
}

// Big products (BLIS's way): each KC×NC block of B is packed once, by all threads together, into the
// caller's buffer; then the threads take MC-row blocks of A (packed into their own buffers) as they
// come, many per thread, so that one slowed down by other work on its core delays little. Every
// element is packed once, where cutting C into per-thread blocks would pack A or B once per block.
void gemm_shared(const Gemm& g, int nt) {
  const int64_t M = g.M, N = g.N, K = g.K;
  // A blocks of whole MR-row panels, as many as fit L2 rounded up to a multiple of the thread
  // count, dealt out evenly (2048 rows on 2 threads: 16 blocks of 21 or 22 panels).
  const int64_t mp = cdiv(M, MR), mblocks = cdiv(cdiv(mp, MC_MAX / MR), nt) * nt;
  const int64_t kstep = cdiv(K, cdiv(K, KC));
  float* bp = bpack.get(size_t(KC * cdiv(std::min(N, NC_MAX), NR) * NR + SLACK));
  for (int64_t jc = 0; jc < N; jc += NC_MAX) {
    const int64_t nc = std::min(NC_MAX, N - jc), np = cdiv(nc, NR);
    for (int64_t pc = 0; pc < K; pc += kstep) {
      const int64_t kc = std::min(kstep, K - pc);
      const bool acc = g.accumulate || pc > 0, last = pc + kc == K;
      const int64_t pgroups = std::min<int64_t>(np, 4 * nt);
      parallel_tasks(pgroups, [&](int64_t t) {
        for (int64_t p = np * t / pgroups; p < np * (t + 1) / pgroups; p++)
          pack_b_panel(g, pc, kc, jc + p * NR, std::min(NR, nc - p * NR), bp + p * NR * kc);
      });
      parallel_tasks(mblocks, [&](int64_t ib) {
        const int64_t ic = mp * ib / mblocks * MR, m = std::min(M, mp * (ib + 1) / mblocks * MR) - ic;
        if (m <= 0) return;
        float* ap = apack.get(size_t(MC_MAX * KC + SLACK));
        pack_a(g, ic, m, pc, kc, ap);
        compute(g, ap, ic, m, bp, jc, nc, kc, acc, last);
      });
    }
  }
}

void sgemm_impl(const Gemm& g, bool allow_parallel) {
  const int64_t M = g.M, N = g.N, K = g.K;
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N && !g.accumulate; j++) g.C[i * g.ldc + j] = 0.0f;
    epilogue(g, 0, M, 0, N);
    return;
  }
  const double flops = 2.0 * double(M) * double(N) * double(K);
  const int nt = allow_parallel && flops >= PARALLEL_FLOPS ? num_threads() : 1;
  if (nt == 1) {
    gemm_block(g, 0, M, 0, N);
    return;
  }
  if (flops >= SHARED_FLOPS && M >= 4 * MC_MAX) {
    gemm_shared(g, nt);
    return;
  }
  // Smaller products: C is cut into tm × tn blocks, one task each, every task packing its own A
  // rows and B columns (one dispatch, no shared buffers). The grid packs the fewest elements (A is
  // packed tn times, B tm times).
  const int64_t tasks = nt;
  int64_t tm = 1, tn = tasks;
  double best = -1;
  for (int64_t a = 1; a <= tasks; a++) {
    if (tasks % a) continue;
    const int64_t b = tasks / a;
    if ((a > 1 && M < a * MR) || (b > 1 && N < b * NR)) continue;
    const double cost = double(M) * double(b) + double(N) * double(a);
    if (best < 0 || cost < best) best = cost, tm = a, tn = b;
  }
  if (best < 0) {  // too small to cut both ways: cut the longer side as far as it goes
    if (M >= N) tm = std::max<int64_t>(1, std::min<int64_t>(tasks, M / MR)), tn = 1;
    else tn = std::max<int64_t>(1, std::min<int64_t>(tasks, N / NR)), tm = 1;
  }
  const int64_t mp = cdiv(M, MR), np = cdiv(N, NR);  // micro-panels, split evenly
  parallel_tasks(tm * tn, [&](int64_t t) {
    const int64_t a = t / tn, b = t % tn;
    const int64_t i0 = std::min(M, mp * a / tm * MR), i1 = std::min(M, mp * (a + 1) / tm * MR);
    const int64_t j0 = std::min(N, np * b / tn * NR), j1 = std::min(N, np * (b + 1) / tn * NR);
    if (i0 < i1 && j0 < j1) gemm_block(g, i0, i1, j0, j1);
  });
}

}  // namespace

void sgemm(const Gemm& g) { sgemm_impl(g, true); }

void sgemm_serial(const Gemm& g) { sgemm_impl(g, false); }

void sgemm_batched(const Gemm& g, int64_t count, const int64_t* aoff, const int64_t* boff, const int64_t* coff) {
  auto one = [&](int64_t i, bool par) {
    Gemm h = g;
    h.A += aoff[i];
    h.B += boff[i];
    h.C += coff[i];
    sgemm_impl(h, par);
  };
  const double flops = 2.0 * double(g.M) * double(g.N) * double(g.K);
  if (count > 1 && num_threads() > 1 && flops < 8.0 * PARALLEL_FLOPS * num_threads())
    parallel_for(count, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; i++) one(i, false);
    });
  else
    for (int64_t i = 0; i < count; i++) one(i, true);
}

const char* gemm_isa() { return INGOT_ISA; }

}  // namespace ingot
