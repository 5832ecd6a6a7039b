/**
 * Whisper's `generate`, as Python's `WhisperForConditionalGeneration.generate`: the encoder runs
 * once, the decoder prompt is built from the generation config (start token, language, task,
 * `<|notimestamps|>`), the decoding loop is the shared `generate` over a decoder-only view of
 * the model (self-attention KV cache plus cross-attention keys/values computed once), with
 * Whisper's logits processors (suppressed tokens, suppressed-at-begin tokens, the timestamp
 * rules). Audio longer than 30 s is transcribed window by window, seeking to the last
 * predicted timestamp as Python's sequential long-form decoding does.
 */
import { keep, narrow, noGrad, pad, scope, type Tensor, tensor } from "@hearth/tensor";
import { ErrorCodes, fail } from "../../errors.ts";
import {
  type GenerateOptions,
  type GenerateOutput,
  type GenerativeModel,
  generate,
} from "../../generation/generate.ts";
import type { LogitsProcessor } from "../../generation/logits-process.ts";
import type { CausalLMInput, CausalLMOutput } from "../../modeling/outputs.ts";
import { CrossAttentionCache, repeatRows, type WhisperForConditionalGeneration } from "./modeling.ts";

/** Seconds per timestamp token step and mel frames per encoder position. */
const TIME_PRECISION = 0.02;
const INPUT_STRIDE = 2;

/** Options of Whisper's `generate`. */
export interface WhisperGenerateOptions extends GenerateOptions {
  /** Language code ("en", "fr") or token ("<|en|>"); multilingual models detect it when absent. */
  language?: string;
  /** "transcribe" (default) or "translate" (to English). */
  task?: "transcribe" | "translate";
  /** Predict timestamp tokens (segments); required for audio longer than 30 s. */
  returnTimestamps?: boolean;
  /** Decoder prompt ids `[B, P]` to use instead of the one built from language and task. */
  decoderInputIds?: number[][];
}

/** One transcribed segment of long-form (or timestamped) decoding. */
export interface WhisperSegment {
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
  /** The segment's tokens, its two timestamps included. */
  tokens: number[];
}

/** What `generateLongForm` returns per batch row. */
export interface WhisperLongFormOutput {
  /** All segments' tokens, after the decoder prompt of the first window. */
  sequences: number[][];
  segments: WhisperSegment[][];
}

/** The Whisper-specific generation settings of `generation_config.json`. */
export interface WhisperGenerationSettings {
  decoderStartTokenId: number;
  langToId: Record<string, number> | null;
  taskToId: Record<string, number> | null;
  noTimestampsTokenId: number | null;
  suppressTokens: number[];
  beginSuppressTokens: number[];
  maxInitialTimestampIndex: number | null;
  forcedDecoderIds: [number, number | null][] | null;
  eosTokenId: number;
}

/** Reads the Whisper keys of the model's generation config (falling back to `config.json`). */
export function whisperSettings(model: WhisperForConditionalGeneration): WhisperGenerationSettings {
  const x = model.generationConfig.extra;
  const c = model.config;
  const num = (v: unknown): number | null => (typeof v === "number" ? v : null);
  return {
    decoderStartTokenId: num(x.decoder_start_token_id) ?? c.decoder_start_token_id,
    langToId: (x.lang_to_id as Record<string, number> | undefined) ?? null,
    taskToId: (x.task_to_id as Record<string, number> | undefined) ?? null,
    noTimestampsTokenId: num(x.no_timestamps_token_id),
    suppressTokens: (x.suppress_tokens as number[] | undefined) ?? c.suppress_tokens ?? [],
    beginSuppressTokens: (x.begin_suppress_tokens as number[] | undefined) ?? c.begin_suppress_tokens ?? [],
    maxInitialTimestampIndex: num(x.max_initial_timestamp_index),
    forcedDecoderIds: (x.forced_decoder_ids as [number, number | null][] | undefined) ?? null,
    eosTokenId: model.generationConfig.eosTokenIds()[0] ?? (c.eos_token_id as number),
  };
}

function languageToken(s: WhisperGenerationSettings, language: string): number {
  const key = language.startsWith("<|") ? language : `<|${language.toLowerCase()}|>`;
  const id = s.langToId?.[key];
  if (id === undefined) {
    throw fail(
      ErrorCodes.GENERATION_BAD_OPTION,
      `WhisperForConditionalGeneration.generate: language '${language}' is not in the generation config's lang_to_id${s.langToId ? ` (${Object.keys(s.langToId).slice(0, 12).join(", ")}, …)` : " (this model is English-only)"}`,
    );
  }
  return id;
}

