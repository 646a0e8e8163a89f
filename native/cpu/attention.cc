// Fused scaled-dot-product attention, float32, forward and backward (flash-attention style): per
// (batch·head) and block of query rows the scores live in a per-thread block buffer, never a [T, S] tensor.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "binding.h"
#include "simd.h"
#include "threadpool.h"
#include "vmath.h"

namespace ingot {
namespace {

constexpr int64_t TB = 16;  // query rows per block: TB·S floats of scores stay in L1/L2

inline int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

/** A [B, H, R, C] view read from P as [offset, 4 strides]. */
struct V4 {
  int64_t off, s0, s1, s2, s3;
  int64_t at(int64_t b, int64_t h, int64_t r, int64_t c) const { return off + b * s0 + h * s1 + r * s2 + c * s3; }
};
/** One past the largest element a [n0, n1, n2, n3] view touches (0 when empty): the length a typed array needs. */
int64_t extent(const V4& v, int64_t n0, int64_t n1, int64_t n2, int64_t n3) {
  if (n0 * n1 * n2 * n3 == 0) return 0;
  auto pos = [](int64_t s) { return s < 0 ? int64_t(0) : s; };
  return v.off + (n0 - 1) * pos(v.s0) + (n1 - 1) * pos(v.s1) + (n2 - 1) * pos(v.s2) + (n3 - 1) * pos(v.s3) + 1;
}
V4 read4(Params& p) {
  V4 v;
  v.off = p.i(), v.s0 = p.i(), v.s1 = p.i(), v.s2 = p.i(), v.s3 = p.i();
  return v;
}

// C[i][0..n) (+)= Σ_k A(i, k)·Bm[k][0..n) for i < m, where A(i, k) = a[i·ars + k·acs], n a multiple of W
// and Bm rows ldb apart. Register block: 4 rows × 2 vectors (8 accumulators), as a GEMM micro-kernel.
template <int MR, int NV>
inline void tile(const float* a, int64_t ars, int64_t acs, int64_t kdim, const float* bm, int64_t ldb, float* c, int64_t ldc, bool acc) {
  V r[MR][NV];
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) r[i][v] = acc ? vload(c + i * ldc + v * W) : vzero();
  for (int64_t k = 0; k < kdim; k++) {
    const float* brow = bm + k * ldb;
    V bv[NV];
    for (int v = 0; v < NV; v++) bv[v] = vload(brow + v * W);
    for (int i = 0; i < MR; i++) {
      const V av = vset1(a[i * ars + k * acs]);
      for (int v = 0; v < NV; v++) r[i][v] = vfma(av, bv[v], r[i][v]);
    }
  }
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++) vstore(c + i * ldc + v * W, r[i][v]);
}

template <int MR>
inline void tile_row(const float* a, int64_t ars, int64_t acs, int64_t kdim, const float* bm, int64_t ldb, int64_t n, float* c, int64_t ldc, bool acc) {
  int64_t j = 0;
  for (; j + 2 * W <= n; j += 2 * W) tile<MR, 2>(a, ars, acs, kdim, bm + j, ldb, c + j, ldc, acc);
  if (j < n) tile<MR, 1>(a, ars, acs, kdim, bm + j, ldb, c + j, ldc, acc);
}

void mm(const float* a, int64_t ars, int64_t acs, int64_t m, int64_t kdim, const float* bm, int64_t ldb, int64_t n, float* c, int64_t ldc, bool acc) {
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) tile_row<4>(a + i * ars, ars, acs, kdim, bm, ldb, n, c + i * ldc, ldc, acc);
  const float* ai = a + i * ars;
  float* ci = c + i * ldc;
  switch (m - i) {
    case 3: tile_row<3>(ai, ars, acs, kdim, bm, ldb, n, ci, ldc, acc); break;
    case 2: tile_row<2>(ai, ars, acs, kdim, bm, ldb, n, ci, ldc, acc); break;
    case 1: tile_row<1>(ai, ars, acs, kdim, bm, ldb, n, ci, ldc, acc); break;
    default: break;
  }
}

