/** What every decoder's language-modelling head does after its base model: logits and loss. */
import { slice, type Tensor } from "@hearth/tensor";
import { causalLMLoss } from "./loss.ts";
import type { CausalLMInput, CausalLMOutput, DecoderOutput } from "./outputs.ts";

/**
 * The last `logitsToKeep` positions of `hidden` `[B, T, C]`; all of them when it is unset or when
 * labels are given (the loss needs every position).
 */
export function lastPositions(hidden: Tensor, input: { logitsToKeep?: number; labels?: Tensor | null }): Tensor {
  const T = hidden.shape[1] as number;
  const keep = input.logitsToKeep && !input.labels ? Math.min(input.logitsToKeep, T) : T;
  return keep === T ? hidden : slice(hidden, 1, T - keep);
}

/** A causal LM's output from its base model's output and its `lm_head` (Python's `CausalLMOutputWithPast`). */
export function causalLMOutput(
  out: DecoderOutput,
  lmHead: { forward(x: Tensor): Tensor },
  input: CausalLMInput,
): CausalLMOutput {
  const logits = lmHead.forward(lastPositions(out.lastHiddenState, input));
  return {
    logits,
    loss: input.labels ? causalLMLoss(logits, input.labels) : undefined,
    hiddenStates: out.hiddenStates,
    attentions: out.attentions,
    pastKeyValues: out.pastKeyValues,
  };
}
