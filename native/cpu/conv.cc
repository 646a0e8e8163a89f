// conv2d forward and both backward passes as im2col + GEMM over groups of images (one group per
// task, so each thread's column matrix stays in its cache and no two threads write the same output).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "binding.h"
#include "gemm.h"
#include "threadpool.h"

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

}  // namespace

void init_conv(Napi::Env env, Napi::Object exports) {
  bind(env, exports, "conv2d", conv2d_binding);
  bind(env, exports, "conv2dGradInput", conv2d_grad_input_binding);
  bind(env, exports, "conv2dGradWeight", conv2d_grad_weight_binding);
}

}  // namespace ingot