/** `<|startoftranscript|>`, then language, task and `<|notimestamps|>` as Python's `_retrieve_init_tokens`. */
function initTokens(
  s: WhisperGenerationSettings,
  opts: { language?: string; task?: string; returnTimestamps?: boolean },
  detected?: number,
): number[] {
  const init = [s.decoderStartTokenId];
  if (s.langToId) {
    const lang = opts.language ? languageToken(s, opts.language) : detected;
    if (lang !== undefined) init.push(lang);
    const task = opts.task ?? "transcribe";
    const taskId = s.taskToId?.[task];
    if (taskId === undefined) {
      throw fail(
        ErrorCodes.GENERATION_BAD_OPTION,
        `WhisperForConditionalGeneration.generate: task '${task}' is not in task_to_id (${Object.keys(s.taskToId ?? {}).join(", ")})`,
      );
    }
    init.push(taskId);
  } else if (opts.language || opts.task) {
    if (
      opts.task === "translate" ||
      (opts.language && !["en", "english", "<|en|>"].includes(opts.language.toLowerCase()))
    ) {
      throw fail(
        ErrorCodes.GENERATION_BAD_OPTION,
        "WhisperForConditionalGeneration.generate: this model is English-only (no lang_to_id); it cannot take another language or translate",
      );
    }
  } else if (s.forcedDecoderIds) {
    for (const [, id] of [...s.forcedDecoderIds].sort((a, b) => a[0] - b[0])) if (id !== null) init.push(id);
  }
  if (!opts.returnTimestamps && s.noTimestampsTokenId !== null && init.at(-1) !== s.noTimestampsTokenId) {
    init.push(s.noTimestampsTokenId);
  }
  if (opts.returnTimestamps && init.at(-1) === s.noTimestampsTokenId) init.pop();
  return init;
}

function setInf(scores: Float32Array, from: number, to: number): void {
  for (let i = Math.max(0, from); i < Math.min(to, scores.length); i++) scores[i] = -Infinity;
}

/** Python's `WhisperTimeStampLogitsProcessor`: timestamps come in pairs, never decrease, and win when likelier in sum. */
export function timestampProcessor(s: WhisperGenerationSettings): LogitsProcessor {
  if (s.noTimestampsTokenId === null) {
    throw fail(
      ErrorCodes.GENERATION_BAD_OPTION,
      "WhisperForConditionalGeneration.generate: returnTimestamps needs no_timestamps_token_id in the generation config",
    );
  }
  const notime = s.noTimestampsTokenId;
  const begin = notime + 1;
  return (scores, { tokens, newTokens }) => {
    scores[notime] = -Infinity;
    const seq = tokens.slice(tokens.length - newTokens);
    const lastTs = seq.length >= 1 && (seq.at(-1) as number) >= begin;
    const penultimateTs = seq.length < 2 || (seq.at(-2) as number) >= begin;
    if (lastTs) {
      if (penultimateTs) setInf(scores, begin, scores.length);
      else setInf(scores, 0, s.eosTokenId);
    }
    const stamps = seq.filter((t) => t >= begin);
    if (stamps.length) {
      const last = stamps.at(-1) as number;
      setInf(scores, begin, lastTs && !penultimateTs ? last : last + 1);
    }
    if (newTokens === 0) {
      setInf(scores, 0, begin);
      if (s.maxInitialTimestampIndex !== null) setInf(scores, begin + s.maxInitialTimestampIndex + 1, scores.length);
    }
    // log-softmax, then compare the timestamps' total mass with the best text token.
    let max = -Infinity;
    for (const v of scores) if (v > max) max = v;
    let total = 0;
    for (const v of scores) total += Math.exp(v - max);
    const lse = max + Math.log(total);
    let tsMax = -Infinity;
    for (let i = begin; i < scores.length; i++) if ((scores[i] as number) > tsMax) tsMax = scores[i] as number;
    let tsSum = 0;
    for (let i = begin; i < scores.length; i++) tsSum += Math.exp((scores[i] as number) - tsMax);
    const tsLogprob = tsMax + Math.log(tsSum) - lse;
    let textMax = -Infinity;
    for (let i = 0; i < begin; i++) if ((scores[i] as number) > textMax) textMax = scores[i] as number;
    if (tsLogprob > textMax - lse) setInf(scores, 0, begin);
  };
}

