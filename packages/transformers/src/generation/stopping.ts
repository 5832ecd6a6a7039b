/**
 * Stopping criteria, as Python's `StoppingCriteriaList`: each looks at every row after a step
 * and says which rows are finished. `generate` builds the length, EOS and stop-string ones;
 * users may pass more.
 */
import type { TokenDecoder } from "./streamer.ts";

/** Given every row's tokens and the count generated so far, which rows are done. */
export type StoppingCriterion = (sequences: readonly (readonly number[])[], newTokens: number) => boolean[];

/** Done once `maxNewTokens` tokens were generated. */
export function maxNewTokensCriterion(maxNewTokens: number): StoppingCriterion {
  return (sequences, newTokens) => sequences.map(() => newTokens >= maxNewTokens);
}

/** Done when the row's last token is one of `eos`. */
export function eosCriterion(eos: readonly number[]): StoppingCriterion {
  return (sequences) => sequences.map((s) => eos.includes(s[s.length - 1] as number));
}

/**
 * Python's `StopStringCriteria`: done when the decoded continuation (the tokens after the
 * prompt) contains one of `stops`. Checked every step, so the match ends in the last token.
 */
export function stopStringsCriterion(
  stops: readonly string[],
  tokenizer: TokenDecoder,
  promptLength: number,
): StoppingCriterion {
  return (sequences) =>
    sequences.map((s) => {
      const text = tokenizer.decode([...s.slice(promptLength)], { skipSpecialTokens: false });
      return stops.some((stop) => text.includes(stop));
    });
}
