// Indexing kernels. Layout: every view is (data, strides in elements) over `shape` (the index's
// shape, which is also the output's); `dim` is the indexed dimension and `size` the length of
// that dimension in the indexed tensor. Indices may be negative (counted from the end).
//   gather:      out[p] = x[p with p[dim] = index[p]]                 (any element size)
//   scatter_add: out[p with p[dim] = index[p]] += src[p]             (out pre-filled)
// scatter_add_typed adds every dtype: integers wrap, bool ORs, float16/bfloat16 accumulate in
// float32 and round once at the end.
// gather's backward is scatter_add and vice versa; nothing is saved beyond the index.
#pragma once
#include <cstdint>

#include "elem-type.h"

namespace hearth {

struct IndexView {
  const void* data;
  const int64_t* strides;
  bool is64;  // int64 elements, else int32
};

// Returns -1 when every index is in range, else the position (row-major) of the first bad one;
// nothing is written then.
int64_t gather_strided(int elem_size, const void* x, const int64_t* x_strides, int64_t size, const IndexView& index,
                       void* out, const int64_t* shape, int nd, int dim);
int64_t scatter_add_f32(float* out, const int64_t* out_strides, int64_t size, const IndexView& index,
                        const float* src, const int64_t* src_strides, const int64_t* shape, int nd, int dim);
// `out` row-major over a tensor of `out_numel` elements (out_strides its contiguous strides).
int64_t scatter_add_typed(ElemType type, void* out, const int64_t* out_strides, int64_t out_numel, int64_t size,
                          const IndexView& index, const void* src, const int64_t* src_strides, const int64_t* shape,
                          int nd, int dim);
// The index value at a row-major position (for error messages).
int64_t index_at(const IndexView& index, const int64_t* shape, int nd, int64_t pos);

}  // namespace hearth
