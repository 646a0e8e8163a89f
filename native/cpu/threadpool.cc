// The persistent thread pool. A job is published through one 64-bit ticket (generation | task count
// | next task): threads claim tasks by compare-and-swap on it, so a thread that wakes late can never
// claim a task of a newer job. Idle workers spin for a short while (kernel calls come in bursts
// from JavaScript), then sleep on a condition variable. A worker that finds itself on the CPU of
// the thread that published the job moves to another CPU (step_aside).
#include "threadpool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define INGOT_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define INGOT_RELAX() asm volatile("yield")
#else
#define INGOT_RELAX() ((void)0)
#endif
#ifdef __linux__
#include <sched.h>
#endif

namespace ingot {
namespace {

constexpr uint64_t TASK_MASK = 0xffff;  // ticket: generation (32 bits) | ntasks (16) | next (16)
constexpr int64_t MAX_TASKS = int64_t(TASK_MASK);

struct Pool {
  std::atomic<uint64_t> ticket{0};
  std::atomic<int64_t> done{0};
  std::atomic<int> sleepers{0};
  std::atomic<int> alive{0};
  std::atomic<int> caller_cpu{-1};  // the CPU of the thread that published the current job
  std::atomic<bool> stop{false};
  std::atomic_flag busy = ATOMIC_FLAG_INIT;  // one caller at a time (Node worker_threads share the pool)
  TaskFn fn = nullptr;
  void* ctx = nullptr;
  std::mutex m;
  std::condition_variable cv;
  int nthreads = 0;  // 0: not started yet
  int started = 0;   // workers running
  std::chrono::nanoseconds spin{std::chrono::microseconds(100)};
};

// Never destroyed: detached workers may still be parked in it while the process exits.
Pool& pool = *new Pool();
thread_local bool in_job = false;

inline uint32_t gen_of(uint64_t t) { return uint32_t(t >> 32); }

// Claims and runs tasks of generation g until none is left.
void work(uint32_t g) {
  uint64_t t = pool.ticket.load(std::memory_order_acquire);
  for (;;) {
    if (gen_of(t) != g) return;
    const uint64_t n = (t >> 16) & TASK_MASK, i = t & TASK_MASK;
    if (i >= n) return;
    if (!pool.ticket.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    pool.fn(pool.ctx, int64_t(i));  // fn/ctx of generation g stay put until its last task is done
    pool.done.fetch_add(1, std::memory_order_release);
    t = pool.ticket.load(std::memory_order_acquire);
  }
}

// Linux may wake a sleeping worker on the CPU of the thread that woke it (the caller) and leave the
// two there, sharing one CPU, while another is idle: on the 2-core VM, after a pause of 0.2 s half of
// the 2-task jobs ran that way, for milliseconds at a time. A worker that starts a job on the
// caller's CPU therefore moves: it narrows its affinity to the other allowed CPUs (the kernel
// migrates it at once) and widens it again (which does not move it back). Paired in one process
// after 0.2 s pauses: 256² +24 %, 512² +15 %, 1024² +2 % (bench/native/gemm-pair, docs/native-gemm.md).
void step_aside() {
#ifdef __linux__
  const int me = sched_getcpu();
  if (me < 0 || me != pool.caller_cpu.load(std::memory_order_relaxed)) return;
  cpu_set_t all;
  if (sched_getaffinity(0, sizeof(all), &all) != 0 || CPU_COUNT(&all) < 2 || !CPU_ISSET(me, &all)) return;
  cpu_set_t others = all;
  CPU_CLR(me, &others);
  if (sched_setaffinity(0, sizeof(others), &others) == 0) sched_setaffinity(0, sizeof(all), &all);
#endif
}

void worker_main() {
  in_job = true;  // parallel calls made inside a task run inline
  uint32_t seen = gen_of(pool.ticket.load(std::memory_order_acquire));
  for (;;) {
    uint32_t g;
    auto since = std::chrono::steady_clock::now();
    unsigned spins = 0;
    while ((g = gen_of(pool.ticket.load(std::memory_order_acquire))) == seen) {
      if (pool.stop.load(std::memory_order_relaxed)) {
        pool.alive.fetch_sub(1);
        return;
      }
      INGOT_RELAX();
      if ((++spins & 127) == 0 && std::chrono::steady_clock::now() - since > pool.spin) {
        std::unique_lock<std::mutex> lk(pool.m);
        // NOTE: sleepers is raised before the ticket is re-read; the caller stores the ticket before
        // reading sleepers (both seq_cst), so one of the two always sees the other.
        pool.sleepers.fetch_add(1);
        pool.cv.wait(lk, [&] { return gen_of(pool.ticket.load()) != seen || pool.stop.load(); });
        pool.sleepers.fetch_sub(1);
        since = std::chrono::steady_clock::now();
      }
    }
    seen = g;
    step_aside();
    work(g);
  }
}

int default_threads() {
  if (const char* s = std::getenv("INGOT_NUM_THREADS")) {
    const int n = std::atoi(s);
    if (n >= 1) return n;
  }
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n >= 1) return n;
  }
#endif
  const unsigned n = std::thread::hardware_concurrency();
  return n ? int(n) : 1;
}

void stop_workers() {
  if (pool.started == 0) return;
  {
    std::lock_guard<std::mutex> lk(pool.m);
    pool.stop.store(true);
    pool.cv.notify_all();
  }
  while (pool.alive.load() > 0) std::this_thread::yield();
  pool.stop.store(false);
  pool.started = 0;
}

void ensure_started() {
  if (pool.nthreads == 0) pool.nthreads = default_threads();
  if (pool.started == 0)
    if (const char* s = std::getenv("INGOT_SPIN_US")) pool.spin = std::chrono::microseconds(std::atoi(s));
  while (pool.started < pool.nthreads - 1) {
    pool.alive.fetch_add(1);
    std::thread(worker_main).detach();
    pool.started++;
  }
}

}  // namespace