function suppressProcessors(s: WhisperGenerationSettings): LogitsProcessor[] {
  const out: LogitsProcessor[] = [];
  if (s.suppressTokens.length) {
    out.push((scores) => {
      for (const t of s.suppressTokens) if (t < scores.length) scores[t] = -Infinity;
    });
  }
  if (s.beginSuppressTokens.length) {
    out.push((scores, { newTokens }) => {
      if (newTokens === 0) for (const t of s.beginSuppressTokens) if (t < scores.length) scores[t] = -Infinity;
    });
  }
  return out;
}

/** The decoder as a decoder-only model over a fixed encoder output, for the shared `generate`. */
function decoderView(
  model: WhisperForConditionalGeneration,
  encoder: Tensor,
  cross: CrossAttentionCache,
): GenerativeModel {
  const encRows = encoder.shape[0] as number;
  return {
    generationConfig: model.generationConfig,
    forward(input: CausalLMInput): CausalLMOutput {
      const rows = input.inputIds.shape[0] as number;
      const out = model.forward({
        encoderOutputs: rows === encRows ? encoder : repeatRows(encoder, rows / encRows),
        decoderInputIds: input.inputIds,
        decoderPositionIds: input.positionIds,
        pastKeyValues: input.pastKeyValues,
        crossAttentionCache: cross,
        logitsToKeep: input.logitsToKeep,
      });
      return { logits: out.logits, pastKeyValues: out.pastKeyValues };
    },
  };
}

/** The most likely language token for each row (Python's `detect_language`): one decoder step from the start token. */
function detectLanguage(
  model: WhisperForConditionalGeneration,
  encoder: Tensor,
  s: WhisperGenerationSettings,
): number[] {
  const langs = Object.values(s.langToId ?? {});
  return scope(() =>
    noGrad(() => {
      const B = encoder.shape[0] as number;
      const out = model.forward({
        encoderOutputs: encoder,
        decoderInputIds: tensor(
          Array.from({ length: B }, () => [s.decoderStartTokenId]),
          { dtype: "int64" },
        ),
      });
      const V = out.logits.shape[2] as number;
      const flat = out.logits.dataSync() as Float32Array;
      return Array.from({ length: B }, (_, b) => {
        let best = langs[0] as number;
        for (const id of langs) if ((flat[b * V + id] as number) > (flat[b * V + best] as number)) best = id;
        return best;
      });
    }),
  );
}

/**
 * Short-form generation (features `[B, M, 3000]`): returns the sequences `[B, P + new]`
 * including the decoder prompt, as Python does.
 */
export async function whisperGenerate(
  model: WhisperForConditionalGeneration,
  inputFeatures: Tensor,
  options: WhisperGenerateOptions = {},
): Promise<Tensor | GenerateOutput> {
  const { language, task, returnTimestamps, decoderInputIds, logitsProcessor = [], ...rest } = options;
  const s = whisperSettings(model);
  const encoder = keep(noGrad(() => model.model.encoder.forward(inputFeatures).lastHiddenState));
  const cross = new CrossAttentionCache();
  try {
    const B = encoder.shape[0] as number;
    let prompts: number[][];
    if (decoderInputIds) prompts = decoderInputIds;
    else if (s.langToId && !language) {
      const detected = detectLanguage(model, encoder, s);
      prompts = detected.map((d) => initTokens(s, { task, returnTimestamps }, d));
    } else {
      const init = initTokens(s, { language, task, returnTimestamps });
      prompts = Array.from({ length: B }, () => [...init]);
    }
    if (prompts.length !== B) {
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `WhisperForConditionalGeneration.generate: 'decoderInputIds' has ${prompts.length} rows for ${B} inputs`,
      );
    }
    const processors = [
      ...suppressProcessors(s),
      ...(returnTimestamps ? [timestampProcessor(s)] : []),
      ...logitsProcessor,
    ];
    const view = decoderView(model, encoder, cross);
    // Beam search repeats each prompt's row; the cross-attention rows of one prompt are equal,
    // so reordering the self-attention cache is enough.
    return await generate(view, tensor(prompts, { dtype: "int64" }), { ...rest, logitsProcessor: processors });
  } finally {
    cross.dispose();
    encoder.dispose();
  }
}

/**
 * Python's `_retrieve_segment`: splits one window's generated tokens at consecutive
 * timestamps and returns the segments and how many mel frames to advance.
 */
