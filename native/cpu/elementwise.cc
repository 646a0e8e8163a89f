// Elementwise kernels with broadcasting over any strides: unary math and activations, binary
// arithmetic and comparisons, where / maskedFill, strided copies and dtype casts. Contiguous runs
// are plain loops over arrays that the compiler vectorizes (vmath.h keeps exp/tanh/erf vectorizable).
#include <cmath>
#include <cstring>

#include "binding.h"
#include "strided.h"
#include "vmath.h"

namespace ingot {
namespace {

enum DT { F32 = 0, I32 = 1, BOOL = 2, F64 = 3 };

// The common header: P = [op, dtypeIn, dtypeOut, nin, nd, ...shape, outOff, (inOff, ...inStrides) × nin, ...attrs].
struct EW {
  int op, tin, tout, nin, nd;
  int64_t shape[MAXD];
  int64_t off[4];
  int64_t st[4][MAXD];
  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= shape[d];
    return n;
  }
  int64_t extent(int k) const {  // operand k (0 = out)
    if (numel() == 0) return 0;
    int64_t e = off[k];
    for (int d = 0; d < nd; d++) e += (shape[d] - 1) * st[k][d];
    return e + 1;
  }
};

EW read_ew(Params& p) {
  EW e;
  e.op = int(p.i());
  e.tin = int(p.i());
  e.tout = int(p.i());
  e.nin = int(p.i());
  e.nd = int(p.i());
  for (int d = 0; d < e.nd; d++) e.shape[d] = p.i();
  e.off[0] = p.i();
  int64_t acc = 1;
  for (int d = e.nd - 1; d >= 0; d--) {
    e.st[0][d] = acc;
    acc *= e.shape[d];
  }
  for (int k = 1; k <= e.nin; k++) {
    e.off[k] = p.i();
    for (int d = 0; d < e.nd; d++) e.st[k][d] = p.i();
  }
  return e;
}

template <int N>
Loop<N> loop_of(const EW& e) {
  const int64_t* strides[N];
  for (int k = 0; k < N; k++) strides[k] = e.st[k];
  return make_loop<N>(e.nd, e.shape, strides, e.off);
}

constexpr int64_t GRAIN_CHEAP = EW_GRAIN, GRAIN_MATH = EW_GRAIN / 4;

template <class TI, class TO, class F>
void unary_loop(const EW& e, const TI* x, TO* o, int64_t grain, F f) {
  const Loop<2> L = loop_of<2>(e);
  parallel_runs(L, grain, [&](const int64_t* offs, int64_t n, const int64_t* st) {
    TO* __restrict po = o + offs[0];
    const TI* __restrict px = x + offs[1];
    const int64_t sx = st[1];
    if (sx == 1)
      for (int64_t i = 0; i < n; i++) po[i] = f(px[i]);
    else if (sx == 0) {
      const TO v = f(px[0]);
      for (int64_t i = 0; i < n; i++) po[i] = v;
    } else
      for (int64_t i = 0; i < n; i++) po[i] = f(px[i * sx]);
  });
}

template <class T, class TO, class F>
void binary_loop(const EW& e, const T* a, const T* b, TO* o, int64_t grain, F f) {
  const Loop<3> L = loop_of<3>(e);
  parallel_runs(L, grain, [&](const int64_t* offs, int64_t n, const int64_t* st) {
    TO* __restrict po = o + offs[0];
    const T* __restrict pa = a + offs[1];
    const T* __restrict pb = b + offs[2];
    const int64_t sa = st[1], sb = st[2];
    if (sa == 1 && sb == 1)
      for (int64_t i = 0; i < n; i++) po[i] = f(pa[i], pb[i]);
    else if (sa == 1 && sb == 0) {
      const T y = pb[0];
      for (int64_t i = 0; i < n; i++) po[i] = f(pa[i], y);
    } else if (sa == 0 && sb == 1) {
      const T x = pa[0];
      for (int64_t i = 0; i < n; i++) po[i] = f(x, pb[i]);
    } else
      for (int64_t i = 0; i < n; i++) po[i] = f(pa[i * sa], pb[i * sb]);
  });
}

// NOTE: relu keeps NaN (x < 0 is false for NaN), as ref does.
inline float relu_f(float x) { return x < 0.0f ? 0.0f : x; }

inline double round_half_even(double x) { return std::nearbyint(x); }

enum UnaryOp {
  NEG, EXP, ABS, LOG, LOG1P, SQRT, RSQRT, SQUARE, RECIPROCAL, SIGN, SIN, COS, TANH, SIGMOID, ERF, FLOOR, CEIL, ROUND,
  RELU, LEAKY_RELU, ELU, GELU, GELU_TANH, SILU, SOFTPLUS, CLAMP, LOGICAL_NOT
};

bool unary_f32(const EW& e, Params& p, const float* x, float* o) {
  const double a0 = p.f(), a1 = p.f(), a2 = p.f(), a3 = p.f();
  const float f0 = float(a0);
  switch (e.op) {
    case NEG: unary_loop(e, x, o, GRAIN_CHEAP, [](float v) { return -v; }); break;
    case EXP: unary_loop(e, x, o, GRAIN_MATH, [](float v) { return exp_f(v); }); break;
    case ABS: unary_loop(e, x, o, GRAIN_CHEAP, [](float v) { return std::fabs(v); }); break;
    case LOG: unary_loop(e, x, o, GRAIN_MATH, [](float v) { return log_f(v); }); break;
    case LOG1P: unary_loop(e, x, o, GRAIN_MATH, [](float v) { return float(std::log1p(double(v))); }); break;
    case SQRT: unary_loop(e, x, o, GRAIN_CHEAP, [](float v) { return std::sqrt(v); }); break;
    case RSQRT: unary_loop(e, x, o, GRAIN_CHEAP, [](float v) { return 1.0f / std::sqrt(v); }); break;
    case SQUARE: unary_loop(e, x, o, GRAIN_CHEAP, [](float v) { return v * v; }); break;
    case RECIPROCAL: unary_loop(e, x, o, GRAIN_CHEAP, [](float v) { return 1.0f / v; }); break;
    case SIGN: unary_loop(e, x, o, GRAIN_CHEAP, [](float v) { return float(v > 0.0f) - float(v < 0.0f); }); break;
    case SIN: unary_loop(e, x, o, GRAIN_MATH, [](float v) { return float(std::sin(double(v))); }); break;
    case COS: unary_loop(e, x, o, GRAIN_MATH, [](float v) { return float(std::cos(double(v))); }); break;
    case TANH: unary_loop(e, x, o, GRAIN_MATH, [](float v) { return tanh_f(v); }); break;
    case SIGMOID: unary_loop(e, x, o, GRAIN_MATH, [](float v) { return sigmoid_f(v); }); break;
    case ERF: unary_loop(e, x, o, GRAIN_MATH, [](float v) { return erf_f(v); }); break;
    case FLOOR: unary_loop(e, x, o, GRAIN_CHEAP, [](float v) { return std::floor(v); }); break;
    case CEIL: unary_loop(e, x, o, GRAIN_CHEAP, [](float v) { return std::ceil(v); }); break;
    case ROUND: {
      // Same order of operations as ref (scale, round half to even, unscale), in double.
      const int dec = int(a0);
      const double s = std::pow(10.0, std::abs(dec));
      if (dec == 0)
        unary_loop(e, x, o, GRAIN_CHEAP, [](float v) { return std::nearbyint(v); });
      else if (dec > 0)
        unary_loop(e, x, o, GRAIN_MATH, [s](float v) { return float(round_half_even(double(v) * s) / s); });
      else
        unary_loop(e, x, o, GRAIN_MATH, [s](float v) { return float(round_half_even(double(v) / s) * s); });
      break;
    }
    case RELU: unary_loop(e, x, o, GRAIN_CHEAP, [](float v) { return relu_f(v); }); break;
    case LEAKY_RELU: unary_loop(e, x, o, GRAIN_CHEAP, [f0](float v) { return v > 0.0f ? v : v * f0; }); break;
    case ELU: unary_loop(e, x, o, GRAIN_MATH, [a0](float v) { return v > 0.0f ? v : float(a0 * std::expm1(double(v))); }); break;
    case GELU: unary_loop(e, x, o, GRAIN_MATH, [](float v) { return gelu_f(v); }); break;
    case GELU_TANH: unary_loop(e, x, o, GRAIN_MATH, [](float v) { return gelu_tanh_f(v); }); break;
    case SILU: unary_loop(e, x, o, GRAIN_MATH, [](float v) { return v * sigmoid_f(v); }); break;
    case SOFTPLUS: {
      // NOTE: log1p(exp(βx))/β only below the threshold, where exp cannot overflow.
      const double beta = a0, threshold = a1;
      unary_loop(e, x, o, GRAIN_MATH, [beta, threshold](float v) {
        const double bx = double(v) * beta;
        return bx > threshold ? v : float(std::log1p(std::exp(bx)) / beta);
      });
      break;
    }
    case CLAMP: {
      // NaN stays NaN; min > max gives max (PyTorch's min(max(x, lo), hi)).
      const bool has_min = a2 != 0, has_max = a3 != 0;
      const float lo = has_min ? float(a0) : -INFINITY, hi = has_max ? float(a1) : INFINITY;
      unary_loop(e, x, o, GRAIN_CHEAP, [lo, hi](float v) {
        float r = v < lo ? lo : v;
        return r > hi ? hi : r;
      });
      break;
    }
    default: return false;
  }
  return true;
}

bool unary_i32(const EW& e, Params& p, const int32_t* x, int32_t* o) {
  const double a0 = p.f(), a1 = p.f(), a2 = p.f(), a3 = p.f();
  switch (e.op) {
    case NEG: unary_loop(e, x, o, GRAIN_CHEAP, [](int32_t v) { return int32_t(0u - uint32_t(v)); }); break;
    case ABS: unary_loop(e, x, o, GRAIN_CHEAP, [](int32_t v) { return v < 0 ? int32_t(0u - uint32_t(v)) : v; }); break;
    case SQUARE: unary_loop(e, x, o, GRAIN_CHEAP, [](int32_t v) { return int32_t(uint32_t(v) * uint32_t(v)); }); break;
    case SIGN: unary_loop(e, x, o, GRAIN_CHEAP, [](int32_t v) { return int32_t(v > 0) - int32_t(v < 0); }); break;
    case FLOOR:
    case CEIL: unary_loop(e, x, o, GRAIN_CHEAP, [](int32_t v) { return v; }); break;
    case RELU: unary_loop(e, x, o, GRAIN_CHEAP, [](int32_t v) { return v < 0 ? 0 : v; }); break;
    case CLAMP: {
      const bool has_min = a2 != 0, has_max = a3 != 0;
      const double lo = has_min ? a0 : -INFINITY, hi = has_max ? a1 : INFINITY;
      unary_loop(e, x, o, GRAIN_CHEAP, [lo, hi](int32_t v) {
        double r = double(v) < lo ? lo : double(v);
        return int32_t(r > hi ? hi : r);
      });
      break;
    }
    default: return false;
  }
  return true;
}

// unary(x, out): P = header + [attr0, attr1, attr2, attr3].
void unary_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  EW e = read_ew(p);
  if (e.op == LOGICAL_NOT) {
    uint8_t* o = array_arg<uint8_t>(info, 1, e.extent(0));
    if (!o) return;
    if (e.tin == F32) {
      const float* x = array_arg<float>(info, 0, e.extent(1));
      if (x) unary_loop(e, x, o, GRAIN_CHEAP, [](float v) { return uint8_t(!(v != 0.0f)); });
    } else if (e.tin == I32) {
      const int32_t* x = array_arg<int32_t>(info, 0, e.extent(1));
      if (x) unary_loop(e, x, o, GRAIN_CHEAP, [](int32_t v) { return uint8_t(v == 0); });
    } else {
      const uint8_t* x = array_arg<uint8_t>(info, 0, e.extent(1));
      if (x) unary_loop(e, x, o, GRAIN_CHEAP, [](uint8_t v) { return uint8_t(v == 0); });
    }
    return;
  }
  bool ok = false;
  if (e.tin == F32) {
    const float* x = array_arg<float>(info, 0, e.extent(1));
    float* o = x ? array_arg<float>(info, 1, e.extent(0)) : nullptr;
    if (!o) return;
    ok = unary_f32(e, p, x, o);
  } else if (e.tin == I32) {
    const int32_t* x = array_arg<int32_t>(info, 0, e.extent(1));
    int32_t* o = x ? array_arg<int32_t>(info, 1, e.extent(0)) : nullptr;
    if (!o) return;
    ok = unary_i32(e, p, x, o);
  }
  if (!ok) fail(info, "unary: unsupported op/dtype");
}

