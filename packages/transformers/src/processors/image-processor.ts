/**
 * The image processor of Python's transformers (`BaseImageProcessor` with the resize → rescale
 * → normalise steps most vision models use), configured by `preprocessor_config.json` with
 * its snake_case keys. Values are computed in the same precisions as Python: the resize on
 * 8-bit pixels through Pillow's filter ({@link resizePil}), the rescale in float64 rounded to
 * float32, the normalisation in float32.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Tensor, tensor } from "@hearth/tensor";
import { readJsonObject, toPythonJson, writeTextAtomic } from "../configuration/json-io.ts";
import { ErrorCodes, fail } from "../errors.ts";
import { checkImage, loadImage, type RawImage } from "../image/image.ts";
import { resizePil } from "../image/resample.ts";

/** The file Python's processors read and write. */
export const PREPROCESSOR_CONFIG_NAME = "preprocessor_config.json";

/** What an image processor accepts: a file path, encoded bytes, or decoded pixels. */
export type ImageInput = string | Uint8Array | RawImage;

/** `size` as configs write it. */
export type SizeDict = { height: number; width: number } | { shortest_edge: number } | { longest_edge: number };

const f32 = Math.fround;

/**
 * Resize → rescale → normalise, channels first. Subclasses set their family's defaults.
 *
 * @example
 * const processor = await ViTImageProcessor.fromPretrained("path/to/model");
 * const { pixelValues } = await processor.call("cat.png"); // [1, 3, 224, 224]
 */
export class ImageProcessor {
  /** `image_processor_type` this class handles. */
  static readonly processorType: string = "ImageProcessor";
  /** Python's keyword defaults. */
  static readonly defaults: Record<string, unknown> = {
    do_resize: true,
    size: { height: 224, width: 224 },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
  };

  declare do_resize: boolean;
  declare size: SizeDict;
  declare resample: number;
  declare do_rescale: boolean;
  declare rescale_factor: number;
  declare do_normalize: boolean;
  declare image_mean: number[] | number;
  declare image_std: number[] | number;

  constructor(config: Record<string, unknown> = {}) {
    const ctor = this.constructor as typeof ImageProcessor;
    Object.assign(this, structuredClone(ctor.defaults), structuredClone(config));
    (this as Record<string, unknown>).image_processor_type = ctor.processorType;
  }

  /**
   * Reads `preprocessor_config.json` from a folder.
   *
   * @example
   * const processor = await ViTImageProcessor.fromPretrained("fixtures/some-vit");
   */
  static async fromPretrained<T extends ImageProcessor>(
    this: new (
      config?: Record<string, unknown>,
    ) => T,
    folder: string,
  ): Promise<T> {
    return new this(await readPreprocessorConfig(folder, "ImageProcessor.fromPretrained"));
  }

  /** Every key as on disk. */
  toDict(): Record<string, unknown> {
    return structuredClone({ ...this }) as Record<string, unknown>;
  }

  /** Writes `preprocessor_config.json` into `folder`. */
  async savePretrained(folder: string): Promise<void> {
    await mkdir(folder, { recursive: true });
    await writeTextAtomic(join(folder, PREPROCESSOR_CONFIG_NAME), toPythonJson(this.toDict()));
  }

  /** The output size for an image of `width × height`. */
  targetSize(width: number, height: number): { width: number; height: number } {
    const s = this.size as Record<string, number>;
    if (s.height !== undefined && s.width !== undefined) return { width: s.width, height: s.height };
    if (s.shortest_edge !== undefined) {
      // Python's get_resize_output_image_size with default_to_square=False.
      const short = Math.min(width, height);
      const long = Math.max(width, height);
      const newShort = s.shortest_edge;
      const newLong = Math.trunc((newShort * long) / short);
      return width <= height ? { width: newShort, height: newLong } : { width: newLong, height: newShort };
    }
    throw fail(
      ErrorCodes.PROCESSOR_CONFIG_INVALID,
      `${this.constructor.name}: 'size' must be {height, width} or {shortest_edge}, got ${JSON.stringify(this.size)}`,
    );
  }

