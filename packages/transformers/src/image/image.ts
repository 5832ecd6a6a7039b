/**
 * Images as the processors see them: 8-bit RGB pixels, row-major, channels last (`HWC`), read
 * from PNG, JPEG, WebP, GIF or TIFF through `sharp` (PIL's `Image.open(...).convert("RGB")`).
 * `sharp` (a native addon) is loaded on the first decode, so text-only users never load it.
 */
import { ErrorCodes, fail } from "../errors.ts";

/** An 8-bit image: `data` holds `height · width · channels` bytes, row-major, channels last. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * Decodes an image file (path or bytes) to RGB: alpha is dropped and grey is expanded, as
 * PIL's `convert("RGB")`; no colour management is applied (PIL applies none either).
 *
 * @example
 * const image = await loadImage("fixtures/data/media/images/chelsea.png"); // 451×300×3
 */
export async function loadImage(source: string | Uint8Array): Promise<RawImage> {
  try {
    const { default: sharp } = await import("sharp");
    const { data, info } = await sharp(source)
      .removeAlpha()
      .toColourspace("srgb")
      .raw()
      .toBuffer({ resolveWithObject: true });
    const rgb = info.channels === 3 ? data : toRgb(data, info.channels);
    return {
      data: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength),
      width: info.width,
      height: info.height,
      channels: 3,
    };
  } catch (error) {
    const what = typeof source === "string" ? source : `${source.byteLength} bytes`;
    throw fail(
      ErrorCodes.PROCESSOR_BAD_INPUT,
      `loadImage: cannot decode ${what} as an image: ${(error as Error).message}`,
      error,
    );
  }
}

function toRgb(data: Uint8Array, channels: number): Uint8Array {
  const n = data.length / channels;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = data[i * channels + Math.min(c, channels - 1)] as number;
  }
  return out;
}

/** Checks a caller-made {@link RawImage}. */
export function checkImage(where: string, image: RawImage): void {
  const ok =
    image &&
    image.data instanceof Uint8Array &&
    Number.isInteger(image.width) &&
    Number.isInteger(image.height) &&
    image.width > 0 &&
    image.height > 0 &&
    image.data.length === image.width * image.height * image.channels;
  if (!ok) {
    throw fail(
      ErrorCodes.PROCESSOR_BAD_INPUT,
      `${where}: an image must be { data: Uint8Array of height·width·channels bytes, width, height, channels }, got ${image ? `${image.width}×${image.height}×${image.channels} with ${image.data?.length} bytes` : String(image)}`,
    );
  }
}