enum BinaryOp { ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, EQ, NE, LT, LE, GT, GE, AND, OR, XOR };

template <class T>
bool compare_op(const EW& e, const T* a, const T* b, uint8_t* o) {
  switch (e.op) {
    case EQ: binary_loop(e, a, b, o, GRAIN_CHEAP, [](T x, T y) { return uint8_t(x == y); }); break;
    case NE: binary_loop(e, a, b, o, GRAIN_CHEAP, [](T x, T y) { return uint8_t(x != y); }); break;
    case LT: binary_loop(e, a, b, o, GRAIN_CHEAP, [](T x, T y) { return uint8_t(x < y); }); break;
    case LE: binary_loop(e, a, b, o, GRAIN_CHEAP, [](T x, T y) { return uint8_t(x <= y); }); break;
    case GT: binary_loop(e, a, b, o, GRAIN_CHEAP, [](T x, T y) { return uint8_t(x > y); }); break;
    case GE: binary_loop(e, a, b, o, GRAIN_CHEAP, [](T x, T y) { return uint8_t(x >= y); }); break;
    // NOTE: NaN counts as true (non-zero), as in PyTorch.
    case AND: binary_loop(e, a, b, o, GRAIN_CHEAP, [](T x, T y) { return uint8_t(x != T(0) && y != T(0)); }); break;
    case OR: binary_loop(e, a, b, o, GRAIN_CHEAP, [](T x, T y) { return uint8_t(x != T(0) || y != T(0)); }); break;
    case XOR: binary_loop(e, a, b, o, GRAIN_CHEAP, [](T x, T y) { return uint8_t((x != T(0)) != (y != T(0))); }); break;
    default: return false;
  }
  return true;
}

