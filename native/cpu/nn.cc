// Fused neural-network kernels: softmax / logSoftmax over any dim, crossEntropy forward and
// backward (log-softmax + NLL with weights, ignoreIndex, label smoothing), layerNorm forward and
// backward, embedding gather / scatter-add, and the in-place Adam/AdamW step. Statistics and loss
// sums accumulate in double.
#include <algorithm>
#include <cmath>
#include <vector>

#include "binding.h"
#include "threadpool.h"
#include "simd.h"
#include "vmath.h"

namespace ingot {
namespace {

thread_local std::vector<float> scratch;
float* tmp(size_t n) {
  if (scratch.size() < n) scratch.resize(n);
  return scratch.data();
}

// NaN-propagating max of a row (the result is NaN when any element is).
inline float row_max(const float* x, int64_t n) { return max_f32(x, n); }

// e[i] = exp(x[i] − m) and returns Σ e[i] (double). NOTE: the caller shifts by the row max.
inline double exp_shift_sum(const float* x, float* e, int64_t n, float m) {
  for (int64_t i = 0; i < n; i++) e[i] = exp_f(x[i] - m);
  return sum_f32(e, n);
}

// One softmax row, contiguous in and out (out may alias the scratch input).
inline void softmax_row(const float* x, float* o, int64_t n, bool log) {
  float m = row_max(x, n);
  // NOTE: with an infinite max, x − m is NaN for the infinite elements; shift by 0 instead (as ref).
  if (m == INFINITY || m == -INFINITY) m = 0.0f;
  if (log) {
    float* e = tmp(size_t(n) * 2) + n;
    const float shift = float(double(m) + std::log(exp_shift_sum(x, e, n, m)));
    for (int64_t i = 0; i < n; i++) o[i] = x[i] - shift;
  } else {
    const double s = exp_shift_sum(x, o, n, m);
    const float r = float(1.0 / s);
    for (int64_t i = 0; i < n; i++) o[i] *= r;
  }
}

// softmax(x, out) / logSoftmax: P = [log, ...view of x, dim]; rows along dim, out contiguous.
void softmax_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const bool log = p.i() != 0;
  const View x = p.view();
  const int dim = int(p.i());
  const float* xd = array_arg<float>(info, 0, x.extent());
  float* od = xd ? array_arg<float>(info, 1, x.numel()) : nullptr;
  if (!od) return;
  const int64_t total = x.numel();
  if (total == 0) return;
  const int64_t n = x.nd == 0 ? 1 : x.shape[dim], xs = x.nd == 0 ? 1 : x.stride[dim];
  int64_t os = 1;
  for (int d = x.nd - 1; d > dim; d--) os *= x.shape[d];
  const int64_t rows = total / n;
  parallel_for(rows, std::max<int64_t>(1, 8192 / n), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      // Row r: its multi-index over the other dims, in row-major order.
      int64_t xo = x.off, oo = 0, rem = r, ostride = 1;
      for (int d = x.nd - 1; d >= 0; d--) {
        if (d == dim) {
          ostride *= x.shape[d];
          continue;
        }
        const int64_t i = rem % x.shape[d];
        rem /= x.shape[d];
        xo += i * x.stride[d];
        oo += i * ostride;
        ostride *= x.shape[d];
      }
      if (xs == 1 && os == 1) {
        softmax_row(xd + xo, od + oo, n, log);
      } else {
        float* t = tmp(size_t(n) * 2);
        for (int64_t i = 0; i < n; i++) t[i] = xd[xo + i * xs];
        softmax_row(t, t, n, log);
        for (int64_t i = 0; i < n; i++) od[oo + i * os] = t[i];
      }
    }
  });
}

enum Reduction { MEAN = 0, SUM = 1, NONE = 2 };

