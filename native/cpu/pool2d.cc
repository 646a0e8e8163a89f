// 2-D pooling over [planes, H, W]: max (with the flat index of each maximum, for the backward)
// and average / adaptive average, forward and backward.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "binding.h"
#include "threadpool.h"

namespace ingot {
namespace {

// Taps [lo, hi) of a window starting at input index `start` (stride `dil` between taps, `k` taps)
// that fall inside [0, size).
inline void tap_range_inv(int64_t start, int64_t dil, int64_t size, int64_t k, int64_t& lo, int64_t& hi) {
  lo = start < 0 ? (-start + dil - 1) / dil : 0;
  hi = size - 1 - start < 0 ? 0 : (size - 1 - start) / dil + 1;
  if (hi > k) hi = k;
  if (hi < lo) hi = lo;
}

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

void init_pool(Napi::Env env, Napi::Object exports) {
  bind(env, exports, "maxPool2d", max_pool_binding);
  bind(env, exports, "maxPool2dBackward", max_pool_backward_binding);
  bind(env, exports, "avgPool", avg_pool_binding);
}

}  // namespace ingot
