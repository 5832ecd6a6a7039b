// Random fills that reproduce the `js` backend's stream bit for bit (src/random/generator.ts):
// xoshiro128** seeded through splitmix32; uniform doubles from 53 bits (two draws); normals by
// Box–Muller from a (u, v) pair, u redrawn while 0, giving r·cos(2πv) then r·sin(2πv).
//   uniform: out[i] = a + (b − a)·U_i          (floored first for integer dtypes)
//   normal:  out[i] = a + b·N_i
// then written like writeNumbers (elem-type.h). Layout: `out` is n contiguous elements.
// Long fills are split into chunks over the pool, each drawn by four generators jumped ahead to
// its four runs and interleaved (the state update is linear over GF(2), so 2^k steps are a
// precomputed 128×128 bit matrix).
// The uniform draws stay scalar (one sequential stream per chunk); Box–Muller's log, sqrt, sin
// and cos run 8 (AVX-512) or 4 (AVX2) pairs at a time on this file's own polynomials
// (random-impl.h), or on the C library's functions in the scalar variant. V8's log/sin/cos and
// these are all within a few ulps of exact, so a normal can only round to a different element
// when its double lies within a tiny bound of a rounding boundary of the output dtype. Those positions are returned, with their
// (u, v), for the caller to finish with JavaScript's own Math (see src/backends/cpu/random.ts).
// No backward: random has no gradient.
#pragma once
#include <cstdint>
#include <vector>

#include "elem-type.h"

namespace hearth {

enum class Distribution : int { kUniform, kNormal };

// xc[i] = √(−2 ln u[i])·cos(2π·v[i]) and xs[i] = …·sin(…) for m pairs (m a multiple of 8).
struct BoxMullerKernel {
  const char* name;
  void (*fn)(const double* u, const double* v, int64_t m, double* xc, double* xs);
};
#if defined(__x86_64__)
const BoxMullerKernel* box_muller_avx512();
const BoxMullerKernel* box_muller_avx2();
#endif
// The variant in use ("avx512", "avx2" or "generic"); random_select forces one ("" restores
// the automatic choice) and returns false when the CPU lacks it.
const char* random_kernel_name();
bool random_select(const char* name);

// Appends (index, u, v) for every normal left to the caller (nothing for uniform fills).
void random_fill(ElemType type, void* out, int64_t n, Distribution dist, uint32_t seed, double a, double b,
                 std::vector<double>* fixups);

}  // namespace hearth
