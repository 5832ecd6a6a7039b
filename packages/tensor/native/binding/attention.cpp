// attention(q, k, v, out, lse | null, [B, H, G, T, S, D, E], scale, causal, keyKeep | null):
// fused attention forward over contiguous float32 arrays (kernels/attention.h); keyKeep is a
// Uint8Array [B, S] of 0/1.
#include "attention-api.h"

#include <string>

#include "args.h"
#include "kernels/attention.h"

namespace hearth {

Napi::Value Attention(const Napi::CallbackInfo& info) {
  static const char* fn = "attention";
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 9, fn);
  int64_t dims[7];
  GetIndexArray(info, 5, fn, "shape", dims, 7);
  AttentionShape s{dims[0], dims[1], dims[2], dims[3], dims[4], dims[5], dims[6]};
  HEARTH_CHECK(env, s.G > 0 && s.H % s.G == 0, fn, "query heads H must be a multiple of key/value heads G");
  const double need[5] = {static_cast<double>(s.B) * s.H * s.T * s.D, static_cast<double>(s.B) * s.G * s.S * s.D,
                          static_cast<double>(s.B) * s.G * s.S * s.E, static_cast<double>(s.B) * s.H * s.T * s.E,
                          static_cast<double>(s.B) * s.H * s.T};
  const char* names[5] = {"q", "k", "v", "out", "lse"};
  float* ptr[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
  for (int i = 0; i < 5; i++) {
    if (i == 4 && (info[4].IsNull() || info[4].IsUndefined())) break;
    BufferArg b = GetBuffer(info, i, fn, names[i]);
    HEARTH_CHECK(env, b.element_size == 4, fn, std::string("argument '") + names[i] + "' must be a Float32Array");
    HEARTH_CHECK(env, static_cast<double>(b.bytes / 4) >= need[i], fn,
                 std::string("argument '") + names[i] + "' is too small for the shape");
    ptr[i] = static_cast<float*>(b.data);
  }
  const double scale = GetNumber(info, 6, fn, "scale");
  HEARTH_CHECK(env, info[7].IsBoolean(), fn, "argument 'causal' must be a boolean");
  const bool causal = info[7].As<Napi::Boolean>().Value();
  const uint8_t* keep = nullptr;
  if (!info[8].IsNull() && !info[8].IsUndefined()) {
    BufferArg b = GetBuffer(info, 8, fn, "keyKeep");
    HEARTH_CHECK(env, b.element_size == 1 && static_cast<double>(b.bytes) >= static_cast<double>(s.B) * s.S, fn,
                 "argument 'keyKeep' must be a Uint8Array of B*S bytes");
    keep = static_cast<const uint8_t*>(b.data);
  }
  if (s.B * s.H * s.T > 0)
    attention_forward(s, ptr[0], ptr[1], ptr[2], static_cast<float>(scale), causal, keep, ptr[3], ptr[4]);
  return env.Undefined();
}

// attentionBackward(q, k, v, out, lse, dout, dq, dk, dv, [B, H, G, T, S, D, E], scale, causal,
// keyKeep | null): gradients of the fused forward from its saved out and lse.
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  static const char* fn = "attentionBackward";
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 13, fn);
  int64_t dims[7];
  GetIndexArray(info, 9, fn, "shape", dims, 7);
  AttentionShape s{dims[0], dims[1], dims[2], dims[3], dims[4], dims[5], dims[6]};
  HEARTH_CHECK(env, s.G > 0 && s.H % s.G == 0, fn, "query heads H must be a multiple of key/value heads G");
  const double nq = static_cast<double>(s.B) * s.H * s.T, nk = static_cast<double>(s.B) * s.G * s.S;
  const double need[9] = {nq * s.D, nk * s.D, nk * s.E, nq * s.E, nq, nq * s.E, nq * s.D, nk * s.D, nk * s.E};
  const char* names[9] = {"q", "k", "v", "out", "lse", "dout", "dq", "dk", "dv"};
  float* ptr[9];
  for (int i = 0; i < 9; i++) {
    BufferArg b = GetBuffer(info, i, fn, names[i]);
    HEARTH_CHECK(env, b.element_size == 4, fn, std::string("argument '") + names[i] + "' must be a Float32Array");
    HEARTH_CHECK(env, static_cast<double>(b.bytes / 4) >= need[i], fn,
                 std::string("argument '") + names[i] + "' is too small for the shape");
    ptr[i] = static_cast<float*>(b.data);
  }
  const double scale = GetNumber(info, 10, fn, "scale");
  HEARTH_CHECK(env, info[11].IsBoolean(), fn, "argument 'causal' must be a boolean");
  const bool causal = info[11].As<Napi::Boolean>().Value();
  const uint8_t* keep = nullptr;
  if (!info[12].IsNull() && !info[12].IsUndefined()) {
    BufferArg b = GetBuffer(info, 12, fn, "keyKeep");
    HEARTH_CHECK(env, b.element_size == 1 && static_cast<double>(b.bytes) >= static_cast<double>(s.B) * s.S, fn,
                 "argument 'keyKeep' must be a Uint8Array of B*S bytes");
    keep = static_cast<const uint8_t*>(b.data);
  }
  attention_backward(s, ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], ptr[5], static_cast<float>(scale), causal, keep, ptr[6],
                     ptr[7], ptr[8]);
  return env.Undefined();
}

}  // namespace hearth
