// SGEMM after Goto/BLIS: B is packed into KC×NR panels (shared, in L3), each thread packs its MC×KC
// block of A into MR×KC panels (in its L2), and an MR×NR register-blocked micro-kernel streams them
// (the B panel stays in L1). Threads split M blocks, and N panels when M is small.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>

#include "pool.h"
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

inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// A growable 64-byte-aligned scratch buffer, one per thread per use.
struct Scratch {
  float* p = nullptr;
  size_t cap = 0;
  float* get(size_t n) {
    if (n > cap) {
      std::free(p);
      const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
#ifdef _MSC_VER
      p = static_cast<float*>(_aligned_malloc(bytes, 64));
#else
      p = static_cast<float*>(std::aligned_alloc(64, bytes));
#endif
      cap = n;
    }
    return p;
  }
};
thread_local Scratch apack, bpack;

// c[MR×NR] = (acc ? c : 0) + a·b, a: kc×MR panel, b: kc×NR panel.
inline void micro(int64_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c, int64_t ldc, bool acc) {
  V c0a = vzero(), c0b = vzero(), c1a = vzero(), c1b = vzero(), c2a = vzero(), c2b = vzero();
  V c3a = vzero(), c3b = vzero(), c4a = vzero(), c4b = vzero(), c5a = vzero(), c5b = vzero();
#define INGOT_ROW(r)                 \
  {                                  \
    const V ar = vset1(a[r]);        \
    c##r##a = vfma(ar, b0, c##r##a); \
    c##r##b = vfma(ar, b1, c##r##b); \
  }
  for (int64_t k = 0; k < kc; k++) {
    const V b0 = vload(b), b1 = vload(b + W);
    INGOT_ROW(0) INGOT_ROW(1) INGOT_ROW(2) INGOT_ROW(3) INGOT_ROW(4) INGOT_ROW(5)
    a += MR;
    b += NR;
  }
#undef INGOT_ROW
#define INGOT_STORE(r)                                                     \
  {                                                                        \
    float* cr = c + r * ldc;                                               \
    vstore(cr, acc ? vadd(vload(cr), c##r##a) : c##r##a);                  \
    vstore(cr + W, acc ? vadd(vload(cr + W), c##r##b) : c##r##b);          \
  }
  INGOT_STORE(0) INGOT_STORE(1) INGOT_STORE(2) INGOT_STORE(3) INGOT_STORE(4) INGOT_STORE(5)
#undef INGOT_STORE
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
      continue;
    }
    for (int64_t r = 0; r < mr; r++) {
      const float* row = s + r * g.rsa;
      if (g.csa == 1)
        for (int64_t k = 0; k < kc; k++) d[k * MR + r] = row[k];
      else
        for (int64_t k = 0; k < kc; k++) d[k * MR + r] = row[k * g.csa];
    }
    for (int64_t r = mr; r < MR; r++)
      for (int64_t k = 0; k < kc; k++) d[k * MR + r] = 0.0f;
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
    return;
  }
  for (int64_t c = 0; c < nr; c++) {
    const float* col = s + c * g.csb;
    if (g.rsb == 1)
      for (int64_t k = 0; k < kc; k++) d[k * NR + c] = col[k];
    else
      for (int64_t k = 0; k < kc; k++) d[k * NR + c] = col[k * g.rsb];
  }
  for (int64_t c = nr; c < NR; c++)
    for (int64_t k = 0; k < kc; k++) d[k * NR + c] = 0.0f;
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

// One A block (rows i0..i0+mc) times NR panels [jp0, jp1) of the packed B block (columns from jc).
void compute(const Gemm& g, const float* ap, int64_t i0, int64_t mc, const float* bp, int64_t jc, int64_t nc, int64_t jp0, int64_t jp1,
             int64_t kc, bool acc, bool last) {
  alignas(64) float tmp[MR * NR];
  const bool fused = last && (g.bias || g.act != Act::None);
  for (int64_t jp = jp0; jp < jp1; jp++) {
    const int64_t j = jp * NR, nr = std::min(NR, nc - j);
    const float* b = bp + j * kc;
    for (int64_t ip = 0; ip < mc; ip += MR) {
      const int64_t mr = std::min(MR, mc - ip);
      float* c = g.C + (i0 + ip) * g.ldc + jc + j;
      if (mr == MR && nr == NR) {
        micro(kc, ap + ip * kc, b, c, g.ldc, acc);
      } else {
        micro(kc, ap + ip * kc, b, tmp, NR, false);
        for (int64_t r = 0; r < mr; r++)
          for (int64_t q = 0; q < nr; q++) c[r * g.ldc + q] = acc ? c[r * g.ldc + q] + tmp[r * NR + q] : tmp[r * NR + q];
      }
      if (fused) epilogue(g, i0 + ip, mr, jc + j, nr);
    }
  }
}

template <class F>
void maybe_parallel(bool par, int64_t ntasks, F&& f) {
  if (par)
    parallel_tasks(ntasks, f);
  else
    for (int64_t t = 0; t < ntasks; t++) f(t);
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
  const int nt = allow_parallel && 2.0 * double(M) * double(N) * double(K) >= PARALLEL_FLOPS ? num_threads() : 1;
  const bool par = nt > 1;
  // M blocks: as few as fit L2, but a multiple of the thread count so that every thread gets as many.
  int64_t mb = cdiv(M, MC_MAX);
  if (par && mb >= nt) mb = cdiv(mb, nt) * nt;
  const int64_t mc = std::min(cdiv(cdiv(M, mb), MR) * MR, cdiv(M, MR) * MR);
  mb = cdiv(M, mc);
  const int64_t ns = par && mb < nt ? cdiv(nt, mb) : 1;  // N splits per M block when M is small
  const int64_t ncap = std::min(N, NC_MAX);
  float* bp = bpack.get(size_t(KC * cdiv(ncap, NR) * NR));
  for (int64_t jc = 0; jc < N; jc += NC_MAX) {
    const int64_t nc = std::min(NC_MAX, N - jc), np = cdiv(nc, NR);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = std::min(KC, K - pc);
      const bool acc = g.accumulate || pc > 0, last = pc + kc == K;
      const int64_t pgroups = par ? std::min<int64_t>(np, 4 * nt) : 1;
      maybe_parallel(par && np > 1, pgroups, [&](int64_t t) {
        for (int64_t p = np * t / pgroups; p < np * (t + 1) / pgroups; p++)
          pack_b_panel(g, pc, kc, jc + p * NR, std::min(NR, nc - p * NR), bp + p * NR * kc);
      });
      maybe_parallel(par, mb * ns, [&](int64_t t) {
        const int64_t ib = t / ns, s = t % ns;
        const int64_t i0 = ib * mc, m = std::min(mc, M - i0);
        float* ap = apack.get(size_t(mc * kc));
        pack_a(g, i0, m, pc, kc, ap);
        compute(g, ap, i0, m, bp, jc, nc, np * s / ns, np * (s + 1) / ns, kc, acc, last);
      });
    }
  }
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
