/**
 * Audio files in any format, as Python's speech pipeline reads them: WAV at the wanted rate is
 * parsed here; anything else (MP3, FLAC, Opus, WAV at another rate) goes through the system
 * `ffmpeg` with the same command Python's `ffmpeg_read` runs (mono, resampled, float32).
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { ErrorCodes, fail } from "../errors.ts";
import { decodeWav } from "./wav.ts";

/** The ffmpeg binary (`HEARTH_FFMPEG` overrides). */
function ffmpegPath(): string {
  return process.env.HEARTH_FFMPEG || "ffmpeg";
}

/**
 * Decodes `bytes` to mono float32 at `samplingRate` through ffmpeg. With `rawRate`, `bytes`
 * are raw mono float32 samples at that rate (resampling only).
 */
export function ffmpegDecode(
  bytes: Uint8Array,
  samplingRate: number,
  what = "the audio",
  rawRate?: number,
): Promise<Float32Array> {
  return new Promise((resolve, reject) => {
    const input = rawRate ? ["-f", "f32le", "-ar", String(rawRate), "-ac", "1"] : [];
    const output = ["-ac", "1", "-ar", String(samplingRate), "-f", "f32le", "-hide_banner", "-loglevel", "quiet"];
    const args = [...input, "-i", "pipe:0", ...output, "pipe:1"];
    const child = spawn(ffmpegPath(), args, { stdio: ["pipe", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.on("error", (error) =>
      reject(
        fail(
          ErrorCodes.PROCESSOR_BAD_INPUT,
          `readAudio: ${what} needs ffmpeg (not WAV at ${samplingRate} Hz), which is not available (${error.message}); install ffmpeg (apt-get install ffmpeg) or pass WAV at ${samplingRate} Hz`,
          error,
        ),
      ),
    );
    child.on("close", (code) => {
      const out = Buffer.concat(chunks);
      if (code !== 0 || out.length === 0) {
        reject(fail(ErrorCodes.PROCESSOR_BAD_INPUT, `readAudio: ffmpeg could not decode ${what} (exit code ${code})`));
        return;
      }
      const aligned = new Float32Array(out.length >> 2);
      new Uint8Array(aligned.buffer).set(out.subarray(0, aligned.length * 4));
      resolve(aligned);
    });
    child.stdin.on("error", () => {});
    child.stdin.end(bytes);
  });
}

/**
 * Mono samples of an audio file (path or bytes) at `samplingRate`.
 *
 * @example
 * const samples = await readAudio("speech.mp3", 16000);
 */
export async function readAudio(source: string | Uint8Array, samplingRate: number): Promise<Float32Array> {
  const bytes = typeof source === "string" ? await readFile(source) : source;
  const what = typeof source === "string" ? source : `${bytes.length} bytes of audio`;
  const isWav = bytes.length > 12 && String.fromCharCode(...bytes.subarray(0, 4)) === "RIFF";
  if (isWav) {
    try {
      const wav = decodeWav(bytes, what);
      if (wav.samplingRate === samplingRate) return wav.samples;
    } catch {
      // A WAV flavour the parser does not read: let ffmpeg try.
    }
  }
  return ffmpegDecode(bytes, samplingRate, what);
}

/**
 * Resamples mono samples from `fromRate` to `toRate` through ffmpeg (Python's pipeline
 * resamples with torchaudio; the two filters differ slightly).
 *
 * @example
 * const at16k = await resampleAudio(samples44k, 44100, 16000);
 */
export function resampleAudio(samples: Float32Array, fromRate: number, toRate: number): Promise<Float32Array> {
  if (fromRate === toRate) return Promise.resolve(samples);
  const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  return ffmpegDecode(bytes, toRate, `${samples.length} samples at ${fromRate} Hz`, fromRate);
}
