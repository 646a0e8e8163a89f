#include "gemm.h"
#include "threadpool.h"
#define EXP extern "C" __attribute__((visibility("default")))
// A is M×K (ta: stored K×M), B is K×N (tb: stored N×K), C = A·B row-major.
EXP void vg_gemm(long M, long N, long K, int ta, int tb, const float* A, const float* B, float* C) {
  ingot::Gemm g; g.M = M; g.N = N; g.K = K; g.A = A; g.B = B; g.C = C; g.ldc = N;
  if (ta) g.rsa = 1, g.csa = M; else g.rsa = K, g.csa = 1;
  if (tb) g.rsb = 1, g.csb = K; else g.rsb = N, g.csb = 1;
  ingot::sgemm(g);
}
EXP void vg_sgemm(long M, long N, long K, const float* A, const float* B, float* C) { vg_gemm(M, N, K, 0, 0, A, B, C); }
EXP void vg_threads(int n) { ingot::set_num_threads(n); }