// NOTE: maximum/minimum propagate NaN, as torch.maximum and Math.max do.
inline float max_f(float x, float y) { return x != x ? x : (y != y ? y : (x > y ? x : y)); }
inline float min_f(float x, float y) { return x != x ? x : (y != y ? y : (x < y ? x : y)); }

bool arith_f32(const EW& e, const float* a, const float* b, float* o) {
  switch (e.op) {
    case ADD: binary_loop(e, a, b, o, GRAIN_CHEAP, [](float x, float y) { return x + y; }); break;
    case SUB: binary_loop(e, a, b, o, GRAIN_CHEAP, [](float x, float y) { return x - y; }); break;
    case MUL: binary_loop(e, a, b, o, GRAIN_CHEAP, [](float x, float y) { return x * y; }); break;
    case DIV: binary_loop(e, a, b, o, GRAIN_CHEAP, [](float x, float y) { return x / y; }); break;
    case POW:
      // C's pow (1^y = 1, (−1)^±∞ = 1), in double so that the one rounding matches ref.
      binary_loop(e, a, b, o, GRAIN_MATH, [](float x, float y) { return float(std::pow(double(x), double(y))); });
      break;
    case MAXIMUM: binary_loop(e, a, b, o, GRAIN_CHEAP, [](float x, float y) { return max_f(x, y); }); break;
    case MINIMUM: binary_loop(e, a, b, o, GRAIN_CHEAP, [](float x, float y) { return min_f(x, y); }); break;
    default: return false;
  }
  return true;
}

