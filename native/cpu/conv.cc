// conv2d forward and both backward passes as im2col + GEMM, one image per task (so each thread's
// column matrix stays in its cache and no two threads write the same output), and 2-D pooling
// (max with saved indices, average, adaptive average) forward and backward.
#include <cmath>
#include <vector>

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

thread_local std::vector<float> colbuf;
float* col_buffer(size_t n) {
  if (colbuf.size() < n) colbuf.resize(n);
  return colbuf.data();
}

// col[r·P + p] = x[c, ih, iw] for r = (c, kh, kw) of one group of one image (0 in the padding);
// with add, the adjoint: x[…] += col[…] (col2im).
template <bool ADD>
void im2col(const ConvGeo& g, float* x, float* col) {
  int64_t r = 0;
  for (int64_t c = 0; c < g.Cg; c++) {
    float* plane = x + c * g.H * g.W;
    for (int64_t kh = 0; kh < g.kH; kh++) {
      int64_t ohl, ohh;
      tap_range(kh, g.sh, g.dh, g.pt, g.H, g.Ho, ohl, ohh);
      for (int64_t kw = 0; kw < g.kW; kw++, r++) {
        int64_t owl, owh;
        tap_range(kw, g.sw, g.dw, g.pl, g.W, g.Wo, owl, owh);
        float* dst = col + r * g.P;
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

// Runs f(n) for every image: in parallel over images when there are enough of them (each task then
// runs serial GEMMs); otherwise one image at a time with the GEMMs themselves parallel.
template <class F>
void over_images(int64_t N, F&& f) {
  if (N >= num_threads() && num_threads() > 1)
    parallel_for(N, 1, [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; n++) f(n, false);
    });
  else
    for (int64_t n = 0; n < N; n++) f(n, true);
}

inline void run_gemm(const Gemm& g, bool par) {
  if (par)
    sgemm(g);
  else
    sgemm_serial(g);
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
  const bool direct = pointwise(g);
  over_images(g.N, [&](int64_t n, bool par) {
    for (int64_t grp = 0; grp < g.G; grp++) {
      float* xg = x + (n * g.C + grp * g.Cg) * g.H * g.W;
      float* col = direct ? xg : col_buffer(size_t(g.K * g.P));
      if (!direct) im2col<false>(g, xg, col);
      Gemm m;
      m.M = g.Og, m.N = g.P, m.K = g.K;
      m.A = w + grp * g.Og * g.K, m.rsa = g.K, m.csa = 1;
      m.B = col, m.rsb = g.P, m.csb = 1;
      m.C = y + (n * g.O + grp * g.Og) * g.P, m.ldc = g.P;
      if (b) m.bias = b + grp * g.Og, m.bias_axis = 0;
      run_gemm(m, par);
    }
  });
}

// conv2dGradInput(gy, w, dx): P = geometry. dcol = w_gᵀ·gy per group and image, then col2im.
void conv2d_grad_input_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const ConvGeo g = read_geo(p);
  const float* gy = array_arg<float>(info, 0, g.N * g.O * g.P);
  const float* w = gy ? array_arg<float>(info, 1, g.O * g.K) : nullptr;
  float* dx = w ? array_arg<float>(info, 2, g.N * g.C * g.H * g.W) : nullptr;
  if (!dx) return;
  const bool direct = pointwise(g);
  over_images(g.N, [&](int64_t n, bool par) {
    for (int64_t grp = 0; grp < g.G; grp++) {
      float* dxg = dx + (n * g.C + grp * g.Cg) * g.H * g.W;
      float* dcol = direct ? dxg : col_buffer(size_t(g.K * g.P));
      Gemm m;
      m.M = g.K, m.N = g.P, m.K = g.Og;
      m.A = w + grp * g.Og * g.K, m.rsa = 1, m.csa = g.K;  // wᵀ, read in place
      m.B = gy + (n * g.O + grp * g.Og) * g.P, m.rsb = g.P, m.csb = 1;
      m.C = dcol, m.ldc = g.P;
      run_gemm(m, par);
      if (!direct) im2col<true>(g, dxg, dcol);
    }
  });
}

// conv2dGradWeight(x, gy, dw): P = geometry. dw_g = Σ_n gy_n·col_nᵀ, each chunk of images summed
// into its own buffer, the chunks then added in order.
void conv2d_grad_weight_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const ConvGeo g = read_geo(p);
  float* x = array_arg<float>(info, 0, g.N * g.C * g.H * g.W);
  const float* gy = x ? array_arg<float>(info, 1, g.N * g.O * g.P) : nullptr;
  float* dw = gy ? array_arg<float>(info, 2, g.O * g.K) : nullptr;
  if (!dw) return;
  const bool direct = pointwise(g);
  const int64_t chunks = g.N >= num_threads() && num_threads() > 1 ? num_threads() : 1;
  std::vector<float> part(size_t((chunks - 1) * g.O * g.K), 0.0f);
  auto image = [&](int64_t n, float* acc, bool first, bool par) {
    for (int64_t grp = 0; grp < g.G; grp++) {
      float* xg = x + (n * g.C + grp * g.Cg) * g.H * g.W;
      float* col = direct ? xg : col_buffer(size_t(g.K * g.P));
      if (!direct) im2col<false>(g, xg, col);
      Gemm m;
      m.M = g.Og, m.N = g.K, m.K = g.P;
      m.A = gy + (n * g.O + grp * g.Og) * g.P, m.rsa = g.P, m.csa = 1;
      m.B = col, m.rsb = 1, m.csb = g.P;  // colᵀ, read in place
      m.C = acc + grp * g.Og * g.K, m.ldc = g.K;
      m.accumulate = !first;
      run_gemm(m, par);
    }
  };
  if (chunks == 1) {
    for (int64_t n = 0; n < g.N; n++) image(n, dw, n == 0, true);
    return;
  }
  parallel_tasks(chunks, [&](int64_t c) {
    float* acc = c == 0 ? dw : part.data() + (c - 1) * g.O * g.K;
    for (int64_t n = g.N * c / chunks; n < g.N * (c + 1) / chunks; n++) image(n, acc, n == g.N * c / chunks, false);
  });
  for (int64_t c = 1; c < chunks; c++) {
    const float* src = part.data() + (c - 1) * g.O * g.K;
    for (int64_t i = 0; i < g.O * g.K; i++) dw[i] += src[i];
  }
}

// ── pooling ─────────────────────────────────────────────────────────────────────────────────────

// maxPool2d(x, out, indices): P = [planes, H, W, Ho, Wo, kH, kW, sh, sw, ph, pw, dh, dw]; x contiguous.
void max_pool_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int64_t planes = p.i(), H = p.i(), W = p.i(), Ho = p.i(), Wo = p.i(), kH = p.i(), kW = p.i();
  const int64_t sh = p.i(), sw = p.i(), ph = p.i(), pw = p.i(), dh = p.i(), dw = p.i();
  const float* x = array_arg<float>(info, 0, planes * H * W);
  float* out = x ? array_arg<float>(info, 1, planes * Ho * Wo) : nullptr;
  int32_t* idx = out ? array_arg<int32_t>(info, 2, planes * Ho * Wo) : nullptr;
  if (!idx) return;
  parallel_for(planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, Ho * Wo * kH * kW)), [&](int64_t b, int64_t e) {
    for (int64_t pl = b; pl < e; pl++) {
      const float* xp = x + pl * H * W;
      float* op = out + pl * Ho * Wo;
      int32_t* ip = idx + pl * Ho * Wo;
      for (int64_t oh = 0; oh < Ho; oh++) {
        const int64_t hs = oh * sh - ph;
        for (int64_t ow = 0; ow < Wo; ow++) {
          const int64_t ws = ow * sw - pw;
          // Padding acts as −∞. NOTE: like PyTorch, a NaN wins over any number (v != v).
          float best = -INFINITY;
          int64_t bi = -1;
          for (int64_t i = 0; i < kH; i++) {
            const int64_t ih = hs + i * dh;
            if (ih < 0 || ih >= H) continue;
            for (int64_t j = 0; j < kW; j++) {
              const int64_t iw = ws + j * dw;
              if (iw < 0 || iw >= W) continue;
              const float v = xp[ih * W + iw];
              if (v > best || v != v) {
                best = v;
                bi = ih * W + iw;
              }
            }
          }
          op[oh * Wo + ow] = best;
          ip[oh * Wo + ow] = int32_t(bi);
        }
      }
    }
  });
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
