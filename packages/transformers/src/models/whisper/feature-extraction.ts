/**
 * `WhisperFeatureExtractor`: raw 16 kHz audio → log-mel features `[B, feature_size, 3000]`,
 * as Python computes them: each waveform zero-padded (or cut) to 30 s, a 400-point STFT with
 * hop 160 over a periodic Hann window, the power spectrum through Slaney mel filters, log10,
 * the last frame dropped, values floored at (max − 8) and mapped by (x + 4) / 4.
 */
import { type Tensor, tensor } from "@hearth/tensor";
import { readAudio } from "../../audio/decode.ts";
import { logMelSpectrogram, melFilterBank } from "../../audio/mel.ts";
import { ErrorCodes, fail } from "../../errors.ts";
import { readPreprocessorConfig } from "../../processors/image-processor.ts";

/** What the extractor accepts: samples (already at `sampling_rate`) or an audio file path (WAV, or any format through ffmpeg). */
export type AudioInput = Float32Array | Float64Array | number[] | string;

/** Options of one call. */
export interface WhisperFeatureOptions {
  /** The rate of the given samples; must equal the extractor's (16 kHz). */
  samplingRate?: number;
  /** Cut audio to 30 s (default true). With false, pad to the longest input (at least 30 s) for long-form generation. */
  truncation?: boolean;
  /** Also return the frame mask `[B, frames]` (1 for real audio). */
  returnAttentionMask?: boolean;
  /** Scale each waveform to zero mean and unit variance over its real samples first (Python's `do_normalize`). */
  doNormalize?: boolean;
}

const f32 = Math.fround;

/**
 * Python's `WhisperFeatureExtractor`, configured by `preprocessor_config.json`.
 *
 * @example
 * const fe = new WhisperFeatureExtractor();
 * const { inputFeatures } = await fe.call("fixtures/data/media/audio/jfk.wav"); // [1, 80, 3000]
 */
export class WhisperFeatureExtractor {
  static readonly processorType: string = "WhisperFeatureExtractor";
  static readonly defaults: Record<string, unknown> = {
    feature_size: 80,
    sampling_rate: 16000,
    hop_length: 160,
    chunk_length: 30,
    n_fft: 400,
    padding_value: 0.0,
    padding_side: "right",
    return_attention_mask: false,
  };

  declare feature_size: number;
  declare sampling_rate: number;
  declare hop_length: number;
  declare chunk_length: number;
  declare n_fft: number;
  declare padding_value: number;
  declare return_attention_mask: boolean;
  /** `[n_fft/2 + 1, feature_size]` Slaney mel filters (Python's `mel_filters`). */
  readonly melFilters: Float64Array;

  constructor(config: Record<string, unknown> = {}) {
    Object.assign(this, structuredClone(WhisperFeatureExtractor.defaults), structuredClone(config));
    (this as Record<string, unknown>).feature_extractor_type = WhisperFeatureExtractor.processorType;
    this.melFilters = melFilterBank(1 + (this.n_fft >> 1), this.feature_size, 0, 8000, this.sampling_rate);
    // Not a config key: keep it out of toDict / JSON.
    Object.defineProperty(this, "melFilters", { enumerable: false });
  }

  /** Samples in 30 s (`chunk_length · sampling_rate`). */
  get nSamples(): number {
    return this.chunk_length * this.sampling_rate;
  }

  /** Frames in 30 s (3000). */
  get nbMaxFrames(): number {
    return this.nSamples / this.hop_length;
  }

  /** Reads `preprocessor_config.json` from a folder. */
  static async fromPretrained(folder: string): Promise<WhisperFeatureExtractor> {
    return new WhisperFeatureExtractor(await readPreprocessorConfig(folder, "WhisperFeatureExtractor.fromPretrained"));
  }

  /** Every config key as on disk. */
  toDict(): Record<string, unknown> {
    return structuredClone({ ...this }) as Record<string, unknown>;
  }

