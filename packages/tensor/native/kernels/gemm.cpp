// GEMM driver: picks the micro-kernel family once at load time, cuts the product into tasks for
// the thread pool and runs the blocked loops (Goto/BLIS style) for each task:
//   for each NC-wide column block of the task:          B block (KC×NC) stays in L2
//     for each KC-deep slice of k:     pack B slice
//       for each MR-row strip:         pack A micro-panel (MR×KC, stays in L1)
//         for each NR-wide micro-panel of the B block: micro-kernel updates an MR×NR tile of C
// Layouts of the packed panels: gemm-arch.h. Matrix-vector products go to gemv.cpp.
#include "gemm.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

#include "cpu-features.h"
#include "gemm-arch.h"
#include "gemm-stats.h"
#include "convert.h"
#include "fused-rows.h"
#include "gemv.h"
#include "thread-pool.h"
#include "vec-math.h"

namespace hearth {
namespace {

struct Selection {
  const GemmKernels* f32;
  const GemmKernels* bf16;
};

// Seconds for `reps` micro-kernel calls on a full tile with zeroed panels.
double time_micro(const GemmKernels& ks, int reps) {
  const int kc = ks.kc;
  void* a = std::aligned_alloc(64, static_cast<size_t>(ks.mr) * ks.kc * ks.packed_size);
  void* b = std::aligned_alloc(64, static_cast<size_t>(kc) * ks.nr * ks.packed_size);
  float* c = static_cast<float*>(std::aligned_alloc(64, sizeof(float) * ks.mr * ks.nr));
  if (a == nullptr || b == nullptr || c == nullptr) {
    std::free(a);
    std::free(b);
    std::free(c);
    return 1e9;
  }
  std::memset(a, 0, static_cast<size_t>(ks.mr) * ks.kc * ks.packed_size);
  std::memset(b, 0, static_cast<size_t>(kc) * ks.nr * ks.packed_size);
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; r++) ks.micro(ks.mr, ks.nr, kc, a, b, c, ks.nr, 1.0f, 0.0f);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (ks.release != nullptr) ks.release();
  std::free(a);
  std::free(b);
  std::free(c);
  return secs / (static_cast<double>(ks.mr) * ks.nr * kc * reps);  // per multiply-add
}

// The bf16 dot-product instruction is twice the FMA rate on some CPUs (Zen 4/5) and half of it
// on others (Sapphire Rapids, which has AMX instead). CPUID cannot tell, so the first bfloat16
// product times each candidate micro-kernel once (a few milliseconds) and keeps the fastest:
// widening to float32 while packing, vdpbf16ps, or AMX tiles.
const GemmKernels* pick_fastest(const GemmKernels* const* candidates, int n) {
  double best[4] = {1e9, 1e9, 1e9, 1e9};
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < n; i++) {
      const double t = time_micro(*candidates[i], 100);
      best[i] = t < best[i] ? t : best[i];
    }
  int pick = 0;
  for (int i = 1; i < n; i++)
    if (best[i] < best[pick]) pick = i;
  return candidates[pick];
}

// An on/off environment switch for comparisons and tests: on unless set to a value starting
// with '0'. Read on every call, so a test can flip it between products.
bool switched_on(const char* name) {
  const char* e = std::getenv(name);
  return e == nullptr || e[0] != '0';
}

// float32 products run on AMX tiles by bf16x3 splitting (float32-level accuracy, see
// arch/x86/gemm-amx-bf16x3.cpp) only when HEARTH_FLOAT32_MATMUL=bf16x3 asks for it: 1.3-1.5×
// the FMA kernel per core on transformer shapes, but in whole 2-thread training steps it is
// sometimes slower. Session 5: LoRA steps ~30% slower. Session 6, a quiet run with the two
// kernels alternating: full fine-tuning steps 2.88 s on it against 1.89 on FMAs (process CPU
// 5.7 vs 3.7 s), LoRA 0.88 against 1.05 s; under load the same session had measured it faster.
// Plain float32 FMAs stay the default until the full-step loss is understood.
bool bf16x3_wanted() {
  const char* env = std::getenv("HEARTH_FLOAT32_MATMUL");
  return env != nullptr && std::strcmp(env, "bf16x3") == 0;
}

Selection automatic() {
  Selection s{gemm_kernels_generic(), gemm_kernels_generic()};
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (f.avx2 && f.fma && f.f16c) s.f32 = s.bf16 = gemm_kernels_avx2();
  if (f.avx512f && f.avx512bw && f.avx512vl && f.fma && f.f16c) {
    gemm_avx512_configure();
    s.f32 = s.bf16 = gemm_kernels_avx512();
    if (f.avx512bf16 && bf16x3_wanted() && request_amx()) s.f32 = gemm_kernels_amx_bf16x3();
  }
#endif
  return s;
}

Selection g_selection = automatic();
bool g_bf16_automatic = true;
std::once_flag g_bf16_once;
const GemmKernels* g_bf16_native_choice = nullptr;

// The automatic bfloat16 choice, made once on first use (see pick_bf16).
const GemmKernels* automatic_bf16() {
  std::call_once(g_bf16_once, [] {
    g_bf16_native_choice = g_selection.f32;
#if defined(__x86_64__)
    if (g_selection.f32 == gemm_kernels_amx_bf16x3()) g_bf16_native_choice = gemm_kernels_avx512();
    if (g_bf16_native_choice == gemm_kernels_avx512()) {
      const GemmKernels* candidates[3] = {gemm_kernels_avx512(), nullptr, nullptr};
      int n = 1;
      if (cpu_features().avx512bf16) candidates[n++] = gemm_kernels_avx512_bf16();
      if (request_amx()) candidates[n++] = gemm_kernels_amx();
      if (n > 1) g_bf16_native_choice = pick_fastest(candidates, n);
    }
#endif
  });
  return g_bf16_native_choice;
}

const GemmKernels* kernels_for(DType t) {
  if (t == DType::kBFloat16) return g_bf16_automatic ? automatic_bf16() : g_selection.bf16;
#if defined(__x86_64__)
  // The bf16x3 family splits float32 inputs only; float16 inputs widen on the AVX-512 kernel.
  if (t != DType::kFloat32 && g_selection.f32 == gemm_kernels_amx_bf16x3()) return gemm_kernels_avx512();
#endif
  return g_selection.f32;
}

// Per-thread packing buffers, grown on demand and kept for the thread's life (the pool's
// threads are persistent, so this allocates once).
struct Scratch {
  void* a = nullptr;
  void* b = nullptr;
  void* shared = nullptr;  // an operand packed once for all tasks of the caller's product
  void* partials = nullptr;  // the caller's k-split partial products (run_split_k)
  size_t a_bytes = 0, b_bytes = 0, shared_bytes = 0, partials_bytes = 0;
  ~Scratch() {
    std::free(a);
    std::free(b);
    std::free(shared);
    std::free(partials);
  }
  static void* grow(void*& p, size_t& have, size_t need) {
    if (have >= need) return p;
    std::free(p);
    need = (need + 63) / 64 * 64;
    p = std::aligned_alloc(64, need);
    have = p ? need : 0;
    return p;
  }
};

thread_local Scratch t_scratch;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }
inline int64_t imax64(int64_t a, int64_t b) { return a > b ? a : b; }

// Writes the micro-kernel's tile into C when C's columns are not contiguous.
void micro_strided(const GemmKernels& ks, int m, int n, int kc, const void* a, const void* b, float* c, int64_t rs,
                   int64_t cs, float alpha, float beta) {
  alignas(64) float tile[32 * 64];
  ks.micro(m, n, kc, a, b, tile, ks.nr, 1.0f, 0.0f);
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      float* dst = c + i * rs + j * cs;
      *dst = beta == 0.0f ? alpha * tile[i * ks.nr + j] : alpha * tile[i * ks.nr + j] + beta * *dst;
    }
}

