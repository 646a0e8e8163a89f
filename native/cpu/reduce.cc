// Reductions over any set of axes of a strided input: sum (float32 accumulated in double), max/min
// (NaN wins, as in PyTorch), argmax/argmin (first extremum or first NaN), variance/std (two passes in
// double). The output is contiguous over the kept axes in row-major order.
#include <cmath>
#include <limits>
#include <vector>

#include "binding.h"
#include "threadpool.h"
#include "simd.h"

namespace ingot {
namespace {

enum ReduceOp { SUM, MAX, MIN, ARGMAX, ARGMIN, VARIANCE, STD };
enum DT { F32 = 0, I32 = 1, BOOL = 2 };

// Kept dims (output order) and reduced dims of the input, each group collapsed where contiguous.
struct Geometry {
  int nk = 0, nr = 0;
  int64_t ks[MAXD], kst[MAXD], rs[MAXD], rst[MAXD];
  int64_t off = 0, outer = 1, inner = 1;
};

void push_dim(int& n, int64_t* shape, int64_t* st, int64_t size, int64_t stride) {
  if (size == 1) return;
  if (n > 0 && st[n - 1] == stride * size) {
    shape[n - 1] *= size;
    st[n - 1] = stride;
    return;
  }
  shape[n] = size;
  st[n] = stride;
  n++;
}

Geometry geometry(const View& x, const bool* reduced) {
  Geometry g;
  g.off = x.off;
  for (int d = 0; d < x.nd; d++) {
    if (reduced[d]) {
      push_dim(g.nr, g.rs, g.rst, x.shape[d], x.stride[d]);
      g.inner *= x.shape[d];
    } else {
      push_dim(g.nk, g.ks, g.kst, x.shape[d], x.stride[d]);
      g.outer *= x.shape[d];
    }
  }
  return g;
}

// Offset of output element o (row-major over the kept dims).
inline int64_t kept_offset(const Geometry& g, int64_t o) {
  int64_t p = g.off;
  for (int d = g.nk - 1; d >= 0; d--) {
    p += (o % g.ks[d]) * g.kst[d];
    o /= g.ks[d];
  }
  return p;
}

// Calls f(ptr, n, stride) over the reduced elements [b, e) (row-major) of the group at base.
template <class T, class F>
void reduced_runs(const Geometry& g, const T* base, int64_t b, int64_t e, F&& f) {
  if (g.nr == 0) {
    if (b < e) f(base, int64_t(1), int64_t(1));
    return;
  }
  const int nr = g.nr;
  int64_t idx[MAXD], p = 0, rem = b;
  for (int d = nr - 1; d >= 0; d--) {
    idx[d] = rem % g.rs[d];
    rem /= g.rs[d];
    p += idx[d] * g.rst[d];
  }
  const int64_t last = g.rs[nr - 1], st = g.rst[nr - 1];
  int64_t pos = b;
  while (pos < e) {
    const int64_t run = std::min(last - idx[nr - 1], e - pos);
    f(base + p, run, st);
    pos += run;
    idx[nr - 1] += run;
    p += run * st;
    for (int d = nr - 1; d > 0 && idx[d] == g.rs[d]; d--) {
      p += g.rst[d - 1] - g.rs[d] * g.rst[d];
      idx[d] = 0;
      idx[d - 1]++;
    }
  }
}

// Σ of a run in double.
inline double sum_run(const float* p, int64_t n, int64_t st) {
  if (st == 1) return sum_f32(p, n);
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += p[i * st];
  return s;
}

template <class T>
inline double sum_run_any(const T* p, int64_t n, int64_t st) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += double(p[i * st]);
  return s;
}
template <>
inline double sum_run_any<float>(const float* p, int64_t n, int64_t st) {
  return sum_run(p, n, st);
}

constexpr int64_t GRAIN = 32768;

// Sum where the innermost kept dim is contiguous and the reduced dims lie outside it (bias
// gradients: Σ over rows of [B, N]): whole rows are accumulated into a column buffer.
bool sum_columns(const Geometry& g, const float* x, float* out) {
  if (g.nk == 0 || g.kst[g.nk - 1] != 1 || g.nr == 0 || g.rst[g.nr - 1] == 1) return false;
  const int64_t cols = g.ks[g.nk - 1], groups = g.outer / cols;
  parallel_for(g.outer, GRAIN / std::max<int64_t>(1, g.inner) + 1, [&](int64_t b, int64_t e) {
    std::vector<double> acc;
    for (int64_t grp = b / cols; grp <= (e - 1) / cols && grp < groups; grp++) {
      const int64_t c0 = std::max(b, grp * cols) - grp * cols, c1 = std::min(e, (grp + 1) * cols) - grp * cols;
      acc.assign(size_t(c1 - c0), 0.0);
      const float* base = x + kept_offset(g, grp * cols + c0);
      reduced_runs(g, base, 0, g.inner, [&](const float* p, int64_t n, int64_t st) {
        for (int64_t r = 0; r < n; r++) {
          const float* row = p + r * st;
          for (int64_t c = 0; c < c1 - c0; c++) acc[size_t(c)] += row[c];
        }
      });
      for (int64_t c = c0; c < c1; c++) out[grp * cols + c] = float(acc[size_t(c - c0)]);
    }
  });
  return true;
}

template <class T, class TO>
void sum_kernel(const Geometry& g, const T* x, TO* out) {
  if (g.outer == 1 && g.inner > GRAIN && num_threads() > 1) {
    // One big group: per-chunk partial sums, added in chunk order.
    const int64_t chunks = num_threads();
    std::vector<double> part(size_t(chunks), 0.0);
    parallel_tasks(chunks, [&](int64_t t) {
      double s = 0;
      reduced_runs(g, x + g.off, g.inner * t / chunks, g.inner * (t + 1) / chunks, [&](const T* p, int64_t n, int64_t st) { s += sum_run_any(p, n, st); });
      part[size_t(t)] = s;
    });
    double s = 0;
    for (double v : part) s += v;
    out[0] = TO(s);
    return;
  }
  parallel_for(g.outer, GRAIN / std::max<int64_t>(1, g.inner) + 1, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; o++) {
      double s = 0;
      reduced_runs(g, x + kept_offset(g, o), 0, g.inner, [&](const T* p, int64_t n, int64_t st) { s += sum_run_any(p, n, st); });
      out[o] = TO(s);
    }
  });
}

