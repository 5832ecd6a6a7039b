// Fused optimiser updates over flat float32 parameter buffers.
// adam_step: one Adam/AdamW step (after any decoupled decay), PyTorch's single-tensor order:
//   g' = g + wd·p (L2 form only); m = β1·m + (1−β1)·g'; v = β2·v + (1−β2)·g'²;
//   p −= (lr/(1−β1ᵗ)) · m / (√v/√(1−β2ᵗ) + eps)
// Every intermediate is computed in double and rounded to float32 exactly where the `js`
// optimiser rounds, and the powers βᵗ come from the caller, so both give bit-identical
// parameters.
#pragma once
#include <cstdint>

namespace hearth {

struct AdamParams {
  double step_size;  // lr / (1 − β1ᵗ), computed by the caller
  double bc2_sqrt;   // √(1 − β2ᵗ), computed by the caller
  double beta1, beta2, eps, weight_decay;
  bool l2;      // add weight_decay·p to the gradient (Adam)
  double keep;  // AdamW's decoupled decay: p ← f32(p·keep) first (1 = none)
};

// vmax may be null (no AMSGrad).
void adam_step(float* p, const float* g, float* m, float* v, float* vmax, int64_t n, const AdamParams& a);

#if defined(__x86_64__)
// Elements [i0, i1) with AVX-512 (arch/x86/optim-avx512.cpp); same results as the scalar loop.
void adam_step_avx512(float* p, const float* g, float* m, float* v, float* vmax, int64_t i0, int64_t i1,
                      const AdamParams& a);
// The same with AVX2 (arch/x86/optim-avx2.cpp).
void adam_step_avx2(float* p, const float* g, float* m, float* v, float* vmax, int64_t i0, int64_t i1,
                    const AdamParams& a);
#endif

}  // namespace hearth