// C tile (rows [i0, i0+m) × columns [j0, j0+n)) += the addend's tile, in float32 (a separate add).
void add_addend(const GemmProblem& p, int64_t batch, int64_t i0, int m, int64_t j0, int n) {
  const float* ad = p.addend + batch * p.adbs;
  float* c = p.c + batch * p.cbs;
  for (int i = 0; i < m; i++) {
    float* crow = c + (i0 + i) * p.crs + j0 * p.ccs;
    const float* arow = ad + (i0 + i) * p.adrs + j0 * p.adcs;
    if (p.ccs == 1 && p.adcs == 1) {
      for (int j = 0; j < n; j++) crow[j] += arow[j];
    } else {
      for (int j = 0; j < n; j++) crow[j * p.ccs] += arow[j * p.adcs];
    }
  }
}

// The whole addend added after the product, for the paths that do not add it tile by tile.
void add_addend_all(const GemmProblem& p) {
  for (int64_t b = 0; b < p.batch; b++) add_addend(p, b, 0, static_cast<int>(p.M), 0, static_cast<int>(p.N));
}

// p.activation applied to the C tile (rows [i0, i0+m) × columns [j0, j0+n)) in place, a row at a
// time through the row kernels' activation (the separate op's code, so the same bits); columns
// that are not contiguous go through a row copy.
void activate_tile(const GemmProblem& p, int64_t batch, int64_t i0, int64_t m, int64_t j0, int64_t n) {
  const RowKernels* rk = row_kernels();
  float* c = p.c + batch * p.cbs;
  float row[256];
  for (int64_t i = 0; i < m; i++) {
    float* crow = c + (i0 + i) * p.crs + j0 * p.ccs;
    if (p.ccs == 1) {
      rk->activation(p.activation, crow, crow, n);
      continue;
    }
    for (int64_t j0r = 0; j0r < n; j0r += 256) {
      const int64_t w = imin64(256, n - j0r);
      for (int64_t j = 0; j < w; j++) row[j] = crow[(j0r + j) * p.ccs];
      rk->activation(p.activation, row, row, w);
      for (int64_t j = 0; j < w; j++) crow[(j0r + j) * p.ccs] = row[j];
    }
  }
}

// Walks the cache lines of `runs` byte runs (run r at base + r*stride, run_bytes long), a few
// at a time, asking for each to be brought into L2.
struct LinePrefetch {
  const char* base = nullptr;
  int64_t stride = 0, runs = 0, run_bytes = 0;
  int64_t run = 0, off = 0;
  int64_t lines() const { return runs * ((run_bytes + 127) / 64); }
  // Appends up to n next lines to out[*count] (capacity cap), a run's lines in one tight loop
  // (called before every micro-kernel call of a prefetching block: the per-line bookkeeping
  // once took 4% of a 128-row product).
  void collect(int64_t n, const char** out, int* count, int cap) {
    while (n > 0 && run < runs && *count < cap) {
      const char* start = base + run * stride;
      const char* line = reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(start) & ~uintptr_t{63}) + off;
      const int64_t left = (start + run_bytes - line + 63) / 64;  // lines of this run not yet given
      int64_t take = n < left ? n : left;
      if (take > cap - *count) take = cap - *count;
      for (int64_t k = 0; k < take; k++) out[(*count)++] = line + 64 * k;
      n -= take;
      off += 64 * take;
      if (take == left) {
        off = 0;
        run++;
      }
    }
  }
};

// The source lines of rows [r0, r0+nr) × columns [c0, c0+nc) of a matrix view, as runs along
// its unit-stride dimension; empty when neither dimension has unit stride.
LinePrefetch region(const GemmMatrixView& v, int64_t r0, int64_t nr, int64_t c0, int64_t nc) {
  LinePrefetch lp;
  const int es = dtype_size(v.dtype);
  const char* at = static_cast<const char*>(v.data) + (r0 * v.rs + c0 * v.cs) * es;
  if (v.cs == 1) {
    lp = LinePrefetch{at, v.rs * es, nr, nc * es};
  } else if (v.rs == 1) {
    lp = LinePrefetch{at, v.cs * es, nc, nr * es};
  }
  return lp;
}

// Most lines one micro-kernel call is asked to prefetch (one per 4 steps of k, up to kc 512).
constexpr int kMaxPrefetch = 128;

struct Task {
  int64_t batch, i0, i1, j0, j1;
};

// A product's tasks, handed out in order from one counter: each thread loops claiming the next
// (run_gemm). With a pre-packed B, a thread claims its next task while its current one runs its
// last B block, so it can fetch that task's first block meanwhile (run_block). Tasks are
// batch-major, then row chunks, then column chunks: chunk ni spans columns [ni·n_width, ...), or
// [cuts[ni], cuts[ni + 1]) when `cuts` is given.
struct TaskFeed {
  int64_t M = 0, N = 0, m_height = 0, n_width = 0, m_chunks = 1, n_chunks = 1, count = 0;
  const int64_t* cuts = nullptr;
  std::atomic<int64_t> next{0};
  int64_t claim() { return next.fetch_add(1, std::memory_order_relaxed); }
  Task at(int64_t task) const {
    const int64_t per_batch = m_chunks * n_chunks;
    const int64_t r = task % per_batch, mi = r / n_chunks, ni = r % n_chunks;
    const int64_t j0 = cuts ? cuts[ni] : ni * n_width, j1 = cuts ? cuts[ni + 1] : imin64(N, (ni + 1) * n_width);
    return Task{task / per_batch, mi * m_height, imin64(M, (mi + 1) * m_height), j0, j1};
  }
};

// Depth of the k slices a K-deep product is cut into on family ks: the same for every task, and
// for gemm_pack_b, whose packed slices run_block reads in place of packing its own.
int k_block(const GemmKernels& ks, int64_t K) {
  const int64_t nkb = ceil_div(K, ks.kc);
  return static_cast<int>(imin64(ks.kc, round_up(ceil_div(K, nkb), ks.kunit > 8 ? ks.kunit : 8)));
}

// The header gemm_pack_b writes before the packed panels (64 bytes, so the panels stay aligned).
struct PackedHeader {
  uint64_t magic;
  const GemmKernels* family;
  int64_t K, N;
  int32_t kcb, dtype;
};
constexpr uint64_t kPackedMagic = 0x31424b4341504748ull;  // "HGPACKB1"
constexpr int64_t kPackedHeaderBytes = 64;
static_assert(sizeof(PackedHeader) <= kPackedHeaderBytes, "packed header outgrew its slot");

// Bytes of one packed k slice: kcb (padded to the k unit) by N (padded to NR) elements.
int64_t packed_slice_bytes(const GemmKernels& ks, int kcb, int64_t N) {
  return round_up(kcb, ks.kunit) * round_up(N, ks.nr) * ks.packed_size;
}

// Most bytes of packed A kept for reuse by every column block of a task (see run_block).
constexpr int64_t kMaxABlockBytes = int64_t{8} << 20;
// Tasks with fewer A micro-panels than this use half-size B blocks (see run_block).
constexpr int64_t kFewPanels = 24;

