/**
 * `generate()`: greedy decoding, sampling and beam search over a decoder-only model, batched,
 * with left padding. The model runs on tensors; the per-step bookkeeping (choosing tokens,
 * masks, positions, stopping) runs on the host over the last position's scores, which
 * `generate` reads out once per step.
 *
 * Positions follow Python: `cumsum(attentionMask) - 1`, with 1 at padding, so a left-padded
 * row sees the same positions as the unpadded prompt would.
 */
import { argmax as argmaxOp, fromBuffer, multinomial, noGrad, scope, slice, type Tensor, tensor } from "@hearth/tensor";
import { ErrorCodes, fail } from "../errors.ts";
import { KVCache as Cache, type KVCache } from "../modeling/kv-cache.ts";
import type { CausalLMInput, CausalLMOutput } from "../modeling/outputs.ts";
import { BeamSearchScorer } from "./beam-search.ts";
import type { GenerationConfig, GenerationOptions } from "./config.ts";
import { buildProcessors, type LogitsProcessor, softmaxRow } from "./logits-process.ts";
import { eosCriterion, type StoppingCriterion, stopStringsCriterion } from "./stopping.ts";
import type { Streamer, TokenDecoder } from "./streamer.ts";

/** What `generate` needs from a model. */
export interface GenerativeModel {
  generationConfig: GenerationConfig;
  forward(input: CausalLMInput): CausalLMOutput;
}

/** Options of `generate`: any {@link GenerationOptions} field plus the per-call extras. */
export interface GenerateOptions extends Partial<GenerationOptions> {
  /** `[B, L]` 1/0 mask; inferred from `padTokenId` when absent (as Python). */
  attentionMask?: Tensor | null;
  /** Use these defaults instead of the model's `generationConfig`. */
  generationConfig?: GenerationConfig;
  /** Receives the prompt and then each new token. */
  streamer?: Streamer;
  /** Needed for `stopStrings`. */
  tokenizer?: TokenDecoder;
  /** Extra processors, run after the built-in ones. */
  logitsProcessor?: LogitsProcessor[];
  /** Extra stopping criteria. */
  stoppingCriteria?: StoppingCriterion[];
}

/** What `generate` returns with `returnDictInGenerate: true`. */
export interface GenerateOutput {
  /** `[B * numReturnSequences, L + new]` int64: prompts followed by the new tokens, padded. */
  sequences: Tensor;
  /** With `outputScores`: per step, the processed scores `[B * rows, V]`. */
  scores?: Tensor[];
  /** Beam search: each returned sequence's final (length-penalised) score. */
  sequencesScores?: Tensor;
}

function toRows(t: Tensor, what: string): number[][] {
  if (t.ndim !== 1 && t.ndim !== 2) {
    throw fail(ErrorCodes.MODEL_BAD_INPUT, `generate: '${what}' must be [batch, length], got ${t.describe()}`);
  }
  if (t.dtype.startsWith("float") || t.dtype === "bfloat16") {
    throw fail(ErrorCodes.MODEL_BAD_INPUT, `generate: '${what}' must hold integers, got ${t.describe()}`);
  }
  const list = t.tolistSync() as number[] | number[][];
  return t.ndim === 1 ? [list as number[]] : (list as number[][]);
}

/** Python's positions for a padded row: `cumsum(mask) - 1`, 1 where the mask is 0. */
export function positionsFromMask(mask: readonly number[]): number[] {
  let c = 0;
  return mask.map((m) => {
    c += m ? 1 : 0;
    return m ? c - 1 : 1;
  });
}

interface Rows {
  seqs: number[][];
  masks: number[][];
}

/** The last position's scores of one step, per row, usable until `release()`. */
interface StepScores {
  rows: Float32Array[];
  release(): void;
}

/**
 * Runs the model on the next chunk of every row and returns the last position's scores, per row:
 * on the CPU, views of the logits' own float32 storage, which stays alive until `release()` (a
 * batch-8 GPT-2 step's logits are 1.6 MB: copied out each step, they cost an allocation, a copy
 * and the collector's work), else a copy. Processors may edit the rows in place either way.
 */