// crossEntropy(logits, target, loss, softmax, weight?): P = [N, C, S, ignoreIndex, labelSmoothing,
// reduction, hasWeight]. Logits are contiguous [N, C, S]; target [N, S] int32 (checked by meta).
void cross_entropy_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int64_t N = p.i(), C = p.i(), S = p.i(), ignore = p.i();
  const double eps = p.f();
  const int red = int(p.i());
  const bool has_w = p.i() != 0;
  const float* z = array_arg<float>(info, 0, N * C * S);
  const int32_t* t = z ? array_arg<int32_t>(info, 1, N * S) : nullptr;
  float* loss = t ? array_arg<float>(info, 2, red == NONE ? N * S : 1) : nullptr;
  float* sm = loss ? array_arg<float>(info, 3, N * C * S) : nullptr;
  const float* w = sm && has_w ? array_arg<float>(info, 4, C) : nullptr;
  if (!sm || (has_w && !w)) return;
  std::vector<double> losses(static_cast<size_t>(N * S)), wts(static_cast<size_t>(N * S));
  parallel_for(N * S, std::max<int64_t>(1, 4096 / C), [&](int64_t b, int64_t e) {
    float* row = tmp(size_t(C) * 3);
    float* lp = row + C;
    for (int64_t q = b; q < e; q++) {
      const int64_t n = q / S, s = q % S;
      const float* zr = z + n * C * S + s;
      for (int64_t c = 0; c < C; c++) row[c] = zr[c * S];
      // NOTE: log-softmax = z − max − log Σ exp(z − max).
      const float m = row_max(row, C);
      const double se = exp_shift_sum(row, lp, C, m);
      const double lse = double(m) + std::log(se);
      float* smr = sm + n * C * S + s;
      const float inv = float(1.0 / se);
      for (int64_t c = 0; c < C; c++) smr[c * S] = lp[c] * inv;
      const int32_t tg = t[q];
      if (tg == ignore) {
        losses[size_t(q)] = 0;
        wts[size_t(q)] = 0;
        continue;
      }
      const double wt = has_w ? w[tg] : 1.0;
      double l = -wt * (double(row[tg]) - lse);
      if (eps > 0) {
        double smooth = 0;
        for (int64_t c = 0; c < C; c++) smooth -= (has_w ? w[c] : 1.0) * (double(row[c]) - lse);
        l = (1 - eps) * l + (eps / double(C)) * smooth;
      }
      losses[size_t(q)] = l;
      wts[size_t(q)] = wt;
    }
  });
  if (red == NONE) {
    for (int64_t q = 0; q < N * S; q++) loss[q] = float(losses[size_t(q)]);
    return;
  }
  double s = 0, total = 0;
  for (int64_t q = 0; q < N * S; q++) {
    s += losses[size_t(q)];
    total += wts[size_t(q)];
  }
  // NOTE: a mean over no (or only ignored) targets is 0/0 = NaN, as in PyTorch.
  loss[0] = float(red == SUM ? s : s / total);
}

// crossEntropyBackward(g, softmax, target, dz, weight?): P as crossEntropy. g is [] or [N, S] (none).
void cross_entropy_backward_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int64_t N = p.i(), C = p.i(), S = p.i(), ignore = p.i();
  const double eps = p.f();
  const int red = int(p.i());
  const bool has_w = p.i() != 0;
  const float* g = array_arg<float>(info, 0, red == NONE ? N * S : 1);
  const float* sm = g ? array_arg<float>(info, 1, N * C * S) : nullptr;
  const int32_t* t = sm ? array_arg<int32_t>(info, 2, N * S) : nullptr;
  float* dz = t ? array_arg<float>(info, 3, N * C * S) : nullptr;
  const float* w = dz && has_w ? array_arg<float>(info, 4, C) : nullptr;
  if (!dz || (has_w && !w)) return;
  double total = 0, wsum = double(C);
  for (int64_t q = 0; q < N * S; q++)
    if (t[q] != ignore) total += has_w ? w[t[q]] : 1.0;
  if (has_w) {
    wsum = 0;
    for (int64_t c = 0; c < C; c++) wsum += w[c];
  }
  const double k_all = red == SUM ? double(g[0]) : red == MEAN ? double(g[0]) / total : 0.0;
  parallel_for(N * S, std::max<int64_t>(1, 8192 / C), [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; q++) {
      const int64_t n = q / S, s = q % S;
      const int32_t tg = t[q];
      float* d = dz + n * C * S + s;
      const float* smr = sm + n * C * S + s;
      if (tg == ignore) {
        for (int64_t c = 0; c < C; c++) d[c * S] = 0.0f;
        continue;
      }
      const double k = red == NONE ? double(g[q]) : k_all;
      const double wt = has_w ? w[tg] : 1.0;
      // d loss / d z_c = s_c·((1 − ε)·w_t + (ε/C)·Σw) − (1 − ε)·w_t·[c = t] − (ε/C)·w_c
      const float coef = float(k * ((1 - eps) * wt + (eps / double(C)) * wsum));
      if (eps == 0 && !has_w)
        for (int64_t c = 0; c < C; c++) d[c * S] = smr[c * S] * coef;
      else
        for (int64_t c = 0; c < C; c++) d[c * S] = float(double(smr[c * S]) * double(coef) - k * (eps / double(C)) * (has_w ? w[c] : 1.0));
      d[tg * S] = float(double(d[tg * S]) - k * (1 - eps) * wt);
    }
  });
}