export function splitSegments(
  tokens: number[],
  timestampBegin: number,
  timeOffset: number,
  windowFrames: number,
): { segments: WhisperSegment[]; advance: number } {
  const isTs = tokens.map((t) => t >= timestampBegin);
  const singleEnding = isTs.length >= 2 && !isTs[isTs.length - 2] && isTs[isTs.length - 1] === true;
  const cuts: number[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) if (isTs[i] && isTs[i + 1]) cuts.push(i + 1);
  const at = (t: number) => timeOffset + (t - timestampBegin) * TIME_PRECISION;
  if (cuts.length) {
    if (singleEnding) cuts.push(tokens.length);
    const segments: WhisperSegment[] = [];
    let last = 0;
    for (const cut of cuts) {
      const piece = tokens.slice(last, cut);
      segments.push({ start: at(piece[0] as number), end: at(piece.at(-1) as number), tokens: piece });
      last = cut;
    }
    const advance = singleEnding ? windowFrames : ((tokens[last - 1] as number) - timestampBegin) * INPUT_STRIDE;
    return { segments, advance };
  }
  const stamps = tokens.filter((t) => t >= timestampBegin);
  let lastPos = windowFrames / INPUT_STRIDE;
  if (stamps.length && stamps.at(-1) !== timestampBegin) lastPos = (stamps.at(-1) as number) - timestampBegin;
  return {
    segments: [{ start: timeOffset, end: timeOffset + lastPos * TIME_PRECISION, tokens }],
    advance: windowFrames,
  };
}

/**
 * Long-form transcription of features `[B, M, F]` with F > 3000 (the feature extractor's
 * output with `truncation: false`): 30 s windows decoded with timestamps, each starting at
 * the last complete segment of the previous one. `numFrames[b]` is row b's real length.
 */
export async function whisperGenerateLongForm(
  model: WhisperForConditionalGeneration,
  inputFeatures: Tensor,
  options: WhisperGenerateOptions & { numFrames?: number[] } = {},
): Promise<WhisperLongFormOutput> {
  const { numFrames, ...rest } = options;
  const s = whisperSettings(model);
  if (s.noTimestampsTokenId === null) {
    throw fail(
      ErrorCodes.GENERATION_BAD_OPTION,
      "WhisperForConditionalGeneration.generate: audio longer than 30 s needs timestamp tokens (no_timestamps_token_id in the generation config)",
    );
  }
  const begin = s.noTimestampsTokenId + 1;
  const window = 2 * model.config.max_source_positions;
  const [B, , F] = inputFeatures.shape as [number, number, number];
  const out: WhisperLongFormOutput = { sequences: [], segments: [] };
  for (let b = 0; b < B; b++) {
    const total = numFrames?.[b] ?? F;
    const row = narrow(inputFeatures, 0, b, 1);
    const segments: WhisperSegment[] = [];
    let seek = 0;
    while (seek < total) {
      const frames = Math.min(window, total - seek);
      const piece = narrow(row, 2, seek, frames);
      const padded = frames < window ? pad(piece, [0, window - frames]) : piece;
      const gen = (await whisperGenerate(model, padded, {
        ...rest,
        returnTimestamps: true,
        returnDictInGenerate: false,
      })) as Tensor;
      const seq = (gen.tolistSync() as number[][])[0] as number[];
      const init = initPromptLength(seq, s, begin);
      let tokens = seq.slice(init);
      while (tokens.length && (tokens.at(-1) === s.eosTokenId || tokens.at(-1) === model.generationConfig.padTokenId))
        tokens = tokens.slice(0, -1);
      const { segments: found, advance } = splitSegments(tokens, begin, (seek * TIME_PRECISION) / INPUT_STRIDE, frames);
      segments.push(...found);
      seek += Math.max(advance, 1);
    }
    out.segments.push(segments);
    out.sequences.push(segments.flatMap((seg) => seg.tokens));
  }
  return out;
}

/** Length of the decoder prompt at the start of a generated row: tokens before the first timestamp or text token. */
function initPromptLength(seq: number[], s: WhisperGenerationSettings, begin: number): number {
  const special = new Set<number>([
    s.decoderStartTokenId,
    ...Object.values(s.langToId ?? {}),
    ...Object.values(s.taskToId ?? {}),
  ]);
  let i = 0;
  while (i < seq.length && special.has(seq[i] as number) && (seq[i] as number) < begin) i++;
  return i;
}
