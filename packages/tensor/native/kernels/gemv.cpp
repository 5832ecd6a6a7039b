// Few-row product driver and its portable kernels. See gemv.h for the two forms.
//
// The driver turns a GEMM problem into rows of x (the small side, at most kGemvMaxRows) against
// a matrix W read in its storage order, and splits the work so every thread streams one
// contiguous stretch of W (what the hardware prefetchers follow best):
//   dot form:  chunks of output rows j, each a contiguous run of W's rows;
//   axpy form: slabs of W's rows k (each slab sums into a private [rows, n] partial, the driver
//              adds the partials in slab order), cut into column chunks only when the rows of
//              out would not stay in L1;
//   panel form (float32 W kept packed for the GEMM, from kGemvPanelFrom rows): runs of whole
//              panels of the packing, each read once per k slice for all the rows (gemv_panels).
// One-item products on several threads get guided chunk and slab sizes, long first and short
// last (see `guided`). Small matrices run on the calling thread: waking a worker costs more
// than they take.
#include "gemv.h"

#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "cpu-features.h"
#include "dtype.h"
#include "thread-pool.h"

namespace hearth {
namespace {

void dot_generic(DType t, const void* w, int64_t ldw, const float* x, int64_t ldx, int rows, int64_t K, int n,
                 float* out, int64_t ldo) {
  for (int j = 0; j < n; j++) {
    for (int r = 0; r < rows; r++) {
      const float* xr = x + r * ldx;
      float acc[8] = {};
      int64_t k = 0;
      for (; k + 8 <= K; k += 8)
        for (int u = 0; u < 8; u++) acc[u] += load_as_f32(w, j * ldw + k + u, t) * xr[k + u];
      float sum = 0.0f;
      for (; k < K; k++) sum += load_as_f32(w, j * ldw + k, t) * xr[k];
      for (int u = 0; u < 8; u++) sum += acc[u];
      out[r * ldo + j] = sum;
    }
  }
}

void axpy_generic(DType t, const void* w, int64_t ldw, const float* x, int64_t ldx, int rows, int64_t K, int n,
                  float* out, int64_t ldo) {
  for (int64_t k = 0; k < K; k++) {
    for (int r = 0; r < rows; r++) {
      const float xk = x[r * ldx + k];
      float* o = out + r * ldo;
      for (int j = 0; j < n; j++) o[j] += xk * load_as_f32(w, k * ldw + j, t);
    }
  }
}

void panel_generic(const float* b, int nr, int kc, const float* x, int64_t ldx, int rows, int n, bool accumulate,
                   float* out, int64_t ldo) {
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < n; j++) {
      float sum = accumulate ? out[r * ldo + j] : 0.0f;
      for (int k = 0; k < kc; k++) sum += x[r * ldx + k] * b[k * nr + j];
      out[r * ldo + j] = sum;
    }
}

const GemvKernels kGeneric = {"generic", dot_generic, axpy_generic, nullptr, panel_generic, 0};

const GemvKernels* select() {
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512vl && f.fma && f.f16c) {
    return f.avx512bf16 ? gemv_kernels_avx512_bf16() : gemv_kernels_avx512();
  }
  if (f.avx2 && f.fma && f.f16c) return gemv_kernels_avx2();
#endif
  return &kGeneric;
}

const GemvKernels* g_kernels = select();

// One batch element's problem with the small side as the rows of x:
//   x(r, k) at x[r*xr + k*xk], W(k, j) at w[k*wk + j*wj], out(r, j) at c[r*cr + j*cj].
struct Form {
  bool dot;  // W's rows run along k (wk == 1): dot form; else along j (wj == 1): axpy form
  int rows;
  int64_t n;
  const char* x;
  int64_t xr, xk;
  const char* w;
  int64_t wk, wj;
  float* c;
  int64_t cr, cj;
  // The problem's bias (null: none), out(r, j)'s at bias[r*br + j*bj]: it runs along the
  // problem's N, which is j here when A holds the rows of x, r when B does.
  const float* bias;
  int64_t br, bj;
};