bool arith_i32(const EW& e, const int32_t* a, const int32_t* b, int32_t* o) {
  // NOTE: unsigned arithmetic wraps like the int32 storage of JavaScript results does.
  switch (e.op) {
    case ADD: binary_loop(e, a, b, o, GRAIN_CHEAP, [](int32_t x, int32_t y) { return int32_t(uint32_t(x) + uint32_t(y)); }); break;
    case SUB: binary_loop(e, a, b, o, GRAIN_CHEAP, [](int32_t x, int32_t y) { return int32_t(uint32_t(x) - uint32_t(y)); }); break;
    case MUL: binary_loop(e, a, b, o, GRAIN_CHEAP, [](int32_t x, int32_t y) { return int32_t(uint32_t(x) * uint32_t(y)); }); break;
    case MAXIMUM: binary_loop(e, a, b, o, GRAIN_CHEAP, [](int32_t x, int32_t y) { return x > y ? x : y; }); break;
    case MINIMUM: binary_loop(e, a, b, o, GRAIN_CHEAP, [](int32_t x, int32_t y) { return x < y ? x : y; }); break;
    default: return false;
  }
  return true;
}

// binary(a, b, out): P = header.
void binary_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  EW e = read_ew(p);
  bool ok = false;
  if (e.op >= EQ) {
    uint8_t* o = array_arg<uint8_t>(info, 2, e.extent(0));
    if (!o) return;
    if (e.tin == F32) {
      const float* a = array_arg<float>(info, 0, e.extent(1));
      const float* b = a ? array_arg<float>(info, 1, e.extent(2)) : nullptr;
      if (!b) return;
      ok = compare_op(e, a, b, o);
    } else if (e.tin == I32) {
      const int32_t* a = array_arg<int32_t>(info, 0, e.extent(1));
      const int32_t* b = a ? array_arg<int32_t>(info, 1, e.extent(2)) : nullptr;
      if (!b) return;
      ok = compare_op(e, a, b, o);
    } else if (e.tin == BOOL) {
      const uint8_t* a = array_arg<uint8_t>(info, 0, e.extent(1));
      const uint8_t* b = a ? array_arg<uint8_t>(info, 1, e.extent(2)) : nullptr;
      if (!b) return;
      ok = compare_op(e, a, b, o);
    }
  } else if (e.tin == F32) {
    const float* a = array_arg<float>(info, 0, e.extent(1));
    const float* b = a ? array_arg<float>(info, 1, e.extent(2)) : nullptr;
    float* o = b ? array_arg<float>(info, 2, e.extent(0)) : nullptr;
    if (!o) return;
    ok = arith_f32(e, a, b, o);
  } else if (e.tin == I32) {
    const int32_t* a = array_arg<int32_t>(info, 0, e.extent(1));
    const int32_t* b = a ? array_arg<int32_t>(info, 1, e.extent(2)) : nullptr;
    int32_t* o = b ? array_arg<int32_t>(info, 2, e.extent(0)) : nullptr;
    if (!o) return;
    ok = arith_i32(e, a, b, o);
  }
  if (!ok) fail(info, "binary: unsupported op/dtype");
}