// How `rows` rows are cut into A micro-panels. The rows are shared evenly among the panels (128
// rows: 8 of 13 and 2 of 12, not 9 of 14 and one of 2): an FMA micro-kernel's time follows its
// rows, except that a short panel still streams the whole B micro-panel from L2 for little
// arithmetic (the 2-row tail took 14% of the kernel time of a 128-token prefill). AMX families
// (k unit 32) compute in 16-row tiles, so they keep full panels. run_block and pack_a_shared
// both cut by it, so a shared packing has the panels each task expects.
struct RowPanels {
  RowPanels(const GemmKernels& ks, int64_t rows)
      : mr(ks.mr), rows(rows), count(ceil_div(rows, ks.mr)), even(ks.kunit < 32), base(rows / count), extra(rows % count) {}
  const int64_t mr, rows, count;
  const bool even;
  const int64_t base, extra;
  // First row of panel ii, from the first row of the cut.
  int64_t first(int64_t ii) const { return even ? ii * base + imin64(ii, extra) : ii * mr; }
  // Rows in panel ii.
  int height(int64_t ii) const { return static_cast<int>(even ? base + (ii < extra) : imin64(mr, rows - ii * mr)); }
};

// A task of more than kTallBandPanels A micro-panels that does not take the B-panel-outer order
// (run_block) on a family with b_panel_outer takes it band by band: kTallBandPanels A panels
// packed together (96 KB for avx2, beside a 384 KB B block in Zen 3's 512 KB L2), then each B
// micro-panel against every panel of the band, the micro-panel held in L1: per micro-kernel call
// the L1 takes one 6 KB A panel from L2 instead of a 16 KB B micro-panel. Same micro-kernel calls,
// so the same bits. Not for tasks reading a shared packed A or a pre-packed B (the fine splits):
// paired, 512x2304x768 over a shared A took 1.02-1.04× the time banded, and the tied head's
// weight gradient (50257x768x512, row tasks over a shared packed B) 1.07-1.14×. HEARTH_GEMM_BAND=0
// turns it off (comparisons). Paired inside 12-layer steps (HEARTH_GEMM_PAIR, load 1.7-2.3): LoRA
// (4 runs of 5 steps) all products 0.965, 0.965, 0.989, 0.978× the time, 512x768x3072 B/T
// 0.88-0.94×; full fine-tuning (2 runs of 3 steps) 0.994 and 0.971×, the layers' forward and
// input-gradient products 0.91-0.97×.
constexpr int64_t kTallBandPanels = 16;
static_assert(kTallBandPanels <= kFewPanels, "run_block holds a band's panel pointers in kFewPanels slots");

// Whether run_block reads A in place (GemmKernels::micro_lda) instead of packing it: a float32 A
// whose columns are contiguous, on a family that can, with C's columns contiguous. Packing such
// an A only copied it (4-6% of a training step's products, and a column split's tasks each
// copied the whole A); read in place, every task reads the source rows, kc values at a time.
// Not when more of a micro-panel's rows than an L1 set has ways fall at the same offset within
// 4 KB (the L1 set index): each step of k then reads that many lines of one set, which evict each
// other before the next step reuses them. A 14-row avx512 panel over rows 12 KB apart (K = 3072)
// measured 0.82x the packed speed so on Zen 4; 6-row avx2 panels stay within 8 ways at any stride.
// HEARTH_GEMM_A_IN_PLACE=0 packs it as before (comparisons).
constexpr int64_t kL1SetSpan = 4096;  // bytes between addresses of one L1 set (64 sets of 64 B)
constexpr int64_t kL1Ways = 8;
bool a_in_place(const GemmKernels& ks, const GemmProblem& p) {
  if (ks.micro_lda == nullptr || p.dtype != DType::kFloat32 || p.a_f32 || p.a.cs != 1 || p.ccs != 1) return false;
  // Rows land on kL1SetSpan / gcd(stride, kL1SetSpan) distinct offsets, round robin.
  const int64_t offsets = kL1SetSpan / std::gcd(p.a.rs * static_cast<int64_t>(sizeof(float)), kL1SetSpan);
  return ceil_div(ks.mr, offsets) <= kL1Ways && switched_on("HEARTH_GEMM_A_IN_PLACE");
}