// The most rows a bfloat16 product runs here when the GEMM has native bf16 tiles.
constexpr int64_t kBf16GemvRows = 3;

// Which side of the product holds the few rows: A's rows (M small), B's columns (N small),
// or neither (the GEMM runs it).
enum class Side { kNone, kA, kB };

Side side_of(const GemmProblem& p) {
  const bool a = p.M <= kGemvMaxRows && (p.b.cs == 1 || p.b.rs == 1);
  const bool b = p.N <= kGemvMaxRows && (p.a.cs == 1 || p.a.rs == 1);
  const Side side = a && b ? (p.M <= p.N ? Side::kA : Side::kB) : a ? Side::kA : b ? Side::kB : Side::kNone;
  // bfloat16 with more than a few rows: the GEMM's bf16 tiles (AMX or vdpbf16ps, when it
  // picked them) multiply several times faster than widening to float32, and its packing
  // streams the matrix once too.
  const int64_t rows = side == Side::kA ? p.M : p.N;
  if (side != Side::kNone && p.dtype == DType::kBFloat16 && rows > kBf16GemvRows && gemm_has_bf16_tiles()) {
    return Side::kNone;
  }
  return side;
}

Form form_of(const GemmProblem& p, Side side, int64_t b) {
  const int es = dtype_size(p.dtype);
  const char* a = static_cast<const char*>(p.a.data) + b * p.a.bs * es;
  const char* bm = static_cast<const char*>(p.b.data) + b * p.b.bs * es;
  float* c = p.c + b * p.cbs;
  Form f{};
  if (side == Side::kA) {
    // out[i, j] = sum_k A[i, k] B[k, j]
    f = Form{false, static_cast<int>(p.M), p.N, a, p.a.rs, p.a.cs, bm, p.b.rs, p.b.cs, c, p.crs, p.ccs, p.bias, 0, 1};
  } else {
    // The transpose: out[j, i] = sum_k B[k, j] A[i, k]
    f = Form{false, static_cast<int>(p.N), p.M, bm, p.b.cs, p.b.rs, a, p.a.cs, p.a.rs, c, p.ccs, p.crs, p.bias, 1, 0};
  }
  f.dot = f.wk == 1 && (f.wj != 1 || f.n == 1);
  return f;
}

// Rows of x as float32 with unit stride along k: the operand itself when it already is, else a
// widened copy in `buf`. Returns the row stride through `ldx`.
const float* rows_f32(const Form& f, DType t, int64_t K, std::vector<float>& buf, int64_t* ldx) {
  if (t == DType::kFloat32 && (f.xk == 1 || K == 1)) {
    *ldx = f.rows == 1 ? K : f.xr;
    return reinterpret_cast<const float*>(f.x);
  }
  if (static_cast<int64_t>(buf.size()) < f.rows * K) buf.resize(f.rows * K);
  for (int r = 0; r < f.rows; r++)
    for (int64_t k = 0; k < K; k++) buf[r * K + k] = load_as_f32(f.x, r * f.xr + k * f.xk, t);
  *ldx = K;
  return buf.data();
}

// The deepest product dot_lanes takes: its packed x (K·kGemvLanes floats, 24 KB) stays in a
// 32 KB L1 beside the rows of W. (GPT-2's 8-row float32 products on the Zen 3 host, 2 threads,
// both forms alternating in one process, three runs: 0.78-0.90x the dot form's time at K 768,
// the 50257-row head 0.73-0.80x; 1.4-1.55x at K 3072, its packed x 96 KB, from L2.)
constexpr int64_t kLanesMaxK = 768;

