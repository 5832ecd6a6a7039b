// adamStep(p, g, m, v, vmax | null, stepSize, bc2Sqrt, beta1, beta2, eps, weightDecay, l2, keep):
// one fused Adam/AdamW update of float32 buffers of equal length, in place (kernels/optim.h).
#include "optim-api.h"

#include "args.h"
#include "kernels/optim.h"

namespace hearth {

Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  static const char* fn = "adamStep";
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 13, fn);
  const char* names[5] = {"p", "g", "m", "v", "vmax"};
  float* ptr[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
  size_t n = 0;
  for (int k = 0; k < 5; k++) {
    if (k == 4 && (info[4].IsNull() || info[4].IsUndefined())) break;
    BufferArg b = GetBuffer(info, k, fn, names[k]);
    HEARTH_CHECK(env, b.element_size == 4, fn, std::string("argument '") + names[k] + "' must be a Float32Array");
    if (k == 0) n = b.bytes / 4;
    HEARTH_CHECK(env, b.bytes / 4 == n, fn,
                 std::string("argument '") + names[k] + "' must have " + std::to_string(n) + " elements, got " +
                     std::to_string(b.bytes / 4));
    ptr[k] = static_cast<float*>(b.data);
  }
  AdamParams a;
  a.step_size = GetNumber(info, 5, fn, "stepSize");
  a.bc2_sqrt = GetNumber(info, 6, fn, "bc2Sqrt");
  a.beta1 = GetNumber(info, 7, fn, "beta1");
  a.beta2 = GetNumber(info, 8, fn, "beta2");
  a.eps = GetNumber(info, 9, fn, "eps");
  a.weight_decay = GetNumber(info, 10, fn, "weightDecay");
  HEARTH_CHECK(env, info[11].IsBoolean(), fn, "argument 'l2' must be a boolean");
  a.l2 = info[11].As<Napi::Boolean>().Value();
  a.keep = GetNumber(info, 12, fn, "keep");
  adam_step(ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], static_cast<int64_t>(n), a);
  return env.Undefined();
}

}  // namespace hearth
