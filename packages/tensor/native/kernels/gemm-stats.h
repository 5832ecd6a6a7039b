// GEMM statistics for finding where a product's time goes (HEARTH_GEMM_STATS, read once at
// load; off, each hook costs one test of a constant). Per product shape: the wall time, how
// much of the pool's threads' time they spent in tasks (run_block, the shared packings and the
// k-split sums: the rest is threads idle, waiting or joining late), the product rate per busy core, the shares of A and B
// packing in the busy time, and the tasks' CPU time over their wall time (below 1: a thread lost
// its core to other work). Printed to stderr when the process exits. HEARTH_GEMM_STATS=2 also
// runs each product that overwrites C (beta 0) a second time straight after the first and
// reports it apart ("2nd"), its operands now warm: the first run's excess over it is what cold
// operands and a cold pool cost. Products running at once from several threads mix their counts.
#pragma once
#include <atomic>
#include <cstdint>

#include "gemm.h"

namespace hearth {

enum class GemmStat { kTask, kTaskCpu, kPackA, kPackB, kCount };

// 0 off, 1 statistics, 2 statistics and a warm second run (set from the environment at load).
extern const int g_gemm_stats_level;
inline int gemm_stats_level() { return g_gemm_stats_level; }

// Adds nanoseconds to a counter of the product running now.
void gemm_stats_add(GemmStat which, int64_t ns);
int64_t gemm_stats_now_ns();
int64_t gemm_stats_thread_cpu_ns();

// Times its scope into `which` (and, for kTask, the thread's CPU time into kTaskCpu) when on.
class GemmStatTimer {
 public:
  explicit GemmStatTimer(GemmStat which)
      : which_(which),
        on_(gemm_stats_level() > 0),
        t0_(on_ ? gemm_stats_now_ns() : 0),
        c0_(on_ && which == GemmStat::kTask ? gemm_stats_thread_cpu_ns() : 0) {}
  ~GemmStatTimer() {
    if (!on_) return;
    gemm_stats_add(which_, gemm_stats_now_ns() - t0_);
    if (which_ == GemmStat::kTask) gemm_stats_add(GemmStat::kTaskCpu, gemm_stats_thread_cpu_ns() - c0_);
  }
  GemmStatTimer(const GemmStatTimer&) = delete;
  GemmStatTimer& operator=(const GemmStatTimer&) = delete;

 private:
  GemmStat which_;
  bool on_;
  int64_t t0_, c0_;
};

// Runs `run` on p (once, or twice at level 2) and records it under p's shape.
bool gemm_with_stats(const GemmProblem& p, bool (*run)(const GemmProblem&));

}  // namespace hearth
