// Single-precision matrix multiply C (+)= op(A)·op(B) with any strides (so every transpose), and an
// optional fused epilogue (bias along rows or columns, then an activation) for linear and conv2d.
#pragma once
#include <cstdint>

namespace ingot {

enum class Act : int { None = 0, Relu = 1 };

struct Gemm {
  int64_t M = 0, N = 0, K = 0;
  const float* A = nullptr;  // A[i*rsa + k*csa], i < M, k < K
  int64_t rsa = 0, csa = 0;
  const float* B = nullptr;  // B[k*rsb + j*csb], k < K, j < N
  int64_t rsb = 0, csb = 0;
  float* C = nullptr;        // C[i*ldc + j]
  int64_t ldc = 0;
  bool accumulate = false;   // C += A·B (else C = A·B)
  const float* bias = nullptr;
  int bias_axis = 1;         // 1: bias[j] added to column j; 0: bias[i] added to row i
  Act act = Act::None;
};

/** Runs one GEMM, on the thread pool when it is big enough. */
void sgemm(const Gemm& g);

/** Runs one GEMM on the calling thread (inside a parallel task). */
void sgemm_serial(const Gemm& g);

/**
 * Runs `count` GEMMs that differ only in their A, B, C base pointers (offsets in elements from
 * g.A/g.B/g.C given by aoff/boff/coff): in parallel over the batch when each one is small.
 */
void sgemm_batched(const Gemm& g, int64_t count, const int64_t* aoff, const int64_t* boff, const int64_t* coff);

/** The micro-kernel's instruction set ("avx512", "avx2", "portable", "scalar"). */
const char* gemm_isa();

}  // namespace ingot
