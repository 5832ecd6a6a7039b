/**
 * Prefix tuning's trainable part and how it reaches the model. `PrefixEncoder.embedding.weight`
 * `[n, layers · 2 · E]` holds every layer's prefix keys and values (PEFT's layout: per layer,
 * keys then values, each split into heads). `PrefixCache` stands in for the model's KV cache:
 * each attention layer's `update` returns `cat(prefix, keys)` along time, so gradients reach the
 * prefix, and an inner `KVCache` (during generation) keeps the real tokens.
 *
 * Shapes: B batch, n prefix positions, L layers, H heads, D head size, E = H · D.
 */
import { cat, expand, Module, narrow, permute, randn, reshape, type Tensor } from "@hearth/tensor";
import type { KVCache } from "@hearth/transformers";

/** PEFT's `PrefixEncoder` without projection: an embedding of the n prefix positions. */
export class PrefixEncoder extends Module {
  readonly embedding: Module & { weight: Tensor };

  constructor(n: number, width: number) {
    super();
    const table = new Module() as Module & { weight: Tensor };
    table.weight = table.registerParameter("weight", randn([n, width]));
    this.embedding = this.registerModule("embedding", table);
  }

  /** Per-layer keys and values `[B, H, n, D]` for a batch of `B`. */
  pastKeyValues(B: number, layers: number, heads: number): { keys: Tensor; values: Tensor }[] {
    const w = this.embedding.weight;
    const [n, width] = w.shape as [number, number];
    const D = width / (layers * 2 * heads);
    // [n, L·2·H·D] → [B, n, 2L, H, D] → [2L, B, H, n, D]
    const all = permute(
      expand(reshape(w, [1, n, layers * 2, heads, D]), [B, n, layers * 2, heads, D]),
      [2, 0, 3, 1, 4],
    );
    return Array.from({ length: layers }, (_, l) => ({
      keys: reshape(narrow(all, 0, 2 * l, 1), [B, heads, n, D]),
      values: reshape(narrow(all, 0, 2 * l + 1, 1), [B, heads, n, D]),
    }));
  }
}

/** A KV cache view that puts the prefix in front of every layer's keys and values. */
export class PrefixCache {
  constructor(
    readonly prefix: { keys: Tensor; values: Tensor }[],
    readonly inner: KVCache | null,
  ) {}

  getSeqLength(): number {
    return (this.prefix[0]?.keys.shape[2] ?? 0) + (this.inner?.getSeqLength() ?? 0);
  }

  update(layer: number, keys: Tensor, values: Tensor): { keys: Tensor; values: Tensor } {
    const kv = this.inner ? this.inner.update(layer, keys, values) : { keys, values };
    const p = this.prefix[layer] as { keys: Tensor; values: Tensor };
    return { keys: cat([p.keys, kv.keys], 2), values: cat([p.values, kv.values], 2) };
  }
}