int num_threads() {
  if (pool.nthreads == 0) pool.nthreads = default_threads();
  return pool.nthreads;
}

void set_num_threads(int n) {
  if (n < 1) n = 1;
  while (pool.busy.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
  stop_workers();
  pool.nthreads = n;
  pool.busy.clear(std::memory_order_release);
}

void run_tasks(int64_t ntasks, TaskFn fn, void* ctx) {
  if (ntasks <= 0) return;
  if (in_job || num_threads() == 1 || ntasks == 1 || pool.busy.test_and_set(std::memory_order_acquire)) {
    for (int64_t t = 0; t < ntasks; t++) fn(ctx, t);
    return;
  }
  ensure_started();
  in_job = true;
  for (int64_t base = 0; base < ntasks; base += MAX_TASKS) {
    const int64_t n = ntasks - base < MAX_TASKS ? ntasks - base : MAX_TASKS;
    struct Slice {
      TaskFn fn;
      void* ctx;
      int64_t base;
    } slice{fn, ctx, base};
    pool.fn = [](void* c, int64_t t) {
      auto* s = static_cast<Slice*>(c);
      s->fn(s->ctx, s->base + t);
    };
    pool.ctx = &slice;
    pool.done.store(0, std::memory_order_relaxed);
#ifdef __linux__
    pool.caller_cpu.store(sched_getcpu(), std::memory_order_relaxed);
#endif
    const uint32_t g = gen_of(pool.ticket.load(std::memory_order_relaxed)) + 1;
    pool.ticket.store((uint64_t(g) << 32) | (uint64_t(n) << 16));
    if (pool.sleepers.load() > 0) {
      std::lock_guard<std::mutex> lk(pool.m);
      pool.cv.notify_all();
    }
    work(g);
    while (pool.done.load(std::memory_order_acquire) < n) INGOT_RELAX();
  }
  in_job = false;
  pool.busy.clear(std::memory_order_release);
}

}  // namespace ingot
