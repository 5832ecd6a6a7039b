// Persistent worker pool. Workers spin briefly after a job (so back-to-back kernels do not pay
// a futex wake-up each), then sleep on a condition variable. The caller works on its own job's
// tasks too and waits only for helpers that joined before it finished them: a job never waits
// for a sleeping or descheduled worker to wake up (on a busy 2-core machine that wait was a
// time slice per kernel).
#include "thread-pool.h"

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace hearth {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

thread_local bool t_in_job = false;

// How long an idle worker spins before it sleeps. HEARTH_SPIN_US=n fixes it at n microseconds;
// by default it adapts between kMinSpin and kMaxSpin (see Pool::worker): a decoding step runs
// ~50 products with a few small ops and the JavaScript between them, gaps of 30-300 us, and a
// product that starts while the worker sleeps runs on the calling thread alone until the worker
// wakes (measured: +20-35% for products after a gap longer than a fixed 100 us window).
constexpr std::chrono::microseconds kMinSpin{100};
constexpr std::chrono::microseconds kMaxSpin{1000};

// The fixed window from HEARTH_SPIN_US, or -1 us when the window adapts.
std::chrono::microseconds fixed_spin() {
  static const std::chrono::microseconds window = [] {
    const char* env = std::getenv("HEARTH_SPIN_US");
    const int us = env ? std::atoi(env) : -1;
    return std::chrono::microseconds(us >= 0 ? us : -1);
  }();
  return window;
}

class Pool {
 public:
  Pool() { resize(default_num_threads()); }
  ~Pool() { stop(); }

  int size() const { return size_; }

  void resize(int n) {
    std::lock_guard<std::mutex> job(job_mu_);
    stop();
    size_ = n < 1 ? 1 : n;
    quit_ = false;
    // A worker must compare against the generation of its birth, not of its first run: a job
    // may start before the thread does.
    const uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int i = 0; i + 1 < size_; i++) workers_.emplace_back([this, i, gen] { worker(i, gen); });
  }

  void run(int ntasks, int threads, void (*fn)(void*, int), void* ctx) {
    if (threads > size_) threads = size_;
    if (threads > ntasks) threads = ntasks;
    if (threads <= 1 || t_in_job || !job_mu_.try_lock()) {
      serial(ntasks, fn, ctx);
      return;
    }
    {
      // Workers read the job's fields under the same lock as the generation, so a late
      // worker never mixes one job's generation with another job's helper count.
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = fn;
      ctx_ = ctx;
      ntasks_ = ntasks;
      helpers_ = threads - 1;
      next_.store(0, std::memory_order_relaxed);
      open_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    const auto t0 = std::chrono::steady_clock::now();
    t_in_job = true;
    const int mine = work();
    t_in_job = false;
    const auto t1 = std::chrono::steady_clock::now();
    // Close the job: a helper that has not joined by now (asleep, or its core taken by another
    // process) finds it closed and skips it, so the caller never waits for a helper to wake up,
    // only for those still running a task.
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = false;
    }
    // A helper still at work may have lost its core to another process: after a short spin,
    // give this core up between checks so it can finish here instead of waiting a time slice.
    for (int spins = 0; active_.load(std::memory_order_acquire) != 0; spins++) {
      if (spins < 4096) {
        cpu_relax();
      } else {
        sched_yield();
      }
    }
    const auto t2 = std::chrono::steady_clock::now();
    stats_.jobs++;
    stats_.helped += mine < ntasks ? 1 : 0;
    stats_.tasks += static_cast<uint64_t>(ntasks);
    stats_.helper_tasks += static_cast<uint64_t>(ntasks - mine);
    stats_.job_ns += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t2 - t0).count());
    stats_.wait_ns += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t2 - t1).count());
    job_mu_.unlock();
  }

  // Sets the range idle workers read ahead (see pool_prefetch_hint); each worker takes its
  // share, so with one worker it reads it all.
  void hint(const char* data, int64_t bytes) {
    std::lock_guard<std::mutex> lock(hint_mu_);
    hint_data_ = data;
    hint_bytes_ = bytes;
    hint_gen_ = generation_.load(std::memory_order_acquire);
    hint_seq_.fetch_add(1, std::memory_order_release);
  }

  PoolStats stats() {
    std::lock_guard<std::mutex> job(job_mu_);
    PoolStats s = stats_;
    s.prefetched_bytes = prefetched_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  static void serial(int ntasks, void (*fn)(void*, int), void* ctx) {
    bool was = t_in_job;
    t_in_job = true;
    for (int t = 0; t < ntasks; t++) fn(ctx, t);
    t_in_job = was;
  }

  // Runs tasks of the current job until none is left; returns how many it ran.
  int work() {
    int done = 0;
    for (;; done++) {
      int t = next_.fetch_add(1, std::memory_order_relaxed);
      if (t >= ntasks_) break;
      fn_(ctx_, t);
    }
    return done;
  }

  void worker(int index, uint64_t seen) {
    t_in_job = true;
    const auto fixed = fixed_spin();
    auto window = fixed.count() >= 0 ? fixed : kMinSpin;
    for (;;) {
      // Spin for a while, then sleep. An adaptive window grows to cover an idle gap that a
      // sleep turned out to be short (the next job came within kMaxSpin: a loop of kernels with
      // host work between them) and shrinks back after a long idle time, so a process that
      // stops calling kernels keeps a core busy for at most kMaxSpin.
      const auto start = std::chrono::steady_clock::now();
      int spins = 0;
      while (generation_.load(std::memory_order_acquire) == seen && !quit_.load(std::memory_order_acquire)) {
        if (!prefetch_step(index)) cpu_relax();
        if (++spins % 64 == 0 && std::chrono::steady_clock::now() - start > window) {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [&] {
            return generation_.load(std::memory_order_acquire) != seen || quit_.load(std::memory_order_acquire);
          });
          if (fixed.count() < 0) {
            const auto idle =
                std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
            window = idle <= kMaxSpin ? std::min(kMaxSpin, std::max(window, idle * 3 / 2))
                                      : std::max(kMinSpin, window / 2);
          }
          break;
        }
      }
      bool join;
      {
        // Joining happens under the lock that closes the job, so the caller either sees this
        // helper in active_ or the helper sees the job closed.
        std::lock_guard<std::mutex> lock(mu_);
        if (quit_.load(std::memory_order_acquire)) return;
        seen = generation_.load(std::memory_order_acquire);
        join = open_ && index < helpers_;
        if (join) active_.fetch_add(1, std::memory_order_relaxed);
      }
      if (join) {
        work();
        active_.fetch_sub(1, std::memory_order_release);
      }
    }
  }

  // One chunk of the current read-ahead range, if any is left for worker `index`; false when
  // there is nothing to read. A chunk is 4 KB of prefetches into L2, so a new job waits at most
  // one chunk for this worker. A range holds for the idle gap it was posted in: once a job has
  // run since, it is stale (that job was the product it announced) and dropped.
  bool prefetch_step(int index) {
    thread_local uint64_t seq = 0;
    thread_local uint64_t gen = 0;
    thread_local const char* at = nullptr;
    thread_local const char* end = nullptr;
    const uint64_t now = hint_seq_.load(std::memory_order_acquire);
    if (now != seq) {
      std::lock_guard<std::mutex> lock(hint_mu_);
      seq = hint_seq_.load(std::memory_order_relaxed);
      gen = hint_gen_;
      const int workers = size_ - 1 < 1 ? 1 : size_ - 1;
      const int64_t share = (hint_bytes_ + workers - 1) / workers;
      const int64_t from = std::min<int64_t>(hint_bytes_, share * index);
      at = hint_data_ == nullptr ? nullptr : hint_data_ + from;
      end = hint_data_ == nullptr ? nullptr : hint_data_ + std::min<int64_t>(hint_bytes_, from + share);
    }
    if (at == nullptr || at >= end) return false;
    if (generation_.load(std::memory_order_acquire) != gen) {
      at = end = nullptr;
      return false;
    }
    const char* stop = std::min(end, at + 4096);
#if defined(__x86_64__) || defined(__i386__)
    prefetched_.fetch_add(static_cast<uint64_t>(stop - at), std::memory_order_relaxed);
    for (; at < stop; at += 64) __builtin_prefetch(at, 0, 2);
#else
    at = stop;
#endif
    return true;
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_.store(true, std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  int size_ = 1;
  std::vector<std::thread> workers_;
  std::mutex job_mu_;  // one job at a time
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> quit_{false};
  std::atomic<int> next_{0};
  std::atomic<int> active_{0};  // helpers that joined the current job and have not finished
  bool open_ = false;            // the current job still takes helpers (guarded by mu_)
  int ntasks_ = 0;
  int helpers_ = 0;
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
  PoolStats stats_{};  // guarded by job_mu_
  std::mutex hint_mu_;
  const char* hint_data_ = nullptr;  // guarded by hint_mu_
  int64_t hint_bytes_ = 0;           // guarded by hint_mu_
  uint64_t hint_gen_ = 0;            // the job generation the hint was posted after (hint_mu_)
  std::atomic<uint64_t> hint_seq_{0};
  std::atomic<uint64_t> prefetched_{0};  // bytes workers have read ahead
};

Pool& pool() {
  // Leaked on purpose: joining threads from a static destructor at process exit can deadlock.
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

int default_num_threads() {
  if (const char* env = std::getenv("HEARTH_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

void parallel_for(int ntasks, int threads, void (*fn)(void*, int), void* ctx) {
  if (ntasks <= 0) return;
  pool().run(ntasks, threads, fn, ctx);
}

int num_threads() { return pool().size(); }

PoolStats pool_stats() { return pool().stats(); }

void pool_prefetch_hint(const void* data, int64_t bytes) {
  if (pool().size() > 1) pool().hint(static_cast<const char*>(data), data == nullptr ? 0 : bytes);
}

uint64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

void set_num_threads(int n) { pool().resize(n < 1 ? default_num_threads() : n); }

}  // namespace hearth
