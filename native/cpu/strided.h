// Iteration over several strided operands of one shape (an output and its broadcast inputs):
// dims are collapsed where every operand is contiguous across them, and the innermost dim is
// handed to a callback as runs (base offsets + one stride per operand) that it can vectorize.
#pragma once
#include <cstdint>

#include "binding.h"
#include "threadpool.h"

namespace ingot {

template <int NOPS>
struct Loop {
  int nd = 0;
  int64_t shape[MAXD];
  int64_t st[NOPS][MAXD];
  int64_t off[NOPS];
  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= shape[d];
    return n;
  }
};

/** Builds a loop over `shape` with each operand's offset and strides, merging dims where possible. */
template <int NOPS>
Loop<NOPS> make_loop(int nd, const int64_t* shape, const int64_t* const* strides, const int64_t* offs) {
  Loop<NOPS> L;
  for (int k = 0; k < NOPS; k++) L.off[k] = offs[k];
  for (int d = 0; d < nd; d++) {
    if (shape[d] == 1) continue;
    if (L.nd > 0) {
      const int last = L.nd - 1;
      bool merge = true;
      for (int k = 0; k < NOPS && merge; k++) merge = strides[k][d] * shape[d] == L.st[k][last];
      if (merge) {
        L.shape[last] *= shape[d];
        for (int k = 0; k < NOPS; k++) L.st[k][last] = strides[k][d];
        continue;
      }
    }
    L.shape[L.nd] = shape[d];
    for (int k = 0; k < NOPS; k++) L.st[k][L.nd] = strides[k][d];
    L.nd++;
  }
  for (int d = 0; d < nd; d++)
    if (shape[d] == 0) {
      L.nd = 1;
      L.shape[0] = 0;
      for (int k = 0; k < NOPS; k++) L.st[k][0] = 1;
      return L;
    }
  if (L.nd == 0) {  // a single element
    L.nd = 1;
    L.shape[0] = 1;
    for (int k = 0; k < NOPS; k++) L.st[k][0] = 1;
  }
  return L;
}

/** Calls f(offs, n, inner_strides) for the runs covering elements [begin, end) in row-major order. */
template <int NOPS, class F>
void for_runs(const Loop<NOPS>& L, int64_t begin, int64_t end, F&& f) {
  const int nd = L.nd;
  int64_t idx[MAXD];
  int64_t offs[NOPS];
  for (int k = 0; k < NOPS; k++) offs[k] = L.off[k];
  int64_t rem = begin;
  for (int d = nd - 1; d >= 0; d--) {
    idx[d] = rem % L.shape[d];
    rem /= L.shape[d];
    for (int k = 0; k < NOPS; k++) offs[k] += idx[d] * L.st[k][d];
  }
  int64_t inner[NOPS];
  for (int k = 0; k < NOPS; k++) inner[k] = L.st[k][nd - 1];
  int64_t pos = begin;
  while (pos < end) {
    const int64_t run = L.shape[nd - 1] - idx[nd - 1] < end - pos ? L.shape[nd - 1] - idx[nd - 1] : end - pos;
    f(offs, run, inner);
    pos += run;
    idx[nd - 1] += run;
    for (int k = 0; k < NOPS; k++) offs[k] += run * inner[k];
    for (int d = nd - 1; d > 0 && idx[d] == L.shape[d]; d--) {
      for (int k = 0; k < NOPS; k++) offs[k] += L.st[k][d - 1] - L.shape[d] * L.st[k][d];
      idx[d] = 0;
      idx[d - 1]++;
    }
  }
}

/** Elementwise work is split across threads above this many elements. */
constexpr int64_t EW_GRAIN = 32768;

/** Runs for_runs over the whole loop, in parallel chunks when it is large. */
template <int NOPS, class F>
void parallel_runs(const Loop<NOPS>& L, int64_t grain, F&& f) {
  parallel_for(L.numel(), grain, [&](int64_t b, int64_t e) { for_runs(L, b, e, f); });
}

}  // namespace ingot
