// conv2d forward and both backward passes as im2col + GEMM over groups of images (one group per
// task, so each thread's column matrix stays in its cache and no two threads write the same
// output), and 2-D pooling (max with saved indices, average, adaptive average) forward and backward.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "binding.h"
#include "gemm.h"
#include "pool.h"

namespace ingot {
namespace {

struct ConvGeo {
  int64_t N, C, H, W, O, Cg, kH, kW, Ho, Wo, sh, sw, dh, dw, pt, pl, G, Og, K, P;
};

// P = [N, C, H, W, O, Cg, kH, kW, Ho, Wo, sh, sw, dh, dw, padTop, padLeft, groups].
ConvGeo read_geo(Params& p) {
  ConvGeo g;
  g.N = p.i(), g.C = p.i(), g.H = p.i(), g.W = p.i(), g.O = p.i(), g.Cg = p.i(), g.kH = p.i(), g.kW = p.i();
  g.Ho = p.i(), g.Wo = p.i(), g.sh = p.i(), g.sw = p.i(), g.dh = p.i(), g.dw = p.i(), g.pt = p.i(), g.pl = p.i(), g.G = p.i();
  g.Og = g.O / g.G;
  g.K = g.Cg * g.kH * g.kW;
  g.P = g.Ho * g.Wo;
  return g;
}

// Output positions [lo, hi) whose input index o·stride + k·dilation − pad lies in [0, size).
inline void tap_range(int64_t k, int64_t stride, int64_t dil, int64_t pad, int64_t size, int64_t out, int64_t& lo, int64_t& hi) {
  const int64_t c = k * dil - pad;
  lo = c >= 0 ? 0 : (-c + stride - 1) / stride;
  hi = (size - 1 - c) < 0 ? 0 : (size - 1 - c) / stride + 1;
  if (hi > out) hi = out;
  if (hi < lo) hi = lo;
}

#if defined(__AVX2__)
inline __m256 vload8(const float* p) { return _mm256_loadu_ps(p); }
inline void vstore8(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
#else
struct F8 {
  float v[8];
};
inline F8 vload8(const float* p) {
  F8 r;
  std::memcpy(r.v, p, sizeof r.v);
  return r;
}
inline void vstore8(float* p, F8 v) { std::memcpy(p, v.v, sizeof v.v); }
#endif

// Taps [lo, hi) of a window starting at input index `start` (stride `dil` between taps, `k` taps)
// that fall inside [0, size).
inline void tap_range_inv(int64_t start, int64_t dil, int64_t size, int64_t k, int64_t& lo, int64_t& hi) {
  lo = start < 0 ? (-start + dil - 1) / dil : 0;
  hi = size - 1 - start < 0 ? 0 : (size - 1 - start) / dil + 1;
  if (hi > k) hi = k;
  if (hi < lo) hi = lo;
}

// Per-thread scratch: the column matrix, and a second buffer for gathered gradients / outputs.
thread_local std::vector<float> colbuf, tmpbuf;
float* scratch(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

// col[r·ld + p] = x[c, ih, iw] for r = (c, kh, kw) of one group of one image (0 in the padding);
// with ADD, the adjoint: x[…] += col[…] (col2im).
template <bool ADD>
void im2col(const ConvGeo& g, float* x, float* col, int64_t ld) {
  int64_t r = 0;
  for (int64_t c = 0; c < g.Cg; c++) {
    float* plane = x + c * g.H * g.W;
    for (int64_t kh = 0; kh < g.kH; kh++) {
      int64_t ohl, ohh;
      tap_range(kh, g.sh, g.dh, g.pt, g.H, g.Ho, ohl, ohh);
      for (int64_t kw = 0; kw < g.kW; kw++, r++) {
        int64_t owl, owh;
        tap_range(kw, g.sw, g.dw, g.pl, g.W, g.Wo, owl, owh);
        float* dst = col + r * ld;
        if (!ADD) {
          for (int64_t i = 0; i < ohl * g.Wo; i++) dst[i] = 0.0f;
          for (int64_t i = ohh * g.Wo; i < g.P; i++) dst[i] = 0.0f;
        }
        for (int64_t oh = ohl; oh < ohh; oh++) {
          float* src = plane + (oh * g.sh + kh * g.dh - g.pt) * g.W + (kw * g.dw - g.pl);
          float* d = dst + oh * g.Wo;
          if (ADD) {
            if (g.sw == 1)
              for (int64_t ow = owl; ow < owh; ow++) src[ow] += d[ow];
            else
              for (int64_t ow = owl; ow < owh; ow++) src[ow * g.sw] += d[ow];
          } else {
            for (int64_t ow = 0; ow < owl; ow++) d[ow] = 0.0f;
            if (g.sw == 1)
              for (int64_t ow = owl; ow < owh; ow++) d[ow] = src[ow];
            else
              for (int64_t ow = owl; ow < owh; ow++) d[ow] = src[ow * g.sw];
            for (int64_t ow = owh; ow < g.Wo; ow++) d[ow] = 0.0f;
          }
        }
      }
    }
  }
}

// A 1×1, stride-1, unpadded convolution reads x directly as its column matrix.
inline bool pointwise(const ConvGeo& g) {
  return g.kH == 1 && g.kW == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.Ho == g.H && g.Wo == g.W;
}

// Copies n floats; when `room` allows, with whole 8-float vectors that may write up to 7 floats past
// dst + n (the caller writes those later) and read up to 7 past src + n (inside the input).
inline void copy_run(float* __restrict dst, const float* __restrict src, int64_t n, bool room) {
  int64_t i = 0;
  if (room)
    for (; i < n; i += 8) vstore8(dst + i, vload8(src + i));
  else
    for (; i < n; i++) dst[i] = src[i];
}

// im2col of `cnt` images (image t at x + t·istride, columns t·P.. of each row) for a convolution whose
// taps all fall inside the input and whose stride along W is 1: every column-matrix row is Ho runs of
// Wo contiguous input floats. Rows are outer and images inner, so the over-long vector copies of one
// run are always overwritten by a later run (col has 8 floats of slack at its end).
void im2col_dense(const ConvGeo& g, const float* x, int64_t istride, int64_t cnt, float* col, int64_t ld, const float* xend) {
  int64_t r = 0;
  for (int64_t c = 0; c < g.Cg; c++)
    for (int64_t kh = 0; kh < g.kH; kh++)
      for (int64_t kw = 0; kw < g.kW; kw++, r++)
        for (int64_t t = 0; t < cnt; t++) {
          const float* src = x + t * istride + c * g.H * g.W + kh * g.dh * g.W + kw * g.dw;
          float* dst = col + r * ld + t * g.P;
          for (int64_t oh = 0; oh < g.Ho; oh++) {
            const float* s = src + oh * g.sh * g.W;
            copy_run(dst + oh * g.Wo, s, g.Wo, s + g.Wo + 8 <= xend);
          }
        }
}

// Whether im2col_dense applies: stride 1 along W and no tap in the padding.
inline bool dense_taps(const ConvGeo& g) {
  return g.sw == 1 && g.pt == 0 && g.pl == 0 && (g.Ho - 1) * g.sh + (g.kH - 1) * g.dh < g.H && (g.Wo - 1) + (g.kW - 1) * g.dw < g.W;
}

// The column matrix [K, cnt·P] of images n0.. of group grp (x itself for a pointwise convolution).
float* columns(const ConvGeo& g, float* x, int64_t n0, int64_t grp, int64_t cnt, const float* xend) {
  float* xg = x + (n0 * g.C + grp * g.Cg) * g.H * g.W;
  if (pointwise(g)) return xg;
  const int64_t cols = cnt * g.P;
  float* col = scratch(colbuf, size_t(g.K * cols + 8));
  if (dense_taps(g))
    im2col_dense(g, xg, g.C * g.H * g.W, cnt, col, cols, xend);
  else
    for (int64_t t = 0; t < cnt; t++) im2col<false>(g, xg + t * g.C * g.H * g.W, col + t * g.P, cols);
  return col;
}

// Images per GEMM: small feature maps are batched (their column matrices side by side) so that
// each GEMM has a few hundred columns and the weights are packed once for all of them.
inline int64_t images_per_gemm(const ConvGeo& g) {
  if (pointwise(g) || g.P == 0) return 1;
  return std::max<int64_t>(1, std::min<int64_t>(g.N, 384 / g.P));
}

// Runs f(group, parallel_gemm) for every group of images: in parallel over groups when there are
// enough of them (each task then runs serial GEMMs), else one group at a time with parallel GEMMs.
template <class F>
void over_groups(int64_t groups, F&& f) {
  if (groups >= num_threads() && num_threads() > 1)
    parallel_for(groups, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; t++) f(t, false);
    });
  else
    for (int64_t t = 0; t < groups; t++) f(t, true);
}

inline void run_gemm(const Gemm& g, bool par) {
  if (par)
    sgemm(g);
  else
    sgemm_serial(g);
}

// Copies the [rows, P] block of each image t < cnt between a per-image tensor (image stride
// `stride`, row stride P, at `base`) and a [rows, cnt·P] matrix (to_matrix: tensor → matrix).
void gather_images(bool to_matrix, float* base, int64_t stride, float* m, int64_t rows, int64_t P, int64_t cnt) {
  for (int64_t t = 0; t < cnt; t++)
    for (int64_t o = 0; o < rows; o++) {
      float* a = base + t * stride + o * P;
      float* b = m + o * cnt * P + t * P;
      if (to_matrix)
        std::memcpy(b, a, size_t(P) * sizeof(float));
      else
        std::memcpy(a, b, size_t(P) * sizeof(float));
    }
}

// conv2d(x, w, y, bias?): P = geometry + [hasBias]; x [N,C,H,W], w [O,Cg,kH,kW] contiguous.
// y[n, oc, p] = b[oc] + Σ_r w[oc, r]·col[r, p] per group (bias fused into the GEMM epilogue).
void conv2d_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const ConvGeo g = read_geo(p);
  const bool hb = p.i() != 0;
  float* x = array_arg<float>(info, 0, g.N * g.C * g.H * g.W);
  const float* w = x ? array_arg<float>(info, 1, g.O * g.K) : nullptr;
  float* y = w ? array_arg<float>(info, 2, g.N * g.O * g.P) : nullptr;
  const float* b = y && hb ? array_arg<float>(info, 3, g.O) : nullptr;
  if (!y || (hb && !b)) return;
  const float* xend = x + g.N * g.C * g.H * g.W;
  const int64_t G = images_per_gemm(g);
  over_groups((g.N + G - 1) / G, [&](int64_t gi, bool par) {
    const int64_t n0 = gi * G, cnt = std::min(G, g.N - n0), cols = cnt * g.P;
    for (int64_t grp = 0; grp < g.G; grp++) {
      const float* col = columns(g, x, n0, grp, cnt, xend);
      float* yg = y + (n0 * g.O + grp * g.Og) * g.P;
      Gemm m;
      m.M = g.Og, m.N = cols, m.K = g.K;
      m.A = w + grp * g.Og * g.K, m.rsa = g.K, m.csa = 1;
      m.B = col, m.rsb = cols, m.csb = 1;
      m.C = cnt == 1 ? yg : scratch(tmpbuf, size_t(g.Og * cols)), m.ldc = cols;
      if (b) m.bias = b + grp * g.Og, m.bias_axis = 0;
      run_gemm(m, par);
      if (cnt > 1) gather_images(false, yg, g.O * g.P, m.C, g.Og, g.P, cnt);
    }
  });
}

// conv2dGradInput(gy, w, dx): P = geometry. dcol = w_gᵀ·gy per group of images, then col2im.
void conv2d_grad_input_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const ConvGeo g = read_geo(p);
  float* gy = array_arg<float>(info, 0, g.N * g.O * g.P);
  const float* w = gy ? array_arg<float>(info, 1, g.O * g.K) : nullptr;
  float* dx = w ? array_arg<float>(info, 2, g.N * g.C * g.H * g.W) : nullptr;
  if (!dx) return;
  const int64_t G = images_per_gemm(g);
  over_groups((g.N + G - 1) / G, [&](int64_t gi, bool par) {
    const int64_t n0 = gi * G, cnt = std::min(G, g.N - n0), cols = cnt * g.P;
    for (int64_t grp = 0; grp < g.G; grp++) {
      float* dxg = dx + (n0 * g.C + grp * g.Cg) * g.H * g.W;
      float* gyg = gy + (n0 * g.O + grp * g.Og) * g.P;
      Gemm m;
      m.M = g.K, m.N = cols, m.K = g.Og;
      m.A = w + grp * g.Og * g.K, m.rsa = 1, m.csa = g.K;  // wᵀ, read in place
      if (cnt == 1)
        m.B = gyg;
      else {
        float* t = scratch(tmpbuf, size_t(g.Og * cols));
        gather_images(true, gyg, g.O * g.P, t, g.Og, g.P, cnt);
        m.B = t;
      }
      m.rsb = cols, m.csb = 1;
      m.C = pointwise(g) ? dxg : scratch(colbuf, size_t(g.K * cols)), m.ldc = cols;
      run_gemm(m, par);
      if (!pointwise(g))
        for (int64_t t = 0; t < cnt; t++) im2col<true>(g, dxg + t * g.C * g.H * g.W, m.C + t * g.P, cols);
    }
  });
}

