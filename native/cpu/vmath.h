// Scalar-form float math that GCC/Clang vectorize (only arithmetic, selects and bit casts, all
// inlined): exp, log, tanh, sigmoid, erf, gelu. Accurate to a few ulp (erf: ~2e-7 absolute).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace ingot {

inline float bits_f(int32_t i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}
inline int32_t f_bits(float f) {
  int32_t i;
  std::memcpy(&i, &f, 4);
  return i;
}

/** eˣ (Cephes expf): x = n·ln2 + r, a degree-6 polynomial in r, then 2ⁿ as two exponent scalings. */
inline float exp_f(float x) {
  const float hi = 88.7228394f, lo = -103.972084f;
  float xc = x > hi ? hi : x;
  // NOTE: below lo the result is 0 (set at the end); computing it from 0 instead of lo keeps the
  // intermediate 2ⁿ scaling out of subnormal range, whose microcode assists cost ~100 cycles per
  // vector (every masked −∞ attention score went through it).
  xc = xc < lo ? 0.0f : xc;
  const float n = std::nearbyint(xc * 1.44269504088896341f);
  float r = std::fma(n, -0.693359375f, xc);  // NOTE: ln2 in two parts keeps r exact
  r = std::fma(n, 2.12194440e-4f, r);
  float p = 1.9875691500E-4f;
  p = std::fma(p, r, 1.3981999507E-3f);
  p = std::fma(p, r, 8.3334519073E-3f);
  p = std::fma(p, r, 4.1665795894E-2f);
  p = std::fma(p, r, 1.6666665459E-1f);
  p = std::fma(p, r, 5.0000001201E-1f);
  p = std::fma(p * r, r, r + 1.0f);
  const int32_t ni = int32_t(n), h = ni >> 1;  // 2ⁿ = 2ʰ·2ⁿ⁻ʰ, so n up to 128 and down to −150 work
  float y = p * bits_f((h + 127) << 23) * bits_f((ni - h + 127) << 23);
  y = x > hi ? INFINITY : y;
  y = x < lo ? 0.0f : y;
  return y;  // NaN propagates through p
}

/** ln x (Cephes logf): x = m·2ᵉ with m in [√½, √2), a polynomial in m − 1. */
inline float log_f(float x) {
  const bool tiny = x < 1.17549435e-38f;  // subnormal: scale into the normal range first
  const float xs = tiny ? x * 8388608.0f : x;
  const int32_t b = f_bits(xs);
  float e = float((b >> 23) - 127) - (tiny ? 23.0f : 0.0f);
  float m = bits_f((b & 0x007fffff) | 0x3f800000);
  const bool big = m > 1.41421356f;
  m = big ? m * 0.5f : m;
  e = big ? e + 1.0f : e;
  const float f = m - 1.0f, z = f * f;
  float p = 7.0376836292E-2f;
  p = std::fma(p, f, -1.1514610310E-1f);
  p = std::fma(p, f, 1.1676998740E-1f);
  p = std::fma(p, f, -1.2420140846E-1f);
  p = std::fma(p, f, 1.4249322787E-1f);
  p = std::fma(p, f, -1.6668057665E-1f);
  p = std::fma(p, f, 2.0000714765E-1f);
  p = std::fma(p, f, -2.4999993993E-1f);
  p = std::fma(p, f, 3.3333331174E-1f);
  float y = f * z * p;
  y = std::fma(e, -2.12194440e-4f, y);
  y = std::fma(z, -0.5f, y);
  y = f + y;
  y = std::fma(e, 0.693359375f, y);
  y = x == INFINITY ? INFINITY : y;
  y = x == 0.0f ? -INFINITY : y;
  y = x < 0.0f ? NAN : y;
  y = x != x ? x : y;
  return y;
}

/** tanh (Cephes tanhf): an odd polynomial below 0.625, 1 − 2/(e²ˣ + 1) above. */
inline float tanh_f(float x) {
  const float a = std::fabs(x);
  const float z = x * x;
  float p = -5.70498872745E-3f;
  p = std::fma(p, z, 2.06390887954E-2f);
  p = std::fma(p, z, -5.37397155531E-2f);
  p = std::fma(p, z, 1.33314422036E-1f);
  p = std::fma(p, z, -3.33332819422E-1f);
  const float small = std::fma(p * z, x, x);
  const float big = 1.0f - 2.0f / (exp_f(2.0f * a) + 1.0f);
  const float r = a < 0.625f ? small : std::copysign(big, x);
  return x != x ? x : r;
}

/** 1 / (1 + e⁻ˣ) without overflow: the exponential is only taken of −|x|. */
inline float sigmoid_f(float x) {
  const float e = exp_f(-std::fabs(x));
  const float r = 1.0f / (1.0f + e);
  return x >= 0.0f ? r : e * r;
}

/** erf: Taylor series below 0.5 (keeps relative accuracy near 0), Abramowitz–Stegun 7.1.26 above. */
inline float erf_f(float x) {
  const float a = std::fabs(x), z = x * x;
  float s = -1.0f / 1320.0f;
  s = std::fma(s, z, 1.0f / 216.0f);
  s = std::fma(s, z, -1.0f / 42.0f);
  s = std::fma(s, z, 1.0f / 10.0f);
  s = std::fma(s, z, -1.0f / 3.0f);
  s = std::fma(s, z, 1.0f);
  const float small = 1.12837916709551257f * x * s;
  const float t = 1.0f / std::fma(0.3275911f, a, 1.0f);
  float p = 1.061405429f;
  p = std::fma(p, t, -1.453152027f);
  p = std::fma(p, t, 1.421413741f);
  p = std::fma(p, t, -0.284496736f);
  p = std::fma(p, t, 0.254829592f);
  const float big = 1.0f - p * t * exp_f(-z);
  return a < 0.5f ? small : std::copysign(big, x);
}

/** x·Φ(x) (exact GELU). */
inline float gelu_f(float x) { return 0.5f * x * (1.0f + erf_f(x * 0.70710678118654752f)); }

/** GELU's tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
inline float gelu_tanh_f(float x) {
  return 0.5f * x * (1.0f + tanh_f(0.79788456080286536f * std::fma(0.044715f * x, x * x, x)));
}

/** g · d gelu/dx = g·(Φ(x) + x·φ(x)) (geluBackward, exact form). */
inline float gelu_bwd_f(float g, float x) {
  const float cdf = 0.5f * (1.0f + erf_f(x * 0.70710678118654752f));
  const float pdf = 0.39894228040143268f * exp_f(-0.5f * x * x);
  return g * (cdf + x * pdf);
}

/** g · d/dx of ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³): g·(½(1 + t) + ½x(1 − t²)·u′) (PyTorch's gelu_backward). */
inline float gelu_tanh_bwd_f(float g, float x) {
  const float x2 = x * x;
  const float t = tanh_f(0.79788456080286536f * std::fma(0.044715f * x, x2, x));
  const float du = 0.79788456080286536f * std::fma(3.0f * 0.044715f, x2, 1.0f);
  return g * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du);
}

}  // namespace ingot