// The rows of x lane-wise for GemvKernels::dot_lanes, in `buf`: xt[k*kGemvLanes + r] = x[r, k],
// the lanes from `rows` on zero.
const float* pack_lanes(const float* x, int64_t ldx, int rows, int64_t K, std::vector<float>& buf) {
  if (static_cast<int64_t>(buf.size()) < K * kGemvLanes) buf.resize(K * kGemvLanes);
  float* xt = buf.data();
  for (int64_t k = 0; k < K; k++)
    for (int r = 0; r < kGemvLanes; r++) xt[k * kGemvLanes + r] = r < rows ? x[r * ldx + k] : 0.0f;
  return xt;
}

// True when out's rows are contiguous and take the sums as they are (alpha 1, beta 0): the
// kernels then write into out itself, and a bias is added there after them.
bool writes_out(const GemmProblem& p, const Form& f) { return f.cj == 1 && p.alpha == 1.0f && p.beta == 0.0f; }

// out(r, j0 + j) = alpha·v[j] + (bias + beta·out), for j < len: rounded as C filled with
// bias + beta·C first and the product then stored with beta 1 (gemm.h), or as alpha·v + beta·C
// without a bias. One branch per row, so the contiguous cases vectorise.
void store_row(const GemmProblem& p, const Form& f, int r, int64_t j0, const float* v, int64_t len) {
  float* y = f.c + r * f.cr + j0 * f.cj;
  const float a = p.alpha, beta = p.beta;
  if (f.bias == nullptr) {
    if (f.cj == 1 && beta == 0.0f) {
      for (int64_t j = 0; j < len; j++) y[j] = a * v[j];
    } else if (beta == 0.0f) {
      for (int64_t j = 0; j < len; j++) y[j * f.cj] = a * v[j];
    } else {
      for (int64_t j = 0; j < len; j++) y[j * f.cj] = a * v[j] + beta * y[j * f.cj];
    }
    return;
  }
  const float* b = f.bias + r * f.br + j0 * f.bj;
  if (f.cj == 1 && f.bj == 1 && beta == 0.0f) {
    for (int64_t j = 0; j < len; j++) y[j] = a * v[j] + b[j];
  } else if (beta == 0.0f) {
    for (int64_t j = 0; j < len; j++) y[j * f.cj] = a * v[j] + b[j * f.bj];
  } else {
    for (int64_t j = 0; j < len; j++) y[j * f.cj] = a * v[j] + (b[j * f.bj] + beta * y[j * f.cj]);
  }
}

// Adds the bias to out(r, j0 .. j0 + len), which holds the sums (writes_out): the value
// store_row would have written, since alpha is 1.
void add_bias_row(const Form& f, int r, int64_t j0, int64_t len) {
  if (f.bias == nullptr) return;
  float* y = f.c + r * f.cr + j0;
  const float* b = f.bias + r * f.br + j0 * f.bj;
  if (f.bj == 1) {
    for (int64_t j = 0; j < len; j++) y[j] += b[j];
  } else {
    for (int64_t j = 0; j < len; j++) y[j] += b[j * f.bj];
  }
}

// A task's rows j0 .. j0 + len of out once its sums are done: where they went to out itself
// (direct, see writes_out) the bias is added there, else they are stored from the tile (rows
// len apart).
void finish_rows(const GemmProblem& p, const Form& f, int rows, int64_t j0, int64_t len, const float* tile,
                 bool direct) {
  for (int r = 0; r < rows; r++) {
    if (direct) {
      add_bias_row(f, r, j0, len);
    } else {
      store_row(p, f, r, j0, tile + r * len, len);
    }
  }
}

// The largest output tile a task holds: rows × columns floats (32 KiB, L1-resident).
constexpr int64_t kTile = 8192;
// Below this many matrix bytes a product runs on the calling thread.
constexpr double kParallelBytes = 256.0 * 1024;

int64_t round_up16(int64_t v) { return (v + 15) / 16 * 16; }

