// Binary elementwise kernels with broadcasting over any strides: arithmetic, comparisons and
// logic; where, maskedFill, and strided copies of any dtype.
#include <cmath>

#include "ew.h"
#include "vmath.h"

namespace ingot {
namespace {

enum BinaryOp { ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, GELU_BWD, GELU_TANH_BWD, EQ, NE, LT, LE, GT, GE, AND, OR, XOR };

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
    // geluBackward(g, x): g · gelu′(x) in one pass (vmath.h).
    case GELU_BWD: binary_loop(e, a, b, o, GRAIN_MATH, [](float g, float x) { return gelu_bwd_f(g, x); }); break;
    case GELU_TANH_BWD: binary_loop(e, a, b, o, GRAIN_MATH, [](float g, float x) { return gelu_tanh_bwd_f(g, x); }); break;
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

// One contiguous run of where: a and b are each contiguous (stride 1) or one broadcast value (stride 0).
template <class T, bool AV, bool BV>
INGOT_NOINLINE void where_run(const uint8_t* __restrict c, const T* __restrict a, const T* __restrict b, T* __restrict o, int64_t n) {
  const T a0 = a[0], b0 = b[0];
  for (int64_t i = 0; i < n; i++) o[i] = c[i] ? (AV ? a[i] : a0) : (BV ? b[i] : b0);
}

template <class T>
void where_loop(const EW& e, const uint8_t* c, const T* a, const T* b, T* o) {
  const Loop<4> L = loop_of<4>(e);
  parallel_runs(L, GRAIN_CHEAP, [&](const int64_t* offs, int64_t n, const int64_t* st) {
    T* po = o + offs[0];
    const uint8_t* pc = c + offs[1];
    const T* pa = a + offs[2];
    const T* pb = b + offs[3];
    const int64_t sc = st[1], sa = st[2], sb = st[3];
    if (sc == 1 && sa <= 1 && sb <= 1) {
      if (sa == 1 && sb == 1) where_run<T, true, true>(pc, pa, pb, po, n);
      else if (sa == 1) where_run<T, true, false>(pc, pa, pb, po, n);
      else if (sb == 1) where_run<T, false, true>(pc, pa, pb, po, n);
      else where_run<T, false, false>(pc, pa, pb, po, n);
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

}  // namespace

void init_binary(Napi::Env env, Napi::Object exports) {
  bind(env, exports, "binary", binary_binding);
  bind(env, exports, "where", where_binding);
  bind(env, exports, "maskedFill", masked_fill_binding);
  bind(env, exports, "copy", copy_binding);
}

}  // namespace ingot