// conv2dGradWeight(x, gy, dw): P = geometry. dw_g = Σ gy·colᵀ over groups of images; each chunk
// of groups sums into its own buffer, and the chunks are added in order.
void conv2d_grad_weight_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const ConvGeo g = read_geo(p);
  float* x = array_arg<float>(info, 0, g.N * g.C * g.H * g.W);
  float* gy = x ? array_arg<float>(info, 1, g.N * g.O * g.P) : nullptr;
  float* dw = gy ? array_arg<float>(info, 2, g.O * g.K) : nullptr;
  if (!dw) return;
  const float* xend = x + g.N * g.C * g.H * g.W;
  const int64_t G = images_per_gemm(g), groups = (g.N + G - 1) / G;
  const int64_t chunks = groups >= num_threads() && num_threads() > 1 ? num_threads() : 1;
  std::vector<float> part(static_cast<size_t>((chunks - 1) * g.O * g.K), 0.0f);
  auto group = [&](int64_t gi, float* acc, bool first, bool par) {
    const int64_t n0 = gi * G, cnt = std::min(G, g.N - n0), cols = cnt * g.P;
    for (int64_t grp = 0; grp < g.G; grp++) {
      const float* col = columns(g, x, n0, grp, cnt, xend);
      float* gyg = gy + (n0 * g.O + grp * g.Og) * g.P;
      Gemm m;
      m.M = g.Og, m.N = g.K, m.K = cols;
      if (cnt == 1)
        m.A = gyg;
      else {
        float* t = scratch(tmpbuf, size_t(g.Og * cols));
        gather_images(true, gyg, g.O * g.P, t, g.Og, g.P, cnt);
        m.A = t;
      }
      m.rsa = cols, m.csa = 1;
      m.B = col, m.rsb = 1, m.csb = cols;  // colᵀ, read in place
      m.C = acc + grp * g.Og * g.K, m.ldc = g.K;
      m.accumulate = !first;
      run_gemm(m, par);
    }
  };
  if (chunks == 1) {
    for (int64_t gi = 0; gi < groups; gi++) group(gi, dw, gi == 0, true);
    return;
  }
  parallel_tasks(chunks, [&](int64_t c) {
    float* acc = c == 0 ? dw : part.data() + (c - 1) * g.O * g.K;
    for (int64_t gi = groups * c / chunks; gi < groups * (c + 1) / chunks; gi++) group(gi, acc, gi == groups * c / chunks, false);
  });
  for (int64_t c = 1; c < chunks; c++) {
    const float* src = part.data() + (c - 1) * g.O * g.K;
    for (int64_t i = 0; i < g.O * g.K; i++) dw[i] += src[i];
  }
}

