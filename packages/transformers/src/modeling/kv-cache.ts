/**
 * The key/value cache of decoder self-attention. Each layer's keys and values live in one
 * buffer `[B, H_kv, capacity, D]` allocated once (capacity = prompt + new tokens when
 * `generate` reserves it) and written in place; a step appends `T` positions with `copy_` and
 * attention reads the view `[:, :, :length]`. Growth past the capacity doubles the buffer, so
 * appending one token never reallocates.
 */
import {
  type CachedAttentionQkvOptions,
  cachedAttention,
  cachedAttentionQkv,
  copy_,
  type DType,
  indexSelect,
  isGradEnabled,
  keep,
  narrow,
  type Tensor,
  tensor,
  zeros,
} from "@hearth/tensor";
import { ErrorCodes, fail } from "../errors.ts";
import type { DecoderAttentionMask } from "./attention.ts";

interface LayerCache {
  keys: Tensor;
  values: Tensor;
  length: number;
}

/**
 * A pre-allocated KV cache, one entry per decoder layer.
 *
 * @example
 * const cache = new KVCache({ capacity: prompt.length + 32 });
 * model.forward({ inputIds, pastKeyValues: cache }); // fills it
 */
export class KVCache {
  readonly #layers: (LayerCache | undefined)[] = [];
  #capacity: number;

  constructor(options: { capacity?: number } = {}) {
    this.#capacity = options.capacity ?? 0;
  }

  /** Positions stored (those of layer 0: every layer agrees between forward passes). */
  getSeqLength(): number {
    return this.#layers[0]?.length ?? 0;
  }

  /** Positions the buffers hold without growing. */
  get capacity(): number {
    return this.#layers[0] ? (this.#layers[0].keys.shape[2] as number) : this.#capacity;
  }

  /**
   * Appends `keys`/`values` `[B, H_kv, T, D]` to layer `layer` and returns views of everything
   * stored for that layer, `[B, H_kv, length, D]`.
   */
  update(layer: number, keys: Tensor, values: Tensor): { keys: Tensor; values: Tensor } {
    const [B, H, T, D] = keys.shape as [number, number, number, number];
    const entry = this.#reserve(layer, B, H, T, D, values.shape[3] as number, keys.dtype);
    copy_(narrow(entry.keys, 2, entry.length, T), keys);
    copy_(narrow(entry.values, 2, entry.length, T), values);
    entry.length += T;
    return { keys: narrow(entry.keys, 2, 0, entry.length), values: narrow(entry.values, 2, 0, entry.length) };
  }

  /**
   * A decoding step's self-attention for layer `layer` in one op (the engine's
   * `cachedAttention`): appends `keys`/`values` `[B, H_kv, T, D]` as {@link update} does and
   * attends `queries` `[B, H, T, D]` over everything stored, with `mask` as
   * `decoderAttentionMask` gives it. Returns `[B, T, H, D]` (heads merge into `[B, T, H·D]` by a
   * reshape). Inference only: see {@link attendsInOneOp}.
   */
  attend(
    layer: number,
    queries: Tensor,
    keys: Tensor,
    values: Tensor,
    mask: DecoderAttentionMask,
    scale: number,
  ): Tensor {
    const [B, H, T, D] = keys.shape as [number, number, number, number];
    const entry = this.#reserve(layer, B, H, T, D, values.shape[3] as number, keys.dtype);
    const opts = stepOptions(mask, scale, entry.length, queries.shape[1] as number, H);
    const out = cachedAttention(queries, keys, values, entry.keys, entry.values, opts);
    entry.length += T;
    return out;
  }

  /**
   * {@link attend} on one fused projection `qkv` [B, T, (heads + 2·kvHeads)·D] (the query heads,
   * then the key heads, then the value heads, per position; GPT-2's `c_attn` output), returning
   * [B, T, heads·D]: the engine's `cachedAttentionQkv`, one op where splitting the heads with views
   * and merging them back took seven. Inference only: see {@link attendsInOneOp}.
   */
  attendQkv(
    layer: number,
    qkv: Tensor,
    heads: number,
    kvHeads: number,
    mask: DecoderAttentionMask,
    scale: number,
  ): Tensor {
    const [B, T, C] = qkv.shape as [number, number, number];
    const D = C / (heads + 2 * kvHeads);
    const entry = this.#reserve(layer, B, kvHeads, T, D, D, qkv.dtype);
    const out = cachedAttentionQkv(
      qkv,
      entry.keys,
      entry.values,
      stepOptions(mask, scale, entry.length, heads, kvHeads),
    );
    entry.length += T;
    return out;
  }