/** The sizes, scalars and views of one call (forward and backward share the layout). */
struct Sdpa {
  int64_t B, H, T, S, D, Dv;
  float scale, keep_scale;
  bool causal, has_keep;
  int mask_kind;  // 0 none, 1 bool (nonzero = may attend), 2 float (added)
  V4 q, k, v, m, kp;
  const float *Q, *K, *Vd;
  const uint8_t* mb = nullptr;  // bool mask
  const float* mf = nullptr;    // float mask
  const uint8_t* keep = nullptr;
  int64_t Dp, Dvp;  // D, Dv rounded up to W

  /** Keys a query row i (< T) can see at most: causal rows stop at i (top-left aligned). */
  int64_t keys_for(int64_t i_end) const { return causal ? std::min(S, i_end) : S; }
};

/** Reads the common header: [B, H, T, S, D, Dv, scale, isCausal, maskKind, hasKeep, keepScale, q, k, v, mask, keep]. */
Sdpa header(Params& p) {
  Sdpa a;
  a.B = p.i(), a.H = p.i(), a.T = p.i(), a.S = p.i(), a.D = p.i(), a.Dv = p.i();
  a.scale = float(p.f());
  a.causal = p.i() != 0;
  a.mask_kind = int(p.i());
  a.has_keep = p.i() != 0;
  a.keep_scale = float(p.f());
  a.q = read4(p), a.k = read4(p), a.v = read4(p), a.m = read4(p), a.kp = read4(p);
  a.Dp = round_up(std::max<int64_t>(a.D, 1), W), a.Dvp = round_up(std::max<int64_t>(a.Dv, 1), W);
  return a;
}

/** Per-thread scratch, grown on demand and zero-filled (the padding lanes must read as zero). */
thread_local std::vector<float> scratch;
float* tmp(size_t n) {
  if (scratch.size() < n) scratch.resize(n);
  std::fill(scratch.begin(), scratch.begin() + n, 0.0f);
  return scratch.data();
}

/** Packs rows [0, n) of a [.., n, c] view at (b, h): `rows` as [n][ldr] (row-major), `cols` as [c][ldc] (transposed). */
void pack(const float* x, const V4& v, int64_t b, int64_t h, int64_t n, int64_t c, float* rows, int64_t ldr, float* cols, int64_t ldc) {
  for (int64_t j = 0; j < n; j++) {
    const float* src = x + v.at(b, h, j, 0);
    if (rows) {
      float* dst = rows + j * ldr;
      if (v.s3 == 1) std::memcpy(dst, src, size_t(c) * sizeof(float));
      else
        for (int64_t d = 0; d < c; d++) dst[d] = src[d * v.s3];
    }
    if (cols)
      for (int64_t d = 0; d < c; d++) cols[d * ldc + j] = src[d * v.s3];
  }
}

/**
 * The scores of query rows [i0, i0 + rows) against keys [0, n): s = scale·q·kᵀ, then −∞ where causal
 * hides the key or a bool mask forbids it, plus a float mask. s has rows of ld floats.
 */
void mask_scores(const Sdpa& a, int64_t b, int64_t h, int64_t i0, int64_t rows, int64_t n, float* s, int64_t ld) {
  for (int64_t r = 0; r < rows; r++) {
    const int64_t i = i0 + r;
    float* sr = s + r * ld;
    for (int64_t j = 0; j < n; j++) sr[j] *= a.scale;
    if (a.causal)
      for (int64_t j = i + 1; j < n; j++) sr[j] = -INFINITY;
    if (a.mask_kind == 1) {
      const uint8_t* mr = a.mb + a.m.at(b, h, i, 0);
      for (int64_t j = 0; j < n; j++)
        if (!mr[j * a.m.s3]) sr[j] = -INFINITY;
    } else if (a.mask_kind == 2) {
      const float* mr = a.mf + a.m.at(b, h, i, 0);
      for (int64_t j = 0; j < n; j++) sr[j] += mr[j * a.m.s3];
    }
  }
}