  /** Decodes what `call` accepts. */
  async load(input: ImageInput): Promise<RawImage> {
    if (typeof input === "string" || input instanceof Uint8Array) return loadImage(input);
    checkImage(`${this.constructor.name}.call`, input);
    return input;
  }

  /** One image → `[3, H, W]` float32 values. */
  pixels(image: RawImage): { data: Float32Array; width: number; height: number } {
    checkImage(`${this.constructor.name}.preprocess`, image);
    let img = image;
    if (this.do_resize) {
      const { width, height } = this.targetSize(img.width, img.height);
      img = resizePil(img, width, height, this.resample);
    }
    const { width: W, height: H, channels: C } = img;
    const mean = channelValues(this.image_mean, C, "image_mean");
    const std = channelValues(this.image_std, C, "image_std");
    const out = new Float32Array(C * H * W);
    const scale = this.rescale_factor;
    for (let c = 0; c < C; c++) {
      const m = f32(mean[c] as number);
      const s = f32(std[c] as number);
      for (let i = 0; i < H * W; i++) {
        let v = img.data[i * C + c] as number;
        if (this.do_rescale) v = f32(v * scale);
        if (this.do_normalize) v = f32(f32(v - m) / s);
        out[c * H * W + i] = v;
      }
    }
    return { data: out, width: W, height: H };
  }

  /** Decoded images → `pixelValues` `[B, 3, H, W]` (all images must come out the same size). */
  preprocess(images: RawImage[]): { pixelValues: Tensor } {
    const each = images.map((im) => this.pixels(im));
    const first = each[0];
    if (!first) throw fail(ErrorCodes.PROCESSOR_BAD_INPUT, `${this.constructor.name}: no images given`);
    if (each.some((e) => e.width !== first.width || e.height !== first.height)) {
      throw fail(
        ErrorCodes.PROCESSOR_BAD_INPUT,
        `${this.constructor.name}: images resize to different sizes; set 'size' to {height, width} to batch them`,
      );
    }
    const per = first.data.length;
    const data = new Float32Array(per * each.length);
    each.forEach((e, i) => {
      data.set(e.data, i * per);
    });
    return {
      pixelValues: tensor(data, {
        shape: [each.length, per / (first.width * first.height), first.height, first.width],
      }),
    };
  }

  /**
   * Processes one image or a list (paths, encoded bytes or decoded pixels).
   *
   * @example
   * const { pixelValues } = await processor.call(["a.png", "b.jpg"]); // [2, 3, H, W]
   */
  async call(images: ImageInput | ImageInput[]): Promise<{ pixelValues: Tensor }> {
    const list = Array.isArray(images) ? images : [images];
    return this.preprocess(await Promise.all(list.map((x) => this.load(x))));
  }
}

function channelValues(v: number[] | number, C: number, key: string): number[] {
  const arr = typeof v === "number" ? new Array<number>(C).fill(v) : v;
  if (!Array.isArray(arr) || arr.length !== C) {
    throw fail(
      ErrorCodes.PROCESSOR_CONFIG_INVALID,
      `ImageProcessor: '${key}' must have ${C} values, got ${JSON.stringify(v)}`,
    );
  }
  return arr;
}

/** Reads and parses `preprocessor_config.json` of `folder`. */
export async function readPreprocessorConfig(folder: string, where: string): Promise<Record<string, unknown>> {
  const file = folder.endsWith(".json") ? folder : join(folder, PREPROCESSOR_CONFIG_NAME);
  try {
    return await readJsonObject(file, where);
  } catch (error) {
    throw fail(
      ErrorCodes.PROCESSOR_CONFIG_INVALID,
      `${where}: cannot read ${file}: ${(error as Error).message}`,
      error,
    );
  }
}
