// SGEMM after Goto/BLIS: B is packed into KC×NR panels, A into MC×KC blocks of MR-row panels (in
// L2), and an MR×NR register-blocked micro-kernel (gemm_kernel.h) streams them (the B panel stays in
// L1). Big products share one packing of B among the threads, packed on demand and without a
// barrier (gemm_shared); smaller ones give each thread one block of C (gemm_block). See
// docs/native-gemm.md for the measurements behind the choices.
#include "gemm.h"

#include <atomic>
#include <cstdlib>
#include <memory>
#include <vector>

#include "gemm_kernel.h"
#include "threadpool.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define INGOT_GEMM_RELAX() _mm_pause()
#else
#define INGOT_GEMM_RELAX() ((void)0)
#endif

namespace ingot {
namespace {

using namespace gemm_detail;

constexpr int64_t NC_MAX = 4096;
// Below this many flops a GEMM runs on the calling thread (waking the pool costs a few µs).
constexpr double PARALLEL_FLOPS = 1 << 18;
// From this many flops (and enough rows) the threads share one packing of B (gemm_shared).
constexpr double SHARED_FLOPS = 1e8;
// gemm_shared packs all of K for a slab of columns at once: at most this many floats (16 MB).
constexpr int64_t SHARED_B_MAX = int64_t(1) << 22;

// A growable 64-byte-aligned scratch buffer, one per thread per use: allocated once and reused, so
// a call neither allocates nor first-touches (page-faults) its packing buffers.
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

// K blocks of equal length (K = 288 runs as 2 × 144, not 256 + 32). Every path uses this split, so
// each element of C sums its K products in the same order on 1 or many threads (bit-identical).
inline int64_t k_step(int64_t K) { return cdiv(K, cdiv(K, KC)); }

// An A block's rows with MR-row panels: MC_MAX rounded down to whole panels.
template <int64_t MR>
constexpr int64_t mc_max() { return MC_MAX / MR * MR; }

// One packed A block (rows i0..i0+mc) times the packed B panels of columns jc..jc+nc.
template <int64_t MR>
void compute(const Gemm& g, const float* ap, int64_t i0, int64_t mc, const float* bp, int64_t jc, int64_t nc, int64_t kc, bool acc, bool last) {
  const bool fused = last && (g.bias || g.act != Act::None);
  for (int64_t j = 0; j < nc; j += NR) panel<MR>(g, ap, i0, mc, bp + j * kc, jc + j, std::min(NR, nc - j), kc, acc, fused, j + NR < nc ? bp + (j + NR) * kc : nullptr, jc + j + NR);
}

// The serial blocked GEMM on rows [i0, i1) and columns [j0, j1) of C.
template <int64_t MR>
void gemm_block(const Gemm& g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  const int64_t rows = i1 - i0, K = g.K;
  // A blocks as large as fit L2, of equal size so that the last one is not a sliver.
  const int64_t mblocks = cdiv(rows, mc_max<MR>());
  const int64_t mc = std::min(cdiv(cdiv(rows, mblocks), MR) * MR, mc_max<MR>());
  const int64_t kstep = k_step(K);
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
        pack_a<MR>(g, ic, m, pc, kc, ap);
        compute<MR>(g, ap, ic, m, bp, jc, nc, kc, acc, last);
      }
    }
  }
}

// Thread-local arrays of atomics for gemm_shared (one per calling thread), grown once.
template <class T>
struct Atomics {
  std::unique_ptr<std::atomic<T>[]> a;
  size_t cap = 0;
  std::atomic<T>* zeroed(size_t n) {
    if (n > cap) a.reset(new std::atomic<T>[n]), cap = n;
    for (size_t i = 0; i < n; i++) a[i].store(0, std::memory_order_relaxed);
    return a.get();
  }
};
thread_local Atomics<uint8_t> panel_state;  // per B panel: 0 not packed, 1 being packed, 2 packed
thread_local Atomics<int64_t> block_step;   // per row block: how many K steps are done