// Read-ahead of the matrix expected next. A decoding step runs the same products in the same
// order every token, with host work between them (norms, attention, the JavaScript between
// ops: 70-700 us gaps) while memory sits idle. Each few-row product remembers which matrix
// followed it last time and, when it ends, hands that matrix's first bytes to the idle pool
// workers (pool_prefetch_hint), so part of the next product's stream is in cache when it
// starts. HEARTH_PREFETCH_NEXT=0 turns it off.
bool read_ahead_enabled() {
  static const bool on = [] {
    const char* env = std::getenv("HEARTH_PREFETCH_NEXT");
    return env == nullptr || std::strcmp(env, "0") != 0;
  }();
  return on;
}

// The most bytes handed over: a gap of a few hundred us reads a few MB on one core.
constexpr int64_t kReadAheadBytes = 8 << 20;

struct Range {
  const void* data;
  int64_t bytes;
};

// Per calling thread: the matrix of the last product and, per matrix, the one that came next.
thread_local const void* t_last_matrix = nullptr;
thread_local std::unordered_map<const void*, Range> t_next_matrix;

// Notes that matrix `w` (`span` bytes from there) follows the previous product's and returns the
// range expected after it (data null when none is known).
Range note_matrix(const void* w, int64_t span) {
  if (t_last_matrix != nullptr && t_last_matrix != w) {
    if (t_next_matrix.size() > 4096) t_next_matrix.clear();  // temporaries come and go
    t_next_matrix[t_last_matrix] = Range{w, span};
  }
  t_last_matrix = w;
  const auto it = t_next_matrix.find(w);
  return it == t_next_matrix.end() ? Range{nullptr, 0} : it->second;
}

// Runs a product's tasks on `threads` threads. With several threads (and read-ahead on), first
// notes that matrix w (span bytes) follows the previous product's, and afterwards hands the pool
// the start of the matrix that came after w last time, for idle workers to read ahead.
template <class Body>
void run_tasks(int64_t ntasks, int threads, bool read_ahead, const void* w, int64_t span, const Body& body) {
  const Range next = threads > 1 && read_ahead && read_ahead_enabled() ? note_matrix(w, span) : Range{nullptr, 0};
  if (threads == 1 || ntasks > (1 << 30)) {
    for (int64_t t = 0; t < ntasks; t++) body(t);
  } else {
    parallel_for(static_cast<int>(ntasks), threads, body);
  }
  if (next.data != nullptr) pool_prefetch_hint(next.data, imin64(next.bytes, kReadAheadBytes));
}

// The split of a product among the pool's threads. Tasks are claimed in index order, so the
// last ones decide how long the caller waits for a thread still running one (or runs alone
// while the other thread finishes, at half the bandwidth): with a few equal tasks per thread
// (before) a decoding step's 48 products ended with the caller waiting ~1 ms for the worker.
// Guided sizes instead: each task takes 1/(2·threads) of what is left, between a floor and a
// ceiling, so the first tasks are long streams and the last ones short (bfloat16 GPT-2 step,
// alternating in one process, load ~2: that wait fell from 0.6-1.5 to 0.15-0.3 ms, products
// 14.5 -> 13.8 ms per step). Boundaries depend only on the sizes and the thread count, so
// results do not change from run to run.
constexpr int64_t kGuidedShare = 2;  // each task takes 1/(kGuidedShare·threads) of the rest
constexpr int64_t kLeastDotRows = 64;  // dot form: the shortest run of W's rows in a task
// axpy form: the thinnest slab of k per row of x (each slab's partial, rows·n floats, is then at
// most a 16th of the bfloat16 weight bytes it sums)
constexpr int64_t kLeastSlab = 32;

// Starts of the segments of [0, total) (and total itself, last) for `threads` threads: guided
// sizes, multiples of `unit`, at least `least` and at most `most`.
void guided(int64_t total, int threads, int64_t least, int64_t most, int64_t unit, std::vector<int64_t>& starts) {
  starts.clear();
  for (int64_t at = 0; at < total;) {
    starts.push_back(at);
    int64_t len = (total - at + kGuidedShare * threads - 1) / (kGuidedShare * threads);
    len = (len + unit - 1) / unit * unit;
    at += len < least ? least : len > most ? most : len;
  }
  starts.push_back(total);
}

