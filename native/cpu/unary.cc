// Unary elementwise kernels over any strides: math and activations (float32, int32) and dtype
// casts. Strided inputs are gathered into a small buffer first, so only the contiguous loop of each
// op is instantiated (and vectorized, vmath.h keeping exp/tanh/erf vectorizable).
#include <cmath>

#include "ew.h"
#include "vmath.h"

namespace ingot {
namespace {

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

void init_unary(Napi::Env env, Napi::Object exports) {
  bind(env, exports, "unary", unary_binding);
  bind(env, exports, "cast", cast_binding);
}

}  // namespace ingot
