// Binding of the batched GEMM behind the "matmul" and "linear" kernels.
#include <vector>

#include "binding.h"
#include "gemm.h"

namespace ingot {
namespace {

// gemm(a, b, out, bias?) with P = [M, N, K, nb, ...batchShape,
//   aOff, rsa, csa, ...aBatchStrides, bOff, rsb, csb, ...bBatchStrides, outOff, accumulate,
//   biasOff (-1: none), biasAxis, act]. out is contiguous: C[b][i][j] at outOff + (b·M + i)·N + j.
void gemm_binding(const Napi::CallbackInfo& info) {
  Params p = params(info);
  const int64_t M = p.i(), N = p.i(), K = p.i();
  const int nb = clamp_nd(p.i());
  int64_t bshape[MAXD], as[MAXD], bs[MAXD];
  int64_t count = 1;
  for (int d = 0; d < nb; d++) count *= (bshape[d] = p.i());
  const int64_t aoff = p.i(), rsa = p.i(), csa = p.i();
  for (int d = 0; d < nb; d++) as[d] = p.i();
  const int64_t boff = p.i(), rsb = p.i(), csb = p.i();
  for (int d = 0; d < nb; d++) bs[d] = p.i();
  const int64_t coff = p.i();
  const bool accumulate = p.i() != 0;
  const int64_t bias_off = p.i();
  const int bias_axis = int(p.i());
  const int act = int(p.i());
  if (count == 0 || M == 0 || N == 0) return;
  // Offsets of every matrix of the batch, and how far each operand reaches.
  std::vector<int64_t> ao(static_cast<size_t>(count)), bo(static_cast<size_t>(count)), co(static_cast<size_t>(count));
  int64_t amax = 0, bmax = 0;
  for (int64_t t = 0; t < count; t++) {
    int64_t rem = t, a = aoff, b = boff;
    for (int d = nb - 1; d >= 0; d--) {
      const int64_t i = rem % bshape[d];
      rem /= bshape[d];
      a += i * as[d];
      b += i * bs[d];
    }
    ao[size_t(t)] = a;
    bo[size_t(t)] = b;
    co[size_t(t)] = coff + t * M * N;
    if (a > amax) amax = a;
    if (b > bmax) bmax = b;
  }
  const int64_t aext = K == 0 ? 0 : amax + (M - 1) * rsa + (K - 1) * csa + 1;
  const int64_t bext = K == 0 ? 0 : bmax + (K - 1) * rsb + (N - 1) * csb + 1;
  const float* A = array_arg<float>(info, 0, aext);
  if (!A) return;
  const float* B = array_arg<float>(info, 1, bext);
  if (!B) return;
  float* C = array_arg<float>(info, 2, coff + count * M * N);
  if (!C) return;
  const float* bias = nullptr;
  if (bias_off >= 0) {
    bias = array_arg<float>(info, 3, bias_off + (bias_axis == 1 ? N : M));
    if (!bias) return;
    bias += bias_off;
  }
  Gemm g;
  g.M = M, g.N = N, g.K = K;
  g.A = A, g.rsa = rsa, g.csa = csa;
  g.B = B, g.rsb = rsb, g.csb = csb;
  g.C = C, g.ldc = N;
  g.accumulate = accumulate;
  g.bias = bias, g.bias_axis = bias_axis, g.act = Act(act);
  sgemm_batched(g, count, ao.data(), bo.data(), co.data());
}

}  // namespace

void init_matmul(Napi::Env env, Napi::Object exports) { bind(env, exports, "gemm", gemm_binding); }

}  // namespace ingot
