/**
 * Rotary position embeddings (RoFormer, Su et al. 2021) as Llama uses them: pairs (i, i + D/2)
 * of each head are rotated by position · invFreq[i]. `rope_scaling` variants follow Python's
 * `ROPE_INIT_FUNCTIONS`: "linear" (positions divided by the factor), "dynamic" (NTK-aware base
 * grown with the sequence length beyond `max_position_embeddings`) and "llama3" (per-frequency
 * band scaling of Llama 3.1).
 */
import { add, amax, cat, cos, mul, neg, sin, slice, type Tensor, tensor, to, unsqueeze } from "@hearth/tensor";
import { ErrorCodes, fail } from "../errors.ts";

/** `rope_scaling` of config.json (Python accepts `type` or `rope_type`). */
export interface RopeScaling {
  type?: string;
  rope_type?: string;
  factor?: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
}

/** What the rotary embedding needs from a config. */
export interface RopeOptions {
  headDim: number;
  /** Rotate only the first `headDim * partialRotaryFactor` dims (default all). */
  rotaryDim?: number;
  theta: number;
  maxPositionEmbeddings: number;
  scaling?: RopeScaling | null;
}

function baseInvFreq(dim: number, theta: number): Float64Array {
  const out = new Float64Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) out[i] = 1 / theta ** ((2 * i) / dim);
  return out;
}

/** Llama 3.1's band-wise scaling of the inverse frequencies. */
function llama3InvFreq(inv: Float64Array, s: RopeScaling): Float64Array {
  const factor = s.factor ?? 8;
  const low = s.low_freq_factor ?? 1;
  const high = s.high_freq_factor ?? 4;
  const old = s.original_max_position_embeddings ?? 8192;
  const lowWavelen = old / low;
  const highWavelen = old / high;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (old / wavelen - low) / (high - low);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/** The rotary embedding of one model: computes cos/sin for given positions. */
export class RotaryEmbedding {
  readonly kind: string;
  readonly rotaryDim: number;
  readonly #invFreq: Float64Array;

  constructor(readonly options: RopeOptions) {
    const dim = options.rotaryDim ?? options.headDim;
    this.rotaryDim = dim;
    const s = options.scaling ?? null;
    this.kind = s ? (s.rope_type ?? s.type ?? "default") : "default";
    let inv = baseInvFreq(dim, options.theta);
    switch (this.kind) {
      case "default":
      case "dynamic":
        break;
      case "linear":
        inv = inv.map((f) => f / (s?.factor ?? 1));
        break;
      case "llama3":
        inv = llama3InvFreq(inv, s as RopeScaling);
        break;
      default:
        throw fail(
          ErrorCodes.MODEL_UNSUPPORTED,
          `RotaryEmbedding: rope_scaling type '${this.kind}' is not supported; supported: default, linear, dynamic, llama3`,
        );
    }
    this.#invFreq = inv;
  }

  /** The inverse frequencies for a sequence reaching `seqLen` positions (dynamic scaling depends on it). */
  invFreq(seqLen: number): Float64Array {
    const { maxPositionEmbeddings: max, scaling, theta } = this.options;
    if (this.kind !== "dynamic" || seqLen <= max) return this.#invFreq;
    const factor = scaling?.factor ?? 1;
    const dim = this.rotaryDim;
    const base = theta * ((factor * seqLen) / max - (factor - 1)) ** (dim / (dim - 2));
    return baseInvFreq(dim, base);
  }

  /** cos and sin `[B, 1, T, rotaryDim]` (float32) for `positionIds` `[B, T]`. */
  cosSin(positionIds: Tensor): { cos: Tensor; sin: Tensor } {
    const seqLen = this.kind === "dynamic" ? amax(positionIds).item() + 1 : 0;
    const inv = tensor(Float32Array.from(this.invFreq(seqLen)));
    const freqs = mul(unsqueeze(to(positionIds, "float32"), -1), inv);
    const emb = cat([freqs, freqs], -1);
    return { cos: unsqueeze(cos(emb), 1), sin: unsqueeze(sin(emb), 1) };
  }
}

/** Swaps the halves of the last dim, negating the second: (x1, x2) → (−x2, x1). */
function rotateHalf(x: Tensor): Tensor {
  const half = (x.shape[x.ndim - 1] as number) / 2;
  return cat([neg(slice(x, -1, half)), slice(x, -1, 0, half)], -1);
}

/** x·cos + rotateHalf(x)·sin on the first `cos.shape[-1]` dims of `x` `[B, H, T, D]`; the rest pass through. */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const rd = cos.shape[cos.ndim - 1] as number;
  const D = x.shape[x.ndim - 1] as number;
  const c = cos.dtype === x.dtype ? cos : to(cos, x.dtype);
  const s = sin.dtype === x.dtype ? sin : to(sin, x.dtype);
  if (rd === D) return add(mul(x, c), mul(rotateHalf(x), s));
  const rot = slice(x, -1, 0, rd);
  const pass = slice(x, -1, rd);
  return cat([add(mul(rot, c), mul(rotateHalf(rot), s)), pass], -1);
}
