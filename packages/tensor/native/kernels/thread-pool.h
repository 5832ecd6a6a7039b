// A persistent pool of worker threads shared by every kernel. Sized once to the cores this
// process may run on (sched_getaffinity), or to HEARTH_NUM_THREADS when set; resizable at run
// time. The calling thread always works too, so a pool of size 1 has no workers at all.
#pragma once
#include <cstdint>

namespace hearth {

// Runs fn(ctx, task) for task in [0, ntasks) on up to `threads` threads (the caller included),
// handing out tasks dynamically. Returns when all tasks are done. Nested calls, and calls made
// while another thread is running a job, run serially on the calling thread.
void parallel_for(int ntasks, int threads, void (*fn)(void* ctx, int task), void* ctx);

// Convenience wrapper for lambdas.
template <typename F>
void parallel_for(int ntasks, int threads, const F& f) {
  parallel_for(
      ntasks, threads, [](void* ctx, int task) { (*static_cast<const F*>(ctx))(task); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

// Threads a job may use (workers + caller).
int num_threads();
// Resizes the pool; n < 1 restores the default (HEARTH_NUM_THREADS or the available cores).
void set_num_threads(int n);
// The default size: HEARTH_NUM_THREADS if set to a positive integer, else the available cores.
int default_num_threads();

// Counters of the jobs run on the pool since the process started (for profiles: a step's
// figures are the difference of two readings). A job is one parallel_for that reached the
// workers; `helped` counts those a worker joined before the caller had taken every task (the
// others ran on the caller alone: the workers were asleep or their core busy); `wait_ns` is the
// caller's time after its own last task, waiting for workers still running theirs;
// `prefetched_bytes` what idle workers read ahead (pool_prefetch_hint).
struct PoolStats {
  uint64_t jobs;
  uint64_t helped;
  uint64_t tasks;
  uint64_t helper_tasks;
  uint64_t job_ns;
  uint64_t wait_ns;
  uint64_t prefetched_bytes;  // read ahead by idle workers (pool_prefetch_hint)
};
PoolStats pool_stats();

// Hands idle workers `bytes` bytes at `data` to read ahead into their caches while they wait
// for the next job (the matrix a decoding step multiplies with next, read during the host work
// between two products). A new job stops them within a few KB; a later call replaces the range
// (null clears it). Reads are prefetch instructions, which never fault, so a range freed in
// the meantime is harmless.
void pool_prefetch_hint(const void* data, int64_t bytes);
// CPU time of the calling thread so far, in nanoseconds (CLOCK_THREAD_CPUTIME_ID).
uint64_t thread_cpu_ns();

}  // namespace hearth
