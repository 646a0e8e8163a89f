// The persistent thread pool: workers start once and wait for jobs (spinning briefly, then sleeping),
// so a kernel call never creates threads. The calling thread takes part in every job.
#pragma once
#include <cstdint>
#include <type_traits>

namespace ingot {

using TaskFn = void (*)(void* ctx, int64_t task);

/** Threads a job may use (workers + the caller). */
int num_threads();
/** Restarts the pool with n threads in all (n >= 1). */
void set_num_threads(int n);
/** Runs fn(ctx, t) for t in [0, ntasks) on the pool; returns when all are done. Nested calls run inline. */
void run_tasks(int64_t ntasks, TaskFn fn, void* ctx);

/** Runs f(t) for every task t in [0, ntasks), tasks taken dynamically by the threads. */
template <class F>
void parallel_tasks(int64_t ntasks, F&& f) {
  if (ntasks <= 0) return;
  if (ntasks == 1 || num_threads() == 1) {
    for (int64_t t = 0; t < ntasks; t++) f(t);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  run_tasks(ntasks, [](void* c, int64_t t) { (*static_cast<Fn*>(c))(t); }, const_cast<void*>(static_cast<const void*>(&f)));
}

/**
 * Runs f(begin, end) over [0, n) split into equal chunks of at least `grain` items (one chunk, on
 * the caller, when n <= grain). Up to four chunks per thread: when another process holds a core,
 * the threads that do run take over the chunks of the one that does not.
 */
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  int64_t chunks = grain > 0 ? (n + grain - 1) / grain : n;
  if (num_threads() == 1) chunks = 1;
  if (chunks > 4 * num_threads()) chunks = 4 * num_threads();
  if (chunks <= 1) {
    f(int64_t(0), n);
    return;
  }
  parallel_tasks(chunks, [&](int64_t t) { f(n * t / chunks, n * (t + 1) / chunks); });
}

}  // namespace ingot
