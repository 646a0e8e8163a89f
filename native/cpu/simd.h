// The vector type every kernel is written with: AVX-512, AVX2+FMA, else GCC/Clang vector extensions
// (SSE, NEON), else plain floats. Chosen at compile time (-march=native builds for the build machine).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

// INGOT_VECTOR_BYTES forces the portable vector-extension code with that vector width (tests use
// 64 on an AVX2 machine to run the blocking logic of the AVX-512 build).
#if defined(INGOT_VECTOR_BYTES) && !defined(__GNUC__)
#error "INGOT_VECTOR_BYTES needs GCC or Clang vector extensions"
#endif

#if defined(__GNUC__)
#define INGOT_NOINLINE __attribute__((noinline))
#define INGOT_ALWAYS_INLINE inline __attribute__((always_inline))
#define INGOT_PREFETCH(p, write) __builtin_prefetch((p), (write))
#define INGOT_PREFETCH_L2(p) __builtin_prefetch((p), 0, 2)
#else
#define INGOT_NOINLINE __declspec(noinline)
#define INGOT_ALWAYS_INLINE __forceinline
#define INGOT_PREFETCH(p, write) ((void)0)
#define INGOT_PREFETCH_L2(p) ((void)0)
#endif

namespace ingot {

#if defined(__AVX512F__) && !defined(INGOT_VECTOR_BYTES)
#define INGOT_ISA "avx512"
constexpr int W = 16;
using V = __m512;
inline V vload(const float* p) { return _mm512_loadu_ps(p); }
inline void vstore(float* p, V v) { _mm512_storeu_ps(p, v); }
inline V vset1(float x) { return _mm512_set1_ps(x); }
inline V vfma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
inline V vmax(V a, V b) { return _mm512_max_ps(a, b); }
inline V vmin(V a, V b) { return _mm512_min_ps(a, b); }
inline float vsum(V v) { return _mm512_reduce_add_ps(v); }
inline float vhmax(V v) { return _mm512_reduce_max_ps(v); }
#elif defined(__AVX2__) && defined(__FMA__) && !defined(INGOT_VECTOR_BYTES)
#define INGOT_ISA "avx2"
constexpr int W = 8;
using V = __m256;
inline V vload(const float* p) { return _mm256_loadu_ps(p); }
inline void vstore(float* p, V v) { _mm256_storeu_ps(p, v); }
inline V vset1(float x) { return _mm256_set1_ps(x); }
inline V vfma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
inline V vmax(V a, V b) { return _mm256_max_ps(a, b); }
inline V vmin(V a, V b) { return _mm256_min_ps(a, b); }
inline float vsum(V v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float vhmax(V v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#elif defined(__GNUC__)
#define INGOT_ISA "portable"
#ifndef INGOT_VECTOR_BYTES
#define INGOT_VECTOR_BYTES 16
#endif
constexpr int W = INGOT_VECTOR_BYTES / 4;
typedef float V __attribute__((vector_size(INGOT_VECTOR_BYTES)));
inline V vload(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void vstore(float* p, V v) { std::memcpy(p, &v, sizeof v); }
inline V vset1(float x) { return V{} + x; }
inline V vfma(V a, V b, V c) { return a * b + c; }
inline V vmax(V a, V b) { return a > b ? a : b; }
inline V vmin(V a, V b) { return a < b ? a : b; }
inline float vsum(V v) {
  float s = 0;
  for (int i = 0; i < W; i++) s += v[i];
  return s;
}
inline float vhmax(V v) {
  float m = v[0];
  for (int i = 1; i < W; i++) m = std::fmax(m, v[i]);
  return m;
}
#else
#define INGOT_ISA "scalar"
constexpr int W = 1;
using V = float;
inline V vload(const float* p) { return *p; }
inline void vstore(float* p, V v) { *p = v; }
inline V vset1(float x) { return x; }
inline V vfma(V a, V b, V c) { return a * b + c; }
inline V vmax(V a, V b) { return a > b ? a : b; }
inline V vmin(V a, V b) { return a < b ? a : b; }
inline float vsum(V v) { return v; }
inline float vhmax(V v) { return v; }
#endif

inline V vzero() { return vset1(0.0f); }
inline V vadd(V a, V b) { return a + b; }  // GCC/Clang define arithmetic on intrinsic vector types
inline V vmul(V a, V b) { return a * b; }

}  // namespace ingot

namespace ingot {

/** Σ p[0..n) accumulated in double (8 lanes, so it vectorizes without reassociating float adds). */
inline double sum_f32(const float* p, int64_t n) {
#if defined(__GNUC__)
  typedef float f4 __attribute__((vector_size(16)));
  typedef double d4 __attribute__((vector_size(32)));
  d4 a0 = {0, 0, 0, 0}, a1 = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    f4 x0, x1;
    std::memcpy(&x0, p + i, sizeof x0);
    std::memcpy(&x1, p + i + 4, sizeof x1);
    a0 += __builtin_convertvector(x0, d4);
    a1 += __builtin_convertvector(x1, d4);
  }
  a0 += a1;
  double s = (a0[0] + a0[1]) + (a0[2] + a0[3]);
#else
  double s = 0;
  int64_t i = 0;
#endif
  for (; i < n; i++) s += p[i];
  return s;
}

/** max of p[0..n) that is NaN when any element is (−∞ for n = 0). */
inline float max_f32(const float* p, int64_t n) {
  V m = vset1(-INFINITY), z = vzero();
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    const V v = vload(p + i);
    m = vmax(m, v);
    z = vadd(z, vmul(v, vzero()));  // NaN when v holds a NaN or an infinity
  }
  float r = vhmax(m), zs = vsum(z);
  for (; i < n; i++) {
    r = p[i] > r ? p[i] : r;
    zs += p[i] * 0.0f;
  }
  if (zs != zs)  // an infinity or a NaN: look for a real NaN
    for (int64_t j = 0; j < n; j++)
      if (p[j] != p[j]) return p[j];
  return r;
}

}  // namespace ingot
