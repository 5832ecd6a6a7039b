/**
 * Mel filter banks and log-mel spectrograms as Python's `transformers.audio_utils` computes
 * them (`mel_filter_bank`, `window_function`, `spectrogram`): Slaney's mel scale and area
 * normalisation, a periodic Hann window, centred frames with reflect padding, the power
 * spectrum through float64 FFTs.
 */
import { rfft } from "./fft.ts";

function hertzToMelSlaney(f: number): number {
  const minLogHertz = 1000;
  const minLogMel = 15;
  const logstep = 27 / Math.log(6.4);
  return f >= minLogHertz ? minLogMel + Math.log(f / minLogHertz) * logstep : (3 * f) / 200;
}

function melToHertzSlaney(m: number): number {
  const minLogHertz = 1000;
  const minLogMel = 15;
  const logstep = Math.log(6.4) / 27;
  return m >= minLogMel ? minLogHertz * Math.exp(logstep * (m - minLogMel)) : (200 * m) / 3;
}

function hertzToMelHtk(f: number): number {
  return 2595 * Math.log10(1 + f / 700);
}

function melToHertzHtk(m: number): number {
  return 700 * (10 ** (m / 2595) - 1);
}

/** NumPy's `linspace`: `start + i·step`, the last value exactly `stop`. */
function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = start + i * step;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/**
 * Triangular mel filters `[numFrequencyBins, numMelFilters]` (row-major), as Python's
 * `mel_filter_bank(..., norm="slaney", mel_scale="slaney")` for Whisper.
 *
 * @example
 * const filters = melFilterBank(201, 80, 0, 8000, 16000); // Whisper's 80-bin bank
 */
export function melFilterBank(
  numFrequencyBins: number,
  numMelFilters: number,
  minFrequency: number,
  maxFrequency: number,
  samplingRate: number,
  options: { norm?: "slaney" | null; melScale?: "slaney" | "htk" } = {},
): Float64Array {
  const scale = options.melScale ?? "slaney";
  const toMel = scale === "slaney" ? hertzToMelSlaney : hertzToMelHtk;
  const toHz = scale === "slaney" ? melToHertzSlaney : melToHertzHtk;
  const mels = linspace(toMel(minFrequency), toMel(maxFrequency), numMelFilters + 2);
  const filterFreqs = mels.map(toHz);
  const fftFreqs = linspace(0, Math.floor(samplingRate / 2), numFrequencyBins);
  const out = new Float64Array(numFrequencyBins * numMelFilters);
  for (let b = 0; b < numFrequencyBins; b++) {
    for (let m = 0; m < numMelFilters; m++) {
      const f = fftFreqs[b] as number;
      const down = -((filterFreqs[m] as number) - f) / ((filterFreqs[m + 1] as number) - (filterFreqs[m] as number));
      const up =
        ((filterFreqs[m + 2] as number) - f) / ((filterFreqs[m + 2] as number) - (filterFreqs[m + 1] as number));
      let v = Math.max(0, Math.min(down, up));
      if ((options.norm ?? "slaney") === "slaney")
        v *= 2 / ((filterFreqs[m + 2] as number) - (filterFreqs[m] as number));
      out[b * numMelFilters + m] = v;
    }
  }
  return out;
}

/** Python's `window_function(n, "hann")` (periodic): 0.5 − 0.5·cos(2πi/n). */
export function hannWindow(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/**
 * log10 of the mel power spectrogram, `[numMel, frames]` row-major in float64 (before
 * Whisper's clamping): frames every `hop` samples of the waveform reflect-padded by n/2 on
 * both sides, each windowed and transformed, |X|² projected through `filters`, floored at
 * 1e-10. The FFT output is rounded to float32 first, as NumPy stores it (complex64).
 */
export function logMelSpectrogram(
  waveform: Float32Array | Float64Array,
  nFft: number,
  hop: number,
  filters: Float64Array,
  numMel: number,
): { data: Float64Array; frames: number } {
  const half = nFft >> 1;
  const n = waveform.length;
  if (n <= half) throw new RangeError(`logMelSpectrogram: ${n} samples are too few for reflect padding of ${half}`);
  const padded = new Float64Array(n + 2 * half);
  for (let i = 0; i < padded.length; i++) {
    let j = i - half;
    if (j < 0) j = -j;
    else if (j >= n) j = 2 * (n - 1) - j;
    padded[i] = waveform[j] as number;
  }
  const frames = 1 + Math.floor((padded.length - nFft) / hop);
  const bins = half + 1;
  const window = hannWindow(nFft);
  const buffer = new Float64Array(nFft);
  const power = new Float64Array(bins);
  const out = new Float64Array(numMel * frames);
  const f32 = Math.fround;
  for (let t = 0; t < frames; t++) {
    for (let i = 0; i < nFft; i++) buffer[i] = (padded[t * hop + i] as number) * (window[i] as number);
    const { re, im } = rfft(buffer);
    for (let k = 0; k < bins; k++) {
      const r = f32(re[k] as number);
      const q = f32(im[k] as number);
      power[k] = r * r + q * q;
    }
    for (let m = 0; m < numMel; m++) {
      let s = 0;
      for (let k = 0; k < bins; k++) s += (filters[k * numMel + m] as number) * (power[k] as number);
      out[m * frames + t] = Math.log10(Math.max(s, 1e-10));
    }
  }
  return { data: out, frames };
}
