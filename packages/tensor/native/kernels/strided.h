// Strided views walked row by row: dims coalesced where every operand allows it (so contiguous
// and broadcast cases become flat inner loops the compiler vectorises), rows split over the
// thread pool by outer index ranges when the tensor is big. Shared by the elementwise, cast and
// scan kernels; internal linkage (see dtype.h).
#pragma once
#include <cstdint>

#include "elementwise.h"
#include "thread-pool.h"

namespace hearth {
namespace {

constexpr int64_t kStridedParallelElements = 1 << 16;

// Up to four operands (the output is operand 0) over coalesced dims.
struct Geometry {
  int nd = 0;
  int64_t shape[kMaxDims];
  int64_t strides[4][kMaxDims];
  int nops = 0;
};

inline Geometry coalesce(const int64_t* shape, int nd, const int64_t* const* strides, int nops) {
  Geometry g;
  g.nops = nops;
  for (int d = 0; d < nd; d++) {
    if (shape[d] == 1) continue;
    if (g.nd > 0) {
      bool merge = true;
      for (int o = 0; o < nops; o++)
        if (g.strides[o][g.nd - 1] != strides[o][d] * shape[d]) merge = false;
      if (merge) {
        g.shape[g.nd - 1] *= shape[d];
        for (int o = 0; o < nops; o++) g.strides[o][g.nd - 1] = strides[o][d];
        continue;
      }
    }
    g.shape[g.nd] = shape[d];
    for (int o = 0; o < nops; o++) g.strides[o][g.nd] = strides[o][d];
    g.nd++;
  }
  if (g.nd == 0) {
    g.nd = 1;
    g.shape[0] = 1;
    for (int o = 0; o < nops; o++) g.strides[o][0] = 0;
  }
  return g;
}

inline void contiguous_strides(const int64_t* shape, int nd, int64_t* out) {
  int64_t acc = 1;
  for (int d = nd - 1; d >= 0; d--) {
    out[d] = acc;
    acc *= shape[d];
  }
}

// Calls row(offsets[], n, inner_strides[]) for every innermost row of the geometry, rows split
// across the pool when the tensor is big.
template <typename Row>
void for_each_row(const Geometry& g, const Row& row) {
  const int inner = g.nd - 1;
  const int64_t n = g.shape[inner];
  int64_t rows = 1;
  for (int d = 0; d < inner; d++) rows *= g.shape[d];
  const int64_t total = rows * n;
  const int threads = total < kStridedParallelElements ? 1 : num_threads();
  const int64_t tasks = threads == 1 ? 1 : (rows < threads * 4 ? rows : threads * 4);
  auto body = [&](int64_t task) {
    const int64_t r0 = rows * task / tasks, r1 = rows * (task + 1) / tasks;
    for (int64_t r = r0; r < r1; r++) {
      int64_t off[4] = {0, 0, 0, 0};
      int64_t rest = r;
      for (int d = inner - 1; d >= 0; d--) {
        const int64_t i = rest % g.shape[d];
        rest /= g.shape[d];
        for (int o = 0; o < g.nops; o++) off[o] += i * g.strides[o][d];
      }
      row(off, n);
    }
  };
  if (rows == 1 && threads > 1) {
    // A single long row: split it into contiguous pieces.
    const int64_t pieces = threads * 4;
    parallel_for(static_cast<int>(pieces), threads, [&](int64_t t) {
      const int64_t a = n * t / pieces, b = n * (t + 1) / pieces;
      int64_t off[4] = {0, 0, 0, 0};
      for (int o = 0; o < g.nops; o++) off[o] = a * g.strides[o][inner];
      row(off, b - a);
    });
    return;
  }
  if (tasks == 1) return body(0);
  parallel_for(static_cast<int>(tasks), threads, body);
}

// out[i] = f(x[i]) over the rows of a two-operand geometry (out row-major, x strided).
template <typename S, typename D, typename F>
void map_rows(const Geometry& g, const S* x, D* out, const F& f) {
  const int64_t xs = g.strides[1][g.nd - 1];
  for_each_row(g, [&](const int64_t* off, int64_t n) {
    D* o = out + off[0];
    const S* in = x + off[1];
    if (xs == 1) {
      for (int64_t i = 0; i < n; i++) o[i] = f(in[i]);
    } else {
      for (int64_t i = 0; i < n; i++) o[i] = f(in[i * xs]);
    }
  });
}

// A reduction's dims split into the kept ones (outer, in order) and the reduced ones (inner,
// coalesced into `rg`).
struct ReduceSplit {
  int64_t kshape[kMaxDims] = {}, kstr[kMaxDims] = {}, rshape[kMaxDims] = {}, rstr[kMaxDims] = {};
  int nk = 0, nr = 0;
  Geometry rg;
  ReduceSplit(const int64_t* shape, const int64_t* strides, const bool* reduce, int nd) {
    for (int d = 0; d < nd; d++) {
      if (reduce[d]) {
        rshape[nr] = shape[d];
        rstr[nr++] = strides[d];
      } else {
        kshape[nk] = shape[d];
        kstr[nk++] = strides[d];
      }
    }
    const int64_t* rs[1] = {rstr};
    rg = coalesce(rshape, nr, rs, 1);
  }
};

// Rows along `dim`: row r (row-major over the other dims) starts at x offset row_offset(r).
struct DimRows {
  const int64_t* shape;
  const int64_t* strides;
  int nd, dim;
  int64_t rows() const {
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= d == dim ? 1 : shape[d];
    return n;
  }
  int64_t row_offset(int64_t r) const {
    int64_t off = 0;
    for (int d = nd - 1; d >= 0; d--) {
      if (d == dim) continue;
      off += (r % shape[d]) * strides[d];
      r /= shape[d];
    }
    return off;
  }
  // Runs rows [r0, r1) of fn(r0, r1) split over the pool once there are `work` elements or more.
  template <typename F>
  void split(int64_t work, const F& fn) const {
    const int64_t n = rows();
    const int threads = n < 2 || work < kStridedParallelElements ? 1 : num_threads();
    if (threads == 1) return fn(int64_t{0}, n);
    const int64_t tasks = n < threads * 4 ? n : threads * 4;
    parallel_for(static_cast<int>(tasks), threads, [&](int t) { fn(n * t / tasks, n * (t + 1) / tasks); });
  }
};

}  // namespace
}  // namespace hearth