// ── pooling ─────────────────────────────────────────────────────────────────────────────────────

struct PoolGeo {
  int64_t H, W, Ho, Wo, kH, kW, sh, sw, ph, pw, dh, dw;
};

// Max pooling of planes [b, e). Padding acts as −∞; like PyTorch (and ref), a NaN wins over any
// number, the last NaN of a window included. Window maxima of random data make unpredictable
// branches, so the updates are branch-free: AVX2 does 8 output columns at once where all their taps
// are inside the input, scalar masks do the borders.
void max_pool_planes(const PoolGeo g, const float* __restrict x, float* __restrict out, int32_t* __restrict idx, int64_t b, int64_t e) {
  std::vector<int64_t> jlo(static_cast<size_t>(g.Wo)), jhi(static_cast<size_t>(g.Wo));
  int64_t ow_in0 = g.Wo, ow_in1 = 0;  // outputs [ow_in0, ow_in1) have every tap inside the row
  for (int64_t ow = 0; ow < g.Wo; ow++) {
    tap_range_inv(ow * g.sw - g.pw, g.dw, g.W, g.kW, jlo[size_t(ow)], jhi[size_t(ow)]);
    if (jlo[size_t(ow)] == 0 && jhi[size_t(ow)] == g.kW) ow_in0 = std::min(ow_in0, ow), ow_in1 = ow + 1;
  }
  for (int64_t pl = b; pl < e; pl++) {
    const float* xp = x + pl * g.H * g.W;
    float* op = out + pl * g.Ho * g.Wo;
    int32_t* ip = idx + pl * g.Ho * g.Wo;
    for (int64_t oh = 0; oh < g.Ho; oh++) {
      const int64_t hs = oh * g.sh - g.ph;
      int64_t ilo, ihi;
      tap_range_inv(hs, g.dh, g.H, g.kH, ilo, ihi);
      auto scalar = [&](int64_t ow) {
        const int64_t ws = ow * g.sw - g.pw;
        float best = -INFINITY;
        int32_t bi = -1;
        for (int64_t i = ilo; i < ihi; i++)
          for (int64_t j = jlo[size_t(ow)]; j < jhi[size_t(ow)]; j++) {
            const int32_t at = int32_t((hs + i * g.dh) * g.W + ws + j * g.dw);
            const float v = xp[at];
            const int32_t take = -(int32_t(v > best) | int32_t(v != v));
            int32_t vb, bb;
            std::memcpy(&vb, &v, 4);
            std::memcpy(&bb, &best, 4);
            bb = (bb & ~take) | (vb & take);
            std::memcpy(&best, &bb, 4);
            bi = (bi & ~take) | (at & take);
          }
        op[oh * g.Wo + ow] = best;
        ip[oh * g.Wo + ow] = bi;
      };
      int64_t ow = 0;
#if defined(__AVX2__)
      for (; ow < ow_in0; ow++) scalar(ow);
      const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
      const __m256i step = _mm256_mullo_epi32(lane, _mm256_set1_epi32(int32_t(g.sw)));
      const bool pairs = g.kW == 2 && g.sw == 2 && g.dw == 1;
      // The last vector of the interior run starts at ow_in1 − 8 and may redo a few columns.
      for (; ow < ow_in1 && ow_in1 - ow_in0 >= 8; ow = std::min(ow + 8, ow_in1)) {
        if (ow + 8 > ow_in1) ow = ow_in1 - 8;
        __m256 best = _mm256_set1_ps(-INFINITY);
        __m256i bi = _mm256_set1_epi32(-1);
        auto update = [&](__m256 v, __m256i at) {
          const __m256 take = _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
          best = _mm256_blendv_ps(best, v, take);
          bi = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bi), _mm256_castsi256_ps(at), take));
        };
        for (int64_t i = ilo; i < ihi; i++) {
          const int32_t row0 = int32_t((hs + i * g.dh) * g.W + ow * g.sw - g.pw);
          if (pairs) {
            // 2-wide windows at stride 2: 16 contiguous floats hold the 8 windows; split even/odd.
            const __m256 lo = _mm256_loadu_ps(xp + row0), hi = _mm256_loadu_ps(xp + row0 + 8);
            const __m256 even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xD8));
            const __m256 odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xDD)), 0xD8));
            const __m256i at = _mm256_add_epi32(_mm256_set1_epi32(row0), step);
            update(even, at);
            update(odd, _mm256_add_epi32(at, _mm256_set1_epi32(1)));
            continue;
          }
          for (int64_t j = 0; j < g.kW; j++) {
            const int32_t at0 = row0 + int32_t(j * g.dw);
            const __m256i at = _mm256_add_epi32(_mm256_set1_epi32(at0), step);
            update(g.sw == 1 ? _mm256_loadu_ps(xp + at0) : _mm256_i32gather_ps(xp, at, 4), at);
          }
        }
        _mm256_storeu_ps(op + oh * g.Wo + ow, best);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(ip + oh * g.Wo + ow), bi);
      }