/** Multiplies the probabilities of row (b, h, i) by keep/(1 − p) (dropout of the attention weights). */
void apply_keep(const Sdpa& a, int64_t b, int64_t h, int64_t i, float* pr, int64_t n) {
  const uint8_t* kr = a.keep + a.kp.at(b, h, i, 0);
  for (int64_t j = 0; j < n; j++) pr[j] = kr[j * a.kp.s3] ? pr[j] * a.keep_scale : 0.0f;
}

/** Reads the optional mask (bool or float32) and keep mask (bool) arguments from index i; false on a bad argument. */
bool masks(const Napi::CallbackInfo& info, size_t i, Sdpa& a) {
  if (a.mask_kind == 1 && !(a.mb = array_arg<uint8_t>(info, i++, extent(a.m, a.B, a.H, a.T, a.S)))) return false;
  if (a.mask_kind == 2 && !(a.mf = array_arg<float>(info, i++, extent(a.m, a.B, a.H, a.T, a.S)))) return false;
  if (a.has_keep && !(a.keep = array_arg<uint8_t>(info, i++, extent(a.kp, a.B, a.H, a.T, a.S)))) return false;
  return true;
}

// scaledDotProductAttention(q, k, v, out, lse, mask?, keep?): P = header; out [B,H,T,Dv] and lse [B,H,T] contiguous.
void sdpa_forward_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  Sdpa a = header(p);
  a.Q = array_arg<float>(info, 0, extent(a.q, a.B, a.H, a.T, a.D));
  a.K = a.Q ? array_arg<float>(info, 1, extent(a.k, a.B, a.H, a.S, a.D)) : nullptr;
  a.Vd = a.K ? array_arg<float>(info, 2, extent(a.v, a.B, a.H, a.S, a.Dv)) : nullptr;
  float* out = a.Vd ? array_arg<float>(info, 3, a.B * a.H * a.T * a.Dv) : nullptr;
  float* lse = out ? array_arg<float>(info, 4, a.B * a.H * a.T) : nullptr;
  if (!lse) return;
  size_t next = 5;
  if (!masks(info, next, a)) return;
  const int64_t B = a.B, H = a.H, T = a.T, Dv = a.Dv, BH = B * H;
  if (BH * T == 0) return;
  if (T == 1 && a.k.s3 == 1 && a.v.s3 == 1) {
    // One query row (a decoding step with a KV cache): K and V are read in place, row by row — no
    // transposed packing and no zero-filled blocks, which cost more than the products here.
    parallel_tasks(BH, [&](int64_t bh) {
      const int64_t b = bh / H, h = bh % H, n = a.keys_for(1);
      float* qb = tmp(size_t(a.Dp + round_up(std::max<int64_t>(n, 1), W) + a.Dvp));
      float* sr = qb + a.Dp;
      float* ob = sr + round_up(std::max<int64_t>(n, 1), W);
      const float* qsrc = a.Q + a.q.at(b, h, 0, 0);
      for (int64_t d = 0; d < a.D; d++) qb[d] = qsrc[d * a.q.s3];
      const int64_t Dv_ = a.D / W * W;
      for (int64_t j = 0; j < n; j++) {
        const float* kr = a.K + a.k.at(b, h, j, 0);
        V acc = vset1(0);
        for (int64_t d = 0; d < Dv_; d += W) acc = vfma(vload(qb + d), vload(kr + d), acc);
        float dot = vsum(acc);
        for (int64_t d = Dv_; d < a.D; d++) dot += qb[d] * kr[d];
        sr[j] = dot;
      }
      mask_scores(a, b, h, 0, 1, n, sr, n);
      float mx = max_f32(sr, n);
      if (mx == INFINITY || mx == -INFINITY) mx = 0.0f;  // as the blocked path below
      for (int64_t j = 0; j < n; j++) sr[j] = exp_f(sr[j] - mx);
      const double sum = sum_f32(sr, n);
      lse[bh] = float(double(mx) + std::log(sum));
      if (sum == 0)
        for (int64_t j = 0; j < n; j++) sr[j] = NAN;
      else {
        const float inv = float(1.0 / sum);
        for (int64_t j = 0; j < n; j++) sr[j] *= inv;
      }
      if (a.has_keep) apply_keep(a, b, h, 0, sr, n);
      // out = Σ_j p_j · v_j, accumulated over whole vectors of the (zeroed, padded) row buffer.
      for (int64_t j = 0; j < n; j++) {
        const float* vr = a.Vd + a.v.at(b, h, j, 0);
        const V pj = vset1(sr[j]);
        int64_t d = 0;
        for (; d + W <= Dv; d += W) vstore(ob + d, vfma(pj, vload(vr + d), vload(ob + d)));
        for (; d < Dv; d++) ob[d] += sr[j] * vr[d];
      }
      std::memcpy(out + bh * Dv, ob, size_t(Dv) * sizeof(float));
    });
    return;
  }
  // Work items: (b·h, a chunk of query rows); enough chunks to keep every thread busy.
  const int64_t nblk = (T + TB - 1) / TB;
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(nblk, (4 * num_threads() + BH - 1) / BH));
  parallel_tasks(BH * chunks, [&](int64_t task) {
    const int64_t bh = task / chunks, c = task % chunks, b = bh / H, h = bh % H;
    const int64_t r0 = nblk * c / chunks * TB, r1 = std::min(T, nblk * (c + 1) / chunks * TB);
    if (r0 >= r1) return;
    const int64_t nk = a.keys_for(r1), Sp = round_up(std::max<int64_t>(nk, 1), W);
    // Layout: kt [D][Sp] | vp [nk][Dvp] | qb [TB][Dp] | s [TB][Sp] | ob [TB][Dvp]
    float* kt = tmp(size_t(a.D * Sp + nk * a.Dvp + TB * a.Dp + TB * Sp + TB * a.Dvp));
    float* vp = kt + a.D * Sp;
    float* qb = vp + nk * a.Dvp;
    float* s = qb + TB * a.Dp;
    float* ob = s + TB * Sp;
    pack(a.K, a.k, b, h, nk, a.D, nullptr, 0, kt, Sp);
    pack(a.Vd, a.v, b, h, nk, Dv, vp, a.Dvp, nullptr, 0);
    for (int64_t i0 = r0; i0 < r1; i0 += TB) {
      const int64_t rows = std::min(TB, r1 - i0), n = a.keys_for(i0 + rows), np = round_up(std::max<int64_t>(n, 1), W);
      for (int64_t r = 0; r < rows; r++) {
        const float* src = a.Q + a.q.at(b, h, i0 + r, 0);
        for (int64_t d = 0; d < a.D; d++) qb[r * a.Dp + d] = src[d * a.q.s3];
      }
      mm(qb, a.Dp, 1, rows, a.D, kt, Sp, np, s, Sp, false);  // (rows, n) = q·kᵀ
      mask_scores(a, b, h, i0, rows, n, s, Sp);
      for (int64_t r = 0; r < rows; r++) {
        float* sr = s + r * Sp;
        // A causal row sees keys [0, i]: the rest of the block row is −∞, so its weights are 0.
        const int64_t ni = a.causal ? std::min(n, i0 + r + 1) : n;
        float mx = max_f32(sr, ni);
        // NOTE: shift by the row max; with every key masked (max −∞) shift by 0, as ref.
        if (mx == INFINITY || mx == -INFINITY) mx = 0.0f;
        for (int64_t j = 0; j < ni; j++) sr[j] = exp_f(sr[j] - mx);
        const double sum = sum_f32(sr, ni);
        const int64_t row = bh * T + i0 + r;
        lse[row] = float(double(mx) + std::log(sum));
        if (sum == 0)  // every key masked: NaN weights and outputs, as PyTorch
          for (int64_t j = 0; j < n; j++) sr[j] = NAN;
        else {
          const float inv = float(1.0 / sum);
          for (int64_t j = 0; j < ni; j++) sr[j] *= inv;
          for (int64_t j = ni; j < n; j++) sr[j] = 0.0f;
        }
        if (a.has_keep) apply_keep(a, b, h, i0 + r, sr, n);
      }
      mm(s, Sp, 1, rows, n, vp, a.Dvp, a.Dvp, ob, a.Dvp, false);  // (rows, Dv) = P·v
      for (int64_t r = 0; r < rows; r++) std::memcpy(out + (bh * T + i0 + r) * Dv, ob + r * a.Dvp, size_t(Dv) * sizeof(float));
    }
  });
}