// Big products (after BLIS, without its barriers). B is packed once for all threads, all of K for a
// slab of columns, one KC×NR panel at a time by whichever thread first needs it: a panel's state is
// claimed by compare-and-swap, so there is no packing phase. The work is one task per (K step, row
// block), K-step-major, taken by the threads as they come; a task packs its A block into the
// thread's own buffer and multiplies it by the step's B panels. The only wait: a task first waits
// for its row block's previous K step (claimed a whole step earlier, so it is normally long done):
// C's rows are then updated by one thread at a time and in K order (bit-identical to 1 thread). So
// no thread ever idles at a barrier, and one slowed down by another process costs at most a task.
// Odd tasks walk the B panels right to left, so two threads starting a step pack different panels.
template <int64_t MR>
void gemm_shared(const Gemm& g, int nt) {
  const int64_t M = g.M, N = g.N, K = g.K;
  const int64_t kstep = k_step(K), nk = cdiv(K, kstep);
  // A slab of columns whose B, all of K, fits SHARED_B_MAX (all of N for 2048²).
  const int64_t ncs = std::min(cdiv(N, NR) * NR, std::max(NR, SHARED_B_MAX / K / NR * NR));
  const int64_t npmax = ncs / NR;
  float* bp = bpack.get(size_t(K * ncs + SLACK));
  // Row blocks of whole MR-row panels, as many as fit L2 rounded up to a multiple of the thread
  // count, dealt out evenly (2048 rows on 2 threads, MR = 14: 16 blocks of 9 or 10 panels).
  const int64_t mp = cdiv(M, MR), nb = cdiv(cdiv(mp, mc_max<MR>() / MR), nt) * nt;
  for (int64_t jc = 0; jc < N; jc += ncs) {
    const int64_t nc = std::min(ncs, N - jc), np = cdiv(nc, NR);
    std::atomic<uint8_t>* state = panel_state.zeroed(size_t(nk * npmax));
    std::atomic<int64_t>* done = block_step.zeroed(size_t(nb));
    parallel_tasks(nk * nb, [&](int64_t t) {
      const int64_t q = t / nb, ib = t % nb;
      const int64_t ic = mp * ib / nb * MR, m = std::min(M, mp * (ib + 1) / nb * MR) - ic;
      const int64_t p = q * kstep, kc = std::min(kstep, K - p);
      const bool acc = g.accumulate || p > 0, last = p + kc == K;
      const bool fused = last && (g.bias || g.act != Act::None);
      float* bq = bp + p * npmax * NR;  // the panels of this K step, kc×NR each
      std::atomic<uint8_t>* st = state + q * npmax;
      float* ap = apack.get(size_t(MC_MAX * KC + SLACK));
      if (m > 0) pack_a<MR>(g, ic, m, p, kc, ap);  // (reads only A: may run before the wait)
      while (done[ib].load(std::memory_order_acquire) != q) INGOT_GEMM_RELAX();
      thread_local std::vector<int64_t> waiting;  // panels another thread was still packing
      waiting.clear();
      for (int64_t s = 0; s < np && m > 0; s++) {
        const int64_t j = t & 1 ? np - 1 - s : s;
        float* b = bq + j * NR * kc;
        uint8_t seen = st[j].load(std::memory_order_acquire);
        if (seen == 0 && st[j].compare_exchange_strong(seen, 1, std::memory_order_acq_rel)) {
          pack_b_panel(g, p, kc, jc + j * NR, std::min(NR, nc - j * NR), b);
          st[j].store(2, std::memory_order_release);
          seen = 2;
        }
        if (seen == 2) {
          // The next panel in this task's order, if it is packed already: prefetched during this one.
          const int64_t jn = t & 1 ? np - 2 - s : s + 1;
          const bool pf = s + 1 < np && st[jn].load(std::memory_order_acquire) == 2;
          panel<MR>(g, ap, ic, m, b, jc + j * NR, std::min(NR, nc - j * NR), kc, acc, fused, pf ? bq + jn * NR * kc : nullptr, jc + jn * NR);
        } else {
          waiting.push_back(j);  // come back to it after the others
        }
      }
      for (const int64_t j : waiting) {
        while (st[j].load(std::memory_order_acquire) != 2) INGOT_GEMM_RELAX();
        panel<MR>(g, ap, ic, m, bq + j * NR * kc, jc + j * NR, std::min(NR, nc - j * NR), kc, acc, fused, nullptr, 0);
      }
      done[ib].store(q + 1, std::memory_order_release);
    });
  }
}