async function step(model: GenerativeModel, rows: Rows, cache: KVCache | null, first: boolean): Promise<StepScores> {
  const B = rows.seqs.length;
  const past = cache && !first ? cache.getSeqLength() : 0;
  const chunk = rows.seqs.map((s) => s.slice(past));
  const positions = rows.masks.map((m) => positionsFromMask(m).slice(past));
  // One scope per step frees every intermediate of the forward pass at once (the cache's
  // buffers are kept); no autograd tape is recorded while generating.
  const last = scope(() =>
    noGrad(() => {
      const out = model.forward({
        inputIds: tensor(chunk, { dtype: "int64" }),
        attentionMask: tensor(rows.masks, { dtype: "int64" }),
        positionIds: tensor(positions, { dtype: "int64" }),
        pastKeyValues: cache,
        logitsToKeep: 1,
      });
      const T = out.logits.shape[1] as number;
      return slice(out.logits, 1, T - 1);
    }),
  );
  const V = last.shape[2] as number;
  let flat: Float32Array;
  let release = () => last.dispose();
  if (last.device === "cpu" && last.dtype === "float32" && last.isContiguous()) {
    const view = last.view_();
    flat = (view.data as Float32Array).subarray(view.offset, view.offset + B * V);
  } else {
    flat = (await last.data()) as Float32Array;
    last.dispose();
    release = () => {};
  }
  const result: Float32Array[] = [];
  for (let b = 0; b < B; b++) result.push(flat.subarray(b * V, (b + 1) * V));
  return { rows: result, release };
}

function padTo(rows: number[][], length: number, pad: number): number[][] {
  return rows.map((r) => [...r, ...new Array<number>(length - r.length).fill(pad)]);
}

/**
 * Generates continuations of `inputIds` (`[B, L]`). Returns the sequences (prompt + new
 * tokens) as an int64 tensor, or a {@link GenerateOutput} with `returnDictInGenerate`.
 *
 * @example
 * const out = await generate(model, ids, { maxNewTokens: 20 }); // greedy
 * const sampled = await generate(model, ids, { doSample: true, topP: 0.9, temperature: 0.7 });
 * const beams = await generate(model, ids, { numBeams: 4, lengthPenalty: 1.0 });
 */
export async function generate(
  model: GenerativeModel,
  inputIds: Tensor,
  options: GenerateOptions = {},
): Promise<Tensor | GenerateOutput> {
  const {
    attentionMask,
    generationConfig,
    streamer,
    tokenizer,
    logitsProcessor = [],
    stoppingCriteria = [],
    ...rest
  } = options;
  const gc = (generationConfig ?? model.generationConfig).update(rest);
  const prompts = toRows(inputIds, "inputIds");
  const L = (prompts[0] as number[]).length;
  const eos = gc.eosTokenIds();
  const pad = gc.padTokenId ?? eos[0] ?? 0;
  let masks: number[][];
  if (attentionMask) {
    masks = toRows(attentionMask, "attentionMask");
    if (masks.length !== prompts.length || (masks[0] as number[]).length !== L) {
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `generate: 'attentionMask' must have the shape of 'inputIds' [${prompts.length}, ${L}], got ${attentionMask.describe()}`,
      );
    }
  } else {
    const infer = gc.padTokenId !== null && !eos.includes(gc.padTokenId) && prompts.some((p) => p.includes(pad));
    masks = prompts.map((p) => p.map((t) => (infer && t === pad ? 0 : 1)));
  }
  const maxNew = gc.maxNewTokens ?? gc.maxLength - L;
  if (!(maxNew >= 0)) {
    throw fail(
      ErrorCodes.GENERATION_BAD_OPTION,
      `generate: maxLength ${gc.maxLength} is below the prompt length ${L}; set maxNewTokens`,
    );
  }
  const minNew = Math.max(gc.minNewTokens ?? 0, gc.minLength - L);
  if (!(gc.numBeams >= 1 && Number.isInteger(gc.numBeams))) {
    throw fail(ErrorCodes.GENERATION_BAD_OPTION, `generate: numBeams must be a positive integer, got ${gc.numBeams}`);
  }
  if (gc.numReturnSequences > gc.numBeams && !gc.doSample) {
    throw fail(
      ErrorCodes.GENERATION_BAD_OPTION,
      `generate: numReturnSequences (${gc.numReturnSequences}) must be at most numBeams (${gc.numBeams}) without sampling`,
    );
  }
  if (gc.doSample && gc.numBeams > 1) {
    throw fail(
      ErrorCodes.GENERATION_BAD_OPTION,
      "generate: sampling with beams (beam sample) is not supported; use doSample or numBeams > 1",
    );
  }
  if (gc.doSample && !(gc.temperature > 0)) {
    throw fail(
      ErrorCodes.GENERATION_BAD_OPTION,
      `generate: temperature must be > 0 when sampling, got ${gc.temperature}`,
    );
  }
  const stops = gc.stopStrings === null ? [] : typeof gc.stopStrings === "string" ? [gc.stopStrings] : gc.stopStrings;
  if (stops.length && !tokenizer) {
    throw fail(ErrorCodes.GENERATION_BAD_OPTION, "generate: stopStrings needs the 'tokenizer' option to decode tokens");
  }
  const processors = [
    ...buildProcessors({
      repetitionPenalty: gc.repetitionPenalty,
      noRepeatNgramSize: gc.noRepeatNgramSize,
      badWordsIds: gc.badWordsIds,
      minNewTokens: minNew,
      eos,
      doSample: gc.doSample,
      temperature: gc.temperature,
      topK: gc.topK,
      topP: gc.topP,
      minP: gc.minP,
      minTokensToKeep: 1,
    }),
    ...logitsProcessor,
  ];
  const criteria: StoppingCriterion[] = [
    ...(stops.length ? [stopStringsCriterion(stops, tokenizer as TokenDecoder, L)] : []),
    ...stoppingCriteria,
  ];
  const ctx: Loop = { model, gc, L, maxNew, eos, pad, processors, criteria, streamer };
  if (gc.numBeams > 1) return beamSearch(ctx, prompts, masks);
  return decode(ctx, prompts, masks);
}

