/**
 * Parts shared by the bidirectional encoders (BERT, RoBERTa, DistilBERT, ViT, Whisper's
 * encoder): multi-head self-attention over separate query/key/value projections, and the loop
 * that runs a layer stack while collecting hidden states and attention probabilities. Each
 * family keeps its own modules and parameter names; only the arithmetic lives here.
 *
 * Shapes: B batch, T positions, E hidden size, H heads, D = E / H.
 */
import { type Linear, reshape, type Tensor, transpose } from "@hearth/tensor";
import { ErrorCodes, fail } from "../errors.ts";
import { scaledDotProductAttention } from "./attention.ts";
import type { EncoderOutput } from "./encoder-outputs.ts";

/** One layer's result: its output and, when asked for, its attention probabilities `[B, H, T, T]`. */
export interface LayerOutput {
  output: Tensor;
  probs?: Tensor;
}

/** A layer of an encoder stack: `x` `[B, T, E]` and the additive mask `[B|1, 1, 1|T, T]`. */
export interface EncoderLayer {
  forward(x: Tensor, mask: Tensor, outputAttentions: boolean): LayerOutput;
}

/** Throws unless `hidden` splits evenly over `heads`; the message names the module and both config fields. */
export function checkHeads(
  where: string,
  hidden: number,
  heads: number,
  fields: [string, string] = ["hidden_size", "num_attention_heads"],
): void {
  if (hidden % heads !== 0) {
    throw fail(
      ErrorCodes.MODEL_BAD_INPUT,
      `${where}: ${fields[0]} ${hidden} is not a multiple of ${fields[1]} ${heads}`,
    );
  }
}

/**
 * softmax(q·kᵀ/√D + mask)·v over H heads, with q, k, v projected from `x`, merged back to
 * `[B, T, E]` (the output projection is the caller's). `dropout` acts on the probabilities
 * (training only); `outputAttentions` returns them.
 */
export function multiHeadSelfAttention(
  x: Tensor,
  projections: { query: Linear; key: Linear; value: Linear },
  heads: number,
  mask: Tensor,
  opts: { outputAttentions?: boolean; dropout?: (probs: Tensor) => Tensor },
): LayerOutput {
  const [B, T, E] = x.shape as [number, number, number];
  const D = E / heads;
  const split = (t: Tensor) => transpose(reshape(t, [B, T, heads, D]), 1, 2);
  const { output, probs } = scaledDotProductAttention(
    split(projections.query.forward(x)),
    split(projections.key.forward(x)),
    split(projections.value.forward(x)),
    mask,
    1 / Math.sqrt(D),
    { returnProbs: opts.outputAttentions, dropout: opts.dropout },
  );
  return { output: reshape(transpose(output, 1, 2), [B, T, E]), probs };
}

/**
 * Runs `h` through every layer. `hiddenStates` (with `outputHiddenStates`) are the input and
 * each layer's output, `[input, layer 1, …, layer N]`; `lastHiddenState` is layer N's output
 * (a family with a final norm applies it itself).
 */
export function runEncoderLayers(
  layers: Iterable<EncoderLayer>,
  h: Tensor,
  mask: Tensor,
  opts: { outputHiddenStates?: boolean; outputAttentions?: boolean },
): EncoderOutput {
  const hiddenStates: Tensor[] = [];
  const attentions: Tensor[] = [];
  for (const layer of layers) {
    if (opts.outputHiddenStates) hiddenStates.push(h);
    const out = layer.forward(h, mask, opts.outputAttentions ?? false);
    h = out.output;
    if (out.probs) attentions.push(out.probs);
  }
  if (opts.outputHiddenStates) hiddenStates.push(h);
  return {
    lastHiddenState: h,
    hiddenStates: opts.outputHiddenStates ? hiddenStates : undefined,
    attentions: opts.outputAttentions ? attentions : undefined,
  };
}