// Returns false (computing nothing) when the packing buffers cannot be allocated.
//
// Loop order per task: for each column block, for each k slice: pack B (it stays in L2), then
// for each A micro-panel: pack it (it stays in L1) and run it against every B micro-panel.
// Column blocks outermost keep the C block they update in cache across the k slices. When the
// task's whole packed A fits kMaxABlockBytes, the first column block packs it and the others
// reuse it instead of reading A from memory again. On a family with b_panel_outer, a short task
// swaps the two inner loops (each B micro-panel against every A panel) and a tall one does so
// band by band of A panels. (Software prefetching the next panels in bursts between
// micro-kernel calls was measured slower: it competes with the micro-kernel's own loads. Spread
// one per 4 steps of k inside the kernel, it pays for small B blocks.) With a
// pre-packed B and a `feed`, the last block of a task claims this thread's next task from it
// (into *claimed) and fetches that task's first block, which would otherwise start cold from
// memory. `a_shared`, when not null, is the whole A packed once for all tasks (pack_a_shared):
// the task reads its panels from there instead of packing them.
bool run_block(const GemmKernels& ks, const GemmProblem& p, const Task& t, const char* a_shared,
               TaskFeed* feed = nullptr, int64_t* claimed = nullptr) {
  const GemmStatTimer busy(GemmStat::kTask);
  const int esize = dtype_size(p.dtype);
  const char* abase = static_cast<const char*>(p.a.data) + t.batch * p.a.bs * esize;
  const char* bbase = static_cast<const char*>(p.b.data) + t.batch * p.b.bs * esize;
  float* cbase = p.c + t.batch * p.cbs;
  const GemmMatrixView av{abase, p.a.rs, p.a.cs, p.dtype};
  const GemmMatrixView bv{bbase, p.b.rs, p.b.cs, p.dtype};

  const int kcb = k_block(ks, p.K);
  // B pre-packed (gemm gave it only when it is this family's packing of this K×N): each k slice's
  // column block is read in place instead of being packed.
  const char* packed = p.b_packed ? static_cast<const char*>(p.b_packed) + kPackedHeaderBytes : nullptr;
  const int64_t slice_bytes = packed ? packed_slice_bytes(ks, kcb, p.N) : 0;
  // Column blocks as wide as the family's B block (KC×NC elements) allows at this kc, of equal
  // width; half that when few A micro-panels reuse each block (a short task, such as the
  // language-model head over 128 tokens, measured about 10% faster so).
  const int64_t ncols = t.j1 - t.j0;
  const RowPanels rows(ks, t.i1 - t.i0);
  const int64_t n_ip = rows.count;
  const int64_t b_elems = static_cast<int64_t>(ks.kc) * ks.nc / (n_ip < kFewPanels ? 2 : 1);
  const int64_t nc_max = imax64(ks.nr, b_elems / round_up(kcb, ks.kunit) / ks.nr * ks.nr);
  const int ncb = static_cast<int>(round_up(ceil_div(ncols, ceil_div(ncols, nc_max)), ks.nr));
  const int64_t apanel = static_cast<int64_t>(ks.mr) * ks.kc * ks.packed_size;  // bytes
  const int64_t n_pc = ceil_div(p.K, kcb);
  const bool direct_a = a_shared == nullptr && a_in_place(ks, p);
  const bool reuse_a = a_shared == nullptr && !direct_a && ncols > ncb && n_ip * n_pc * apanel <= kMaxABlockBytes;
  // A short task whose whole A slice is packed at once (shared, or kept for reuse) or read in
  // place may run the B micro-panels outermost (GemmKernels::b_panel_outer): see the k-slice
  // loop below.
  const bool b_outer = ks.b_panel_outer && n_ip < kFewPanels && (a_shared != nullptr || reuse_a || direct_a);
  // A tall task on such a family runs that order over bands of A panels (kTallBandPanels).
  const bool banded = ks.b_panel_outer && !b_outer && a_shared == nullptr && packed == nullptr &&
                      n_ip > kTallBandPanels && switched_on("HEARTH_GEMM_BAND");
  const int64_t a_slots = reuse_a ? n_ip * n_pc : banded ? kTallBandPanels : 1;
  const int64_t band = b_outer ? n_ip : banded ? kTallBandPanels : 1;

  Scratch& s = t_scratch;
  void* apack = a_shared ? const_cast<char*>(a_shared)
                : direct_a ? nullptr
                           : Scratch::grow(s.a, s.a_bytes, static_cast<size_t>(a_slots * apanel) + 64);
  void* bpack = packed ? nullptr
                       : Scratch::grow(s.b, s.b_bytes,
                                       static_cast<size_t>(round_up(kcb, ks.kunit > 2 ? ks.kunit : 2)) * ncb *
                                               ks.packed_size + 64);
  if ((apack == nullptr && !direct_a) || (bpack == nullptr && packed == nullptr)) return false;

  const bool unit_cols = p.ccs == 1;
  // With a bias, the first k slice's micro-kernel calls add it as they write C (beta 0, unit
  // column stride, a family with micro_pf); otherwise each column block's C rows start as
  // bias + beta·C, and every k slice adds. Either rounds as a separate add of the bias would.
  const bool fused_bias = p.bias != nullptr && p.beta == 0.0f && unit_cols && ks.micro_pf != nullptr;
  const bool fill_bias = p.bias != nullptr && !fused_bias;
  const float first_beta = fill_bias ? 1.0f : p.beta;
  // Small B blocks (a short task, such as the language-model head over 128 tokens, which reads
  // a large B from memory once) have the source of the next k slice's B block prefetched while
  // the micro-kernel runs, spread over its calls, so packing it finds it in L2.
  const bool prefetch_b = ks.micro_pf != nullptr && static_cast<int64_t>(kcb) * ncb * ks.packed_size <= ks.prefetch_block_bytes;
  for (int64_t jc = t.j0; jc < t.j1; jc += ncb) {
    const int nc = static_cast<int>(imin64(ncb, t.j1 - jc));
    const bool pack_a = a_shared == nullptr && !direct_a && (!reuse_a || jc == t.j0);
    if (fill_bias) {
      for (int64_t i = t.i0; i < t.i1; i++) {
        float* row = cbase + i * p.crs + jc * p.ccs;
        if (p.beta == 0.0f && unit_cols) {
          std::memcpy(row, p.bias + jc, sizeof(float) * nc);
          continue;
        }
        for (int j = 0; j < nc; j++) {
          float* c = row + j * p.ccs;
          *c = p.beta == 0.0f ? p.bias[jc + j] : p.bias[jc + j] + p.beta * *c;
        }
      }
    }
    for (int64_t pc = 0, pi = 0; pc < p.K; pc += kcb, pi++) {
      const int kc = static_cast<int>(imin64(kcb, p.K - pc));
      const int kcp = static_cast<int>(round_up(kc, ks.kunit));
      const float beta = pc == 0 ? first_beta : 1.0f;
      const bool last_slice = pc + kcb >= p.K;
      const float* bias_row = fused_bias && pc == 0 ? p.bias + jc : nullptr;
      const char* bblock;
      if (packed) {
        bblock = packed + pi * slice_bytes + jc * kcp * ks.packed_size;
      } else {
        const GemmStatTimer packing(GemmStat::kPackB);
        ks.pack_b(bv, pc, kc, jc, nc, bpack);
        bblock = static_cast<const char*>(bpack);
      }
      LinePrefetch next_b;
      if (prefetch_b) {
        const int64_t npc = pc + kcb < p.K ? pc + kcb : 0;
        const int64_t njc = pc + kcb < p.K ? jc : jc + ncb;
        if (njc < t.j1 && packed) {
          // The next block of the packed B: one contiguous run.
          const int64_t nkcp = round_up(imin64(kcb, p.K - npc), ks.kunit);
          const char* at = packed + (npc / kcb) * slice_bytes + njc * nkcp * ks.packed_size;
          next_b = LinePrefetch{at, 0, 1, round_up(imin64(ncb, t.j1 - njc), ks.nr) * nkcp * ks.packed_size};
        } else if (njc < t.j1) {
          next_b = region(bv, npc, imin64(kcb, p.K - npc), njc, imin64(ncb, t.j1 - njc));
        } else if (feed != nullptr && packed) {
          // The last block of this task: claim the next one and fetch its first block (of its
          // first k slice).
          *claimed = feed->claim();
          const Task next = *claimed < feed->count ? feed->at(*claimed) : Task{-1, 0, 0, 0, 0};
          if (next.batch == t.batch) {
            const int64_t nkcp = round_up(imin64(kcb, p.K), ks.kunit);
            const char* at = packed + next.j0 * nkcp * ks.packed_size;
            next_b = LinePrefetch{at, 0, 1, round_up(imin64(ncb, next.j1 - next.j0), ks.nr) * nkcp * ks.packed_size};
          }
        }
      }
      const int64_t per_call = ceil_div(next_b.lines(), n_ip * ceil_div(nc, ks.nr));
      // The addend goes in with the last slice's stores where the family can add it in registers.
      const float* addend = last_slice && p.addend != nullptr ? p.addend + t.batch * p.adbs : nullptr;
      const bool fused_addend = addend != nullptr && unit_cols && p.adcs == 1 && ks.micro_lda != nullptr;
      // The micro-kernel on A panel ii (packed at ap) and the B micro-panel at column jr of the block.
      auto tile = [&](int64_t ii, const char* ap, int jr) {
        const int64_t ic = t.i0 + rows.first(ii);
        const int m = rows.height(ii);
        const int n = imin(ks.nr, nc - jr);
        const char* bp = bblock + static_cast<int64_t>(jr) * kcp * ks.packed_size;
        float* c = cbase + ic * p.crs + (jc + jr) * p.ccs;
        const char* pf[kMaxPrefetch];
        int npf = 0;
        next_b.collect(per_call, pf, &npf, imin(kMaxPrefetch, kc / 4));
        if (direct_a || fused_addend) {
          ks.micro_lda(m, n, kc, ap, direct_a ? p.a.rs : ks.kc, bp, c, p.crs, p.alpha, beta, pf, npf,
                       bias_row ? bias_row + jr : nullptr, fused_addend ? addend + ic * p.adrs + jc + jr : nullptr,
                       p.adrs);
        } else if (unit_cols && (npf > 0 || bias_row != nullptr)) {
          ks.micro_pf(m, n, kc, ap, bp, c, p.crs, p.alpha, beta, pf, npf, bias_row ? bias_row + jr : nullptr);
        } else if (unit_cols) {
          ks.micro(m, n, kc, ap, bp, c, p.crs, p.alpha, beta);
        } else {
          micro_strided(ks, m, n, kc, ap, bp, c, p.crs, p.ccs, p.alpha, beta);
        }
        if (addend != nullptr && !fused_addend) add_addend(p, t.batch, ic, m, jc + jr, n);
        if (last_slice && p.activate) activate_tile(p, t.batch, ic, m, jc + jr, n);
      };
      const auto panel = [&](int64_t ii) {
        if (direct_a) return const_cast<char*>(abase) + ((t.i0 + rows.first(ii)) * p.a.rs + pc) * esize;
        const int64_t slot = reuse_a || a_shared ? pi * n_ip + ii : banded ? ii % kTallBandPanels : 0;
        char* ap = static_cast<char*>(apack) + slot * apanel;
        if (pack_a) {
          const GemmStatTimer packing(GemmStat::kPackA);
          ks.pack_a(av, t.i0 + rows.first(ii), rows.height(ii), pc, kc, ap);
        }
        return ap;
      };
      // A band of A panels at a time, each packed (or found) first, then each B micro-panel of the
      // block against every panel of the band. One panel a band is the plain order (each A panel
      // in L1 against the whole B block from L2); a short task's whole slice (b_outer) or a tall
      // task's kTallBandPanels (banded) holds each B micro-panel in L1 while the band's panels
      // pass it: less L2 traffic per flop. The same micro-kernel calls, so the same bits.
      for (int64_t i0 = 0; i0 < n_ip; i0 += band) {
        const int64_t i1 = imin64(n_ip, i0 + band);
        const char* aps[kFewPanels];
        for (int64_t ii = i0; ii < i1; ii++) aps[ii - i0] = panel(ii);
        for (int jr = 0; jr < nc; jr += ks.nr)
          for (int64_t ii = i0; ii < i1; ii++) tile(ii, aps[ii - i0], jr);
      }
    }
  }
  return true;
}