// scaledDotProductAttentionBackward(g, q, k, v, out, lse, dq, dk, dv, mask?, keep?): P = header, then
// g and out views [offset, 4 strides]; lse contiguous; dq, dk, dv contiguous. One task per (b, h), so
// dk and dv are summed by one thread in a per-task buffer.
void sdpa_backward_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  Sdpa a = header(p);
  const V4 gv = read4(p), ov = read4(p);
  const float* G = array_arg<float>(info, 0, extent(gv, a.B, a.H, a.T, a.Dv));
  a.Q = G ? array_arg<float>(info, 1, extent(a.q, a.B, a.H, a.T, a.D)) : nullptr;
  a.K = a.Q ? array_arg<float>(info, 2, extent(a.k, a.B, a.H, a.S, a.D)) : nullptr;
  a.Vd = a.K ? array_arg<float>(info, 3, extent(a.v, a.B, a.H, a.S, a.Dv)) : nullptr;
  const float* O = a.Vd ? array_arg<float>(info, 4, extent(ov, a.B, a.H, a.T, a.Dv)) : nullptr;
  const float* L = O ? array_arg<float>(info, 5, a.B * a.H * a.T) : nullptr;
  float* dq = L ? array_arg<float>(info, 6, a.B * a.H * a.T * a.D) : nullptr;
  float* dk = dq ? array_arg<float>(info, 7, a.B * a.H * a.S * a.D) : nullptr;
  float* dv = dk ? array_arg<float>(info, 8, a.B * a.H * a.S * a.Dv) : nullptr;
  if (!dv) return;
  size_t next = 9;
  if (!masks(info, next, a)) return;
  const int64_t H = a.H, T = a.T, S = a.S, D = a.D, Dv = a.Dv, Dp = a.Dp, Dvp = a.Dvp, BH = a.B * H;
  std::fill(dq, dq + BH * T * D, 0.0f);
  std::fill(dk, dk + BH * S * D, 0.0f);
  std::fill(dv, dv + BH * S * Dv, 0.0f);
  if (BH == 0 || T == 0 || S == 0) return;
  parallel_tasks(BH, [&](int64_t bh) {
    const int64_t b = bh / H, h = bh % H;
    const int64_t nk = a.keys_for(T), Sp = round_up(std::max<int64_t>(nk, 1), W);
    // kt [D][Sp] | kr [nk][Dp] | vt [Dv][Sp] | dkb [nk][Dp] | dvb [nk][Dvp] | qb [TB][Dp] | gb [TB][Dvp]
    // | pb [TB][Sp] (P, then P') | ds [TB][Sp] (dP, then dS) | dqb [TB][Dp]
    const size_t total = size_t(D * Sp + nk * Dp + Dv * Sp + nk * Dp + nk * Dvp + TB * Dp + TB * Dvp + 2 * TB * Sp + TB * Dp);
    float* kt = tmp(total);
    float* kr = kt + D * Sp;
    float* vt = kr + nk * Dp;
    float* dkb = vt + Dv * Sp;
    float* dvb = dkb + nk * Dp;
    float* qb = dvb + nk * Dvp;
    float* gb = qb + TB * Dp;
    float* pb = gb + TB * Dvp;
    float* ds = pb + TB * Sp;
    float* dqb = ds + TB * Sp;
    pack(a.K, a.k, b, h, nk, D, kr, Dp, kt, Sp);
    pack(a.Vd, a.v, b, h, nk, Dv, nullptr, 0, vt, Sp);
    double Di[TB];
    for (int64_t i0 = 0; i0 < T; i0 += TB) {
      const int64_t rows = std::min(TB, T - i0), n = a.keys_for(i0 + rows), np = round_up(std::max<int64_t>(n, 1), W);
      for (int64_t r = 0; r < rows; r++) {
        const float* qs = a.Q + a.q.at(b, h, i0 + r, 0);
        for (int64_t d = 0; d < D; d++) qb[r * Dp + d] = qs[d * a.q.s3];
        const float* gs = G + gv.at(b, h, i0 + r, 0);
        const float* os = O + ov.at(b, h, i0 + r, 0);
        // Dᵢ = gᵢ·outᵢ = Σⱼ Pᵢⱼ·dPᵢⱼ, the softmax backward's row sum.
        double di = 0;
        for (int64_t d = 0; d < Dv; d++) {
          gb[r * Dvp + d] = gs[d * gv.s3];
          di += double(gs[d * gv.s3]) * os[d * ov.s3];
        }
        Di[r] = di;
      }
      mm(qb, Dp, 1, rows, D, kt, Sp, np, pb, Sp, false);  // scores
      mask_scores(a, b, h, i0, rows, n, pb, Sp);
      mm(gb, Dvp, 1, rows, Dv, vt, Sp, np, ds, Sp, false);  // dP = g·vᵀ
      for (int64_t r = 0; r < rows; r++) {
        const int64_t i = i0 + r;
        float* pr = pb + r * Sp;
        float* dr = ds + r * Sp;
        const float l = L[bh * T + i];
        // NOTE: P rebuilt from the saved log-sum-exp: no second max/sum pass. Keys past a causal
        // row's diagonal have P = 0 (and so dS = 0) without an exp.
        const int64_t ni = a.causal ? std::min(n, i + 1) : n;
        for (int64_t j = 0; j < ni; j++) pr[j] = exp_f(pr[j] - l);
        for (int64_t j = ni; j < n; j++) pr[j] = 0.0f;
        if (a.has_keep) {
          const uint8_t* kk = a.keep + a.kp.at(b, h, i, 0);
          for (int64_t j = 0; j < n; j++) {
            const float kf = kk[j * a.kp.s3] ? a.keep_scale : 0.0f;
            dr[j] = a.scale * pr[j] * (dr[j] * kf - float(Di[r]));
            pr[j] *= kf;  // P' for dv
          }
        } else {
          const float di = float(Di[r]);
          for (int64_t j = 0; j < n; j++) dr[j] = a.scale * pr[j] * (dr[j] - di);
        }
        for (int64_t j = n; j < np; j++) pr[j] = dr[j] = 0.0f;
      }
      mm(pb, 1, Sp, n, rows, gb, Dvp, Dvp, dvb, Dvp, true);  // dv += P'ᵀ·g
      mm(ds, 1, Sp, n, rows, qb, Dp, Dp, dkb, Dp, true);     // dk += dSᵀ·q (scale folded into dS)
      mm(ds, Sp, 1, rows, n, kr, Dp, Dp, dqb, Dp, false);    // dq = dS·k
      for (int64_t r = 0; r < rows; r++) std::memcpy(dq + (bh * T + i0 + r) * D, dqb + r * Dp, size_t(D) * sizeof(float));
    }
    for (int64_t j = 0; j < nk; j++) {
      std::memcpy(dk + (bh * S + j) * D, dkb + j * Dp, size_t(D) * sizeof(float));
      std::memcpy(dv + (bh * S + j) * Dv, dvb + j * Dvp, size_t(Dv) * sizeof(float));
    }
  });
}

}  // namespace

void init_attention(Napi::Env env, Napi::Object exports) {
  bind(env, exports, "sdpa", sdpa_forward_binding);
  bind(env, exports, "sdpaBackward", sdpa_backward_binding);
}

}  // namespace ingot
