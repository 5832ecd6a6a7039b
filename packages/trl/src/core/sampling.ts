/**
 * Synchronous sampling of completions for on-policy trainers. The Trainer calls
 * `forward(batch)` synchronously, so rollouts are drawn inside it with plain forward passes
 * (no KV cache: completions here are short) and the global generator, which the Trainer
 * re-seeds before every micro-batch, so rollouts are reproducible and survive a resume.
 */
import { multinomial, noGrad, type Tensor, tensor } from "@hearth/tensor";

/** A causal LM as the sampler calls it. */
export interface SamplingModel {
  forward(input: { inputIds: Tensor; attentionMask?: Tensor }): { logits: Tensor };
}

/** Options of {@link sampleCompletions}. */
export interface SampleOptions {
  maxNewTokens: number;
  temperature?: number;
  /** Stop a row once it emits this id (kept in the completion). */
  eosTokenId?: number | null;
}

/**
 * Samples `n` completions of one prompt. Returns each completion's ids (up to and including
 * EOS, at most `maxNewTokens`).
 */
export function sampleCompletions(model: SamplingModel, prompt: number[], n: number, o: SampleOptions): number[][] {
  const temperature = o.temperature ?? 1;
  const rows = Array.from({ length: n }, () => [...prompt]);
  const done = new Array(n).fill(false);
  return noGrad(() => {
    for (let step = 0; step < o.maxNewTokens && done.includes(false); step++) {
      const ids = tensor(rows, { dtype: "int64" });
      const logits = model.forward({ inputIds: ids }).logits;
      const t = logits.shape[1] as number;
      const last = logits.narrow(1, t - 1, 1).squeeze(1);
      const probs = (temperature === 1 ? last : last.div(temperature)).softmax(-1);
      const picked = multinomial(probs, 1).dataSync();
      for (let i = 0; i < n; i++) {
        const row = rows[i] as number[];
        // finished rows keep growing with EOS/pad so the batch stays rectangular; trimmed below
        const id = done[i] ? (o.eosTokenId ?? 0) : Number(picked[i]);
        row.push(id);
        if (!done[i] && o.eosTokenId !== null && o.eosTokenId !== undefined && id === o.eosTokenId) done[i] = true;
      }
    }
    return rows.map((r) => {
      const c = r.slice(prompt.length);
      const e = o.eosTokenId === null || o.eosTokenId === undefined ? -1 : c.indexOf(o.eosTokenId);
      return e >= 0 ? c.slice(0, e + 1) : c;
    });
  });
}