void scale_c(const GemmProblem& p) {
  for (int64_t b = 0; b < p.batch; b++)
    for (int64_t i = 0; i < p.M; i++)
      for (int64_t j = 0; j < p.N; j++) {
        float* c = p.c + b * p.cbs + i * p.crs + j * p.ccs;
        *c = p.beta == 0.0f ? 0.0f : p.beta * *c;
      }
}

// Cᵀ = Bᵀ·Aᵀ as a problem of its own: the same memory, with rows and columns swapped.
GemmProblem transposed(const GemmProblem& p) {
  GemmProblem q = p;
  q.M = p.N;
  q.N = p.M;
  q.a = GemmOperand{p.b.data, p.b.bs, p.b.cs, p.b.rs};
  q.b = GemmOperand{p.a.data, p.a.bs, p.a.cs, p.a.rs};
  q.crs = p.ccs;
  q.ccs = p.crs;
  q.adrs = p.adcs;
  q.adcs = p.adrs;
  q.b_packed = nullptr;
  return q;
}

bool run_gemm(const GemmKernels& ks, const GemmProblem& p);
int64_t packed_b_bytes(const GemmKernels& ks, int64_t K, int64_t N);
void pack_b_shared(const GemmKernels& ks, DType dtype, int64_t K, int64_t N, const GemmOperand& b, void* dst,
                   int threads);

// Below this many flops a product runs on the calling thread: waking a worker costs more.
constexpr double kParallelFlops = 4.0e6;

}  // namespace

const char* gemm_kernel_name(DType dtype) { return kernels_for(dtype)->name; }

bool gemm_has_bf16_tiles() { return kernels_for(DType::kBFloat16)->packed_size == 2; }

bool gemm_select_kernel(const char* name) {
  if (name == nullptr || name[0] == '\0') {
    g_selection = automatic();
    g_bf16_automatic = true;
    gemv_select_kernel("");
    vec_math_select("");
    row_kernels_select("");
    convert_select("");
    return true;
  }
  const GemmKernels* f32 = nullptr;
  const GemmKernels* bf16 = nullptr;
  if (std::strcmp(name, "generic") == 0) f32 = bf16 = gemm_kernels_generic();
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  bool has512 = f.avx512f && f.avx512bw && f.avx512vl && f.fma && f.f16c;
  if (std::strcmp(name, "avx2") == 0 && f.avx2 && f.fma && f.f16c) f32 = bf16 = gemm_kernels_avx2();
  if (std::strcmp(name, "avx512") == 0 && has512) f32 = bf16 = gemm_kernels_avx512();
  if (std::strcmp(name, "avx512-bf16") == 0 && has512 && f.avx512bf16) {
    f32 = gemm_kernels_avx512();
    bf16 = gemm_kernels_avx512_bf16();
  }
  if (std::strcmp(name, "amx-bf16") == 0 && has512 && request_amx()) {
    f32 = gemm_kernels_avx512();
    bf16 = gemm_kernels_amx();
  }
  if (std::strcmp(name, "amx-bf16x3") == 0 && has512 && f.avx512bf16 && request_amx()) {
    f32 = gemm_kernels_amx_bf16x3();
    bf16 = gemm_kernels_amx();
  }
#endif
  if (f32 == nullptr || !gemv_select_kernel(name) || !vec_math_select(name) || !row_kernels_select(name) ||
      !convert_select(name)) {
    return false;
  }
  g_selection = Selection{f32, bf16};
  g_bf16_automatic = false;
  return true;
}

int64_t gemm_packed_b_bytes(DType dtype, int64_t K, int64_t N) { return packed_b_bytes(*kernels_for(dtype), K, N); }

void gemm_pack_b(DType dtype, int64_t K, int64_t N, const GemmOperand& b, void* dst) {
  pack_b_shared(*kernels_for(dtype), dtype, K, N, b, dst, num_threads());
}

bool gemm_packed_b_current(const void* packed, DType dtype, int64_t K, int64_t N) {
  PackedHeader h;
  std::memcpy(&h, packed, sizeof h);
  return h.magic == kPackedMagic && h.family == kernels_for(dtype) && h.K == K && h.N == N &&
         h.dtype == static_cast<int32_t>(dtype);
}

int gemm_packed_f32_nr() {
  const GemmKernels& ks = *kernels_for(DType::kFloat32);
  return ks.packed_size == 4 && ks.kunit == 1 ? ks.nr : 0;
}

GemmPackedPanels gemm_packed_panels(const void* packed, DType dtype, int64_t K, int64_t N) {
  if (dtype != DType::kFloat32 || gemm_packed_f32_nr() == 0 || !gemm_packed_b_current(packed, dtype, K, N)) {
    return GemmPackedPanels{nullptr, 0, 0, 0};
  }
  const GemmKernels& ks = *kernels_for(dtype);
  const int kcb = k_block(ks, K);
  return GemmPackedPanels{reinterpret_cast<const float*>(static_cast<const char*>(packed) + kPackedHeaderBytes), ks.nr,
                          kcb, packed_slice_bytes(ks, kcb, N)};
}

// C = bias + beta·C over the whole problem, leaving a bias-free problem with beta 1 (for the paths
// that do not add the bias themselves).
static GemmProblem apply_bias(const GemmProblem& p) {
  for (int64_t b = 0; b < p.batch; b++)
    for (int64_t i = 0; i < p.M; i++)
      for (int64_t j = 0; j < p.N; j++) {
        float* c = p.c + b * p.cbs + i * p.crs + j * p.ccs;
        *c = p.beta == 0.0f ? p.bias[j] : p.bias[j] + p.beta * *c;
      }
  GemmProblem q = p;
  q.bias = nullptr;
  q.beta = 1.0f;
  return q;
}

// A (float32, `a_f32`) rounded to p.dtype into `buf`, contiguous [items, M, K] (one item when
// A is broadcast over the batch); returns the problem on the rounded copy.
static GemmProblem round_a(const GemmProblem& p, std::vector<uint16_t>& buf) {
  const int64_t items = p.a.bs == 0 ? 1 : p.batch;
  const int64_t mk = p.M * p.K;
  buf.resize(static_cast<size_t>(items * mk));
  if ((p.a.cs == 1 || p.K == 1) && (p.a.rs == p.K || p.M == 1) && (p.a.bs == mk || items == 1)) {
    convert(DType::kFloat32, p.a.data, p.dtype, buf.data(), items * mk);  // one run, threaded when long
  } else {
    std::vector<float> row(static_cast<size_t>(p.K));
    for (int64_t b = 0; b < items; b++) {
      for (int64_t i = 0; i < p.M; i++) {
        const float* src = static_cast<const float*>(p.a.data) + b * p.a.bs + i * p.a.rs;
        for (int64_t k = 0; k < p.K; k++) row[k] = src[k * p.a.cs];
        convert(DType::kFloat32, row.data(), p.dtype, buf.data() + b * mk + i * p.K, p.K);
      }
    }
  }
  GemmProblem q = p;
  q.a = GemmOperand{buf.data(), items == 1 ? 0 : mk, p.K, 1};
  q.a_f32 = false;
  return q;
}

