/**
 * The automatic-speech-recognition pipeline for Whisper, as Python's
 * `AutomaticSpeechRecognitionPipeline`: audio (a file path or bytes in any format ffmpeg reads,
 * WAV without it, or 16 kHz samples) → log-mel →
 * `generate` → text, with timestamped chunks on request. Audio longer than 30 s is
 * transcribed window by window (Whisper's sequential long-form decoding).
 */
import type { Tensor } from "@hearth/tensor";
import { readAudio, resampleAudio } from "../audio/decode.ts";
import { ErrorCodes, fail } from "../errors.ts";
import type { WhisperFeatureExtractor } from "../models/whisper/feature-extraction.ts";
import {
  splitSegments,
  type WhisperGenerateOptions,
  type WhisperSegment,
  whisperSettings,
} from "../models/whisper/generation.ts";
import type { WhisperForConditionalGeneration } from "../models/whisper/modeling.ts";
import type { PreTrainedTokenizer } from "../tokenizers/tokenizer.ts";

/** Audio the pipeline accepts. */
export type AsrInput = string | Uint8Array | Float32Array | { raw: Float32Array; samplingRate: number };

/** One transcription. */
export interface AsrOutput {
  text: string;
  /** With `returnTimestamps`: segments and their times in seconds. */
  chunks?: { timestamp: [number, number]; text: string }[];
  /** The generated token ids (decoder prompt and end token removed). */
  tokens: number[];
}

/** Options of one call: Whisper's generation options plus the pipeline's. */
export type AsrOptions = WhisperGenerateOptions;

/** A callable speech-recognition pipeline. */
export class AutomaticSpeechRecognitionPipeline {
  constructor(
    readonly model: WhisperForConditionalGeneration,
    readonly featureExtractor: WhisperFeatureExtractor,
    readonly tokenizer: PreTrainedTokenizer | null = null,
  ) {}

  async #samples(input: AsrInput): Promise<Float32Array> {
    const rate = this.featureExtractor.sampling_rate;
    // Files and encoded bytes: WAV at the model's rate directly, anything else through ffmpeg (as Python).
    if (typeof input === "string" || (input instanceof Uint8Array && !(input instanceof Float32Array))) {
      return readAudio(input, rate);
    }
    if (input instanceof Float32Array) return input;
    if (input && input.raw instanceof Float32Array) {
      if (!(input.samplingRate > 0)) {
        throw fail(
          ErrorCodes.PIPELINE_BAD_INPUT,
          "automatic-speech-recognition: { raw, samplingRate } needs a positive samplingRate",
        );
      }
      // Another rate is resampled (through ffmpeg), as Python's pipeline resamples it.
      return resampleAudio(input.raw, input.samplingRate, rate);
    }
    throw fail(
      ErrorCodes.PIPELINE_BAD_INPUT,
      "automatic-speech-recognition: input must be an audio file path or bytes, a Float32Array of samples or { raw, samplingRate }",
    );
  }

  #text(tokens: number[], begin: number | null): string {
    if (!this.tokenizer) return "";
    const plain = begin === null ? tokens : tokens.filter((t) => t < begin);
    return this.tokenizer.decode(plain, { skipSpecialTokens: true });
  }

  /**
   * Transcribes one input or each of a list.
   *
   * @example
   * const { text } = (await asr.call("speech.wav")) as AsrOutput;
   */
  async call(input: AsrInput | AsrInput[], options: AsrOptions = {}): Promise<AsrOutput | AsrOutput[]> {
    const single = !Array.isArray(input);
    const inputs = (single ? [input] : input) as AsrInput[];
    const s = whisperSettings(this.model);
    const begin = s.noTimestampsTokenId === null ? null : s.noTimestampsTokenId + 1;
    const out: AsrOutput[] = [];
    for (const item of inputs) {
      const samples = await this.#samples(item);
      const fe = this.featureExtractor;
      if (samples.length > fe.nSamples) {
        const { inputFeatures, numFrames } = fe.fromWaveforms([samples], { truncation: false });
        const { sequences, segments } = await this.model.generateLongForm(inputFeatures, { ...options, numFrames });
        out.push(this.#result(sequences[0] as number[], segments[0] as WhisperSegment[], begin, true));
        continue;
      }
      const { inputFeatures } = fe.fromWaveforms([samples]);
      const ids = (
        (await this.model.generate(inputFeatures, { ...options, returnDictInGenerate: false })) as Tensor
      ).tolistSync() as number[][];
      const row = ids[0] as number[];
      const promptLength = row.findIndex((t, i) => i > 0 && !isPrompt(t, s));
      let tokens = row.slice(promptLength < 0 ? row.length : promptLength);
      const eos = s.eosTokenId;
      const end = tokens.indexOf(eos);
      if (end >= 0) tokens = tokens.slice(0, end);
      const withTs = Boolean(options.returnTimestamps) && begin !== null;
      const segments = withTs ? splitSegments(tokens, begin as number, 0, fe.nbMaxFrames).segments : [];
      out.push(this.#result(tokens, segments, begin, withTs));
    }
    return single ? (out[0] as AsrOutput) : out;
  }

  #result(tokens: number[], segments: WhisperSegment[], begin: number | null, withTs: boolean): AsrOutput {
    const result: AsrOutput = { text: this.#text(tokens, begin), tokens };
    if (withTs) {
      result.chunks = segments.map((seg) => ({
        timestamp: [round2(seg.start), round2(seg.end)],
        text: this.#text(seg.tokens, begin),
      }));
    }
    return result;
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function isPrompt(t: number, s: ReturnType<typeof whisperSettings>): boolean {
  return (
    t === s.decoderStartTokenId ||
    t === s.noTimestampsTokenId ||
    Object.values(s.langToId ?? {}).includes(t) ||
    Object.values(s.taskToId ?? {}).includes(t)
  );
}