template <class T>
void where_loop(const EW& e, const uint8_t* c, const T* a, const T* b, T* o) {
  const Loop<4> L = loop_of<4>(e);
  parallel_runs(L, GRAIN_CHEAP, [&](const int64_t* offs, int64_t n, const int64_t* st) {
    T* __restrict po = o + offs[0];
    const uint8_t* pc = c + offs[1];
    const T* pa = a + offs[2];
    const T* pb = b + offs[3];
    const int64_t sc = st[1], sa = st[2], sb = st[3];
    if (sc == 1 && sa == 1 && sb == 1)
      for (int64_t i = 0; i < n; i++) po[i] = pc[i] ? pa[i] : pb[i];
    else if (sc == 1 && sa == 1 && sb == 0) {
      const T y = pb[0];
      for (int64_t i = 0; i < n; i++) po[i] = pc[i] ? pa[i] : y;
    } else
      for (int64_t i = 0; i < n; i++) po[i] = pc[i * sc] ? pa[i * sa] : pb[i * sb];
  });
}

// where(cond, a, b, out): P = header (tin: dtype of a and b).
void where_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  EW e = read_ew(p);
  const uint8_t* c = array_arg<uint8_t>(info, 0, e.extent(1));
  if (!c) return;
  int sz;
  const void* a = any_array(info, 1, e.extent(2), &sz);
  const void* b = a ? any_array(info, 2, e.extent(3), &sz) : nullptr;
  void* o = b ? any_array(info, 3, e.extent(0), &sz) : nullptr;
  if (!o) return;
  if (sz == 4)
    where_loop(e, c, static_cast<const int32_t*>(a), static_cast<const int32_t*>(b), static_cast<int32_t*>(o));
  else if (sz == 8)
    where_loop(e, c, static_cast<const double*>(a), static_cast<const double*>(b), static_cast<double*>(o));
  else
    where_loop(e, c, static_cast<const uint8_t*>(a), static_cast<const uint8_t*>(b), static_cast<uint8_t*>(o));
}

template <class T>
void masked_fill_loop(const EW& e, const T* x, const uint8_t* m, T* o, T value) {
  const Loop<3> L = loop_of<3>(e);
  parallel_runs(L, GRAIN_CHEAP, [&](const int64_t* offs, int64_t n, const int64_t* st) {
    T* __restrict po = o + offs[0];
    const T* px = x + offs[1];
    const uint8_t* pm = m + offs[2];
    const int64_t sx = st[1], sm = st[2];
    for (int64_t i = 0; i < n; i++) po[i] = pm[i * sm] ? value : px[i * sx];
  });
}

// maskedFill(x, mask, out): P = header + [value].
void masked_fill_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  EW e = read_ew(p);
  const double value = p.f();
  const uint8_t* m = array_arg<uint8_t>(info, 1, e.extent(2));
  if (!m) return;
  if (e.tin == F32) {
    const float* x = array_arg<float>(info, 0, e.extent(1));
    float* o = x ? array_arg<float>(info, 2, e.extent(0)) : nullptr;
    if (o) masked_fill_loop(e, x, m, o, float(value));
  } else if (e.tin == I32) {
    const int32_t* x = array_arg<int32_t>(info, 0, e.extent(1));
    int32_t* o = x ? array_arg<int32_t>(info, 2, e.extent(0)) : nullptr;
    if (o) masked_fill_loop(e, x, m, o, int32_t(value));
  } else
    fail(info, "maskedFill: unsupported dtype");
}