#endif
      for (; ow < g.Wo; ow++) scalar(ow);
    }
  }
}

// maxPool2d(x, out, indices): P = [planes, H, W, Ho, Wo, kH, kW, sh, sw, ph, pw, dh, dw]; x contiguous.
void max_pool_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int64_t planes = p.i();
  PoolGeo g;
  g.H = p.i(), g.W = p.i(), g.Ho = p.i(), g.Wo = p.i(), g.kH = p.i(), g.kW = p.i();
  g.sh = p.i(), g.sw = p.i(), g.ph = p.i(), g.pw = p.i(), g.dh = p.i(), g.dw = p.i();
  const float* x = array_arg<float>(info, 0, planes * g.H * g.W);
  float* out = x ? array_arg<float>(info, 1, planes * g.Ho * g.Wo) : nullptr;
  int32_t* idx = out ? array_arg<int32_t>(info, 2, planes * g.Ho * g.Wo) : nullptr;
  if (!idx) return;
  parallel_for(planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.Ho * g.Wo * g.kH * g.kW)),
               [&](int64_t b, int64_t e) { max_pool_planes(g, x, out, idx, b, e); });
}

// maxPool2dBackward(g, indices, dx): P = [planes, HW, HoWo]; each plane's grads added at their indices.
void max_pool_backward_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int64_t planes = p.i(), HW = p.i(), n = p.i();
  const float* g = array_arg<float>(info, 0, planes * n);
  const int32_t* idx = g ? array_arg<int32_t>(info, 1, planes * n) : nullptr;
  float* dx = idx ? array_arg<float>(info, 2, planes * HW) : nullptr;
  if (!dx) return;
  bool bad = false;
  parallel_for(planes, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, n)), [&](int64_t b, int64_t e) {
    for (int64_t pl = b; pl < e; pl++) {
      float* d = dx + pl * HW;
      for (int64_t q = pl * n; q < (pl + 1) * n; q++) {
        const int32_t i = idx[q];
        if (i < 0 || i >= HW) {
          bad = true;
          continue;
        }
        d[i] += g[q];
      }
    }
  });
  if (bad) fail(info, "maxPool2dBackward: an index is out of range for the input plane");
}