  /** Log-mel features of one padded waveform: `[feature_size, frames]` float32. */
  extract(waveform: Float32Array): Float32Array {
    const { data, frames } = logMelSpectrogram(
      waveform,
      this.n_fft,
      this.hop_length,
      this.melFilters,
      this.feature_size,
    );
    const keep = frames - 1; // Python drops the last frame.
    const out = new Float32Array(this.feature_size * keep);
    let max = -Infinity;
    for (let m = 0; m < this.feature_size; m++) {
      for (let t = 0; t < keep; t++) {
        const v = f32(data[m * frames + t] as number);
        out[m * keep + t] = v;
        if (v > max) max = v;
      }
    }
    const floor = f32(max - 8);
    for (let i = 0; i < out.length; i++) out[i] = f32(f32(Math.max(out[i] as number, floor) + 4) / 4);
    return out;
  }

  /**
   * Features of one waveform or a batch. Strings are read as WAV files.
   *
   * @example
   * const { inputFeatures } = await fe.call([samplesA, samplesB], { samplingRate: 16000 });
   */
  async call(
    audio: AudioInput | AudioInput[],
    options: WhisperFeatureOptions = {},
  ): Promise<{ inputFeatures: Tensor; attentionMask?: Tensor; numFrames: number[] }> {
    const list = Array.isArray(audio) && typeof audio[0] !== "number" ? (audio as AudioInput[]) : [audio as AudioInput];
    const waves: Float32Array[] = [];
    for (const a of list) {
      if (typeof a === "string") {
        waves.push(await readAudio(a, this.sampling_rate));
      } else {
        if (options.samplingRate !== undefined) this.#checkRate(options.samplingRate, "the samples");
        waves.push(a instanceof Float32Array ? a : Float32Array.from(a as ArrayLike<number>));
      }
    }
    return this.fromWaveforms(waves, options);
  }

  #checkRate(rate: number, what: string): void {
    if (rate !== this.sampling_rate) {
      throw fail(
        ErrorCodes.PROCESSOR_BAD_INPUT,
        `WhisperFeatureExtractor: ${what} is sampled at ${rate} Hz but the model expects ${this.sampling_rate} Hz; resample it first`,
      );
    }
  }

  /** Features of decoded waveforms at the extractor's rate. */
  fromWaveforms(
    waves: Float32Array[],
    options: WhisperFeatureOptions = {},
  ): { inputFeatures: Tensor; attentionMask?: Tensor; numFrames: number[] } {
    if (!waves.length) throw fail(ErrorCodes.PROCESSOR_BAD_INPUT, "WhisperFeatureExtractor: no audio given");
    const truncation = options.truncation ?? true;
    const target = truncation ? this.nSamples : Math.max(this.nSamples, ...waves.map((w) => w.length));
    const frames = target / this.hop_length;
    const feats = new Float32Array(waves.length * this.feature_size * frames);
    const numFrames: number[] = [];
    waves.forEach((w, i) => {
      const padded = new Float32Array(target).fill(this.padding_value);
      padded.set(w.subarray(0, target));
      if (options.doNormalize) zeroMeanUnitVar(padded, Math.min(w.length, target), this.padding_value);
      numFrames.push(Math.ceil(Math.min(w.length, target) / this.hop_length));
      feats.set(this.extract(padded), i * this.feature_size * frames);
    });
    const out: { inputFeatures: Tensor; attentionMask?: Tensor; numFrames: number[] } = {
      inputFeatures: tensor(feats, { shape: [waves.length, this.feature_size, frames] }),
      numFrames,
    };
    if (options.returnAttentionMask ?? this.return_attention_mask) {
      out.attentionMask = tensor(
        numFrames.map((n) => Array.from({ length: frames }, (_, t) => (t < n ? 1 : 0))),
        { dtype: "int64" },
      );
    }
    return out;
  }
}

/** Python's `zero_mean_unit_var_norm` on one padded waveform: (x − mean) / √(var + 1e-7) over the first `length` samples, padding reset. */
function zeroMeanUnitVar(x: Float32Array, length: number, paddingValue: number): void {
  let mean = 0;
  for (let i = 0; i < length; i++) mean += x[i] as number;
  mean /= Math.max(length, 1);
  let variance = 0;
  for (let i = 0; i < length; i++) variance += ((x[i] as number) - mean) ** 2;
  variance /= Math.max(length, 1);
  const scale = 1 / Math.sqrt(variance + 1e-7);
  for (let i = 0; i < length; i++) x[i] = ((x[i] as number) - mean) * scale;
  x.fill(paddingValue, length);
}