  /**
   * Layer `layer`'s buffers with room for T more positions of B rows, H key/value heads, key size
   * D and value size E: allocated on first use, doubled when full.
   */
  #reserve(layer: number, B: number, H: number, T: number, D: number, E: number, dtype: DType): LayerCache {
    let entry = this.#layers[layer];
    const needed = (entry?.length ?? 0) + T;
    if (!entry) {
      const cap = Math.max(needed, this.#capacity);
      entry = {
        keys: keep(zeros([B, H, cap, D], { dtype })),
        values: keep(zeros([B, H, cap, E], { dtype })),
        length: 0,
      };
      this.#layers[layer] = entry;
    } else if (
      entry.keys.shape[0] !== B ||
      entry.keys.shape[1] !== H ||
      entry.keys.shape[3] !== D ||
      entry.values.shape[3] !== E
    ) {
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `KVCache.update: layer ${layer} holds [${entry.keys.shape.join(", ")}] but got keys [${[B, H, T, D].join(", ")}] (batch, heads and head size must match)`,
      );
    } else if (needed > (entry.keys.shape[2] as number)) {
      const cap = Math.max(needed, 2 * (entry.keys.shape[2] as number));
      entry.keys = this.#grow(entry.keys, cap, entry.length);
      entry.values = this.#grow(entry.values, cap, entry.length);
    }
    return entry;
  }

  #grow(buffer: Tensor, capacity: number, length: number): Tensor {
    const [B, H, , D] = buffer.shape as [number, number, number, number];
    const next = keep(zeros([B, H, capacity, D], { dtype: buffer.dtype }));
    copy_(narrow(next, 2, 0, length), narrow(buffer, 2, 0, length));
    buffer.dispose();
    return next;
  }

  /** Keeps the batch rows `rows` (in that order, repeats allowed): beam search's reordering. */
  reorder(rows: readonly number[]): void {
    const index = tensor(rows, { dtype: "int64" });
    for (const entry of this.#layers) {
      if (!entry) continue;
      if (rows.length !== entry.keys.shape[0]) {
        throw fail(
          ErrorCodes.MODEL_BAD_INPUT,
          `KVCache.reorder: expected ${entry.keys.shape[0]} rows, got ${rows.length}`,
        );
      }
      for (const key of ["keys", "values"] as const) {
        const picked = indexSelect(narrow(entry[key], 2, 0, entry.length), 0, index);
        copy_(narrow(entry[key], 2, 0, entry.length), picked);
        picked.dispose();
      }
    }
    index.dispose();
  }

  /** Frees the buffers. */
  dispose(): void {
    for (const entry of this.#layers) {
      entry?.keys.dispose();
      entry?.values.dispose();
    }
    this.#layers.length = 0;
  }
}

/**
 * `cachedAttention`'s (and `cachedAttentionQkv`'s) options for a decoding step over `past` cached
 * positions with `mask` as `decoderAttentionMask` gives it, `heads` query and `kvHeads` key/value
 * heads. One literal of one shape whatever the mask: objects of two shapes, spread into the op's
 * options, took V8's slow paths once per layer and step.
 */
function stepOptions(
  mask: DecoderAttentionMask,
  scale: number,
  past: number,
  heads: number,
  kvHeads: number,
): CachedAttentionQkvOptions {
  const causal = mask === "causal";
  return { isCausal: causal, mask: causal ? undefined : mask, scale, past, heads, kvHeads };
}

/**
 * Whether a decoder layer with a `KVCache` (not another object with its `update`, such as PEFT's
 * prefix cache) can attend through {@link KVCache.attend}: neither the
 * probabilities (`outputAttentions`), attention dropout nor a gradient through `x` (the
 * projection output the queries, keys and values come from) is wanted.
 */
export function attendsInOneOp(x: Tensor, outputAttentions: boolean, dropout: boolean): boolean {
  return !outputAttentions && !dropout && !(x.requiresGrad && isGradEnabled());
}