// One dim's average-pooling windows: input [start, end) and the divisor span.
struct Windows {
  std::vector<int64_t> start, end, span;
};

// mode 0: avgPool (k, s, pad; the padded span clipped at size + pad); mode 1: adaptive.
Windows windows(int mode, int64_t size, int64_t out, int64_t k, int64_t s, int64_t pad) {
  Windows w;
  w.start.resize(size_t(out));
  w.end.resize(size_t(out));
  w.span.resize(size_t(out));
  for (int64_t o = 0; o < out; o++) {
    int64_t st, en, span;
    if (mode == 0) {
      st = o * s - pad;
      en = std::min(st + k, size + pad);
      span = en - st;
      st = std::max<int64_t>(st, 0);
      en = std::min(en, size);
    } else {
      st = (o * size) / out;
      en = ((o + 1) * size + out - 1) / out;
      span = en - st;
    }
    w.start[size_t(o)] = st;
    w.end[size_t(o)] = en;
    w.span[size_t(o)] = span;
  }
  return w;
}

// avgPool(x, out) forward (backward = 0) or avgPoolBackward(g, dx) (backward = 1):
// P = [backward, mode, planes, H, W, Ho, Wo, kH, kW, sh, sw, ph, pw, countIncludePad, divisorOverride (0: none)].
void avg_pool_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const bool backward = p.i() != 0;
  const int mode = int(p.i());
  const int64_t planes = p.i(), H = p.i(), W = p.i(), Ho = p.i(), Wo = p.i(), kH = p.i(), kW = p.i();
  const int64_t sh = p.i(), sw = p.i(), ph = p.i(), pw = p.i();
  const bool count_pad = p.i() != 0;
  const double override_div = p.f();
  const Windows rows = windows(mode, H, Ho, kH, sh, ph), cols = windows(mode, W, Wo, kW, sw, pw);
  std::vector<float> inv(static_cast<size_t>(Ho * Wo));
  for (int64_t oh = 0; oh < Ho; oh++)
    for (int64_t ow = 0; ow < Wo; ow++) {
      const double div = override_div != 0 ? override_div
                         : count_pad && mode == 0
                             ? double(rows.span[size_t(oh)] * cols.span[size_t(ow)])
                             : double((rows.end[size_t(oh)] - rows.start[size_t(oh)]) * (cols.end[size_t(ow)] - cols.start[size_t(ow)]));
      inv[size_t(oh * Wo + ow)] = float(div);
    }
  const float* src = array_arg<float>(info, 0, backward ? planes * Ho * Wo : planes * H * W);
  float* dst = src ? array_arg<float>(info, 1, backward ? planes * H * W : planes * Ho * Wo) : nullptr;
  if (!dst) return;
  parallel_for(planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, H * W)), [&](int64_t b, int64_t e) {
    for (int64_t pl = b; pl < e; pl++) {
      for (int64_t oh = 0; oh < Ho; oh++)
        for (int64_t ow = 0; ow < Wo; ow++) {
          const int64_t q = oh * Wo + ow;
          const int64_t r0 = rows.start[size_t(oh)], r1 = rows.end[size_t(oh)], c0 = cols.start[size_t(ow)], c1 = cols.end[size_t(ow)];
          if (!backward) {
            const float* xp = src + pl * H * W;
            double s = 0;
            for (int64_t ih = r0; ih < r1; ih++)
              for (int64_t iw = c0; iw < c1; iw++) s += xp[ih * W + iw];
            dst[pl * Ho * Wo + q] = float(s / double(inv[size_t(q)]));
          } else {
            float* dp = dst + pl * H * W;
            const float v = float(double(src[pl * Ho * Wo + q]) / double(inv[size_t(q)]));
            for (int64_t ih = r0; ih < r1; ih++)
              for (int64_t iw = c0; iw < c1; iw++) dp[ih * W + iw] += v;
          }
        }
    }
  });
}

}  // namespace

void init_conv(Napi::Env env, Napi::Object exports) {
  bind(env, exports, "conv2d", conv2d_binding);
  bind(env, exports, "conv2dGradInput", conv2d_grad_input_binding);
  bind(env, exports, "conv2dGradWeight", conv2d_grad_weight_binding);
  bind(env, exports, "maxPool2d", max_pool_binding);
  bind(env, exports, "maxPool2dBackward", max_pool_backward_binding);
  bind(env, exports, "avgPool", avg_pool_binding);
}

}  // namespace ingot
