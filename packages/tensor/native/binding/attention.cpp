// Bindings of the fused attention (kernels/attention.h).
//   attention(q, qOffset, qStrides, k, kOffset, kStrides, v, vOffset, vStrides,
//             mask | null, maskOffset, maskStrides, out, outOffset, outStrides, lse | null,
//             shape, scale, causal[, newK, newKOffset, newKStrides, newV, newVOffset, newVStrides])
//   attentionBackward(q, qOffset, qStrides, k, …, v, …, mask | null, maskOffset, maskStrides,
//                     out, outOffset, outStrides, lse, dout, doutOffset, doutStrides,
//                     dq, dqOffset, dqStrides, dk, …, dv, …, shape, scale, causal)
// q/k/v are float32 views with element strides [batch, head, position] (the last dim
// contiguous); the mask is a Float32Array (added to the scores) or a Uint8Array (0 drops the
// key) with strides [b, h, t, s] over [B, H, T, S]; shape is [B, H, G, T, S, D, E]. Every view
// is bounds-checked against its buffer. out, dout, dq, dk and dv are views like q (strides
// over [b, h, t]); lse is contiguous.
// With newK/newV (views like k and v, [B, G, T, D|E]), attention first appends them: k and v are
// then a KV cache's first S positions, and the new keys and values are copied into positions
// [S - T, S) before attending (a decoding step's cache write and attention in one call, where two
// strided copies and the attention took three).
#include "attention-api.h"

#include <cstring>
#include <string>

#include "args.h"
#include "kernels/attention.h"