// gemm's work, apart from its statistics (gemm-stats.h).
static bool gemm_run(const GemmProblem& p) {
  if (p.M <= 0 || p.N <= 0 || p.batch <= 0) return true;
  if (p.a_f32 && p.dtype != DType::kFloat32) {
    // One buffer per calling thread, kept between calls (decoding rounds a row per product);
    // a large one (a long prompt's rows) is given back after its product.
    thread_local std::vector<uint16_t> buf;
    const bool ok = gemm_run(round_a(p, buf));
    if (buf.capacity() > (size_t{1} << 22)) std::vector<uint16_t>().swap(buf);
    return ok;
  }
  if (p.activate && (p.K <= 0 || gemv_handles(p))) {
    // The matrix-vector and empty products apply it afterwards, after the addend.
    GemmProblem q = p;
    q.activate = false;
    if (!gemm_run(q)) return false;
    for (int64_t b = 0; b < p.batch; b++) activate_tile(p, b, 0, p.M, 0, p.N);
    return true;
  }
  if (p.addend != nullptr && (p.K <= 0 || gemv_handles(p))) {
    // The matrix-vector and empty products add it afterwards.
    GemmProblem q = p;
    q.addend = nullptr;
    if (!gemm_run(q)) return false;
    add_addend_all(p);
    return true;
  }
  // (the matrix-vector products add the bias as they store, gemv.cpp)
  if (p.bias != nullptr && p.K <= 0) return gemm_run(apply_bias(p));
  if (p.K <= 0) {
    scale_c(p);
    return true;
  }
  if (gemv_handles(p)) {
    gemv(p);
    return true;
  }
  const GemmKernels* family = kernels_for(p.dtype);
#if defined(__x86_64__)
  // bf16x3 works in 16-row, 32-column, 32-deep tiles: a product thinner than that (a low-rank
  // adapter's, a few rows) would mostly multiply padding, so it takes the FMA kernel.
  if (family == gemm_kernels_amx_bf16x3() && (p.M < 16 || p.N < 16 || p.K < 32)) family = gemm_kernels_avx512();
#endif
  const GemmKernels& ks = *family;
  if (p.b_packed != nullptr) {
    // Packed for another family (the choice changed, or bf16x3 gave a thin product to the FMA
    // kernel), or a B that differs per batch item: pack as usual.
    PackedHeader h;
    std::memcpy(&h, p.b_packed, sizeof h);
    if (h.magic != kPackedMagic || h.family != family || h.K != p.K || h.N != p.N ||
        h.dtype != static_cast<int32_t>(p.dtype) || (p.batch > 1 && p.b.bs != 0)) {
      GemmProblem q = p;
      q.b_packed = nullptr;
      return gemm_run(q);
    }
  }
  // A product at most half a micro-panel wide (N <= NR/2, e.g. a rank-16 adapter's x·Aᵀ) leaves most
  // of every micro-kernel's columns empty, while a short A micro-panel costs about its share of
  // rows: run Cᵀ = Bᵀ·Aᵀ instead (swapped strides, no copy; C is then written through the
  // strided path).
  if (2 * p.N <= ks.nr && p.N < p.M) return run_gemm(ks, transposed(p.bias ? apply_bias(p) : p));
  return run_gemm(ks, p);
}

bool gemm(const GemmProblem& p) { return gemm_stats_level() > 0 ? gemm_with_stats(p, gemm_run) : gemm_run(p); }