#if defined(__GNUC__)
typedef float lnf8 __attribute__((vector_size(32)));
typedef double lnd8 __attribute__((vector_size(64)));
inline lnd8 ln_load(const float* p) {
  lnf8 v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, lnd8);
}
inline lnd8 ln_splat(double x) { return lnd8{x, x, x, x, x, x, x, x}; }
inline double ln_hsum(lnd8 a) { return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])); }
#endif

/** Σ (x − μ)² over p[0..n), in double: 8 lanes (the compiler may not reorder a scalar double sum). */
inline double sum_sq_dev_f32(const float* p, int64_t n, double mu) {
  double s = 0;
  int64_t j = 0;
#if defined(__GNUC__)
  lnd8 acc = ln_splat(0);
  const lnd8 vmu = ln_splat(mu);
  for (; j + 8 <= n; j += 8) {
    const lnd8 d = ln_load(p + j) - vmu;
    acc += d * d;
  }
  s = ln_hsum(acc);
#endif
  for (; j < n; j++) {
    const double d = double(p[j]) - mu;
    s += d * d;
  }
  return s;
}

/** The row sums of layerNorm's backward, in double: Σ ĝ and Σ ĝ·x̂, ĝ = g·w (w may be null), x̂ = (x − μ)·rs. */
inline void ln_backward_sums(const float* g, const float* x, const float* w, int64_t n, double mu, double rs, double* sg, double* sgx) {
  double a = 0, b = 0;
  int64_t j = 0;
#if defined(__GNUC__)
  lnd8 va = ln_splat(0), vb = ln_splat(0);
  const lnd8 vmu = ln_splat(mu), vrs = ln_splat(rs);
  for (; j + 8 <= n; j += 8) {
    const lnd8 xh = (ln_load(x + j) - vmu) * vrs;
    const lnd8 gh = w ? ln_load(g + j) * ln_load(w + j) : ln_load(g + j);
    va += gh;
    vb += gh * xh;
  }
  a = ln_hsum(va), b = ln_hsum(vb);
#endif
  for (; j < n; j++) {
    const double xh = (double(x[j]) - mu) * rs;
    const double gh = w ? double(g[j]) * w[j] : double(g[j]);
    a += gh;
    b += gh * xh;
  }
  *sg = a, *sgx = b;
}

// layerNorm(x, y, mean, rstd, weight?, bias?): P = [rows, n, eps, hasWeight, hasBias]; all contiguous.
void layer_norm_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int64_t rows = p.i(), n = p.i();
  const double eps = p.f();
  const bool hw = p.i() != 0, hb = p.i() != 0;
  const float* x = array_arg<float>(info, 0, rows * n);
  float* y = x ? array_arg<float>(info, 1, rows * n) : nullptr;
  float* mean = y ? array_arg<float>(info, 2, rows) : nullptr;
  float* rstd = mean ? array_arg<float>(info, 3, rows) : nullptr;
  if (!rstd) return;
  size_t k = 4;
  const float* w = hw ? array_arg<float>(info, k++, n) : nullptr;
  const float* bias = hb ? array_arg<float>(info, k++, n) : nullptr;
  if ((hw && !w) || (hb && !bias)) return;
  parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const float* xr = x + r * n;
      float* yr = y + r * n;
      const double mu = sum_f32(xr, n) / double(n);
      // NOTE: two passes (Σ(x−μ)²) rather than E[x²]−μ², which cancels catastrophically.
      const double ss = sum_sq_dev_f32(xr, n, mu);
      const double rs = 1.0 / std::sqrt(ss / double(n) + eps);
      mean[r] = float(mu);
      rstd[r] = float(rs);
      const float fmu = float(mu), frs = float(rs);
      for (int64_t j = 0; j < n; j++) {
        float v = (xr[j] - fmu) * frs;
        if (w) v *= w[j];
        if (bias) v += bias[j];
        yr[j] = v;
      }
    }
  });
}

