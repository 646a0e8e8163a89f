// Shared machinery of the elementwise kernels (unary.cc, binary.cc): the call header every
// elementwise binding reads, and the strided loops whose contiguous runs the compiler vectorizes.
#pragma once
#include <cstring>

#include "binding.h"
#include "simd.h"
#include "strided.h"

namespace ingot {

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

inline EW read_ew(Params& p) {
  EW e;
  e.op = int(p.i());
  e.tin = int(p.i());
  e.tout = int(p.i());
  e.nin = int(p.i());
  e.nin = e.nin < 0 ? 0 : e.nin > 3 ? 3 : e.nin;
  e.nd = clamp_nd(p.i());
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
inline Loop<N> loop_of(const EW& e) {
  const int64_t* strides[N];
  for (int k = 0; k < N; k++) strides[k] = e.st[k];
  return make_loop<N>(e.nd, e.shape, strides, e.off);
}

constexpr int64_t GRAIN_CHEAP = EW_GRAIN, GRAIN_MATH = EW_GRAIN / 4;

// o[i] = f(x[i]) over a contiguous run; one out-of-line copy per op, which the compiler vectorizes.
template <class TI, class TO, class F>
INGOT_NOINLINE void map1(const TI* __restrict x, TO* __restrict o, int64_t n, F f) {
  for (int64_t i = 0; i < n; i++) o[i] = f(x[i]);
}

template <class T, class TO, class F>
INGOT_NOINLINE void map2(const T* __restrict a, const T* __restrict b, TO* __restrict o, int64_t n, F f) {
  for (int64_t i = 0; i < n; i++) o[i] = f(a[i], b[i]);
}

constexpr int64_t GATHER = 512;  // strided inputs are gathered this many elements at a time

template <class TI, class TO, class F>
void unary_loop(const EW& e, const TI* x, TO* o, int64_t grain, F f) {
  const Loop<2> L = loop_of<2>(e);
  parallel_runs(L, grain, [&](const int64_t* offs, int64_t n, const int64_t* st) {
    TO* po = o + offs[0];
    const TI* px = x + offs[1];
    const int64_t sx = st[1];
    if (sx == 1) {
      map1(px, po, n, f);
    } else if (sx == 0) {
      const TO v = f(px[0]);
      for (int64_t i = 0; i < n; i++) po[i] = v;
    } else {
      TI buf[GATHER];
      for (int64_t i0 = 0; i0 < n; i0 += GATHER) {
        const int64_t m = n - i0 < GATHER ? n - i0 : GATHER;
        for (int64_t i = 0; i < m; i++) buf[i] = px[(i0 + i) * sx];
        map1(buf, po + i0, m, f);
      }
    }
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
    if (sa == 1 && sb == 1) {
      map2(pa, pb, po, n, f);
    } else if (sa == 1 && sb == 0) {
      const T y = pb[0];
      for (int64_t i = 0; i < n; i++) po[i] = f(pa[i], y);
    } else if (sa == 0 && sb == 1) {
      const T x = pa[0];
      for (int64_t i = 0; i < n; i++) po[i] = f(x, pb[i]);
    } else {
      T ba[GATHER], bb[GATHER];
      for (int64_t i0 = 0; i0 < n; i0 += GATHER) {
        const int64_t m = n - i0 < GATHER ? n - i0 : GATHER;
        for (int64_t i = 0; i < m; i++) ba[i] = pa[(i0 + i) * sa], bb[i] = pb[(i0 + i) * sb];
        map2(ba, bb, po + i0, m, f);
      }
    }
  });
}

}  // namespace ingot
