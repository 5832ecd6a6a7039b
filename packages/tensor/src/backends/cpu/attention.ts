/**
 * `attention` and `attentionBackward` on the addon's fused kernel (streaming online softmax,
 * threads over query rows; see `native/kernels/attention.h`). float32 views are passed with
 * their strides, so a KV cache read through a `[:, :, :length]` view or heads split by a
 * transpose are not copied; the mask goes with its broadcast strides. float16/bfloat16 inputs
 * are widened to float32 first and the outputs rounded once.
 */
import { readNumbers, type StridedView } from "../../access.ts";
import { floatToBf16Bits, floatToF16Bits } from "../../dtype.ts";
import type { NativeAddon } from "../../native/index.ts";
import type { AttentionAttrs, CachedAttentionAttrs } from "../../ops/nn/attention-primitive.ts";
import { contiguousStrides } from "../../shape.ts";
import { cachedAttentionSteps } from "../cached-attention.ts";
import type { KernelArgs, KernelRecord } from "../types.ts";

interface F32View {
  data: Float32Array;
  offset: number;
  strides: number[];
}

const NO_STRIDES: readonly number[] = [];

/** q/k/v (and out/dout) as float32 with a unit last stride: the view itself when it already is one. */
function qkv(v: StridedView): F32View {
  const last = v.shape.length - 1;
  if (v.dtype === "float32" && (v.strides[last] === 1 || v.shape[last] === 1)) {
    return { data: v.data as Float32Array, offset: v.offset, strides: v.strides.slice(0, 3) as number[] };
  }
  return { data: Float32Array.from(readNumbers(v)), offset: 0, strides: contiguousStrides(v.shape).slice(0, 3) };
}

/** A [B, T, H, E] view (out, dout) seen as [B, H, T, E]: its dims 1 and 2 swapped. */
function headsFirst(v: StridedView): StridedView {
  const [b, t, h, e] = v.shape as [number, number, number, number];
  const [sb, st, sh, se] = v.strides as [number, number, number, number];
  return { ...v, shape: [b, h, t, e], strides: [sb, sh, st, se] };
}

/** The mask as float32 (additive) or bytes (bool) with strides; a 16-bit mask is widened over its un-broadcast extent. */
function maskArg(m: StridedView | undefined): {
  data: Float32Array | Uint8Array | null;
  offset: number;
  strides: number[];
} {
  if (!m) return { data: null, offset: 0, strides: [0, 0, 0, 0] };
  if (m.dtype === "float32" || m.dtype === "bool") {
    return { data: m.data as Float32Array | Uint8Array, offset: m.offset, strides: [...m.strides] };
  }
  const shape = m.shape.map((s, d) => (m.strides[d] === 0 ? 1 : s));
  const data = Float32Array.from(readNumbers({ ...m, shape }));
  const strides = contiguousStrides(shape).map((s, d) => (shape[d] === 1 ? 0 : s));
  return { data, offset: 0, strides };
}

/** A float32 buffer for output `o`: its own storage, or a temporary rounded into it by `finish`. */
function outBuffer(o: StridedView): { data: Float32Array; finish(): void } {
  if (o.dtype === "float32") return { data: o.data as Float32Array, finish() {} };
  const data = new Float32Array(o.data.length);
  return {
    data,
    finish() {
      const dst = o.data as Uint16Array;
      const round = o.dtype === "float16" ? floatToF16Bits : floatToBf16Bits;
      for (let i = 0; i < data.length; i++) dst[i] = round(data[i] as number);
    },
  };
}

/** The contiguous float32 lse of the forward (its own output, so never copied in practice). */
function dense(v: StridedView): Float32Array {
  const n = v.shape.reduce((a, b) => a * b, 1);
  if (v.dtype === "float32" && v.offset === 0 && v.data.length === n) {
    const strides = contiguousStrides(v.shape);
    if (v.shape.every((s, d) => s === 1 || v.strides[d] === strides[d])) return v.data as Float32Array;
  }
  return Float32Array.from(readNumbers(v));
}

