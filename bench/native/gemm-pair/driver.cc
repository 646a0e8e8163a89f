// Times SGEMM builds against each other (and OpenBLAS) in one process, alternating call by call, so
// that the host's minute-to-minute swings hit every variant alike. See README.md.
//   ./driver SHAPE ROUNDS THREADS variant.so|openblas ...
// SHAPE is N (N×N·N×N) or MxNxK with optional suffixes a (A stored transposed) and b (B transposed).
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

typedef void (*gemm_t)(long, long, long, int, int, const float*, const float*, float*);
typedef void (*cblas_t)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
static cblas_t cblas;
static void openblas(long M, long N, long K, int ta, int tb, const float* A, const float* B, float* C) {
  cblas(101, ta ? 112 : 111, tb ? 112 : 111, M, N, K, 1.f, A, ta ? M : K, B, tb ? K : N, 0.f, C, N);
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s SHAPE ROUNDS THREADS variant.so|openblas ...\n", argv[0]);
    return 2;
  }
  long M, N, K;
  if (sscanf(argv[1], "%ldx%ldx%ld", &M, &N, &K) != 3) M = N = K = atol(argv[1]);
  const int ta = strchr(argv[1], 'a') != nullptr, tb = strchr(argv[1], 'b') != nullptr;
  const int rounds = atoi(argv[2]), threads = atoi(argv[3]);
  std::vector<gemm_t> fs;
  std::vector<std::string> names;
  bool with_openblas = false;
  for (int i = 4; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "openblas") {
      // Debian's OpenBLAS 0.3.21 takes newer Xeons for Prescott: set OPENBLAS_CORETYPE=SkylakeX.
      void* h = dlopen("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
      if (!h) return fprintf(stderr, "%s\n", dlerror()), 1;
      cblas = (cblas_t)dlsym(h, "cblas_sgemm");
      ((void (*)(int))dlsym(h, "openblas_set_num_threads"))(threads);
      fs.push_back(openblas);
      with_openblas = true;
    } else {
      void* h = dlopen(a.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!h) return fprintf(stderr, "%s\n", dlerror()), 1;
      ((void (*)(int))dlsym(h, "vg_threads"))(threads);
      fs.push_back((gemm_t)dlsym(h, "vg_gemm"));
    }
    names.push_back(a);
  }
  // OpenBLAS's idle threads spin for ~0.1 s after a call and slow down whatever runs next: pause
  // between calls when it takes part (INGOT_PAIR_SLEEP_US overrides).
  const char* sl = getenv("INGOT_PAIR_SLEEP_US");
  const long sleep_us = sl ? atol(sl) : with_openblas ? 200000 : 0;
  // After the pause every variant starts cold (threads asleep, caches and clocks idle): with
  // INGOT_PAIR_WARMUP=N, N untimed calls follow the pause, so the timing is of warm calls.
  const char* wu = getenv("INGOT_PAIR_WARMUP");
  const int warmup = wu ? atoi(wu) : 0;
  std::vector<float> A(M * K), B(K * N), C(M * N), R(M * N);
  for (auto& x : A) x = rand() / float(RAND_MAX) - 0.5f;
  for (auto& x : B) x = rand() / float(RAND_MAX) - 0.5f;
  const size_t V = fs.size();
  fs[0](M, N, K, ta, tb, A.data(), B.data(), R.data());
  for (size_t v = 1; v < V; v++) {
    fs[v](M, N, K, ta, tb, A.data(), B.data(), C.data());
    double md = 0;
    for (long i = 0; i < M * N; i++) md = std::max(md, (double)std::fabs(C[i] - R[i]));
    printf("%s: largest difference from %s %g\n", names[v].c_str(), names[0].c_str(), md);
  }
  std::vector<std::vector<double>> t(V);
  const double fl = 2.0 * M * N * K;
  const int reps = std::max(1L, (long)(2e9 / fl));  // ~2 GFLOP a timing
  for (int r = 0; r < rounds; r++)
    for (size_t v0 = 0; v0 < V; v0++) {
      const size_t v = (v0 + r) % V;  // each round starts with another variant
      if (sleep_us) usleep(sleep_us);
      for (int q = 0; q < warmup; q++) fs[v](M, N, K, ta, tb, A.data(), B.data(), C.data());
      const auto s = std::chrono::steady_clock::now();
      for (int q = 0; q < reps; q++) fs[v](M, N, K, ta, tb, A.data(), B.data(), C.data());
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - s).count() / reps;
      t[v].push_back(fl / dt / 1e9);
    }
  for (size_t v = 0; v < V; v++) {
    auto x = t[v];
    std::sort(x.begin(), x.end());
    std::vector<double> rat;
    for (int r = 0; r < rounds; r++) rat.push_back(t[v][r] / t[0][r]);
    std::sort(rat.begin(), rat.end());
    printf("%-28s GFLOP/s best %6.1f median %6.1f   median ratio to %s %.3f\n", names[v].c_str(), x.back(), x[x.size() / 2], names[0].c_str(), rat[rat.size() / 2]);
  }
}