interface Loop {
  model: GenerativeModel;
  gc: GenerationConfig;
  L: number;
  maxNew: number;
  eos: number[];
  pad: number;
  processors: LogitsProcessor[];
  criteria: StoppingCriterion[];
  streamer: Streamer | undefined;
}

function repeatRows<T>(rows: T[], n: number): T[] {
  return rows.flatMap((r) => Array.from({ length: n }, () => structuredClone(r)));
}

function finish(ctx: Loop, seqs: number[][], scores: Float32Array[][], extra: Partial<GenerateOutput> = {}) {
  const V = scores[0]?.[0]?.length ?? 0;
  const sequences = tensor(seqs, { dtype: "int64" });
  if (!ctx.gc.returnDictInGenerate) return sequences;
  const out: GenerateOutput = { sequences, ...extra };
  if (ctx.gc.outputScores) {
    out.scores = scores.map((rows) => {
      const flat = new Float32Array(rows.length * V);
      rows.forEach((r, i) => {
        flat.set(r, i * V);
      });
      return tensor(flat, { shape: [rows.length, V] });
    });
  }
  return out;
}

/** Greedy decoding and sampling. */
async function decode(ctx: Loop, prompts: number[][], promptMasks: number[][]): Promise<Tensor | GenerateOutput> {
  const { gc, processors, eos, pad } = ctx;
  const n = gc.doSample ? gc.numReturnSequences : 1;
  const rows: Rows = { seqs: repeatRows(prompts, n), masks: repeatRows(promptMasks, n) };
  const B = rows.seqs.length;
  const done = new Array<boolean>(B).fill(false);
  const cache = gc.useCache ? new Cache({ capacity: ctx.L + ctx.maxNew }) : null;
  const allScores: Float32Array[][] = [];
  ctx.streamer?.put(rows.seqs.map((s) => [...s]));
  try {
    for (let t = 0; t < ctx.maxNew; t++) {
      const scored = await step(ctx.model, rows, cache, t === 0);
      const stepScores = scored.rows.map((scores, b) => {
        const row = rows.seqs[b] as number[];
        for (const p of processors) p(scores, { tokens: row, newTokens: t });
        return scores;
      });
      if (gc.outputScores) allScores.push(stepScores.map((s) => s.slice()));
      let next: number[];
      if (gc.doSample) {
        const V = (stepScores[0] as Float32Array).length;
        const probs = new Float32Array(B * V);
        stepScores.forEach((s, b) => {
          probs.set(softmaxRow(s), b * V);
        });
        const pt = tensor(probs, { shape: [B, V] });
        const picked = multinomial(pt, 1);
        next = (picked.tolistSync() as number[][]).map((r) => r[0] as number);
        pt.dispose();
        picked.dispose();
      } else {
        next = argmaxRows(stepScores);
      }
      scored.release();
      next = next.map((tok, b) => (done[b] ? pad : tok));
      next.forEach((tok, b) => {
        (rows.seqs[b] as number[]).push(tok);
        (rows.masks[b] as number[]).push(1);
      });
      ctx.streamer?.put(next.map((tok) => [tok]));
      const ended = [eosCriterion(eos)(rows.seqs, t + 1), ...ctx.criteria.map((c) => c(rows.seqs, t + 1))];
      for (let b = 0; b < B; b++) if (ended.some((e) => e[b])) done[b] = true;
      if (done.every(Boolean)) break;
    }
  } finally {
    cache?.dispose();
  }
  ctx.streamer?.end();
  return finish(ctx, rows.seqs, allScores);
}

/**
 * Each row's highest-scoring token, the first on ties and a NaN's where a row holds one (as
 * Python's `torch.argmax`), on the engine's argmax kernel: one native pass over the rows instead
 * of a JavaScript loop (about 200 µs for GPT-2's 50257 scores on this host, 1% of a step).
 */