/** The `attention` and `attentionBackward` records of the `cpu` backend. */
export function attentionKernels(addon: NativeAddon): KernelRecord[] {
  // q, k, v and the mask (at `maskAt`) as the addon takes them, and the shape [B, H, G, T, S, D, E]
  const views = (inputs: readonly StridedView[], maskAt: number) => {
    const [q, k, v] = inputs as [StridedView, StridedView, StridedView];
    const [B, H, T, D] = q.shape as [number, number, number, number];
    const shape = [B, H, k.shape[1] as number, T, k.shape[2] as number, D, v.shape[3] as number];
    return { shape, Q: qkv(q), K: qkv(k), V: qkv(v), m: maskArg(inputs[maskAt]) };
  };
  // q, k, v (and the mask at index 3) → out [B, T, H, E] and, when given, lse.
  // The arguments are spelled out, not spread as the backward's: a spread call takes V8's slow
  // path into the addon, and a decoding step runs this once per layer. With `fresh`
  // (float32 new keys and values), k and v are the caches' windows and the addon appends them.
  const run = (
    inputs: readonly StridedView[],
    out: StridedView,
    lse: Float32Array | null,
    attrs: AttentionAttrs,
    fresh?: readonly [F32View, F32View],
  ) => {
    const { shape, Q, K, V, m } = views(inputs, 3);
    const [, H, , T, , , E] = shape as [number, number, number, number, number, number, number];
    const o = outBuffer(out);
    // out is [B, T, H, E] contiguous (or [B, T, H·E], the same layout): strides over [b, h, t]
    // are [T·H·E, E, H·E]
    addon.attention(
      Q.data,
      Q.offset,
      Q.strides,
      K.data,
      K.offset,
      K.strides,
      V.data,
      V.offset,
      V.strides,
      m.data,
      m.offset,
      m.strides,
      o.data,
      0,
      [T * H * E, E, H * E],
      lse,
      shape,
      attrs.scale,
      attrs.causal,
      fresh ? fresh[0].data : null,
      fresh ? fresh[0].offset : 0,
      fresh ? fresh[0].strides : NO_STRIDES,
      fresh ? fresh[1].data : null,
      fresh ? fresh[1].offset : 0,
      fresh ? fresh[1].strides : NO_STRIDES,
    );
    o.finish();
  };
  const forward = ({ inputs, outputs, attrs }: KernelArgs<AttentionAttrs>): void => {
    const [out, lse] = outputs as [StridedView, StridedView];
    run(inputs, out, lse.data as Float32Array, attrs);
  };
  // float32: the addon writes the new keys and values into the caches and attends over their
  // first past + T positions in one call; other dtypes: the new rows go in with the addon's
  // strided copy, then attention reads the caches' windows (widened to float32).
  const cached = ({ inputs, outputs, attrs }: KernelArgs<CachedAttentionAttrs>): void => {
    const { copies, attend } = cachedAttentionSteps(inputs, attrs.past);
    const [k, v] = inputs.slice(1, 3) as [StridedView, StridedView];
    if (k.dtype === "float32") {
      run(attend, outputs[0] as StridedView, null, attrs, [qkv(k), qkv(v)]);
      return;
    }
    for (const [x, c] of copies) addon.copy(x.data, x.offset, x.strides, c.data, c.offset, c.strides, x.shape);
    run(attend, outputs[0] as StridedView, null, attrs);
  };
  const backward = ({ inputs, outputs, attrs }: KernelArgs<AttentionAttrs>): void => {
    const [q, k, , out, lse, dout] = inputs as StridedView[];
    const bufs = (outputs as StridedView[]).map(outBuffer);
    const { shape, Q, K, V, m } = views(inputs, 6);
    // out and dout go as strided views (dout is usually a view of a [B, T, H·E] gradient):
    // copying them cost more than the kernel once did.
    const [O, G] = [qkv(headsFirst(out as StridedView)), qkv(headsFirst(dout as StridedView))];
    const [, H, T, D] = (q as StridedView).shape as [number, number, number, number];
    const [, Gk, S] = (k as StridedView).shape as [number, number, number];
    let grads: (readonly [Float32Array, number, number[]])[];
    if (attrs.packed) {
      // one [B, T, H + 2G, D] buffer: dq in heads [0, H), dk in [H, H + G), dv in [H + G, H + 2G)
      const data = (bufs[0] as ReturnType<typeof outBuffer>).data;
      const W = (H + 2 * Gk) * D;
      const strides = [T * W, D, W];
      grads = [
        [data, 0, strides],
        [data, H * D, strides],
        [data, (H + Gk) * D, strides],
      ];
    } else {
      const E = (outputs[2] as StridedView).shape[3] as number;
      grads = [
        [bufs[0]?.data as Float32Array, 0, [H * T * D, T * D, D]],
        [bufs[1]?.data as Float32Array, 0, [Gk * S * D, S * D, D]],
        [bufs[2]?.data as Float32Array, 0, [Gk * S * E, S * E, E]],
      ];
    }
    addon.attentionBackward(
      ...([Q.data, Q.offset, Q.strides, K.data, K.offset, K.strides, V.data, V.offset, V.strides] as const),
      ...([m.data, m.offset, m.strides] as const),
      O.data,
      O.offset,
      O.strides,
      dense(lse as StridedView),
      G.data,
      G.offset,
      G.strides,
      ...(grads[0] as readonly [Float32Array, number, number[]]),
      ...(grads[1] as readonly [Float32Array, number, number[]]),
      ...(grads[2] as readonly [Float32Array, number, number[]]),
      shape,
      attrs.scale,
      attrs.causal,
    );
    for (const b of bufs) b.finish();
  };
  return [
    { op: "attention", fn: forward },
    { op: "attentionBackward", fn: backward },
    { op: "cachedAttention", fn: cached },
  ];
}
