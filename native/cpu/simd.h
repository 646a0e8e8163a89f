// The vector type every kernel is written with: AVX-512, AVX2+FMA, else GCC/Clang vector extensions
// (SSE, NEON), else plain floats. Chosen at compile time (-march=native builds for the build machine).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

namespace ingot {

#if defined(__AVX512F__)
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
#elif defined(__AVX2__) && defined(__FMA__)
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
constexpr int W = 4;
typedef float V __attribute__((vector_size(16)));
inline V vload(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void vstore(float* p, V v) { std::memcpy(p, &v, sizeof v); }
inline V vset1(float x) { return V{x, x, x, x}; }
inline V vfma(V a, V b, V c) { return a * b + c; }
inline V vmax(V a, V b) { return a > b ? a : b; }
inline V vmin(V a, V b) { return a < b ? a : b; }
inline float vsum(V v) { return (v[0] + v[1]) + (v[2] + v[3]); }
inline float vhmax(V v) { return std::fmax(std::fmax(v[0], v[1]), std::fmax(v[2], v[3])); }
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