// int32 sums wrap like the JavaScript result stored into an Int32Array.
template <class T>
void sum_int_kernel(const Geometry& g, const T* x, int32_t* out) {
  parallel_for(g.outer, GRAIN / std::max<int64_t>(1, g.inner) + 1, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; o++) {
      int64_t s = 0;
      reduced_runs(g, x + kept_offset(g, o), 0, g.inner, [&](const T* p, int64_t n, int64_t st) {
        for (int64_t i = 0; i < n; i++) s += int64_t(p[i * st]);
      });
      out[o] = int32_t(uint32_t(uint64_t(s)));
    }
  });
}

// First extremum of a group (sign 1: max, -1: min); a NaN wins at its first position.
template <class T>
void extremum_kernel(const Geometry& g, const T* x, T* vout, int32_t* iout, int sign) {
  parallel_for(g.outer, GRAIN / std::max<int64_t>(1, g.inner) + 1, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; o++) {
      T best = T(0);
      int64_t bi = -1, pos = 0;
      bool nan = false;
      reduced_runs(g, x + kept_offset(g, o), 0, g.inner, [&](const T* p, int64_t n, int64_t st) {
        if (nan) return;
        for (int64_t i = 0; i < n; i++) {
          const T v = p[i * st];
          if (v != v) {
            best = v;
            bi = pos + i;
            nan = true;
            return;
          }
          if (bi < 0 || (sign > 0 ? v > best : v < best)) {
            best = v;
            bi = pos + i;
          }
        }
        pos += n;
      });
      if (vout) vout[o] = best;
      if (iout) iout[o] = int32_t(bi < 0 ? 0 : bi);
    }
  });
}

void variance_kernel(const Geometry& g, const float* x, float* out, double correction, bool root) {
  parallel_for(g.outer, GRAIN / std::max<int64_t>(1, g.inner) + 1, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; o++) {
      const float* base = x + kept_offset(g, o);
      double s = 0;
      reduced_runs(g, base, 0, g.inner, [&](const float* p, int64_t n, int64_t st) { s += sum_run(p, n, st); });
      const double m = s / double(g.inner);
      double ss = 0;
      reduced_runs(g, base, 0, g.inner, [&](const float* p, int64_t n, int64_t st) {
        for (int64_t i = 0; i < n; i++) {
          const double d = double(p[i * st]) - m;
          ss += d * d;
        }
      });
      const double v = ss / std::max(0.0, double(g.inner) - correction);
      out[o] = float(root ? std::sqrt(v) : v);
    }
  });
}

// reduce(x, out): P = [op, dtype, ...view of x, naxes, ...axes, correction].
void reduce_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int op = int(p.i()), dt = int(p.i());
  const View xv = p.view();
  const int na = int(p.i());
  bool reduced[MAXD] = {};
  for (int j = 0; j < na; j++) {
    const int64_t ax = p.i();
    if (ax >= 0 && ax < xv.nd) reduced[ax] = true;
  }
  const double correction = p.f();
  const Geometry g = geometry(xv, reduced);
  const int64_t nout = g.outer;
  if (dt == F32) {
    const float* x = array_arg<float>(info, 0, xv.extent());
    if (!x) return;
    if (op == ARGMAX || op == ARGMIN) {
      int32_t* o = array_arg<int32_t>(info, 1, nout);
      if (o && g.inner > 0) extremum_kernel<float>(g, x, nullptr, o, op == ARGMAX ? 1 : -1);
      return;
    }
    float* o = array_arg<float>(info, 1, nout);
    if (!o) return;
    if (op == SUM) {
      if (!sum_columns(g, x, o)) sum_kernel(g, x, o);
    } else if ((op == MAX || op == MIN) && g.inner > 0)
      extremum_kernel<float>(g, x, o, nullptr, op == MAX ? 1 : -1);
    else if (op == VARIANCE || op == STD)
      variance_kernel(g, x, o, correction, op == STD);
  } else if (dt == I32) {
    const int32_t* x = array_arg<int32_t>(info, 0, xv.extent());
    int32_t* o = x ? array_arg<int32_t>(info, 1, nout) : nullptr;
    if (!o) return;
    if (op == SUM)
      sum_int_kernel(g, x, o);
    else if ((op == MAX || op == MIN) && g.inner > 0)
      extremum_kernel<int32_t>(g, x, o, nullptr, op == MAX ? 1 : -1);
    else if ((op == ARGMAX || op == ARGMIN) && g.inner > 0)
      extremum_kernel<int32_t>(g, x, nullptr, o, op == ARGMAX ? 1 : -1);
  } else if (dt == BOOL && op == SUM) {
    const uint8_t* x = array_arg<uint8_t>(info, 0, xv.extent());
    int32_t* o = x ? array_arg<int32_t>(info, 1, nout) : nullptr;
    if (o) sum_int_kernel(g, x, o);
  } else
    fail(info, "reduce: unsupported op/dtype");
}

}  // namespace

void init_reduce(Napi::Env env, Napi::Object exports) { bind(env, exports, "reduce", reduce_binding); }

}  // namespace ingot