// One row of A (M = 1: a decoding step's linear layers, batch 1). Every element of B is used once,
// so packing B would cost more than the product: B is read in place, once, in the direction it is
// contiguous. Columns [j0, j1) of C; `a` is the row, contiguous. Each C element sums its K products
// in one fixed order, whatever the thread count (but not the order of the packed path for M > 1).
void gemv_block(const Gemm& g, const float* a, int64_t j0, int64_t j1) {
  const int64_t K = g.K;
  float* c = g.C;
  if (g.rsb == 1) {  // column j of B is contiguous: C[j] = dot(a, B[:, j]), 8 columns at a time
    const int64_t kv = K / W * W;
    int64_t j = j0;
    for (; j + 8 <= j1; j += 8) {
      const float* b = g.B + j * g.csb;
      V s0 = vset1(0), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
      for (int64_t k = 0; k < kv; k += W) {
        const V x = vload(a + k);
        s0 = vfma(x, vload(b + k), s0);
        s1 = vfma(x, vload(b + g.csb + k), s1);
        s2 = vfma(x, vload(b + 2 * g.csb + k), s2);
        s3 = vfma(x, vload(b + 3 * g.csb + k), s3);
        s4 = vfma(x, vload(b + 4 * g.csb + k), s4);
        s5 = vfma(x, vload(b + 5 * g.csb + k), s5);
        s6 = vfma(x, vload(b + 6 * g.csb + k), s6);
        s7 = vfma(x, vload(b + 7 * g.csb + k), s7);
      }
      float r[8] = {vsum(s0), vsum(s1), vsum(s2), vsum(s3), vsum(s4), vsum(s5), vsum(s6), vsum(s7)};
      for (int64_t k = kv; k < K; k++)
        for (int t = 0; t < 8; t++) r[t] += a[k] * b[t * g.csb + k];
      for (int t = 0; t < 8; t++) c[j + t] = g.accumulate ? c[j + t] + r[t] : r[t];
    }
    for (; j < j1; j++) {
      const float* b = g.B + j * g.csb;
      V s = vset1(0);
      for (int64_t k = 0; k < kv; k += W) s = vfma(vload(a + k), vload(b + k), s);
      float r = vsum(s);
      for (int64_t k = kv; k < K; k++) r += a[k] * b[k];
      c[j] = g.accumulate ? c[j] + r : r;
    }
  } else {  // row k of B is contiguous (csb == 1): C[j0:j1] = sum over k of a[k]·B[k, j0:j1]
    int64_t j = j0;
    for (; j + 4 * W <= j1; j += 4 * W) {
      V s0 = vset1(0), s1 = s0, s2 = s0, s3 = s0;
      const float* b = g.B + j;
      for (int64_t k = 0; k < K; k++, b += g.rsb) {
        const V x = vset1(a[k]);
        s0 = vfma(x, vload(b), s0);
        s1 = vfma(x, vload(b + W), s1);
        s2 = vfma(x, vload(b + 2 * W), s2);
        s3 = vfma(x, vload(b + 3 * W), s3);
      }
      if (g.accumulate) s0 = vfma(vset1(1), vload(c + j), s0), s1 = vfma(vset1(1), vload(c + j + W), s1), s2 = vfma(vset1(1), vload(c + j + 2 * W), s2), s3 = vfma(vset1(1), vload(c + j + 3 * W), s3);
      vstore(c + j, s0), vstore(c + j + W, s1), vstore(c + j + 2 * W, s2), vstore(c + j + 3 * W, s3);
    }
    for (; j + W <= j1; j += W) {
      V s = vset1(0);
      const float* b = g.B + j;
      for (int64_t k = 0; k < K; k++, b += g.rsb) s = vfma(vset1(a[k]), vload(b), s);
      if (g.accumulate) s = vfma(vset1(1), vload(c + j), s);
      vstore(c + j, s);
    }
    for (; j < j1; j++) {
      float r = 0;
      for (int64_t k = 0; k < K; k++) r += a[k] * g.B[k * g.rsb + j];
      c[j] = g.accumulate ? c[j] + r : r;
    }
  }
  if (g.bias || g.act != Act::None) epilogue(g, 0, 1, j0, j1 - j0);
}

thread_local Scratch arow;

void gemv(const Gemm& g, bool allow_parallel) {
  const int64_t K = g.K, N = g.N;
  const float* a = g.A;
  if (g.csa != 1) {  // gather the row once (K floats)
    float* t = arow.get(size_t(K));
    for (int64_t k = 0; k < K; k++) t[k] = g.A[k * g.csa];
    a = t;
  }
  const double flops = 2.0 * double(N) * double(K);
  // The GEMM's threshold. (Twice it kept a 384×384 GEMV on one thread: faster alone with B in
  // cache, but `baby` generation, whose 42 MB of weights do not stay in cache, fell 248 → 186 tokens/s.)
  const int nt = allow_parallel && flops >= PARALLEL_FLOPS ? num_threads() : 1;
  // Column ranges in whole groups of 4W (the row-contiguous loop's width; also a multiple of 8).
  const int64_t unit = 4 * W, groups = cdiv(N, unit);
  if (nt == 1 || groups < 2) {
    gemv_block(g, a, 0, N);
    return;
  }
  const int64_t tasks = std::min<int64_t>(nt, groups);
  parallel_tasks(tasks, [&](int64_t t) {
    const int64_t j0 = std::min(N, groups * t / tasks * unit), j1 = std::min(N, groups * (t + 1) / tasks * unit);
    if (j0 < j1) gemv_block(g, a, j0, j1);
  });
}

// The packed GEMM with MR-row A panels, on nt threads (flops: 2·M·N·K).
template <int64_t MR>
void blocked(const Gemm& g, int nt, double flops) {
  const int64_t M = g.M, N = g.N;
  if (nt == 1) {
    gemm_block<MR>(g, 0, M, 0, N);
    return;
  }
  if (flops >= SHARED_FLOPS && M >= 4 * MC_MAX) {
    gemm_shared<MR>(g, nt);
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
    if (i0 < i1 && j0 < j1) gemm_block<MR>(g, i0, i1, j0, j1);
  });
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
  if (M == 1 && (g.rsb == 1 || g.csb == 1)) {
    gemv(g, allow_parallel);
    return;
  }
  const double flops = 2.0 * double(M) * double(N) * double(K);
  const int nt = allow_parallel && flops >= PARALLEL_FLOPS ? num_threads() : 1;
  if (K >= WIDE_MIN_K) blocked<MR_WIDE>(g, nt, flops);
  else blocked<MR_NARROW>(g, nt, flops);
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