namespace {

// Packs the whole A of a one-item product into `dst` as the tasks of a column split would (every
// such task spans rows [0, M), so its micro-panels are the same for all of them): panel ii of
// k slice pi at (pi·n_ip + ii)·apanel. Split among `threads`.
void pack_a_shared(const GemmKernels& ks, const GemmProblem& p, int threads, char* dst) {
  const int kcb = k_block(ks, p.K);
  const RowPanels rows(ks, p.M);
  const int64_t n_ip = rows.count, n_pc = ceil_div(p.K, kcb);
  const int64_t apanel = static_cast<int64_t>(ks.mr) * ks.kc * ks.packed_size;
  const GemmMatrixView av{p.a.data, p.a.rs, p.a.cs, p.dtype};
  parallel_for(static_cast<int>(n_ip * n_pc), threads, [&](int64_t task) {
    const int64_t pi = task / n_ip, ii = task % n_ip;
    const int64_t ic = rows.first(ii);
    const int m = rows.height(ii);
    const int64_t pc = pi * kcb;
    const GemmStatTimer busy(GemmStat::kTask), packing(GemmStat::kPackA);
    ks.pack_a(av, ic, m, pc, static_cast<int>(imin64(kcb, p.K - pc)), dst + task * apanel);
  });
}

// Bytes of B packed for family ks by pack_b_shared (0: too thin to pack).
int64_t packed_b_bytes(const GemmKernels& ks, int64_t K, int64_t N) {
  if (K <= 0 || N <= 0 || 2 * N <= ks.nr) return 0;
  const int kcb = k_block(ks, K);
  return kPackedHeaderBytes + ceil_div(K, kcb) * packed_slice_bytes(ks, kcb, N);
}

// B (K×N) packed for family ks with the header gemm_pack_b writes, split among `threads`.
void pack_b_shared(const GemmKernels& ks, DType dtype, int64_t K, int64_t N, const GemmOperand& b, void* dst,
                   int threads) {
  const int kcb = k_block(ks, K);
  PackedHeader h{kPackedMagic, &ks, K, N, kcb, static_cast<int32_t>(dtype)};
  std::memset(dst, 0, kPackedHeaderBytes);
  std::memcpy(dst, &h, sizeof h);
  char* base = static_cast<char*>(dst) + kPackedHeaderBytes;
  const int64_t slice_bytes = packed_slice_bytes(ks, kcb, N);
  const GemmMatrixView bv{b.data, b.rs, b.cs, dtype};
  // Tasks of 8 micro-panels of one k slice each; the packers write every byte (zero padding
  // included) of the panels they are given.
  const int64_t chunk = 8 * static_cast<int64_t>(ks.nr);
  const int64_t n_chunks = ceil_div(N, chunk);
  const int64_t n_pc = ceil_div(K, kcb);
  parallel_for(static_cast<int>(n_pc * n_chunks), threads, [&](int64_t task) {
    const int64_t pi = task / n_chunks;
    const int64_t j0 = (task % n_chunks) * chunk;
    const int64_t pc = pi * kcb;
    const int kc = static_cast<int>(imin64(kcb, K - pc));
    const int64_t kcp = round_up(kc, ks.kunit);
    const GemmStatTimer busy(GemmStat::kTask), packing(GemmStat::kPackB);
    ks.pack_b(bv, pc, kc, j0, static_cast<int>(imin64(chunk, N - j0)), base + pi * slice_bytes + j0 * kcp * ks.packed_size);
  });
}

// Products of at least this many flops on one matrix pair pack their shared operand once and cut
// the other into up to kFineTasks tasks per thread (see run_gemm), each at least kFineMin rows or
// columns: every task reads the whole shared packing, so a narrower one spends more on reading it
// than it gains (products 768 columns wide measured slower cut into 8 tasks of 96, at 512 rows).
// A short product (fewer rows than kFewPanels A micro-panels, a 128-token prefill) at least
// 2·threads·kFineMinShort columns wide always takes the column split over a shared packed A, in
// shrinking tasks (shrinking_cuts): its shared A stays in L2/L3. (Equal 128-column tasks for its
// 768-wide products, attention and MLP output projections, instead of one per thread: 12-layer
// prefill, 2 threads, alternating per pass: 50.7 -> 42.8 ms for the 128×3072·3072×768 products,
// 14.1 -> 11.6 for 128×768·768×768.)
constexpr double kFineFlops = 64.0e6;
constexpr int kFineTasks = 4;
constexpr int64_t kFineMin = 256;
constexpr int64_t kFineMinShort = 128;

// Tasks for `extent` rows or columns of at least `min_width` each: a multiple of the thread count
// (so equal cores finish together), 0 when fewer than 2 per thread fit.
int64_t fine_chunks(int threads, int64_t extent, int64_t min_width) {
  const int64_t n = imin64(static_cast<int64_t>(threads) * kFineTasks, extent / min_width) / threads * threads;
  return n >= 2 * threads ? n : 0;
}
// The column cuts of a short product's fine split (fewer than kFewPanels A micro-panels of rows,
// so its shared packed A is small): each task takes 1/(2·threads) of the NR panels still left,
// at least kShrinkMinFlops' worth, so the first tasks are wide and the last narrow. Whichever
// thread ends a task first takes the next, so the threads end within a narrow task of each
// other: with equal 128-column tasks, a 128-token prefill's products (1-5 ms each, on a 2-core
// VM shared with other work) left one thread idle for 0.3-0.6 ms at the end of each; shrinking
// tasks took 0.89-0.95x the prefill time (minimum 4, 8, 16 or 32 MFLOP alike; 1/(3·threads)
// no better). Any cut gives the same bits.
constexpr double kShrinkMinFlops = 8.0e6;
void shrinking_cuts(int64_t N, int nr, int threads, int64_t K, int64_t M, std::vector<int64_t>& cuts) {
  const int64_t panels = ceil_div(N, nr);
  const int64_t min_panels = imax64(1, static_cast<int64_t>(kShrinkMinFlops / (2.0 * M * K * nr)));
  cuts.assign(1, 0);
  for (int64_t done = 0; done < panels;) {
    done += imin64(panels - done, imax64(min_panels, ceil_div(panels - done, 2 * threads)));
    cuts.push_back(imin64(N, done * nr));
  }
}

// Most bytes of a shared packing (a 512×768 A is 2.4 MB for bf16x3; the 512×50257 A of a
// language-model head's input gradient, 154 MB, keeps the per-task packing).
constexpr int64_t kMaxSharedBytes = int64_t{24} << 20;

// A product whose depth dwarfs its output, such as a language-model head's input gradient
// (512×50257 · 50257×768 -> 512×768), is cut along k: cut by columns, each of the two tasks packed
// the whole 103 MB A (all of its rows, every k) and the product waited for the slower core (on
// this shared VM one core runs 30% slower for seconds at a time). Here each of up to
// kSplitKChunks chunks of the depth is a one-thread product into a partial of its own (every
// element of A and B packed once), handed out dynamically, and the partials are summed in chunk
// order: the same bits on any number of threads. The chunks depend on the shape alone.
constexpr int64_t kSplitKMinDepth = 8192;
constexpr int64_t kSplitKChunks = 8;
constexpr int64_t kSplitKMaxPartialBytes = int64_t{24} << 20;

bool split_k_wanted(const GemmProblem& p) {
  if (p.batch != 1 || p.K < kSplitKMinDepth || p.ccs != 1 || p.b_packed != nullptr || p.bias != nullptr ||
      p.addend != nullptr || p.activate || p.K < 4 * imax64(p.M, p.N) ||
      kSplitKChunks * p.M * p.N * static_cast<int64_t>(sizeof(float)) > kSplitKMaxPartialBytes) {
    return false;
  }
  return switched_on("HEARTH_GEMM_SPLIT_K");
}

bool run_split_k(const GemmKernels& ks, const GemmProblem& p) {
  const int64_t depth = round_up(ceil_div(p.K, kSplitKChunks), ks.kc);
  const int64_t chunks = ceil_div(p.K, depth);
  const int64_t mn = p.M * p.N;
  Scratch& s = t_scratch;
  float* partials = static_cast<float*>(
      Scratch::grow(s.partials, s.partials_bytes, static_cast<size_t>(chunks * mn) * sizeof(float)));
  if (partials == nullptr) return false;
  const int esize = dtype_size(p.dtype);
  const int threads = num_threads();
  std::atomic<bool> failed{false};
  parallel_for(static_cast<int>(chunks), threads, [&](int64_t c) {
    const int64_t k0 = c * depth;
    GemmProblem q = p;
    q.K = imin64(depth, p.K - k0);
    q.a.data = static_cast<const char*>(p.a.data) + k0 * p.a.cs * esize;
    q.b.data = static_cast<const char*>(p.b.data) + k0 * p.b.rs * esize;
    q.c = partials + c * mn;
    q.cbs = mn;
    q.crs = p.N;
    q.ccs = 1;
    q.alpha = 1.0f;
    q.beta = 0.0f;
    if (!run_block(ks, q, Task{0, 0, p.M, 0, p.N}, nullptr)) failed.store(true, std::memory_order_relaxed);
    if (ks.release != nullptr) ks.release();
  });
  if (failed.load()) return false;
  // C = alpha·(P0 + P1 + ...) + beta·C, row by row.
  parallel_for(static_cast<int>(ceil_div(p.M, 16)), threads, [&](int64_t task) {
    const GemmStatTimer busy(GemmStat::kTask);
    for (int64_t i = task * 16; i < imin64(p.M, task * 16 + 16); i++) {
      float* crow = p.c + i * p.crs;
      float* sum = partials + i * p.N;  // chunk 0's row gathers the others, in chunk order
      for (int64_t c = 1; c < chunks; c++) {
        const float* row = sum + c * mn;
        for (int64_t j = 0; j < p.N; j++) sum[j] += row[j];
      }
      if (p.beta == 0.0f) {
        for (int64_t j = 0; j < p.N; j++) crow[j] = p.alpha * sum[j];
      } else {
        for (int64_t j = 0; j < p.N; j++) crow[j] = p.alpha * sum[j] + p.beta * crow[j];
      }
    }
  });
  return true;
}

// A product cut into one task per thread for two threads (too narrow to cut finely: the
// 512×768 outputs of a GPT-2-small training step's output projections and input gradients)
// waits for the slower core, and on this shared VM one core often runs 20-30% slower than the
// other for seconds at a time: in a LoRA step such products spent 15-20% of their time with one
// core idle. So the cut is not even: the calling thread's share follows the two threads' speeds
// on the previous such product (each side timed from the job's start, a late worker included),
// and each thread takes the part sized for it. Any cut gives the same bits (every element is
// summed over k in the same order whichever task computes it). HEARTH_GEMM_BALANCE=0 cuts in
// half as before; a fraction (0.2-0.8) fixes the calling thread's share (tests, comparisons).
std::atomic<float> g_caller_share{0.5f};
constexpr float kMinShare = 0.2f;
constexpr float kMaxShare = 0.8f;

// The fixed share HEARTH_GEMM_BALANCE asks for: 0 (off: run_gemm's even cut), a fraction, or -1
// when unset (the adaptive share).
float balance_setting() {
  const char* e = std::getenv("HEARTH_GEMM_BALANCE");
  if (e == nullptr || e[0] == '\0') return -1.0f;
  const float f = std::strtof(e, nullptr);
  return f <= 0.0f ? 0.0f : f < kMinShare ? kMinShare : f > kMaxShare ? kMaxShare : f;
}

bool run_pair(const GemmKernels& ks, const GemmProblem& p, bool by_columns, float fixed) {
  const int64_t unit = by_columns ? ks.nr : ks.mr;
  const int64_t extent = by_columns ? p.N : p.M;
  const int64_t units = ceil_div(extent, unit);
  const float share = fixed > 0.0f ? fixed : g_caller_share.load(std::memory_order_relaxed);
  const int64_t mine = imin64(units - 1, imax64(1, static_cast<int64_t>(share * static_cast<float>(units) + 0.5f)));
  const int64_t cut = mine * unit;
  const Task parts[2] = {by_columns ? Task{0, 0, p.M, 0, cut} : Task{0, 0, cut, 0, p.N},
                         by_columns ? Task{0, 0, p.M, cut, p.N} : Task{0, cut, p.M, 0, p.N}};
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> taken[2] = {{false}, {false}};
  double done_s[2] = {0.0, 0.0};  // seconds from the job's start to the part's end
  bool by_caller[2] = {false, false};
  std::atomic<bool> failed{false};
  const auto t0 = std::chrono::steady_clock::now();
  parallel_for(2, 2, [&](int64_t) {
    const bool is_caller = std::this_thread::get_id() == caller;
    int part = is_caller ? 0 : 1;
    if (taken[part].exchange(true)) part = 1 - part;  // the other thread took it: two calls, two parts
    taken[part].store(true);
    if (!run_block(ks, p, parts[part], nullptr)) failed.store(true, std::memory_order_relaxed);
    if (ks.release != nullptr) ks.release();
    done_s[part] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    by_caller[part] = is_caller;
  });
  if (fixed < 0.0f && by_caller[0] != by_caller[1] && done_s[0] > 0.0 && done_s[1] > 0.0) {
    const int c = by_caller[0] ? 0 : 1;
    const double caller_units = static_cast<double>(c == 0 ? mine : units - mine);
    const double caller_speed = caller_units / done_s[c];
    const double worker_speed = (static_cast<double>(units) - caller_units) / done_s[1 - c];
    const float next = 0.5f * share + 0.5f * static_cast<float>(caller_speed / (caller_speed + worker_speed));
    g_caller_share.store(next < kMinShare ? kMinShare : next > kMaxShare ? kMaxShare : next, std::memory_order_relaxed);
  }
  return !failed.load();
}

bool run_gemm(const GemmKernels& ks, const GemmProblem& p) {
  if (split_k_wanted(p)) return run_split_k(ks, p);
  const double flops = 2.0 * static_cast<double>(p.M) * p.N * p.K * p.batch;
  const int threads = flops < kParallelFlops ? 1 : num_threads();

  // Tasks: one per batch item and chunk of columns or rows; a task walks its columns in blocks
  // itself (run_block). Every task packs all of the operand it does not split, so the split
  // goes along the dimension of the larger operand (B's columns when N >= M, else A's rows),
  // into as many equal chunks as there are threads to feed.
  int64_t n_chunks = 1;
  int64_t m_chunks = 1;
  std::vector<int64_t> cuts;  // shrinking column cuts (shrinking_cuts), when not empty
  GemmProblem q = p;
  const char* a_shared = nullptr;
  if (threads > 1 && p.batch < 2 * threads) {
    const int64_t want = p.batch == 1 ? threads : ceil_div(2 * threads, p.batch);
    const int64_t n_panels = ceil_div(p.N, ks.nr);
    const int64_t m_panels = ceil_div(p.M, ks.mr);
    const bool split_n = p.N >= p.M ? n_panels >= want || n_panels >= m_panels : m_panels < want && n_panels > m_panels;
    if (split_n) {
      // Up to 4 chunks per thread where the columns hold that many full B blocks, so a thread
      // slowed by other work on its core hands columns to the others.
      n_chunks = imin64(want * imax64(1, imin64(4, p.N / ks.nc / want)), n_panels);
    } else {
      m_chunks = imin64(want, m_panels);
    }
    // A large product of one matrix pair cut into one task per thread waits for the slowest
    // thread: on a shared or virtual machine a core that loses a few milliseconds to other work
    // delays the whole product by them. Packing the operand every task would pack anyway once,
    // into a buffer all tasks read, lets the other operand be cut into kFineTasks tasks per thread
    // at no packing cost, so a slowed core hands its share to the others.
    const bool fine = p.batch == 1 && flops >= kFineFlops && switched_on("HEARTH_GEMM_FINE");
    const bool short_rows = p.M < kFewPanels * ks.mr;
    const int64_t fine_n = fine_chunks(threads, p.N, short_rows ? kFineMinShort : kFineMin);
    const int64_t fine_m = fine_chunks(threads, p.M, kFineMin);
    if (fine && split_n && (fine_n > n_chunks || (short_rows && fine_n > 0))) {
      // Every task reads A in place (nothing to pack), or one packed copy that all tasks share.
      bool cut_fine = a_in_place(ks, p);
      if (!cut_fine) {
        const int kcb = k_block(ks, p.K);
        const int64_t bytes = ceil_div(p.M, ks.mr) * ceil_div(p.K, kcb) * ks.mr * ks.kc * ks.packed_size;
        Scratch& s = t_scratch;
        char* buf = bytes <= kMaxSharedBytes
                        ? static_cast<char*>(Scratch::grow(s.shared, s.shared_bytes, static_cast<size_t>(bytes)))
                        : nullptr;
        if (buf != nullptr) {
          pack_a_shared(ks, p, threads, buf);
          a_shared = buf;
          cut_fine = true;
        }
      }
      if (cut_fine) {
        n_chunks = fine_n;
        if (short_rows) shrinking_cuts(p.N, ks.nr, threads, p.K, p.M, cuts);
      }
    } else if (fine && !split_n && fine_m > m_chunks) {
      const int64_t bytes = p.b_packed ? 0 : packed_b_bytes(ks, p.K, p.N);
      if (bytes > 0 && bytes <= kMaxSharedBytes) {
        Scratch& s = t_scratch;
        void* buf = Scratch::grow(s.shared, s.shared_bytes, static_cast<size_t>(bytes));
        if (buf != nullptr) {
          pack_b_shared(ks, p.dtype, p.K, p.N, p.b, buf, threads);
          q.b_packed = buf;
        }
      }
      if (q.b_packed != nullptr) m_chunks = fine_m;
    }
  }
  TaskFeed feed;
  feed.M = p.M;
  feed.N = p.N;
  feed.n_width = round_up(ceil_div(p.N, n_chunks), ks.nr);
  feed.n_chunks = ceil_div(p.N, feed.n_width);
  feed.m_height = round_up(ceil_div(p.M, m_chunks), ks.mr);
  feed.m_chunks = ceil_div(p.M, feed.m_height);
  if (!cuts.empty()) {
    feed.cuts = cuts.data();
    feed.n_chunks = static_cast<int64_t>(cuts.size()) - 1;
  }
  feed.count = feed.m_chunks * feed.n_chunks * p.batch;
  std::atomic<bool> failed{false};
  // Only the FMA families: with an AMX family (bfloat16 weights) the bench's bf16 decode ran
  // slower in each of 4 alternations against builds that cut evenly (cause not found).
  if (threads == 2 && feed.count == 2 && p.batch == 1 && a_shared == nullptr && ks.release == nullptr) {
    const float balance = balance_setting();
    if (balance != 0.0f) return run_pair(ks, q, feed.n_chunks == 2, balance);
  }
  // One loop per thread over the feed's tasks.
  parallel_for(threads, threads, [&](int64_t) {
    for (int64_t task = feed.claim(); task < feed.count;) {
      int64_t claimed = -1;
      if (!run_block(ks, q, feed.at(task), a_shared, &feed, &claimed)) failed.store(true, std::memory_order_relaxed);
      // Per task, not per product: the pool has no per-thread end of a job, and a task's
      // micro calls take far longer than the ~120 ns loadconfig + release pair.
      if (ks.release != nullptr) ks.release();
      task = claimed >= 0 ? claimed : feed.claim();
    }
  });
  return !failed.load();
}

}  // namespace

}  // namespace hearth