// layerNormBackward(g, x, mean, rstd, dx, dw, db, weight?): P = [rows, n, hasWeight]; contiguous.
void layer_norm_backward_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int64_t rows = p.i(), n = p.i();
  const bool hw = p.i() != 0;
  const float* g = array_arg<float>(info, 0, rows * n);
  const float* x = g ? array_arg<float>(info, 1, rows * n) : nullptr;
  const float* mean = x ? array_arg<float>(info, 2, rows) : nullptr;
  const float* rstd = mean ? array_arg<float>(info, 3, rows) : nullptr;
  float* dx = rstd ? array_arg<float>(info, 4, rows * n) : nullptr;
  float* dw = dx ? array_arg<float>(info, 5, n) : nullptr;
  float* db = dw ? array_arg<float>(info, 6, n) : nullptr;
  const float* w = db && hw ? array_arg<float>(info, 7, n) : nullptr;
  if (!db || (hw && !w)) return;
  const int64_t chunks = std::min<int64_t>(num_threads(), std::max<int64_t>(1, rows * n / 16384));
  std::vector<double> part(size_t(chunks * 2 * n), 0.0);
  parallel_tasks(chunks, [&](int64_t c) {
    double* pw = part.data() + c * 2 * n;
    double* pb = pw + n;
    for (int64_t r = rows * c / chunks; r < rows * (c + 1) / chunks; r++) {
      const float* gr = g + r * n;
      const float* xr = x + r * n;
      const double mu = mean[r], rs = rstd[r];
      // dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w and x̂ = (x − μ)·rstd.
      double sg, sgx;
      ln_backward_sums(gr, xr, w, n, mu, rs, &sg, &sgx);
      for (int64_t j = 0; j < n; j++) {  // no reduction: vectorizes as it is
        pw[j] += double(gr[j]) * ((double(xr[j]) - mu) * rs);
        pb[j] += gr[j];
      }
      const double a = sg / double(n), bq = sgx / double(n);
      float* dr = dx + r * n;
      for (int64_t j = 0; j < n; j++) {
        const double xh = (double(xr[j]) - mu) * rs;
        const double gh = w ? double(gr[j]) * w[j] : double(gr[j]);
        dr[j] = float(rs * (gh - a - xh * bq));
      }
    }
  });
  for (int64_t j = 0; j < n; j++) {
    double sw = 0, sb = 0;
    for (int64_t c = 0; c < chunks; c++) {
      sw += part[size_t(c * 2 * n + j)];
      sb += part[size_t(c * 2 * n + n + j)];
    }
    dw[j] = float(sw);
    db[j] = float(sb);
  }
}

// embedding(weight, indices, out): P = [wOff, rowStride, colStride, V, D, count]; 4-byte elements.
void embedding_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int64_t off = p.i(), rs = p.i(), cs = p.i(), V = p.i(), D = p.i(), count = p.i();
  int sz;
  const uint32_t* w = static_cast<const uint32_t*>(any_array(info, 0, V == 0 ? 0 : off + (V - 1) * rs + (D - 1) * cs + 1, &sz));
  const int32_t* idx = w ? array_arg<int32_t>(info, 1, count) : nullptr;
  uint32_t* out = idx ? static_cast<uint32_t*>(any_array(info, 2, count * D, &sz)) : nullptr;
  if (!out) return;
  parallel_for(count, std::max<int64_t>(1, 16384 / std::max<int64_t>(D, 1)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) {
      const uint32_t* row = w + off + int64_t(idx[i]) * rs;
      uint32_t* o = out + i * D;
      if (cs == 1)
        for (int64_t j = 0; j < D; j++) o[j] = row[j];
      else
        for (int64_t j = 0; j < D; j++) o[j] = row[j * cs];
    }
  });
}

// embeddingBackward(g, indices, out): P = [count, D, V, paddingIdx]; g and indices contiguous.
// The grad rows are grouped by index first (a stable counting sort), so each output row is summed
// by one thread, in double and in index order, and rounded once (as ref does).
void embedding_backward_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int64_t count = p.i(), D = p.i(), V = p.i(), pad = p.i();
  const float* g = array_arg<float>(info, 0, count * D);
  const int32_t* idx = g ? array_arg<int32_t>(info, 1, count) : nullptr;
  float* out = idx ? array_arg<float>(info, 2, V * D) : nullptr;
  if (!out) return;
  std::vector<int64_t> start(size_t(V + 1), 0);
  for (int64_t i = 0; i < count; i++)
    if (idx[i] != pad && idx[i] >= 0 && idx[i] < V) start[size_t(idx[i]) + 1]++;
  for (int64_t v = 0; v < V; v++) start[size_t(v + 1)] += start[size_t(v)];
  std::vector<int64_t> order(static_cast<size_t>(start[size_t(V)])), fill(start.begin(), start.end() - 1);
  for (int64_t i = 0; i < count; i++)
    if (idx[i] != pad && idx[i] >= 0 && idx[i] < V) order[size_t(fill[size_t(idx[i])]++)] = i;
  parallel_for(V, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, D * (count / std::max<int64_t>(V, 1) + 1))), [&](int64_t b, int64_t e) {
    std::vector<double> acc(static_cast<size_t>(D));
    for (int64_t v = b; v < e; v++) {
      const int64_t s = start[size_t(v)], t = start[size_t(v + 1)];
      if (s == t) continue;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t k = s; k < t; k++) {
        const float* gr = g + order[size_t(k)] * D;
        for (int64_t j = 0; j < D; j++) acc[size_t(j)] += gr[j];
      }
      float* o = out + v * D;
      for (int64_t j = 0; j < D; j++) o[j] = float(acc[size_t(j)]);
    }
  });
}

