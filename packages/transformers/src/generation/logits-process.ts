/**
 * Logits processors and warpers, as Python's `LogitsProcessorList`: each edits the next-token
 * scores of one batch row in place. They run on the host, on the last position's scores only
 * (`[vocab]` per row), after the model's forward pass; the order is Python's (processors, then
 * temperature, top-k, top-p, min-p).
 */

/** What a processor sees for one row. */
export interface RowContext {
  /** The row's tokens so far (prompt + generated), padding included. */
  tokens: readonly number[];
  /** Number of tokens generated so far for this row. */
  newTokens: number;
}

/** One processor: edits `scores` (one row, `[vocab]`) in place. */
export type LogitsProcessor = (scores: Float32Array, ctx: RowContext) => void;

/** Python's `RepetitionPenaltyLogitsProcessor`: divides positive (multiplies negative) scores of seen tokens. */
export function repetitionPenalty(penalty: number): LogitsProcessor {
  return (scores, { tokens }) => {
    const seen = new Set(tokens);
    for (const t of seen) {
      const s = scores[t] as number;
      scores[t] = s < 0 ? s * penalty : s / penalty;
    }
  };
}

/** Python's `NoRepeatNGramLogitsProcessor`: bans tokens that would repeat an n-gram of the row. */
export function noRepeatNgram(n: number): LogitsProcessor {
  return (scores, { tokens }) => {
    if (tokens.length + 1 < n) return;
    const prefix = tokens.slice(tokens.length - n + 1).join(",");
    for (let i = 0; i + n <= tokens.length; i++) {
      if (tokens.slice(i, i + n - 1).join(",") === prefix) scores[tokens[i + n - 1] as number] = -Infinity;
    }
  };
}

/** Python's `NoBadWordsLogitsProcessor`: bans the last token of each sequence whose prefix the row ends with. */
export function badWords(sequences: readonly (readonly number[])[]): LogitsProcessor {
  return (scores, { tokens }) => {
    for (const seq of sequences) {
      const head = seq.slice(0, -1);
      const tail = seq[seq.length - 1];
      if (tail === undefined || head.length > tokens.length) continue;
      const end = tokens.slice(tokens.length - head.length);
      if (head.every((t, i) => end[i] === t)) scores[tail] = -Infinity;
    }
  };
}

/** Python's `MinNewTokensLengthLogitsProcessor` (and `MinLength`): bans EOS until enough tokens exist. */
export function minNewTokens(minNew: number, eos: readonly number[]): LogitsProcessor {
  return (scores, { newTokens }) => {
    if (newTokens < minNew) for (const e of eos) scores[e] = -Infinity;
  };
}

/** Python's `TemperatureLogitsWarper`. */
export function temperature(t: number): LogitsProcessor {
  return (scores) => {
    for (let i = 0; i < scores.length; i++) scores[i] = (scores[i] as number) / t;
  };
}

/** Python's `TopKLogitsWarper`: keeps the k highest scores (ties with the k-th kept). */
export function topK(k: number, minTokensToKeep = 1): LogitsProcessor {
  return (scores) => {
    const keep = Math.min(Math.max(k, minTokensToKeep), scores.length);
    if (keep >= scores.length) return;
    const kth = Float32Array.from(scores).sort().reverse()[keep - 1] as number;
    for (let i = 0; i < scores.length; i++) if ((scores[i] as number) < kth) scores[i] = -Infinity;
  };
}

/** Softmax of a row in float64, for the probability-based warpers and sampling. */
export function softmaxRow(scores: Float32Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) if (s > max) max = s;
  const p = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const e = max === -Infinity ? 0 : Math.exp((scores[i] as number) - max);
    p[i] = e;
    sum += e;
  }
  for (let i = 0; i < p.length; i++) p[i] = (p[i] as number) / sum;
  return p;
}

/**
 * Python's `TopPLogitsWarper` (nucleus): removes the lowest-probability tokens whose cumulative
 * probability, counted from the bottom, is at most 1 - p.
 */
export function topP(p: number, minTokensToKeep = 1): LogitsProcessor {
  return (scores) => {
    const probs = softmaxRow(scores);
    const order = Array.from(probs.keys()).sort((a, b) => (probs[a] as number) - (probs[b] as number) || a - b);
    let cum = 0;
    const n = order.length;
    for (let r = 0; r < n - minTokensToKeep; r++) {
      const i = order[r] as number;
      cum += probs[i] as number;
      if (cum > 1 - p) break;
      scores[i] = -Infinity;
    }
  };
}

/** Python's `MinPLogitsWarper`: drops tokens below `minP` times the top probability. */
export function minP(minP: number, minTokensToKeep = 1): LogitsProcessor {
  return (scores) => {
    const probs = softmaxRow(scores);
    let top = 0;
    for (const q of probs) if (q > top) top = q;
    const threshold = minP * top;
    const order = Array.from(probs.keys()).sort((a, b) => (probs[b] as number) - (probs[a] as number));
    order.forEach((i, rank) => {
      if (rank >= minTokensToKeep && (probs[i] as number) < threshold) scores[i] = -Infinity;
    });
  };
}

/** Options that decide which processors run. */
export interface ProcessorOptions {
  repetitionPenalty: number;
  noRepeatNgramSize: number;
  badWordsIds: number[][] | null;
  minNewTokens: number;
  eos: number[];
  doSample: boolean;
  temperature: number;
  topK: number;
  topP: number;
  minP: number | null;
  /** Beam search keeps at least 2 per beam through the warpers. */
  minTokensToKeep: number;
}

/** The processors Python builds for these options, in Python's order. */
export function buildProcessors(o: ProcessorOptions): LogitsProcessor[] {
  const list: LogitsProcessor[] = [];
  if (o.repetitionPenalty !== 1) list.push(repetitionPenalty(o.repetitionPenalty));
  if (o.noRepeatNgramSize > 0) list.push(noRepeatNgram(o.noRepeatNgramSize));
  if (o.badWordsIds?.length) list.push(badWords(o.badWordsIds));
  if (o.minNewTokens > 0 && o.eos.length > 0) list.push(minNewTokens(o.minNewTokens, o.eos));
  if (o.doSample) {
    if (o.temperature !== 1) list.push(temperature(o.temperature));
    if (o.topK > 0) list.push(topK(o.topK, o.minTokensToKeep));
    if (o.topP < 1) list.push(topP(o.topP, o.minTokensToKeep));
    if (o.minP !== null && o.minP > 0) list.push(minP(o.minP, o.minTokensToKeep));
  }
  return list;
}