function argmaxRows(rows: Float32Array[]): number[] {
  const first = rows[0] as Float32Array;
  const V = first.length;
  // step()'s rows are consecutive views of one array: the op reads it in place (fromBuffer).
  const consecutive = rows.every((r, b) => r.buffer === first.buffer && r.byteOffset === first.byteOffset + b * V * 4);
  let flat: Float32Array;
  if (consecutive) {
    flat = new Float32Array(first.buffer, first.byteOffset, rows.length * V);
  } else {
    flat = new Float32Array(rows.length * V);
    rows.forEach((r, b) => {
      flat.set(r, b * V);
    });
  }
  return scope(() =>
    noGrad(() => Array.from(argmaxOp(fromBuffer(flat, "float32", [rows.length, V]), 1).dataSync(), Number)),
  );
}

/**
 * The `n` best (beam score + token score) over the beams of one prompt, best first; `i` is
 * `beam * V + token`. Ties go to the lower index, as a stable sort would.
 */
function topCandidates(rows: Float32Array[], base: number[], n: number): { s: number; i: number }[] {
  const top: { s: number; i: number }[] = [];
  const V = (rows[0] as Float32Array).length;
  rows.forEach((row, k) => {
    const offset = base[k] as number;
    for (let v = 0; v < V; v++) {
      const s = offset + (row[v] as number);
      if (top.length === n && s <= (top[n - 1] as { s: number }).s) continue;
      let at = top.length;
      while (at > 0 && (top[at - 1] as { s: number }).s < s) at--;
      top.splice(at, 0, { s, i: k * V + v });
      if (top.length > n) top.pop();
    }
  });
  return top;
}

function logSoftmaxInPlace(scores: Float32Array): void {
  let max = -Infinity;
  for (const s of scores) if (s > max) max = s;
  let sum = 0;
  for (const s of scores) sum += Math.exp(s - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < scores.length; i++) scores[i] = (scores[i] as number) - lse;
}

/** Beam search (Python's `_beam_search`): `numBeams` running beams per prompt, scored by summed log-probabilities. */
async function beamSearch(ctx: Loop, prompts: number[][], promptMasks: number[][]): Promise<Tensor | GenerateOutput> {
  const { gc, processors, eos, pad, L } = ctx;
  const K = gc.numBeams;
  const batch = prompts.length;
  const rows: Rows = { seqs: repeatRows(prompts, K), masks: repeatRows(promptMasks, K) };
  // Only the first beam of each prompt is live at the start, so the K beams do not all pick the same token.
  let beamScores: number[] = rows.seqs.map((_, i) => (i % K === 0 ? 0 : -1e9));
  const scorer = new BeamSearchScorer(
    batch,
    K,
    gc.lengthPenalty,
    gc.earlyStopping,
    L + ctx.maxNew,
    gc.numReturnSequences,
  );
  const cache = gc.useCache ? new Cache({ capacity: L + ctx.maxNew }) : null;
  const candidates = Math.max(2, 1 + eos.length) * K;
  const allScores: Float32Array[][] = [];
  try {
    for (let t = 0; t < ctx.maxNew; t++) {
      const scored = await step(ctx.model, rows, cache, t === 0);
      const logits = scored.rows;
      logits.forEach((scores, r) => {
        logSoftmaxInPlace(scores);
        for (const p of processors) p(scores, { tokens: rows.seqs[r] as number[], newTokens: t });
      });
      if (gc.outputScores) allScores.push(logits.map((s) => s.slice()));
      const V = (logits[0] as Float32Array).length;
      const candScores: number[][] = [];
      const candTokens: number[][] = [];
      const candBeams: number[][] = [];
      for (let b = 0; b < batch; b++) {
        const top = topCandidates(logits.slice(b * K, (b + 1) * K), beamScores.slice(b * K, (b + 1) * K), candidates);
        candScores.push(top.map((c) => c.s));
        candTokens.push(top.map((c) => c.i % V));
        candBeams.push(top.map((c) => Math.floor(c.i / V)));
      }
      scored.release();
      const next = scorer.process(rows.seqs, candScores, candTokens, candBeams, eos, pad, L);
      rows.seqs = next.beamIndices.map((src, r) => [...(rows.seqs[src] as number[]), next.tokens[r] as number]);
      rows.masks = next.beamIndices.map((src) => [...(rows.masks[src] as number[]), 1]);
      beamScores = next.scores;
      cache?.reorder(next.beamIndices);
      if (scorer.isDone) break;
      if (ctx.criteria.length && ctx.criteria.every((c) => c(rows.seqs, t + 1).every(Boolean))) break;
    }
  } finally {
    cache?.dispose();
  }
  const best = scorer.finalize(rows.seqs, beamScores, L);
  const flat = best.flat();
  const maxLen = Math.max(...flat.map((h) => h.tokens.length));
  return finish(
    ctx,
    padTo(
      flat.map((h) => h.tokens),
      maxLen,
      pad,
    ),
    allScores,
    {
      sequencesScores: tensor(flat.map((h) => h.score)),
    },
  );
}