struct AdamConsts {
  float step_size, inv_bc2, eps, a1, b2, a2, decay, l2, sign;
};

// One Adam(W) step over n elements; AMS: keep the running max of v in x and divide by it.
template <bool AMS>
void adam_range(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v, float* __restrict x, int64_t n,
                const AdamConsts c) {
  for (int64_t i = 0; i < n; i++) {
    const float pi = p[i] * c.decay;
    const float gi = c.sign * g[i] + c.l2 * p[i];
    const float mi = m[i] + c.a1 * (gi - m[i]);
    const float vi = c.b2 * v[i] + c.a2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    float vuse = vi;
    if (AMS) {
      vuse = x[i] > vi ? x[i] : vi;
      x[i] = vuse;
    }
    // NOTE: eps is added after dividing √v by √(1−β₂ᵗ), as PyTorch does (not to v).
    p[i] = pi - c.step_size * mi / (std::sqrt(vuse) * c.inv_bc2 + c.eps);
  }
}

// adamUpdate_(param, grad, expAvg, expAvgSq, maxExpAvgSq?): P = [n, offsets × 5, lr, beta1, beta2,
// eps, weightDecay, step, decoupled, amsgrad, maximize]. Everything updated in place.
void adam_binding(const Napi::CallbackInfo& info) {
  Params q = params(info);
  const int64_t n = q.i();
  int64_t off[5];
  for (auto& o : off) o = q.i();
  const double lr = q.f(), b1 = q.f(), b2 = q.f(), eps = q.f(), wd = q.f(), step = q.f();
  const bool decoupled = q.i() != 0, ams = q.i() != 0, maximize = q.i() != 0;
  float* pp = array_arg<float>(info, 0, off[0] + n);
  const float* gp = pp ? array_arg<float>(info, 1, off[1] + n) : nullptr;
  float* mp = gp ? array_arg<float>(info, 2, off[2] + n) : nullptr;
  float* vp = mp ? array_arg<float>(info, 3, off[3] + n) : nullptr;
  float* xp = vp && ams ? array_arg<float>(info, 4, off[4] + n) : nullptr;
  if (!vp || (ams && !xp)) return;
  const double bc1 = 1 - std::pow(b1, step), bc2_sqrt = std::sqrt(1 - std::pow(b2, step));
  AdamConsts c;
  c.step_size = float(lr / bc1), c.inv_bc2 = float(1.0 / bc2_sqrt), c.eps = float(eps);
  c.a1 = float(1 - b1), c.b2 = float(b2), c.a2 = float(1 - b2);
  c.decay = decoupled ? float(1 - lr * wd) : 1.0f, c.l2 = decoupled ? 0.0f : float(wd), c.sign = maximize ? -1.0f : 1.0f;
  float *P = pp + off[0], *M = mp + off[2], *Vv = vp + off[3], *X = ams ? xp + off[4] : nullptr;
  const float* G = gp + off[1];
  parallel_for(n, 32768, [&](int64_t b, int64_t e) {
    if (ams)
      adam_range<true>(P + b, G + b, M + b, Vv + b, X + b, e - b, c);
    else
      adam_range<false>(P + b, G + b, M + b, Vv + b, nullptr, e - b, c);
  });
}

}  // namespace

void init_nn(Napi::Env env, Napi::Object exports) {
  bind(env, exports, "softmax", softmax_binding);
  bind(env, exports, "crossEntropy", cross_entropy_binding);
  bind(env, exports, "crossEntropyBackward", cross_entropy_backward_binding);
  bind(env, exports, "layerNorm", layer_norm_binding);
  bind(env, exports, "layerNormBackward", layer_norm_backward_binding);
  bind(env, exports, "embedding", embedding_binding);
  bind(env, exports, "embeddingBackward", embedding_backward_binding);
  bind(env, exports, "adamUpdate", adam_binding);
}

}  // namespace ingot