// The panel form (GemvKernels::panel): the rows of x against B's GEMM packing, which streams as
// one sequential run per k slice and task, each weight multiplied into every row of x from
// registers. Tasks are runs of whole panels (guided sizes on several threads, as the dot form's),
// at most kTile / rows columns each: a task's outputs stay in L1 from one k slice to the next.
// (GPT-2's 8-row float32 products on the Zen 4 host, 2 threads: the weight pass in 15-16 ms
// against 25-27 in the dot form over transposed copies; see packed-weights.ts.)
void gemv_panels(const GemmProblem& p, const Form& f, const GemvKernels& ks, const GemmPackedPanels& packed) {
  const int rows = f.rows;
  const int64_t n = f.n, K = p.K, nr = packed.nr;
  const int threads = static_cast<double>(n) * K * 4 < kParallelBytes ? 1 : num_threads();
  thread_local std::vector<float> xbuf;
  int64_t ldx = 0;
  const float* x = rows_f32(f, p.dtype, K, xbuf, &ldx);
  const int64_t most = kTile / rows >= nr ? kTile / rows / nr * nr : nr;
  thread_local std::vector<int64_t> seg;
  if (threads > 1) {
    guided(n, threads, 2 * nr, most, nr, seg);
  } else {
    seg.clear();
    for (int64_t j = 0; j < n; j += most) seg.push_back(j);
    seg.push_back(n);
  }
  const bool direct = writes_out(p, f);
  const int64_t slices = (K + packed.kc - 1) / packed.kc;
  const int64_t* sg = seg.data();
  auto body = [&](int64_t t) {
    const int64_t j0 = sg[t], len = sg[t + 1] - j0;
    alignas(64) float tile[kTile];
    float* out = direct ? f.c + j0 : tile;
    const int64_t ldo = direct ? f.cr : len;
    for (int64_t s = 0; s < slices; s++) {
      const int64_t k0 = s * packed.kc;
      const int kc = static_cast<int>(imin64(packed.kc, K - k0));
      const float* slice = reinterpret_cast<const float*>(reinterpret_cast<const char*>(packed.data) + s * packed.slice_bytes);
      for (int64_t j = j0; j < j0 + len; j += nr) {
        ks.panel(slice + j * kc, static_cast<int>(nr), kc, x + k0, ldx, rows, static_cast<int>(imin64(nr, n - j)), s > 0,
                 out + (j - j0), ldo);
      }
    }
    finish_rows(p, f, rows, j0, len, tile, direct);
  };
  run_tasks(static_cast<int64_t>(seg.size()) - 1, threads, true, packed.data, slices * packed.slice_bytes, body);
}

// The packing of B the panel form reads for this problem (data null: none, or not this form).
GemmPackedPanels panels_for(const GemmProblem& p, const GemvKernels& ks, Side side) {
  const GemmPackedPanels none{nullptr, 0, 0, 0};
  if (p.b_packed == nullptr || ks.panel == nullptr || side != Side::kA || p.batch != 1 || p.M < kGemvPanelFrom) {
    return none;
  }
  const GemmPackedPanels packed = gemm_packed_panels(p.b_packed, p.dtype, p.K, p.N);
  return packed.data != nullptr && (ks.panel_nr == 0 || ks.panel_nr == packed.nr) ? packed : none;
}

}  // namespace

int gemv_packed_rows() {
  const int nr = gemm_packed_f32_nr();
  return nr > 0 && g_kernels->panel != nullptr && (g_kernels->panel_nr == 0 || g_kernels->panel_nr == nr)
             ? kGemvPanelFrom
             : 0;
}

const GemvKernels* gemv_kernels_generic() { return &kGeneric; }

