/**
 * Lazily decoded Image and Audio values. A row's image or audio cell is stored as
 * `{bytes, path}`; reading the row gives a {@link LazyImage} / {@link LazyAudio} that touches the
 * bytes only when asked (`size()`, `decode()`).
 */
import { readFileSync } from "node:fs";
import { fail } from "../errors.ts";

function loadBytes(bytes: Uint8Array | null, path: string | null, what: string): Uint8Array {
  if (bytes && bytes.byteLength > 0) return bytes;
  if (path) {
    try {
      return new Uint8Array(readFileSync(path));
    } catch (error) {
      throw fail("HEARTH_DATASETS_DECODE_FAILED", `${what}: cannot read '${path}': ${(error as Error).message}`, error);
    }
  }
  throw fail("HEARTH_DATASETS_DECODE_FAILED", `${what}: the value has neither bytes nor a path`);
}

/** An image cell: raw encoded bytes and/or a path, decoded on demand. */
export class LazyImage {
  constructor(
    readonly path: string | null,
    private readonly rawBytes: Uint8Array | null,
  ) {}

  /** The encoded file bytes (PNG, JPEG...), read from `path` when not embedded. */
  bytes(): Uint8Array {
    return loadBytes(this.rawBytes, this.path, "Image");
  }

  /** Width and height from the PNG/JPEG/GIF header, without decoding pixels. */
  size(): { width: number; height: number; format: string } {
    const b = this.bytes();
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
      return { width: dv.getUint32(16), height: dv.getUint32(20), format: "png" };
    }
    if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) {
      return { width: dv.getUint16(6, true), height: dv.getUint16(8, true), format: "gif" };
    }
    if (b[0] === 0xff && b[1] === 0xd8) {
      let i = 2;
      while (i + 9 < b.length) {
        if (b[i] !== 0xff) {
          i++;
          continue;
        }
        const marker = b[i + 1];
        const len = dv.getUint16(i + 2);
        // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) carry the frame size.
        if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
          return { width: dv.getUint16(i + 7), height: dv.getUint16(i + 5), format: "jpeg" };
        }
        i += 2 + len;
      }
    }
    throw fail("HEARTH_DATASETS_DECODE_FAILED", `Image.size: '${this.path ?? "<bytes>"}' is not a PNG, JPEG or GIF`);
  }

  /** Decoded RGB(A) pixels through `sharp` (an optional peer: `npm install sharp`). */
  async decode(): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
    let sharp: (input: Uint8Array) => {
      raw(): {
        toBuffer(o: {
          resolveWithObject: true;
        }): Promise<{ data: Buffer; info: { width: number; height: number; channels: number } }>;
      };
    };
    try {
      const moduleName = "sharp";
      sharp = ((await import(moduleName)) as { default: typeof sharp }).default;
    } catch (error) {
      throw fail(
        "HEARTH_DATASETS_DECODE_FAILED",
        "Image.decode: pixel decoding needs the 'sharp' package; run `npm install sharp`",
        error,
      );
    }
    const { data, info } = await sharp(this.bytes()).raw().toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels };
  }

  /** The stored form, `{bytes, path}`. */
  toJSON(): { bytes: Uint8Array | null; path: string | null } {
    return { bytes: this.rawBytes, path: this.path };
  }
}

/** An audio cell: raw encoded bytes and/or a path, decoded on demand (WAV PCM/float). */
export class LazyAudio {
  constructor(
    readonly path: string | null,
    private readonly rawBytes: Uint8Array | null,
    readonly samplingRate?: number,
  ) {}

  /** The encoded file bytes. */
  bytes(): Uint8Array {
    return loadBytes(this.rawBytes, this.path, "Audio");
  }

  /** Decodes a WAV file (PCM 8/16/24/32-bit or float32) to mono float32 samples, as Python's `array`. */
  decode(): { array: Float32Array; samplingRate: number; channels: number } {
    const b = this.bytes();
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const tag = (o: number) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
    if (b.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") {
      throw fail(
        "HEARTH_DATASETS_DECODE_FAILED",
        `Audio.decode: '${this.path ?? "<bytes>"}' is not a WAV file (only WAV decodes without a codec)`,
      );
    }
    let fmt: { format: number; channels: number; rate: number; bits: number } | null = null;
    let o = 12;
    while (o + 8 <= b.length) {
      const id = tag(o);
      const size = dv.getUint32(o + 4, true);
      if (id === "fmt ") {
        fmt = {
          format: dv.getUint16(o + 8, true),
          channels: dv.getUint16(o + 10, true),
          rate: dv.getUint32(o + 12, true),
          bits: dv.getUint16(o + 22, true),
        };
        if (fmt.format === 0xfffe) fmt.format = dv.getUint16(o + 32, true);
      } else if (id === "data" && fmt) {
        const bytesPer = fmt.bits / 8;
        const frames = Math.floor(Math.min(size, b.length - o - 8) / (bytesPer * fmt.channels));
        const out = new Float32Array(frames);
        for (let f = 0; f < frames; f++) {
          let sum = 0;
          for (let c = 0; c < fmt.channels; c++) {
            const p = o + 8 + (f * fmt.channels + c) * bytesPer;
            let s: number;
            if (fmt.format === 3 && fmt.bits === 32) s = dv.getFloat32(p, true);
            else if (fmt.bits === 16) s = dv.getInt16(p, true) / 32768;
            else if (fmt.bits === 8) s = (dv.getUint8(p) - 128) / 128;
            else if (fmt.bits === 24)
              s = (dv.getUint8(p) | (dv.getUint8(p + 1) << 8) | (dv.getInt8(p + 2) << 16)) / 8388608;
            else s = dv.getInt32(p, true) / 2147483648;
            sum += s;
          }
          out[f] = sum / fmt.channels;
        }
        return { array: out, samplingRate: fmt.rate, channels: fmt.channels };
      }
      o += 8 + size + (size & 1);
    }
    throw fail("HEARTH_DATASETS_DECODE_FAILED", `Audio.decode: '${this.path ?? "<bytes>"}' has no fmt/data chunk`);
  }

  /** The stored form, `{bytes, path}`. */
  toJSON(): { bytes: Uint8Array | null; path: string | null } {
    return { bytes: this.rawBytes, path: this.path };
  }
}