template <class T>
void copy_loop(const EW& e, const T* x, T* o) {
  const Loop<2> L = loop_of<2>(e);
  parallel_runs(L, GRAIN_CHEAP * 2, [&](const int64_t* offs, int64_t n, const int64_t* st) {
    T* __restrict po = o + offs[0];
    const T* __restrict px = x + offs[1];
    const int64_t sx = st[1];
    if (sx == 1)
      std::memcpy(po, px, size_t(n) * sizeof(T));
    else
      for (int64_t i = 0; i < n; i++) po[i] = px[i * sx];
  });
}

// copy(x, out): any dtype of 1, 2, 4 or 8 bytes; x is broadcast to out's shape. P = header.
void copy_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  EW e = read_ew(p);
  int sx, so;
  const void* x = any_array(info, 0, e.extent(1), &sx);
  void* o = x ? any_array(info, 1, e.extent(0), &so) : nullptr;
  if (!o) return;
  if (sx != so) {
    fail(info, "copy: source and destination element sizes differ");
    return;
  }
  switch (sx) {
    case 1: copy_loop(e, static_cast<const uint8_t*>(x), static_cast<uint8_t*>(o)); break;
    case 2: copy_loop(e, static_cast<const uint16_t*>(x), static_cast<uint16_t*>(o)); break;
    case 4: copy_loop(e, static_cast<const uint32_t*>(x), static_cast<uint32_t*>(o)); break;
    default: copy_loop(e, static_cast<const uint64_t*>(x), static_cast<uint64_t*>(o)); break;
  }
}

// JavaScript's ToInt32 after Math.trunc: NaN and ±∞ give 0, large values wrap modulo 2³².
inline int32_t to_i32(double v) {
  if (std::fabs(v) < 2147483648.0) return int32_t(v);
  if (!std::isfinite(v)) return 0;
  double m = std::fmod(std::trunc(v), 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return int32_t(uint32_t(m));
}

template <class TI>
void cast_from(const Napi::CallbackInfo& info, const EW& e, const TI* x) {
  if (e.tout == F32) {
    float* o = array_arg<float>(info, 1, e.extent(0));
    if (o) unary_loop(e, x, o, GRAIN_CHEAP, [](TI v) { return float(v); });
  } else if (e.tout == F64) {
    double* o = array_arg<double>(info, 1, e.extent(0));
    if (o) unary_loop(e, x, o, GRAIN_CHEAP, [](TI v) { return double(v); });
  } else if (e.tout == I32) {
    int32_t* o = array_arg<int32_t>(info, 1, e.extent(0));
    if (o) unary_loop(e, x, o, GRAIN_CHEAP, [](TI v) { return to_i32(double(v)); });
  } else {
    uint8_t* o = array_arg<uint8_t>(info, 1, e.extent(0));
    if (o) unary_loop(e, x, o, GRAIN_CHEAP, [](TI v) { return uint8_t(v != TI(0)); });
  }
}

// cast(x, out) between float32, float64, int32 and bool. P = header.
void cast_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  EW e = read_ew(p);
  if (e.tin == F32) {
    if (const float* x = array_arg<float>(info, 0, e.extent(1))) cast_from(info, e, x);
  } else if (e.tin == F64) {
    if (const double* x = array_arg<double>(info, 0, e.extent(1))) cast_from(info, e, x);
  } else if (e.tin == I32) {
    if (const int32_t* x = array_arg<int32_t>(info, 0, e.extent(1))) cast_from(info, e, x);
  } else {
    if (const uint8_t* x = array_arg<uint8_t>(info, 0, e.extent(1))) cast_from(info, e, x);
  }
}

}  // namespace

void init_elementwise(Napi::Env env, Napi::Object exports) {
  bind(env, exports, "unary", unary_binding);
  bind(env, exports, "binary", binary_binding);
  bind(env, exports, "where", where_binding);
  bind(env, exports, "maskedFill", masked_fill_binding);
  bind(env, exports, "copy", copy_binding);
  bind(env, exports, "cast", cast_binding);
}

}  // namespace ingot