bool gemv_select_kernel(const char* name) {
  if (name == nullptr || name[0] == '\0') {
    g_kernels = select();
    return true;
  }
  if (std::strcmp(name, "generic") == 0) {
    g_kernels = &kGeneric;
    return true;
  }
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (std::strcmp(name, "avx2") == 0 && f.avx2 && f.fma && f.f16c) {
    g_kernels = gemv_kernels_avx2();
    return true;
  }
  const bool has512 = f.avx512f && f.avx512bw && f.avx512vl && f.fma && f.f16c;
  if (std::strcmp(name, "avx512") == 0 && has512) {
    g_kernels = gemv_kernels_avx512();
    return true;
  }
  if (std::strcmp(name, "avx512-bf16") == 0 && has512 && f.avx512bf16) {
    g_kernels = gemv_kernels_avx512_bf16();
    return true;
  }
  if (std::strncmp(name, "amx-bf16", 8) == 0 && has512) {
    g_kernels = f.avx512bf16 ? gemv_kernels_avx512_bf16() : gemv_kernels_avx512();
    return true;
  }
#endif
  return false;
}

bool gemv_handles(const GemmProblem& p) { return side_of(p) != Side::kNone; }

void gemv(const GemmProblem& p) {
  const GemvKernels& ks = *g_kernels;
  const Side side = side_of(p);
  const Form f0 = form_of(p, side, 0);
  const GemmPackedPanels packed = panels_for(p, ks, side);
  if (packed.data != nullptr) return gemv_panels(p, f0, ks, packed);
  const int rows = f0.rows;
  const int64_t n = f0.n, K = p.K;
  const int es = dtype_size(p.dtype);
  const double bytes = static_cast<double>(n) * K * es * p.batch;
  const int threads = bytes < kParallelBytes ? 1 : num_threads();
  const bool guide = p.batch == 1 && threads > 1;

  // Segments of the split dimension: runs of output columns (dot form; several per thread, or
  // guided, so a busy core does not hold the others up), or slabs of k (axpy form, where the
  // threads split k: each slab sums into a private [rows, n] partial, added up after the tasks;
  // the columns are cut into chunks only when the rows of out would not stay in L1).
  thread_local std::vector<int64_t> seg;
  int64_t chunk = n;
  int64_t col_chunks = 1;
  if (f0.dot) {
    const int64_t most = kTile / kGemvMaxRows;
    if (guide) {
      guided(n, threads, kLeastDotRows, most, 16, seg);
    } else {
      chunk = imin64(most, round_up16((n + 4 * threads - 1) / (4 * threads)));
      seg.clear();
      for (int64_t j = 0; j < n; j += chunk) seg.push_back(j);
      seg.push_back(n);
    }
  } else {
    const int64_t wide = imin64(n, kTile / rows / 16 * 16);
    col_chunks = (n + wide - 1) / wide;
    chunk = imin64(n, round_up16((n + col_chunks - 1) / col_chunks));
    col_chunks = (n + chunk - 1) / chunk;
    // (the floor gives way to at least 2·threads slabs when K is short)
    const int64_t least = imin64(kLeastSlab * rows, (K / (2 * threads) + 3) / 4 * 4);
    if (guide && col_chunks < 2 * threads && K >= 2 * least && least >= 4) {
      guided(K, threads, least, K, 4, seg);
    } else {
      seg.assign({0, K});
    }
  }
  const int64_t nseg = static_cast<int64_t>(seg.size()) - 1;
  const int64_t slabs = f0.dot ? 1 : nseg;
  const int64_t per_b = f0.dot ? nseg : slabs * col_chunks;
  const int64_t ntasks = p.batch * per_b;

  // Rows of x shared by every task when there is one batch element (packed lane-wise once for
  // the family's dot_lanes, float32 weights only, when the packing stays in L1).
  const bool lanes =
      f0.dot && rows >= kGemvLanesFrom && K <= kLanesMaxK && p.dtype == DType::kFloat32 && ks.dot_lanes != nullptr;
  thread_local std::vector<float> shared_buf, shared_lanes;
  int64_t shared_ld = 0;
  const float* shared_x = p.batch == 1 ? rows_f32(f0, p.dtype, K, shared_buf, &shared_ld) : nullptr;
  if (shared_x != nullptr && lanes) shared_x = pack_lanes(shared_x, shared_ld, rows, K, shared_lanes);
  // The axpy form's per-slab partial sums, [slabs][rows][n], added up after the tasks.
  thread_local std::vector<float> partial;
  if (slabs > 1 && static_cast<int64_t>(partial.size()) < slabs * rows * n) partial.resize(slabs * rows * n);
  float* part = partial.data();
  const int64_t* sg = seg.data();

  auto body = [&](int64_t task) {
    const int64_t b = task / per_b;
    const int64_t t = task % per_b;
    const Form f = b == 0 ? f0 : form_of(p, side, b);
    int64_t ldx = shared_ld;
    const float* x = shared_x;
    thread_local std::vector<float> own, own_lanes;
    if (x == nullptr) {
      x = rows_f32(f, p.dtype, K, own, &ldx);
      if (lanes) x = pack_lanes(x, ldx, rows, K, own_lanes);
    }
    alignas(64) float tile[kTile];
    int64_t j0;
    int len;
    // The sums go to out itself where it takes them as they are, else to the tile first.
    const bool direct = writes_out(p, f);
    if (f.dot) {
      j0 = sg[t];
      len = static_cast<int>(sg[t + 1] - j0);
      float* out = direct ? f.c + j0 : tile;
      if (lanes) {
        ks.dot_lanes(reinterpret_cast<const float*>(f.w) + j0 * f.wj, f.wj, x, rows, K, len, out, direct ? f.cr : len);
      } else {
        ks.dot(p.dtype, f.w + j0 * f.wj * es, f.wj, x, ldx, rows, K, len, out, direct ? f.cr : len);
      }
    } else {
      const int64_t s = t / col_chunks;
      j0 = (t % col_chunks) * chunk;
      len = static_cast<int>(imin64(chunk, n - j0));
      const int64_t k0 = sg[s], kn = sg[s + 1] - k0;
      float* out = slabs > 1 ? part + s * rows * n + j0 : direct ? f.c + j0 : tile;
      const int64_t ldo = slabs > 1 ? n : direct ? f.cr : len;
      for (int r = 0; r < rows; r++) std::memset(out + r * ldo, 0, sizeof(float) * len);
      if (kn > 0) ks.axpy(p.dtype, f.w + (k0 * f.wk + j0) * es, f.wk, x + k0, ldx, rows, kn, len, out, ldo);
      if (slabs > 1) return;
    }
    finish_rows(p, f, rows, j0, len, tile, direct);
  };
  run_tasks(ntasks, threads, p.batch == 1, f0.w, ((K - 1) * f0.wk + (f0.n - 1) * f0.wj + 1) * es, body);
  if (slabs > 1) {
    // The partials added in slab order (so the bits do not depend on which thread ran which
    // slab), a block of columns at a time in a stack buffer, and stored from there: one pass
    // over them, where adding slab by slab into the first and then storing took slabs + 1.
    const int64_t rn = rows * n;
    constexpr int64_t kSumBlock = 512;
    alignas(64) float sum[kSumBlock];
    for (int r = 0; r < rows; r++) {
      for (int64_t j0 = 0; j0 < n; j0 += kSumBlock) {
        const int64_t len = imin64(kSumBlock, n - j0);
        const float* first = part + r * n + j0;
        for (int64_t j = 0; j < len; j++) sum[j] = first[j];
        for (int64_t s = 1; s < slabs; s++) {
          const float* src = first + s * rn;
          for (int64_t j = 0; j < len; j++) sum[j] += src[j];
        }
        store_row(p, f0, r, j0, sum, len);
      }
    }
  }
}

}  // namespace hearth
