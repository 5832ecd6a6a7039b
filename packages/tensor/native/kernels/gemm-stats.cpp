// GEMM statistics (see gemm-stats.h).
#include "gemm-stats.h"

#include "thread-pool.h"

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

namespace hearth {

const int g_gemm_stats_level = [] {
  const char* e = std::getenv("HEARTH_GEMM_STATS");
  return e == nullptr || e[0] == '\0' || e[0] == '0' ? 0 : e[0] == '2' ? 2 : 1;
}();

namespace {

std::atomic<int64_t> g_counters[static_cast<int>(GemmStat::kCount)];

struct Row {
  std::string shape;
  int64_t calls = 0;
  int threads = 1;  // the pool's size when last recorded (read at exit, the pool may be gone)
  double flops = 0, wall_ns = 0;
  double ns[static_cast<int>(GemmStat::kCount)] = {};
};

// Rows in first-seen order, printed by the destructor at exit.
struct Table {
  std::mutex mu;
  std::vector<Row> rows;
  ~Table() {
    if (rows.empty()) return;
    std::fprintf(stderr, "GEMM statistics (HEARTH_GEMM_STATS), products of 1 GFLOP or more in all:\n");
    std::fprintf(stderr, "%-26s %6s %10s %7s %6s %11s %6s %6s %8s\n", "MxNxK", "calls", "wall ms", "GF/s", "busy",
                 "GF/s/core", "packA", "packB", "cpu/wall");
    for (const Row& r : rows) {
      if (r.flops < 1e9) continue;
      const double task = r.ns[static_cast<int>(GemmStat::kTask)];
      const double busy = task / (r.threads * r.wall_ns);
      std::fprintf(stderr, "%-26s %6lld %10.1f %7.1f %6.2f %11.1f %5.1f%% %5.1f%% %8.2f\n", r.shape.c_str(),
                   static_cast<long long>(r.calls), r.wall_ns * 1e-6, r.flops / r.wall_ns, busy,
                   task > 0 ? r.flops / task : 0.0, task > 0 ? 100.0 * r.ns[static_cast<int>(GemmStat::kPackA)] / task : 0.0,
                   task > 0 ? 100.0 * r.ns[static_cast<int>(GemmStat::kPackB)] / task : 0.0,
                   task > 0 ? r.ns[static_cast<int>(GemmStat::kTaskCpu)] / task : 0.0);
    }
  }
};
Table g_table;

void record(const GemmProblem& p, const char* suffix, int64_t wall_ns) {
  char key[96];
  std::snprintf(key, sizeof key, "%lldx%lldx%lld%s%s%s", static_cast<long long>(p.M), static_cast<long long>(p.N),
                static_cast<long long>(p.K), p.a.rs == 1 && p.a.cs != 1 ? " A/T" : "",
                p.b.rs == 1 && p.b.cs != 1 ? " B/T" : "", suffix);
  std::lock_guard<std::mutex> lock(g_table.mu);
  Row* row = nullptr;
  for (Row& r : g_table.rows)
    if (r.shape == key) row = &r;
  if (row == nullptr) {
    g_table.rows.push_back(Row{key});
    row = &g_table.rows.back();
  }
  row->calls++;
  row->threads = num_threads();
  row->flops += 2.0 * static_cast<double>(p.M) * p.N * p.K * p.batch;
  row->wall_ns += static_cast<double>(wall_ns);
  for (int i = 0; i < static_cast<int>(GemmStat::kCount); i++)
    row->ns[i] += static_cast<double>(g_counters[i].exchange(0, std::memory_order_relaxed));
}

}  // namespace

void gemm_stats_add(GemmStat which, int64_t ns) {
  g_counters[static_cast<int>(which)].fetch_add(ns, std::memory_order_relaxed);
}

int64_t gemm_stats_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t gemm_stats_thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool gemm_with_stats(const GemmProblem& p, bool (*run)(const GemmProblem&)) {
  for (auto& c : g_counters) c.store(0, std::memory_order_relaxed);
  int64_t t0 = gemm_stats_now_ns();
  if (!run(p)) return false;
  record(p, "", gemm_stats_now_ns() - t0);
  // Only a product that overwrites C (beta 0) gives the same C when run again.
  if (g_gemm_stats_level < 2 || p.beta != 0.0f) return true;
  t0 = gemm_stats_now_ns();
  if (!run(p)) return false;
  record(p, " 2nd", gemm_stats_now_ns() - t0);
  return true;
}

}  // namespace hearth
