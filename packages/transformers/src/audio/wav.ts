/**
 * Reading WAV files (RIFF, PCM 8/16/24/32-bit integer or 32/64-bit float, any channel count)
 * into float samples as Python's readers give them: integers divided by 2^(bits−1)
 * (int16 / 32768), 8-bit unsigned centred first, channels averaged to mono.
 */
import { readFile } from "node:fs/promises";
import { ErrorCodes, fail } from "../errors.ts";

/** Decoded audio: mono samples in [−1, 1) and their rate. */
export interface Audio {
  samples: Float32Array;
  samplingRate: number;
}

/**
 * Decodes a WAV file (path or bytes).
 *
 * @example
 * const { samples, samplingRate } = await readWav("fixtures/data/media/audio/jfk.wav"); // 176000 at 16 kHz
 */
export async function readWav(source: string | Uint8Array): Promise<Audio> {
  const bytes = typeof source === "string" ? await readFile(source) : source;
  return decodeWav(bytes, typeof source === "string" ? source : "the WAV bytes");
}

/** Synchronous decoding of WAV bytes. */
export function decodeWav(bytes: Uint8Array, what = "the WAV bytes"): Audio {
  const bad = (why: string) => fail(ErrorCodes.PROCESSOR_BAD_INPUT, `readWav: ${what} ${why}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") throw bad("is not a RIFF/WAVE file");
  let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "fmt ") {
      let format = view.getUint16(body, true);
      if (format === 0xfffe && size >= 26) format = view.getUint16(body + 24, true); // WAVE_FORMAT_EXTENSIBLE
      fmt = {
        format,
        channels: view.getUint16(body + 2, true),
        rate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      if (!fmt) throw bad("has its data chunk before the fmt chunk");
      const end = Math.min(body + size, bytes.length);
      return { samples: toMono(view, body, end, fmt, bad), samplingRate: fmt.rate };
    }
    at = body + size + (size & 1);
  }
  throw bad("has no data chunk");
}

function toMono(
  view: DataView,
  start: number,
  end: number,
  fmt: { format: number; channels: number; bits: number },
  bad: (why: string) => Error,
): Float32Array {
  const { format, channels, bits } = fmt;
  const width = bits / 8;
  let read: (o: number) => number;
  if (format === 1 && bits === 16) read = (o) => view.getInt16(o, true) / 32768;
  else if (format === 1 && bits === 8) read = (o) => (view.getUint8(o) - 128) / 128;
  else if (format === 1 && bits === 24) {
    read = (o) => {
      const v = view.getUint8(o) | (view.getUint8(o + 1) << 8) | (view.getInt8(o + 2) << 16);
      return v / 8388608;
    };
  } else if (format === 1 && bits === 32) read = (o) => view.getInt32(o, true) / 2147483648;
  else if (format === 3 && bits === 32) read = (o) => view.getFloat32(o, true);
  else if (format === 3 && bits === 64) read = (o) => view.getFloat64(o, true);
  else throw bad(`uses format ${format} with ${bits} bits; supported: PCM 8/16/24/32-bit, float 32/64-bit`);
  if (channels < 1) throw bad("declares no channels");
  const frames = Math.floor((end - start) / (width * channels));
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += read(start + (i * channels + c) * width);
    out[i] = s / channels;
  }
  return out;
}
