// Fused cross-entropy over rows of logits, the loss of every language model's training step.
// Layouts: x[N, V] float32 logits (row stride `row_stride`, unit column stride), t[N] class ids
// (int64, already range-checked: each is in [0, V) or equals `ignore_index`).
//   forward:  lse[n] = log Σ_v exp(x[n, v])
//             loss[n] = lse[n] − (1 − ε)·x[n, t[n]] − ε·mean_v x[n, v]   (0 where t[n] is ignored)
//   backward: dx[n, v] = g[n]·(exp(x[n, v] − lse[n]) − ε/V − (1 − ε)·[v = t[n]])  (0 where ignored)
// ε is the label smoothing. The backward needs x, t and the saved lse; it never materialises
// the softmax separately. Sums accumulate in double.
#pragma once
#include <cstdint>

namespace hearth {

struct CrossEntropyShape {
  int64_t rows;
  int64_t cols;
  int64_t row_stride;
  int64_t ignore_index;
  double smoothing;
};

void cross_entropy_rows(const float* x, const int64_t* t, const CrossEntropyShape& s, float* loss, float* lse);
// g[n] is read at g[n * g_stride]; dx is row-major [N, V] and fully written.
void cross_entropy_backward_rows(const float* x, const int64_t* t, const float* lse, const float* g,
                                 int64_t g_stride, const CrossEntropyShape& s, float* dx);

}  // namespace hearth