namespace hearth {
namespace {

// Reads the shape and the q, k, v and mask views (arguments 0-11) into `a`.
void GetViews(const Napi::CallbackInfo& info, size_t shape_at, size_t scale_at, const char* fn, AttentionArgs& a) {
  Napi::Env env = info.Env();
  int64_t dims[7];
  GetIndexArray(info, shape_at, fn, "shape", dims, 7);
  a.B = dims[0], a.H = dims[1], a.G = dims[2], a.T = dims[3], a.S = dims[4], a.D = dims[5], a.E = dims[6];
  HEARTH_CHECK(env, a.G > 0 && a.H % a.G == 0, fn, "query heads H must be a multiple of key/value heads G");
  const char* names[3] = {"q", "k", "v"};
  const int64_t sizes[3][4] = {{a.B, a.H, a.T, a.D}, {a.B, a.G, a.S, a.D}, {a.B, a.G, a.S, a.E}};
  const float* ptr[3];
  int64_t strides[3][4];
  for (int i = 0; i < 3; i++) {
    BufferArg b = GetBuffer(info, 3 * i, fn, names[i]);
    HEARTH_CHECK(env, b.element_size == 4, fn, std::string("argument '") + names[i] + "' must be a Float32Array");
    const int64_t offset = GetIndex(info, 3 * i + 1, fn, (std::string(names[i]) + "Offset").c_str());
    GetIndexArray(info, 3 * i + 2, fn, (std::string(names[i]) + "Strides").c_str(), strides[i], 3);
    strides[i][3] = 1;
    CheckExtent(env, fn, names[i], offset, sizes[i], strides[i], 4, static_cast<double>(b.bytes / 4));
    ptr[i] = static_cast<const float*>(b.data) + offset;
  }
  a.q = ptr[0], a.q_b = strides[0][0], a.q_h = strides[0][1], a.q_t = strides[0][2];
  a.k = ptr[1], a.k_b = strides[1][0], a.k_g = strides[1][1], a.k_s = strides[1][2];
  a.v = ptr[2], a.v_b = strides[2][0], a.v_g = strides[2][1], a.v_s = strides[2][2];
  a.mask_add = nullptr, a.mask_keep = nullptr, a.m_b = a.m_h = a.m_t = a.m_s = 0;
  if (!info[9].IsNull() && !info[9].IsUndefined()) {
    BufferArg b = GetBuffer(info, 9, fn, "mask");
    HEARTH_CHECK(env, b.element_size == 4 || b.element_size == 1, fn,
                 "argument 'mask' must be a Float32Array (additive) or a Uint8Array (keep)");
    const int64_t offset = GetIndex(info, 10, fn, "maskOffset");
    int64_t ms[4];
    GetIndexArray(info, 11, fn, "maskStrides", ms, 4);
    const int64_t msize[4] = {a.B, a.H, a.T, a.S};
    CheckExtent(env, fn, "mask", offset, msize, ms, 4, static_cast<double>(b.bytes / b.element_size));
    if (b.element_size == 4) a.mask_add = static_cast<const float*>(b.data) + offset;
    else a.mask_keep = static_cast<const uint8_t*>(b.data) + offset;
    a.m_b = ms[0], a.m_h = ms[1], a.m_t = ms[2], a.m_s = ms[3];
  }
  a.scale = static_cast<float>(GetNumber(info, scale_at, fn, "scale"));
  HEARTH_CHECK(env, info[scale_at + 1].IsBoolean(), fn, "argument 'causal' must be a boolean");
  a.causal = info[scale_at + 1].As<Napi::Boolean>().Value();
}

// A float32 view [n0, n1, n2, n3] at arguments at, at+1, at+2 (buffer, offset, strides over
// the first three dims, the last contiguous), bounds-checked.
const float* GetView(const Napi::CallbackInfo& info, size_t at, const char* fn, const std::string& name,
                     const int64_t sizes[4], int64_t strides[3]) {
  Napi::Env env = info.Env();
  BufferArg b = GetBuffer(info, at, fn, name.c_str());
  HEARTH_CHECK(env, b.element_size == 4, fn, "argument '" + name + "' must be a Float32Array");
  const int64_t offset = GetIndex(info, at + 1, fn, (name + "Offset").c_str());
  int64_t st[4];
  GetIndexArray(info, at + 2, fn, (name + "Strides").c_str(), st, 3);
  st[3] = 1;
  CheckExtent(env, fn, name.c_str(), offset, sizes, st, 4, static_cast<double>(b.bytes / 4));
  strides[0] = st[0], strides[1] = st[1], strides[2] = st[2];
  return static_cast<const float*>(b.data) + offset;
}

AttentionOut GetOut(const Napi::CallbackInfo& info, size_t at, const char* fn, const std::string& name,
                    const int64_t sizes[4]) {
  int64_t st[3];
  float* data = const_cast<float*>(GetView(info, at, fn, name, sizes, st));
  return AttentionOut{data, st[0], st[1], st[2]};
}

// Copies src [B, G, T, n] (strides sb, sg, st; rows contiguous) into dst's positions
// [past, past + T) (strides db, dg, ds).
void append_rows(const float* src, const int64_t s[3], float* dst, int64_t db, int64_t dg, int64_t ds, int64_t B,
                 int64_t G, int64_t T, int64_t past, int64_t n) {
  for (int64_t b = 0; b < B; b++)
    for (int64_t g = 0; g < G; g++)
      for (int64_t t = 0; t < T; t++)
        std::memcpy(dst + b * db + g * dg + (past + t) * ds, src + b * s[0] + g * s[1] + t * s[2],
                    sizeof(float) * static_cast<size_t>(n));
}

}  // namespace

Napi::Value Attention(const Napi::CallbackInfo& info) {
  static const char* fn = "attention";
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 19, fn);
  AttentionArgs a;
  GetViews(info, 16, 17, fn, a);
  const double rows = static_cast<double>(a.B) * a.H * a.T;
  const int64_t sizes[4] = {a.B, a.H, a.T, a.E};
  const AttentionOut out = GetOut(info, 12, fn, "out", sizes);
  float* lse = info[15].IsNull() || info[15].IsUndefined() ? nullptr : GetFloat32(info, 15, fn, "lse", rows);
  if (info.Length() > 19 && !info[19].IsNull() && !info[19].IsUndefined()) {
    HEARTH_CHECK_ARGC(info, 25, fn);
    HEARTH_CHECK(env, a.T <= a.S, fn, "with newK/newV the keys must hold at least the T new positions");
    const int64_t ks[4] = {a.B, a.G, a.T, a.D}, vs[4] = {a.B, a.G, a.T, a.E};
    int64_t nk[3], nv[3];
    const float* k_new = GetView(info, 19, fn, "newK", ks, nk);
    const float* v_new = GetView(info, 22, fn, "newV", vs, nv);
    // k and v are the caches' own (writable) buffers, read as const by the kernel
    append_rows(k_new, nk, const_cast<float*>(a.k), a.k_b, a.k_g, a.k_s, a.B, a.G, a.T, a.S - a.T, a.D);
    append_rows(v_new, nv, const_cast<float*>(a.v), a.v_b, a.v_g, a.v_s, a.B, a.G, a.T, a.S - a.T, a.E);
  }
  if (rows > 0 && a.E > 0) attention_forward(a, out, lse);
  return env.Undefined();
}

Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  static const char* fn = "attentionBackward";
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 31, fn);
  AttentionArgs a;
  GetViews(info, 28, 29, fn, a);
  const double nq = static_cast<double>(a.B) * a.H * a.T;
  AttentionGradArgs g;
  const int64_t rows[4] = {a.B, a.H, a.T, a.E};
  int64_t st[3];
  g.out = GetView(info, 12, fn, "out", rows, st);
  g.o_b = st[0], g.o_h = st[1], g.o_t = st[2];
  g.dout = GetView(info, 16, fn, "dout", rows, st);
  g.do_b = st[0], g.do_h = st[1], g.do_t = st[2];
  g.lse = GetFloat32(info, 15, fn, "lse", nq);
  const int64_t qs[4] = {a.B, a.H, a.T, a.D}, ks[4] = {a.B, a.G, a.S, a.D}, vs[4] = {a.B, a.G, a.S, a.E};
  const AttentionOut dq = GetOut(info, 19, fn, "dq", qs);
  const AttentionOut dk = GetOut(info, 22, fn, "dk", ks);
  const AttentionOut dv = GetOut(info, 25, fn, "dv", vs);
  attention_backward(a, g, dq, dk, dv);  // writes every element, zeros where no gradient flows
  return env.Undefined();
}

Napi::Value SelectAttentionKernel(const Napi::CallbackInfo& info) {
  static const char* fn = "selectAttentionKernel";
  HEARTH_CHECK_ARGC(info, 1, fn);
  HEARTH_CHECK_STRING(info, 0, fn, "name");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  return Napi::Boolean::New(info.Env(), attention_select(name.c_str()));
}

}  // namespace hearth
