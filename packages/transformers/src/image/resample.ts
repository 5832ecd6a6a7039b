/**
 * Pillow's `Image.resize` for 8-bit images, reproduced exactly, because Python's image
 * processors resize through PIL and a different filter (libvips', the browser's) moves pixel
 * values by several levels. Pillow resamples separably, horizontal pass first into an 8-bit
 * intermediate, then vertical; each output pixel is a weighted sum over a window whose width
 * grows with the downscale factor (so downscaling antialiases), with the weights normalised,
 * turned into 22-bit fixed point and the sum rounded and clipped to 0..255 (libImaging
 * `Resample.c`: `precompute_coeffs`, `normalize_coeffs_8bpc`, `ImagingResampleHorizontal_8bpc`).
 */
import { ErrorCodes, fail } from "../errors.ts";
import type { RawImage } from "./image.ts";

/** PIL's resampling filters by their `resample` number in `preprocessor_config.json`. */
export const PIL_FILTERS = { nearest: 0, lanczos: 1, bilinear: 2, bicubic: 3, box: 4, hamming: 5 } as const;

type Filter = { support: number; fn: (x: number) => number };

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

const FILTERS: Record<number, Filter> = {
  1: { support: 3, fn: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
  2: { support: 1, fn: (x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0) },
  3: {
    support: 2,
    fn: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
  4: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  5: {
    support: 1,
    fn: (x) => {
      const t = Math.abs(x);
      if (t === 0) return 1;
      if (t >= 1) return 0;
      return (Math.sin(Math.PI * t) / (Math.PI * t)) * (0.54 + 0.46 * Math.cos(Math.PI * t));
    },
  },
};

const PRECISION_BITS = 32 - 8 - 2;

interface Coeffs {
  ksize: number;
  bounds: Int32Array; // [xmin, count] per output
  weights: Int32Array; // ksize per output, fixed point
}

function precompute(inSize: number, outSize: number, filter: Filter): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < ksize; x++) {
      const w = x < xmax && ww !== 0 ? (k[x] as number) / ww : 0;
      weights[xx * ksize + x] = Math.trunc(w * (1 << PRECISION_BITS) + (w < 0 ? -0.5 : 0.5));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

const clip8 = (v: number) => {
  const s = Math.floor(v / (1 << PRECISION_BITS));
  return Math.max(0, Math.min(s, 255));
};

function horizontal(src: RawImage, rows: number, firstRow: number, outW: number, c: Coeffs): RawImage {
  const C = src.channels;
  const out = new Uint8Array(rows * outW * C);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < rows; y++) {
    const rowIn = (y + firstRow) * src.width * C;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = c.bounds[xx * 2] as number;
      const n = c.bounds[xx * 2 + 1] as number;
      for (let ch = 0; ch < C; ch++) {
        let ss = half;
        for (let x = 0; x < n; x++) {
          ss += (src.data[rowIn + (x + xmin) * C + ch] as number) * (c.weights[xx * c.ksize + x] as number);
        }
        out[(y * outW + xx) * C + ch] = clip8(ss);
      }
    }
  }
  return { data: out, width: outW, height: rows, channels: C };
}

function vertical(src: RawImage, outH: number, c: Coeffs, shift: number): RawImage {
  const C = src.channels;
  const W = src.width;
  const out = new Uint8Array(outH * W * C);
  const half = 1 << (PRECISION_BITS - 1);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = (c.bounds[yy * 2] as number) - shift;
    const n = c.bounds[yy * 2 + 1] as number;
    for (let x = 0; x < W * C; x++) {
      let ss = half;
      for (let y = 0; y < n; y++)
        ss += (src.data[(y + ymin) * W * C + x] as number) * (c.weights[yy * c.ksize + y] as number);
      out[yy * W * C + x] = clip8(ss);
    }
  }
  return { data: out, width: W, height: outH, channels: C };
}

/** PIL's NEAREST: the source pixel under each output pixel's centre. */
function nearest(src: RawImage, outW: number, outH: number): RawImage {
  const C = src.channels;
  const out = new Uint8Array(outW * outH * C);
  const sx = src.width / outW;
  const sy = src.height / outH;
  for (let y = 0; y < outH; y++) {
    const yi = Math.min(Math.floor((y + 0.5) * sy), src.height - 1);
    for (let x = 0; x < outW; x++) {
      const xi = Math.min(Math.floor((x + 0.5) * sx), src.width - 1);
      for (let ch = 0; ch < C; ch++) out[(y * outW + x) * C + ch] = src.data[(yi * src.width + xi) * C + ch] as number;
    }
  }
  return { data: out, width: outW, height: outH, channels: C };
}

/**
 * Resizes an 8-bit image to `width × height` as Pillow's `Image.resize(size, resample)` does
 * (`resample` 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming).
 *
 * @example
 * const small = resizePil(image, 224, 224, PIL_FILTERS.bilinear);
 */
export function resizePil(image: RawImage, width: number, height: number, resample: number): RawImage {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw fail(ErrorCodes.PROCESSOR_BAD_INPUT, `resizePil: size must be positive integers, got ${width}×${height}`);
  }
  if (resample === 0) return nearest(image, width, height);
  const filter = FILTERS[resample];
  if (!filter) {
    throw fail(
      ErrorCodes.PROCESSOR_BAD_INPUT,
      `resizePil: 'resample' must be one of 0..5 (PIL's NEAREST, LANCZOS, BILINEAR, BICUBIC, BOX, HAMMING), got ${resample}`,
    );
  }
  if (width === image.width && height === image.height) return image;
  const horiz = precompute(image.width, width, filter);
  const vert = precompute(image.height, height, filter);
  const needH = width !== image.width;
  const needV = height !== image.height;
  let out = image;
  let shift = 0;
  if (needH) {
    // Only the rows the vertical pass reads.
    const first = vert.bounds[0] as number;
    const last = (vert.bounds[height * 2 - 2] as number) + (vert.bounds[height * 2 - 1] as number);
    out = horizontal(image, needV ? last - first : image.height, needV ? first : 0, width, horiz);
    shift = needV ? first : 0;
  }
  if (needV) out = vertical(out, height, vert, shift);
  return out;
}
